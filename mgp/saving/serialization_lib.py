"""Objects as Keras 3's serialized dicts, and back, resolving only the names mgp knows.

`serialize_keras_object(obj)` writes what Keras writes:
`{"module": "keras.layers", "class_name": "Dense", "config": {...}, "registered_name": None}`
(plus `build_config` / `compile_config` for layers and models), with Keras's module names, so a
config mgp writes is one Keras reads, and the reverse.

`deserialize_keras_object(config, module_objects, custom_objects)` turns such a dict back into
an object. The class is looked up by name in `custom_objects`, then among the classes and
functions registered with `register_keras_serializable`, then in `module_objects` (the built-in
classes of one kind: layers, losses, ...). Nothing else is ever resolved: the `module` entry is
never imported, and a name mgp does not know is an error naming it, so a config can only build
objects mgp (or the user) defines. Python bytecode (Keras's `__lambda__` entries) is refused.
"""
import numpy as np

from mgp.errors import ConfigError, MgpError
from mgp.tensor import Tensor

_registered = {}   # "Package>name" -> class or function
_names = {}        # id(class or function) -> "Package>name"
_scopes = []       # the dicts of the custom_object_scope blocks in effect, innermost last

# where Keras 3 exports each of mgp's public modules
_KERAS_MODULES = {
    "mgp.layers": "keras.layers", "mgp.optimizers": "keras.optimizers",
    "mgp.losses": "keras.losses", "mgp.metrics": "keras.metrics",
    "mgp.initializers": "keras.initializers", "mgp.regularizers": "keras.regularizers",
    "mgp.constraints": "keras.constraints", "mgp.activations": "keras.activations",
}


class UnknownObjectError(ConfigError):
    """A config names a class (or function) mgp does not know."""


def register_keras_serializable(package="Custom", name=None):
    """Decorator: make a class or function loadable from configs without `custom_objects`,
    under the name `"<package>><name>"` (`"Custom>MyLayer"`), as Keras's decorator does.

    Example:
        >>> @mgp.saving.register_keras_serializable(package="demo")
        ... class Scale(mgp.layers.Layer): ...
    """
    def decorator(obj):
        registered = f"{package}>{name or obj.__name__}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(f"cannot register {obj.__name__}: it has no get_config()")
        _registered[registered] = obj
        _names[id(obj)] = registered
        return obj
    return decorator


class CustomObjectScope:
    """`with custom_object_scope({"MyLayer": MyLayer}):` makes those names resolvable while
    loading inside the block, as if passed in `custom_objects` (Keras's scope)."""

    def __init__(self, *custom_objects):
        self.custom_objects = {}
        for objects in custom_objects:
            self.custom_objects.update(objects or {})

    def __enter__(self):
        _scopes.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scopes.remove(self.custom_objects)
        return False


custom_object_scope = CustomObjectScope


def get_custom_objects():
    """The registry of `register_keras_serializable` (registered name -> object); objects added
    to this dict are resolvable by that name too, as in Keras."""
    return _registered


