"""`clone_model`: the same architecture with new layers (and so new, freshly initialized
weights), as Keras's `clone_model`."""
from mgp.layers.input_layer import Input
from mgp.layers.operation import Operation
from mgp.layers.symbolic import SymbolicTensor, flatten, map_structure
from mgp.models import functional
from mgp.models.model import Model
from mgp.models.sequential import Sequential


def _clone_layer(layer):
    return type(layer).from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False):
    """A copy of `model`'s architecture with new layers; the weights are not copied (call
    `clone.set_weights(model.get_weights())` for that). A compiled model's clone is compiled
    with the same settings (and a new optimizer).

    Args:
        model: a Sequential, functional or subclassed model.
        input_tensors: new symbolic inputs (from `mgp.Input`) to build the clone on, in the
            structure of `model`'s inputs (Sequential and functional models).
        clone_function: `layer -> new layer`, applied to every layer but the InputLayers (by
            default `type(layer).from_config(layer.get_config())`); return the layer itself to
            share it between the model and its clone.
        call_function: `(layer, *args, **kwargs) -> outputs`, how each cloned layer is called
            (functional models only).
        recursive: clone nested Sequential and functional models layer by layer too.
    Returns:
        the new model (shared layers stay shared: each layer is cloned once).
    """
    cache = {}
    base = clone_function or _clone_layer

    def clone(layer):
        if id(layer) not in cache:
            if recursive and isinstance(layer, Sequential) or \
                    recursive and isinstance(layer, Model) and layer._nodes is not None:
                cache[id(layer)] = clone_model(layer, clone_function=clone_function,
                                               call_function=call_function, recursive=True)
            else:
                cache[id(layer)] = base(layer)
        return cache[id(layer)]

    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError("clone_model: call_function is for functional models; a "
                             "Sequential's layers are listed, not called")
        return _clone_sequential(model, clone, input_tensors)
    if isinstance(model, Model) and model._nodes is not None:
        return _clone_functional(model, clone, input_tensors, call_function)
    if clone_function is not None or input_tensors is not None or call_function is not None:
        raise ValueError(f"clone_model: clone_function, input_tensors and call_function work "
                         f"for Sequential and functional models; model '{model.name}' is "
                         f"a subclassed {type(model).__name__}")
    clone_ = type(model).from_config(model.get_config())
    if model.built and model.get_build_config():
        clone_.build_from_config(model.get_build_config())
    return _compiled_like(model, clone_)


def _clone_sequential(model, clone, input_tensors):
    layers = [clone(layer) for layer in model.layers]
    if input_tensors is not None:
        inputs = flatten(input_tensors)
        if len(inputs) != 1 or not isinstance(inputs[0], SymbolicTensor):
            raise ValueError("clone_model: a Sequential takes one symbolic input tensor as "
                             "input_tensors")
        layers.insert(0, inputs[0])
    elif model._input is not None:
        source = model._input.layer
        layers.insert(0, Input(batch_shape=source.batch_shape, dtype=source.dtype,
                               name=source.name))
    return _compiled_like(model, Sequential(layers, name=model.name,
                                            trainable=model.trainable))


def _clone_functional(model, clone, input_tensors, call_function):
    if input_tensors is None:
        inputs = map_structure(lambda x: Input(batch_shape=x.shape, dtype=x.dtype,
                                               name=x.layer.name), model._inputs_structure)
    else:
        if len(flatten(input_tensors)) != len(model.inputs) or not all(
                isinstance(t, SymbolicTensor) for t in flatten(input_tensors)):
            raise ValueError(f"clone_model: input_tensors must be {len(model.inputs)} symbolic "
                             f"tensors (from mgp.Input), in the structure of the model's "
                             f"inputs")
        inputs = input_tensors

    def run(node, args, kwargs):
        if isinstance(node.layer, Operation):  # an op holds no state: called again, as Keras
            return node.layer(*args, **kwargs)
        layer = clone(node.layer)
        if call_function is not None:
            return call_function(layer, *args, **kwargs)
        return layer(*args, **kwargs)
    outputs = functional.run_graph(model.inputs, model._nodes, model._outputs_structure,
                                   flatten(inputs), run)
    cls = type(model) if _functional_like(type(model)) else Model
    return _compiled_like(model, cls(inputs, outputs, name=model.name))


def _functional_like(cls):
    """Whether a Model subclass can be built as `cls(inputs, outputs, name=...)`."""
    import inspect
    if cls is Model:
        return True
    params = inspect.signature(cls.__init__).parameters
    return "inputs" in params and "outputs" in params


def _compiled_like(model, clone):
    if getattr(model, "compiled", False):
        clone.compile_from_config(model.get_compile_config())
    return clone


__all__ = ["clone_model"]
