"""FeatureSpace: one preprocessing step for a dict of structured (tabular) features, Keras's
`keras.utils.FeatureSpace`, built on mgp's preprocessing layers (Normalization, Rescaling,
Discretization, IntegerLookup, StringLookup, Hashing, HashedCrossing, CategoryEncoding) and
needing no TensorFlow: `adapt` takes a dict of arrays (or an iterable of such dicts, batches).

Each feature has a preprocessor and an output mode ('float', 'int', 'one_hot'); crosses hash
pairs (or more) of features together. The outputs, in the order of the features' sorted names
and then the crosses' sorted names, are concatenated into one float vector per sample
(`output_mode='concat'`) or returned as a dict (`'dict'`).
"""
import numpy as np

from mgp import ops
from mgp.config import unique_name
from mgp.layers.base import Layer
from mgp.layers.symbolic import SymbolicTensor, flatten


class Cross:
    """A hashed cross of the features `feature_names` into `crossing_dim` bins."""

    def __init__(self, feature_names, crossing_dim, output_mode="one_hot"):
        if output_mode not in ("int", "one_hot"):
            raise ValueError(f"FeatureSpace cross: output_mode must be 'int' or 'one_hot', got "
                             f"{output_mode!r}")
        self.feature_names = tuple(feature_names)
        self.crossing_dim, self.output_mode = crossing_dim, output_mode

    @property
    def name(self):
        return "_X_".join(self.feature_names)

    def get_config(self):
        return {"feature_names": self.feature_names, "crossing_dim": self.crossing_dim,
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Feature:
    """A feature: its input dtype, the layer that preprocesses it, and how its output is
    encoded ('float' as it is, 'int' as it is, 'one_hot' as a multi-hot vector)."""

    def __init__(self, dtype, preprocessor, output_mode):
        if output_mode not in ("int", "one_hot", "float"):
            raise ValueError(f"FeatureSpace feature: output_mode must be 'int', 'one_hot' or "
                             f"'float', got {output_mode!r}")
        if isinstance(preprocessor, dict):
            from mgp.models.serialization import deserialize_layer
            preprocessor = deserialize_layer(preprocessor,
                                             custom_objects={"TFDIdentity": TFDIdentity})
        self.dtype, self.preprocessor, self.output_mode = dtype, preprocessor, output_mode

    def get_config(self):
        from mgp.models.serialization import serialize_layer
        preprocessor = serialize_layer(self.preprocessor)
        if isinstance(self.preprocessor, TFDIdentity):  # where Keras's configs put it
            preprocessor.update(module=_MODULE, registered_name="TFDIdentity")
        return {"dtype": self.dtype, "preprocessor": preprocessor,
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


_MODULE = "keras.src.layers.preprocessing.feature_space"  # Keras's home of these classes


class TFDIdentity(Layer):
    """The preprocessor of a plain 'float' feature: the identity (Keras's class name, which
    its configs carry)."""

    def call(self, x):
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


def _layers():
    from mgp import layers
    return layers


class FeatureSpace(Layer):
    """Preprocess a dict of features, each named in `features` by a type ('float',
    'float_normalized', 'float_rescaled', 'float_discretized', 'integer_categorical',
    'string_categorical', 'integer_hashed', 'string_hashed') or a `Feature` from the class
    methods of the same names.

    Args:
        features: {name: type or Feature}.
        output_mode: 'concat' (one float32 array (batch, total)) or 'dict' ({name: array}).
        crosses: Cross objects, or tuples of feature names (hashed into `crossing_dim` bins).
        crossing_dim, hashing_dim, num_discretization_bins: the bins of the crosses, of the
            hashed features and of the discretized features named by type.

    Example:
        >>> space = FeatureSpace({"age": "float_normalized", "city": "string_categorical"})
        >>> space.adapt({"age": ages, "city": cities})
        >>> space({"age": ages[:2], "city": cities[:2]}).shape   # (2, 1 + vocabulary size)
    """

    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot"):
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode):
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name=None):
        name = name or unique_name("float")
        return Feature("float32", TFDIdentity(name=f"{name}_preprocessor"), "float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None):
        name = name or unique_name("float_rescaled")
        layer = _layers().Rescaling(scale=scale, offset=offset, name=f"{name}_preprocessor")
        return Feature("float32", layer, "float")

    @classmethod
    def float_normalized(cls, name=None):
        name = name or unique_name("float_normalized")
        return Feature("float32", _layers().Normalization(axis=-1, name=f"{name}_preprocessor"),
                       "float")

    @classmethod
    def float_discretized(cls, num_bins, bin_boundaries=None, output_mode="one_hot",
                          name=None):
        name = name or unique_name("float_discretized")
        layer = _layers().Discretization(num_bins=num_bins, bin_boundaries=bin_boundaries,
                                         name=f"{name}_preprocessor")
        return Feature("float32", layer, output_mode)

    @classmethod
    def integer_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot",
                            name=None):
        name = name or unique_name("integer_categorical")
        layer = _layers().IntegerLookup(name=f"{name}_preprocessor", max_tokens=max_tokens,
                                        num_oov_indices=num_oov_indices)
        return Feature("int32", layer, output_mode)

    @classmethod
    def string_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot",
                           name=None):
        name = name or unique_name("string_categorical")
        layer = _layers().StringLookup(name=f"{name}_preprocessor", max_tokens=max_tokens,
                                       num_oov_indices=num_oov_indices)
        return Feature("string", layer, output_mode)

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None):
        name = name or unique_name("string_hashed")
        return Feature("string", _layers().Hashing(name=f"{name}_preprocessor",
                                                   num_bins=num_bins), output_mode)

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None):
        name = name or unique_name("integer_hashed")
        return Feature("int32", _layers().Hashing(name=f"{name}_preprocessor",
                                                  num_bins=num_bins), output_mode)

    def __init__(self, features, output_mode="concat", crosses=None, crossing_dim=32,
                 hashing_dim=32, num_discretization_bins=32, name=None):
        super().__init__(name=name)
        if not features:
            raise ValueError("FeatureSpace: features must be a non-empty dict")
        if output_mode not in ("dict", "concat"):
            raise ValueError(f"FeatureSpace: output_mode must be 'dict' or 'concat', got "
                             f"{output_mode!r}")
        self.crossing_dim, self.hashing_dim = crossing_dim, hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.output_mode = output_mode
        self.features = {key: self._standardize_feature(key, value)
                         for key, value in features.items()}
        self.crosses = []
        for cross in crosses or []:
            if isinstance(cross, dict):
                cross = Cross.from_config(cross.get("config", cross))
            if not isinstance(cross, Cross):
                if not crossing_dim:
                    raise ValueError("FeatureSpace: crosses need a crossing_dim")
                unknown = [key for key in cross if key not in self.features]
                if unknown:
                    raise ValueError(f"FeatureSpace: the cross {tuple(cross)} names features "
                                     f"{unknown} that are not in features "
                                     f"{sorted(self.features)}")
                cross = Cross(cross, crossing_dim)
            self.crosses.append(cross)
        self.crosses_by_name = {cross.name: cross for cross in self.crosses}
        self.preprocessors = {key: f.preprocessor for key, f in self.features.items()}
        self.crossers = {cross.name: _layers().HashedCrossing(cross.crossing_dim,
                                                              name=cross.name)
                         for cross in self.crosses}
        self.one_hot_encoders = {}
        self.inputs = None
        self.encoded_features = None
        self._is_adapted = False

    def _standardize_feature(self, name, feature):
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return Feature.from_config(feature.get("config", feature))
        makers = {
            "float": lambda: self.float(name=name),
            "float_normalized": lambda: self.float_normalized(name=name),
            "float_rescaled": lambda: self.float_rescaled(name=name),
            "float_discretized": lambda: self.float_discretized(
                name=name, num_bins=self.num_discretization_bins),
            "integer_categorical": lambda: self.integer_categorical(name=name),
            "string_categorical": lambda: self.string_categorical(name=name),
            "integer_hashed": lambda: self.integer_hashed(self.hashing_dim, name=name),
            "string_hashed": lambda: self.string_hashed(self.hashing_dim, name=name),
        }
        if feature not in makers:
            raise ValueError(f"FeatureSpace: feature {name!r} has an unknown type {feature!r}; "
                             f"the types are {sorted(makers)}")
        return makers[feature]()

    # ---- adapting --------------------------------------------------------------------------
    def _adaptable(self):
        layers = _layers()
        names = []
        for key, pre in self.preprocessors.items():
            if isinstance(pre, layers.Normalization) and getattr(pre, "input_mean", None) \
                    is not None:
                continue  # given its mean and variance
            if isinstance(pre, layers.Discretization) and pre.bin_boundaries is not None:
                continue  # given its boundaries
            if hasattr(pre, "adapt"):
                names.append(key)
        return names

    def adapt(self, dataset):
        """Fit every preprocessor that learns from data (normalization statistics, bin
        boundaries, vocabularies) on `dataset`: a dict {name: array of samples} or an iterable
        of such dicts (batches, concatenated)."""
        if isinstance(dataset, dict):
            batches = [dataset]
        else:
            try:
                batches = list(dataset)
            except TypeError:
                raise ValueError(f"FeatureSpace.adapt takes a dict of arrays or an iterable of "
                                 f"such dicts, got {type(dataset).__name__}") from None
            if not all(isinstance(b, dict) for b in batches):
                raise ValueError("FeatureSpace.adapt: every batch must be a dict of arrays")
        for key in self._adaptable():
            missing = [i for i, b in enumerate(batches) if key not in b]
            if missing:
                raise ValueError(f"FeatureSpace.adapt: the data has no feature {key!r}")
            values = np.concatenate([_column(np.asarray(b[key])) for b in batches])
            self.preprocessors[key].adapt(values)
        self._is_adapted = True
        self.get_encoded_features()

    def _check_adapted(self):
        if not self._is_adapted:
            if self._adaptable():
                raise ValueError(f"FeatureSpace: call adapt(data) before using it (features "
                                 f"{self._adaptable()} learn from the data)")
            self._is_adapted = True

    # ---- the functional view ---------------------------------------------------------------
    def get_inputs(self):
        """{name: Input((1,), dtype)}: the inputs of a model built on `get_encoded_features`."""
        self._check_adapted()
        self.get_encoded_features()
        return self.inputs

    def get_encoded_features(self):
        """The encoded features of `get_inputs()` (symbolic), to build a model on."""
        self._check_adapted()
        if self.encoded_features is None:
            self.inputs = {key: _layers().Input(shape=(1,), dtype=f.dtype, name=key)
                           for key, f in self.features.items()}
            self.encoded_features = self._encode(self.inputs)
        return self.encoded_features

    # ---- the computation -------------------------------------------------------------------
    def _encode(self, data):
        pre = {key: self.preprocessors[key](data[key]) for key in self.features}
        crossed = {cross.name: self.crossers[cross.name]([pre[k] for k in cross.feature_names])
                   for cross in self.crosses}
        names = sorted(pre) + sorted(crossed)
        specs = {**self.features, **self.crosses_by_name}
        outputs = {}
        for key in names:
            value = pre[key] if key in pre else crossed[key]
            if specs[key].output_mode == "one_hot":
                value = self._one_hot(key, value)
            outputs[key] = value
        if self.output_mode == "dict":
            return outputs
        for key in names:
            kind = np.dtype(outputs[key].dtype).kind
            if kind in "iuUSO":
                raise ValueError(f"FeatureSpace: cannot concatenate feature {key!r}, which is "
                                 f"not encoded (dtype {np.dtype(outputs[key].dtype).name}); "
                                 f"use output_mode='dict'")
        return _layers().Concatenate(axis=-1)([outputs[key] for key in names])

    def _one_hot(self, key, value):
        encoder = self.one_hot_encoders.get(key)
        if encoder is None:
            layers = _layers()
            kind = np.dtype(value.dtype).kind
            if kind not in "iu":
                raise ValueError(f"FeatureSpace: feature {key!r} has output_mode='one_hot', so "
                                 f"its preprocessor must return integers; it returns "
                                 f"{np.dtype(value.dtype).name}")
            layer = self.preprocessors.get(key) or self.crossers.get(key)
            if isinstance(layer, (layers.IntegerLookup, layers.StringLookup)):
                cardinality = layer.vocabulary_size()
            elif isinstance(layer, layers.CategoryEncoding):
                cardinality = layer.num_tokens
            elif isinstance(layer, (layers.Discretization, layers.Hashing,
                                    layers.HashedCrossing)):
                cardinality = layer.num_bins
            else:
                raise ValueError(f"FeatureSpace: feature {key!r} has output_mode='one_hot', but "
                                 f"the size of its preprocessor's output space is unknown; use "
                                 f"output_mode='int'")
            encoder = layers.CategoryEncoding(num_tokens=cardinality, output_mode="multi_hot")
            self.one_hot_encoders[key] = encoder
        return encoder(value)

    def __call__(self, data):
        if any(isinstance(t, SymbolicTensor) for t in flatten(data)):
            raise ValueError("FeatureSpace: call it on data; for a model use "
                             "get_inputs() and get_encoded_features()")
        self._check_adapted()
        self.get_encoded_features()
        if not isinstance(data, dict):
            raise ValueError(f"FeatureSpace can only be called with a dict of features, got "
                             f"{type(data).__name__}")
        missing = sorted(set(self.features) - set(data))
        if missing:
            raise ValueError(f"FeatureSpace: the data lacks features {missing}")
        columns, single = {}, False
        for key in self.features:
            x = np.asarray(data[key].numpy() if hasattr(data[key], "numpy") else data[key])
            single = single or x.ndim == 0
            columns[key] = _column(x)
        out = self._encode(columns)
        if single:  # one sample given as scalars: its vectors without the batch axis
            if isinstance(out, dict):
                return {k: ops.squeeze(v, 0) if v.ndim == 2 and v.shape[0] == 1 else v
                        for k, v in out.items()}
            return ops.squeeze(out, 0)
        return out

    def get_config(self):
        return {"features": {key: _serialized(f) for key, f in self.features.items()},
                "output_mode": self.output_mode,
                "crosses": [_serialized(c) for c in self.crosses],
                "crossing_dim": self.crossing_dim, "hashing_dim": self.hashing_dim,
                "num_discretization_bins": self.num_discretization_bins}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _serialized(obj):
    """A Feature or Cross in Keras's serialized form (module and class name as Keras's)."""
    return {"module": _MODULE, "class_name": type(obj).__name__, "config": obj.get_config(),
            "registered_name": type(obj).__name__}


def _column(x):
    """Samples as a (batch, 1) column: a scalar is one sample, a vector one value a sample."""
    if x.ndim == 0:
        return x.reshape(1, 1)
    if x.ndim == 1:
        return x[:, None]
    return x
