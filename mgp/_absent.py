"""The answer a namespace gives for a Keras name it does not have yet: an AttributeError that
says so, instead of a stand-in that exists and then fails."""


def absent(namespace, names):
    """A module `__getattr__` for `namespace`: the Keras names in `names` (space-separated)
    raise "mgp.ops has no `fft2` yet; Keras 3 has it", any other name the usual error."""
    missing = frozenset(names.split())

    def __getattr__(name):
        if name in missing:
            raise AttributeError(f"{namespace} has no `{name}` yet; Keras 3 has it")
        raise AttributeError(f"module {namespace!r} has no attribute {name!r}")
    return __getattr__
