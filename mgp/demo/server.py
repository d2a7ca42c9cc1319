"""The demo's web server: the standard library's http.server, on 127.0.0.1 only.

Routes:
    GET  /            the page (mgp/demo/page.html): canvas, live bar chart, filter views
    GET  /api/model   the first convolution's filters, and what the model is
    POST /api/predict {"width": 140, "height": 140, "pixels": base64 of width*height grey
                      bytes} -> the ten probabilities, the 28x28 digit the model saw, and the
                      first convolution's activation maps

Every request is checked before anything is computed: method, path, Host, Content-Type, body
size and every field. A bad one gets a 400 (or 404 / 405 / 413) with a JSON reason; an
unexpected failure inside gets a 500 with a one-line reason, never a traceback.
"""
import base64
import binascii
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from mgp.demo.digits import CANVAS, mnist_like
from mgp.utils.plotting import first_conv_layer, layer_output

HOST = "127.0.0.1"
MAX_BODY = 64 * 1024  # a 140x140 drawing is 26 KB of base64
PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "page.html")


class BadRequest(Exception):
    def __init__(self, reason, status=400):
        super().__init__(reason)
        self.status = status


def _to_bytes(values):
    """Floats scaled to 0..255 over their own range, as a list of ints (for the page)."""
    lo, hi = float(values.min()), float(values.max())
    scaled = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    return np.round(scaled * 255).astype(np.uint8).ravel().tolist()


