"""How much of Keras's public API mgp has, namespace by namespace.

Usage:
    python tools/keras_coverage.py                 # counts per namespace
    python tools/keras_coverage.py --missing ops   # and the names mgp lacks in `ops`
    python tools/keras_coverage.py --markdown docs/keras_coverage.md

Needs Keras 3 installed (`pip install torch==2.13.0 keras`; it runs on the torch backend). A
name counts as present when `getattr(mgp.<namespace>, name)` finds it; mgp's namespaces answer
a Keras name they lack with an AttributeError that says so, which counts as absent.
"""
import argparse
import importlib
import os
import sys
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")

# (Keras namespace, mgp namespace); the same dotted path unless mgp keeps it elsewhere
NAMESPACES = [
    "ops", "ops.nn", "ops.numpy", "ops.linalg", "ops.image", "random", "layers", "losses",
    "metrics", "optimizers", "optimizers.schedules", "callbacks", "datasets", "applications",
    "regularizers", "constraints", "activations", "initializers", "utils", "backend", "models",
    "saving", "distribution",
]


def public_names(module):
    return sorted(n for n in dir(module) if not n.startswith("_"))


def resolve(root, dotted):
    obj = root
    for part in dotted.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            try:
                obj = importlib.import_module(f"{obj.__name__}.{part}")
            except (ImportError, AttributeError):
                return None
    return obj


def has(namespace, name):
    if namespace is None:
        return False
    try:
        getattr(namespace, name)
    except AttributeError:
        return False
    return True


def coverage():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import keras
    import mgp
    rows = []
    for dotted in NAMESPACES:
        theirs = resolve(keras, dotted)
        if theirs is None:
            continue
        ours = resolve(mgp, dotted)
        names = public_names(theirs)
        present = [n for n in names if has(ours, n)]
        missing = [n for n in names if not has(ours, n)]
        rows.append((dotted, names, present, missing))
    return keras.__version__, rows


PAGE = "docs/keras_coverage.md"


def markdown(version, rows):
    """The coverage page: counts per namespace, then each namespace's names, had and lacked."""
    lines = [f"# Keras {version}'s public names in mgp", "",
             f"Generated from the code by `python tools/keras_coverage.py --markdown {PAGE}` "
             f"(`tests/test_keras_coverage.py` fails when this page is stale). A name counts "
             f"as present when `mgp.<namespace>.<name>` exists; `import mgp as keras` then "
             f"finds it where Keras has it. Where mgp knowingly behaves differently: "
             f"[keras_differences.md](keras_differences.md).", "",
             "| namespace | mgp has | of Keras's |", "| --- | ---: | ---: |"]
    lines += [f"| [`keras.{d}`](#keras{d.replace('.', '')}) | {len(p)} | {len(n)} |"
              for d, n, p, _ in rows]
    for dotted, names, present, missing in rows:
        lines += ["", f"## `keras.{dotted}`", ""]
        lines.append(f"**mgp has ({len(present)}):** "
                     + (", ".join(f"`{n}`" for n in present) or "none"))
        lines.append("")
        lines.append(f"**mgp lacks ({len(missing)}):** "
                     + (", ".join(f"`{n}`" for n in missing) or "none"))
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--missing", nargs="*", metavar="NAMESPACE",
                        help="list the names mgp lacks (in these namespaces, or all)")
    parser.add_argument("--markdown", metavar="FILE", help="write the whole table to FILE")
    args = parser.parse_args(argv)
    version, rows = coverage()
    print(f"Keras {version}: public names mgp has, by namespace")
    for dotted, names, present, missing in rows:
        print(f"  keras.{dotted:<22} {len(present):4d} of {len(names):4d}")
        if args.missing is not None and (not args.missing or dotted in args.missing):
            print("      missing: " + (", ".join(missing) or "none"))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(version, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
