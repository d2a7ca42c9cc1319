"""Models: Sequential, functional and subclassed `Model`, cloning them, and loading saved
models."""
from mgp.models.model import Model
from mgp.models.sequential import Sequential
from mgp.models.serialization import register_serializable
from mgp.models.cloning import clone_model


def load_model(filepath, custom_objects=None, compile=True):
    """Rebuild a model saved with `model.save` (`.h5` or `.keras`)."""
    from mgp.saving import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile)