def get_registered_name(obj):
    """The name `obj` was registered under (`"Custom>MyLayer"`), else its own name."""
    return _names.get(id(obj), getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(name, custom_objects=None):
    """The class or function registered (or passed in `custom_objects`) under `name`."""
    for objects in [custom_objects or {}] + _scopes[::-1]:
        if name in objects:
            return objects[name]
    return _registered.get(name)


def _keras_module(cls):
    """The module Keras would name for `cls` (mgp's own classes: Keras's public module)."""
    module = cls.__module__
    if module.startswith("mgp."):
        if cls.__name__ == "Sequential":
            return "keras"
        for prefix, keras_module in _KERAS_MODULES.items():
            if module == prefix or module.startswith(prefix + "."):
                return keras_module
        return "keras"
    return module


def _is_builtin(cls):
    return cls.__module__.startswith("mgp.") and id(cls) not in _names


def serialize_keras_object(obj):
    """`obj` as Keras's serialized dict (plain values as they are)."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, slice):  # an index of `x[:, 0]`
        return {"class_name": "__slice__", "config": {
            "start": serialize_keras_object(obj.start), "stop": serialize_keras_object(obj.stop),
            "step": serialize_keras_object(obj.step)}}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, np.dtype):
        return obj.name
    if isinstance(obj, np.ndarray):
        if obj.ndim == 0:
            return obj.item()
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(),
                                                      "dtype": obj.dtype.name}}
    if isinstance(obj, Tensor):
        return {"class_name": "__tensor__", "config": {"value": obj.numpy().tolist(),
                                                       "dtype": obj.dtype.name}}
    if callable(obj) and not hasattr(obj, "get_config"):  # a function
        if getattr(obj, "__name__", "") == "<lambda>":
            raise ValueError("its function is a Python lambda, which mgp cannot save: mgp saves "
                         "functions by name, never their code; use a named function "
                         "registered with mgp.saving.register_keras_serializable()")
        name = get_registered_name(obj)
        return {"module": _keras_module(obj) if obj.__module__.startswith("mgp.")
                else obj.__module__, "class_name": "function", "config": name,
                "registered_name": name}
    if not hasattr(obj, "get_config"):
        raise TypeError(f"cannot serialize {obj!r} of type {type(obj).__name__}: it has no "
                        f"get_config()")
    cls = type(obj)
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"{cls.__name__}.get_config() must return a dict, got {config!r}")
    try:
        config = serialize_keras_object(config)
    except (TypeError, ValueError) as e:
        name = getattr(obj, "name", None)
        raise type(e)(f"{cls.__name__}" + (f" '{name}'" if isinstance(name, str) else "")
                      + f": {e}") from None
    from mgp.models.model import Model
    if isinstance(obj, Model) and obj._is_graph_network and cls is Model:
        out = {"module": "keras.src.models.functional", "class_name": "Functional",
               "config": config, "registered_name": "Functional"}
    else:
        out = {"module": _keras_module(cls), "class_name": cls.__name__, "config": config,
               "registered_name": None if _is_builtin(cls) else get_registered_name(cls)}
    build = getattr(obj, "get_build_config", None)
    if build is not None:
        build_config = build()
        if build_config is not None:
            out["build_config"] = serialize_keras_object(build_config)
    compile_config = getattr(obj, "get_compile_config", None)
    if compile_config is not None:
        value = compile_config()
        if value is not None:
            out["compile_config"] = value
    return out


def _special(class_name, inner):
    """Keras's entries for plain data: arrays, tensors, slices, bytes."""
    if class_name == "__numpy__":
        return np.array(inner["value"], dtype=inner["dtype"])
    if class_name == "__tensor__":
        return Tensor(np.array(inner["value"], dtype=inner["dtype"]))
    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__slice__":
        return slice(*(deserialize_keras_object(inner[k]) if isinstance(inner[k], dict)
                       else inner[k] for k in ("start", "stop", "step")))
    if class_name == "__lambda__":
        raise ValueError("the config holds a Python lambda (marshalled bytecode); mgp never "
                         "loads code from a file")
    raise UnknownObjectError(f"unknown special entry {class_name!r}")


def resolve(class_name, registered_name=None, module_objects=None, custom_objects=None,
            kind="object", module=None):
    """The class (or function) a config names, from custom_objects, the registered names and
    `module_objects` only."""
    scoped = {}
    for objects in _scopes:
        scoped.update(objects)
    custom_objects = {**scoped, **(custom_objects or {})}  # the caller's own win
    for key in (registered_name, class_name):
        if key and key in custom_objects:
            return custom_objects[key]
    # a registration ("Package>Name") answers the config's registered name; a plain name is
    # a built-in's first, so nothing registered can take the place of a built-in class
    if registered_name and ">" in registered_name and registered_name in _registered:
        return _registered[registered_name]
    if module_objects and class_name in module_objects:
        return module_objects[class_name]
    for key in (registered_name, class_name):
        if key and key in _registered:
            return _registered[key]
    where = f" (module {module!r})" if module else ""
    known = sorted(k for k in (module_objects or {}) if not k.startswith("_"))
    raise UnknownObjectError(
        f"unknown {kind} class {class_name!r}{where}: mgp does not have it"
        + (f"; mgp's {kind} classes are {known}" if known else "")
        + ". A class of your own: pass it in custom_objects={" + repr(class_name)
        + ": cls} or decorate it with mgp.saving.register_keras_serializable()")


def deserialize_keras_object(config, module_objects=None, custom_objects=None, kind="object"):
    """An object from Keras's serialized form (see the module docstring).

    Args:
        config: None, a name, or `{"class_name", "config", ...}`.
        module_objects: name -> class (or function) of the kind expected.
        custom_objects: name -> class or function the user passes.
        kind: what is expected ("layer", "loss", ...), for error messages.
    """
    if config is None:
        return None
    if isinstance(config, str):
        obj = resolve(config, None, module_objects, custom_objects, kind)
        return obj() if isinstance(obj, type) else obj
    if not isinstance(config, dict) or "class_name" not in config:
        raise ConfigError(f"cannot read a {kind} from {_short(config)}: expected a name or a "
                          f"dict with 'class_name' and 'config'")
    class_name = config["class_name"]
    inner = config.get("config")
    for key, kinds in (("class_name", str), ("registered_name", (str, type(None))),
                       ("module", (str, type(None))), ("build_config", (dict, type(None))),
                       ("compile_config", (dict, type(None)))):
        if not isinstance(config.get(key), kinds):
            raise ConfigError(f"{kind} config {_short(config)}: '{key}' should be "
                              f"{'text' if kinds is str else 'text or null'}"
                              f"{'' if 'config' not in key else ' (a dict)'}, got "
                              f"{_short(config.get(key))}")
    if class_name.startswith("__"):
        if not isinstance(inner, (dict, type(None))):
            raise ConfigError(f"{kind} config: the entry {class_name!r} needs a dict, got "
                              f"{_short(inner)}")
        try:
            return _special(class_name, inner or {})
        except (KeyError, TypeError, AttributeError) as e:
            raise ConfigError(f"{kind} config: the entry {class_name!r} is malformed "
                              f"({_short(inner)}: {type(e).__name__} {e})") from None
    if class_name == "function":
        if not isinstance(inner, str):
            raise ConfigError(f"{kind} config: a function is named by text, got "
                              f"{_short(inner)}")
        return resolve(inner, config.get("registered_name"), module_objects, custom_objects,
                       f"{kind} function", config.get("module"))
    cls = resolve(class_name, config.get("registered_name"), module_objects, custom_objects,
                  kind, config.get("module"))
    if not isinstance(cls, type):
        return cls  # a function given for a class name (custom_objects)
    inner = {} if inner is None else inner
    if not isinstance(inner, dict):
        raise ConfigError(f"the config of {kind} {class_name!r} must be a dict, got "
                          f"{_short(inner)}")
    name = inner.get("name")
    who = f"{kind} {class_name!r}" + (f" '{name}'" if isinstance(name, str) else "")
    from mgp.models.serialization import from_config_of
    try:
        instance = from_config_of(cls, inner, custom_objects)
        build_config = config.get("build_config")
        if build_config and hasattr(instance, "build_from_config") and not instance.built:
            instance.build_from_config(build_config)
        compile_config = config.get("compile_config")
        if compile_config and hasattr(instance, "compile_from_config"):
            instance.compile_from_config(compile_config, custom_objects)
    except (MgpError, MemoryError, RecursionError):
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, ArithmeticError,
            NotImplementedError) as e:
        # a constructor (or build) refused, or tripped over, a value the config gave it
        text = str(e) if isinstance(e, (ValueError, NotImplementedError)) else \
            f"a value in its config is not one it can take ({type(e).__name__}: {e})"
        raise ConfigError(f"{who}: {text}") from e
    return instance


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
