"""The one seam between mgp and its array library.

Every array call in the engine goes through `xp`, a namespace that forwards to NumPy by default.
Swapping the namespace (for example to CuPy) moves every op to another device without touching
any op definition.
"""
import numpy

_namespace = numpy


class _ArrayNamespace:
    """Forwards attribute lookups to the active array module (numpy, or a drop-in like cupy)."""

    def __getattr__(self, name):
        return getattr(_namespace, name)

    def __repr__(self):
        return f"<mgp array namespace: {_namespace.__name__}>"


xp = _ArrayNamespace()


def set_namespace(module):
    """Make `module` (numpy or a NumPy-compatible module) the array namespace of every op."""
    global _namespace
    _namespace = module


def get_namespace():
    """Return the active array module."""
    return _namespace


def to_numpy(a):
    """Return `a` as a NumPy array on the host (a no-op for NumPy arrays)."""
    if isinstance(a, numpy.ndarray):
        return a
    get = getattr(a, "get", None)  # cupy.ndarray.get() copies to the host
    return get() if get is not None else numpy.asarray(a)


# One generator for everything random in mgp (initializers, dropout, shuffling), so that one
# seed reproduces a whole run.
_rng = numpy.random.default_rng()


def rng():
    """Return mgp's global random generator."""
    return _rng


def seed(value):
    """Reseed mgp's global random generator."""
    global _rng
    _rng = numpy.random.default_rng(value)