def parse_drawing(body):
    """The drawing in a /api/predict body as a (CANVAS, CANVAS) float array in [0, 1]; raises
    BadRequest naming the first thing wrong."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the body is not valid UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise BadRequest(f"the body must be a JSON object, got {type(data).__name__}")
    expected = {"width", "height", "pixels"}
    if set(data) != expected:
        missing, extra = sorted(expected - set(data)), sorted(set(data) - expected)
        raise BadRequest(f"the body must have exactly the fields {sorted(expected)}"
                         + (f"; missing {missing}" if missing else "")
                         + (f"; unknown {extra}" if extra else ""))
    for key in ("width", "height"):
        value = data[key]
        if not isinstance(value, int) or isinstance(value, bool) or value != CANVAS:
            raise BadRequest(f"{key} must be the integer {CANVAS}, got {value!r}")
    pixels = data["pixels"]
    if not isinstance(pixels, str):
        raise BadRequest(f"pixels must be a base64 string, got {type(pixels).__name__}")
    try:
        raw = base64.b64decode(pixels, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("pixels is not valid base64") from None
    if len(raw) != CANVAS * CANVAS:
        raise BadRequest(f"pixels must hold {CANVAS}x{CANVAS} = {CANVAS * CANVAS} bytes, got "
                         f"{len(raw)}")
    return np.frombuffer(raw, dtype=np.uint8).reshape(CANVAS, CANVAS).astype(np.float32) / 255


class DigitService:
    """What the routes compute, around one model (calls are serialized: one at a time)."""

    def __init__(self, model, accuracy=None):
        self.model = model
        self.accuracy = accuracy
        self.conv = first_conv_layer(model)
        self._lock = threading.Lock()

    def model_info(self):
        kernel = self.conv.kernel.numpy()  # (kh, kw, 1, filters)
        return {"name": self.model.name, "parameters": self.model.count_params(),
                "test_accuracy": self.accuracy, "layer": self.conv.name,
                "kernel_size": list(kernel.shape[:2]),
                "filters": [_to_bytes(kernel[:, :, 0, i]) for i in range(kernel.shape[3])]}

    def predict(self, drawing):
        digit = mnist_like(drawing)
        x = digit[None, :, :, None]
        with self._lock:
            probabilities = self.model.predict(x, verbose=0)[0]
            maps = layer_output(self.model, x, self.conv)[0]  # (26, 26, filters)
        return {"probabilities": [round(float(p), 6) for p in probabilities],
                "class": int(np.argmax(probabilities)),
                "digit": np.round(digit * 255).astype(np.uint8).ravel().tolist(),
                "map_size": list(maps.shape[:2]),
                "maps": [_to_bytes(maps[:, :, i]) for i in range(maps.shape[2])]}


class Handler(BaseHTTPRequestHandler):
    server_version = "mgp-demo"
    timeout = 10  # seconds a client may take to send its request

    def log_message(self, format, *args):
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if content_type.startswith("text/html"):  # the page may load nothing from elsewhere
            self.send_header("Content-Security-Policy",
                             "default-src 'self'; script-src 'unsafe-inline'; "
                             "style-src 'unsafe-inline'; img-src 'self' data:")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code, message=None, explain=None):
        """http.server's own refusals (a garbled request line, a line or header block too
        long, an unsupported version): the same JSON reason as every other refusal."""
        self.close_connection = True
        reason = message or self.responses.get(code, ("error",))[0]
        self._send(code, {"error": f"{reason}" + (f": {explain}" if explain else "")})

    def _check_host(self):
        """Only requests addressed to this server by its loopback name (a page elsewhere
        cannot reach it through a rebinding DNS name)."""
        host = self.headers.get("Host", "")
        port = self.server.server_address[1]
        if host not in (f"{HOST}:{port}", f"localhost:{port}"):
            raise BadRequest(f"Host must be {HOST}:{port} or localhost:{port}, got {host!r}")

    def _handle(self, route):
        try:
            self._check_host()
            status, body, kind = route()
        except BadRequest as e:
            status, body, kind = e.status, {"error": str(e)}, "application/json"
        except Exception as e:  # noqa: BLE001  the server keeps serving; the client gets why
            status, body, kind = 500, {"error": f"{type(e).__name__}: {e}"}, "application/json"
        self._send(status, body, kind)

    def do_GET(self):
        self._handle(self._get)

    def do_HEAD(self):
        self._handle(self._get)

    def do_POST(self):
        self._handle(self._post)

    def _refuse(self):
        self._handle(self._method_not_allowed)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

    def _method_not_allowed(self):
        raise BadRequest(f"method {self.command} is not allowed here", status=405)

    def _get(self):
        if self.path == "/":
            with open(PAGE, "rb") as f:
                return 200, f.read(), "text/html; charset=utf-8"
        if self.path == "/api/model":
            return 200, self.server.service.model_info(), "application/json"
        if self.path == "/api/predict":
            raise BadRequest("/api/predict takes POST", status=405)
        raise BadRequest(f"no such page: {self.path[:100]!r}", status=404)

    def _post(self):
        if self.path != "/api/predict":
            if self.path in ("/", "/api/model"):
                raise BadRequest(f"{self.path} takes GET", status=405)
            raise BadRequest(f"no such page: {self.path[:100]!r}", status=404)
        kind = self.headers.get("Content-Type", "").split(";")[0].strip()
        if kind != "application/json":
            raise BadRequest(f"Content-Type must be application/json, got {kind!r}")
        if self.headers.get("Transfer-Encoding"):
            raise BadRequest("chunked bodies are not accepted; send Content-Length")
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise BadRequest(f"Content-Length must be a number of bytes, got {length!r}")
        length = int(length)
        if length > MAX_BODY:
            self.close_connection = True  # the body is not read
            raise BadRequest(f"the body of {length} bytes is over the {MAX_BODY}-byte limit",
                             status=413)
        body = self.rfile.read(length)
        if len(body) != length:
            raise BadRequest(f"the body ended after {len(body)} of {length} bytes")
        return 200, self.server.service.predict(parse_drawing(body)), "application/json"


class DemoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, service, port=8000, verbose=False):
        self.service, self.verbose = service, verbose
        super().__init__((HOST, port), Handler)

    @property
    def url(self):
        return f"http://{HOST}:{self.server_address[1]}/"
