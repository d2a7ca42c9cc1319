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


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """`model.save(filepath)`: `.keras` (Keras 3's zip layout) or `.h5`."""
    from mgp.saving import save_model as _save
    _save(model, filepath, overwrite=overwrite, include_optimizer=include_optimizer)


def model_from_json(json_string, custom_objects=None):
    """A model (new weights) from `model.to_json()`'s architecture, Keras's or mgp's."""
    import json

    from mgp.models.serialization import deserialize_layer
    return deserialize_layer(json.loads(json_string), custom_objects)
