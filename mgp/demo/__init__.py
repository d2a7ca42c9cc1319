"""Draw a digit: a small CNN trained on MNIST guesses what you draw, live, in your browser.

    python -m mgp.demo            # trains (about 20 s) or loads ~/.mgp/demo/digits.weights.h5
    python -m mgp.demo --port 0   # any free port; the address is printed

The page is served on 127.0.0.1 only, by the standard library, and loads nothing from
elsewhere. `mgp/demo/digits.py` holds the model and the MNIST-style preprocessing,
`mgp/demo/server.py` the routes, `mgp/demo/page.html` the page.
"""
import argparse
import os
import sys
import webbrowser


def default_model_path():
    cache = os.environ.get("MGP_CACHE_DIR") or os.path.join("~", ".mgp")
    return os.path.join(os.path.expanduser(cache), "demo", "digits.weights.h5")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m mgp.demo",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000,
                        help="port on 127.0.0.1 (0: any free one)")
    parser.add_argument("--model", default=None,
                        help=f"weights file to load, or to save a newly trained model to "
                             f"(default {default_model_path()})")
    parser.add_argument("--retrain", action="store_true",
                        help="train again even if the file exists")
    parser.add_argument("--samples", type=int, default=60000, help="MNIST images to train on")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--open", action="store_true", help="open the page in a browser")
    parser.add_argument("--log", action="store_true", help="log each request")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be in 0..65535, got {args.port}")
    if not 1 <= args.samples <= 60000 or args.epochs < 1:
        parser.error("--samples must be in 1..60000 and --epochs at least 1")

    from mgp.demo.digits import load_or_train
    from mgp.demo.server import DemoServer, DigitService
    path = args.model or default_model_path()
    print(f"model: {path}" + (" (training)" if args.retrain or not os.path.exists(path) else ""),
          flush=True)
    model, accuracy = load_or_train(path, retrain=args.retrain, samples=args.samples,
                                    epochs=args.epochs)
    if accuracy is not None:
        print(f"test accuracy: {accuracy:.4f}", flush=True)
    server = DemoServer(DigitService(model, accuracy), port=args.port, verbose=args.log)
    print(f"draw a digit at {server.url}  (Ctrl-C to stop)", flush=True)
    if args.open:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
