"""ConvNeXt (Liu et al., "A ConvNet for the 2020s", CVPR 2022): a ResNet modernized towards
vision transformers. A 4x4 patchifying stem, then four stages of blocks (7x7 depthwise
convolution, layer normalization, a 4x-wide pointwise MLP with GELU, a learned per-channel
scale) joined by 2x2 strided downsampling convolutions. Its ImageNet weights expect pixels in
[0, 255]: the normalization is the model's first layer, so `preprocess_input` returns its
input unchanged. channels_last only, as in Keras."""
import numpy as np

from mgp import initializers, layers, ops
from mgp.applications import _common, imagenet_utils
from mgp.config import get_uid, image_data_format
from mgp.layers.base import Layer
from mgp.layers.regularization.dropout import generator
from mgp.layers.symbolic import get_source_inputs
from mgp.models import Model, Sequential

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
# sha256 of the files with and without the top, as Keras publishes them
WEIGHTS_HASHES = {
    "convnext_tiny": ("8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
                      "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    "convnext_small": ("ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
                       "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab"),
    "convnext_base": ("52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
                      "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45"),
    "convnext_large": ("070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
                       "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd"),
    "convnext_xlarge": ("c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
                        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05"),
}
# blocks per stage and the stages' widths
MODEL_CONFIGS = {
    "tiny": {"depths": [3, 3, 9, 3], "projection_dims": [96, 192, 384, 768],
             "default_size": 224},
    "small": {"depths": [3, 3, 27, 3], "projection_dims": [96, 192, 384, 768],
              "default_size": 224},
    "base": {"depths": [3, 3, 27, 3], "projection_dims": [128, 256, 512, 1024],
             "default_size": 224},
    "large": {"depths": [3, 3, 27, 3], "projection_dims": [192, 384, 768, 1536],
              "default_size": 224},
    "xlarge": {"depths": [3, 3, 27, 3], "projection_dims": [256, 512, 1024, 2048],
               "default_size": 224},
}
# ImageNet's per-channel mean and standard deviation, on the [0, 255] scale
MEAN = [0.485 * 255, 0.456 * 255, 0.406 * 255]
STD = [0.229 * 255, 0.224 * 255, 0.225 * 255]


class StochasticDepth(Layer):
    """While training, drop the whole residual branch of each sample with probability
    `drop_path_rate` (the kept ones scaled by 1 / (1 - rate)); the identity at inference.

    Args:
        drop_path_rate: the probability of dropping a sample's branch, in [0, 1).
    """

    def __init__(self, drop_path_rate, **kwargs):
        super().__init__(**kwargs)
        if isinstance(drop_path_rate, bool) or \
                not isinstance(drop_path_rate, (int, float, np.number)) \
                or not 0 <= drop_path_rate < 1:
            raise ValueError(f"StochasticDepth: drop_path_rate must be a number in [0, 1), "
                             f"got {drop_path_rate!r}")
        self.drop_path_rate = drop_path_rate

    def call(self, x, training=None):
        if not training:
            return x
        keep_prob = 1 - self.drop_path_rate
        # one draw per sample, broadcast over its other axes
        shape = (x.shape[0],) + (1,) * (len(x.shape) - 1)
        keep = generator(None).random(shape, dtype=np.float32) < keep_prob
        return x / np.float32(keep_prob) * keep.astype(np.float32)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate}


class LayerScale(Layer):
    """x times a learned per-channel scale, `init_values` at first (Touvron et al., "Going
    deeper with Image Transformers", 2021): a small start lets each block begin near the
    identity.

    Args:
        init_values: the scale's initial value.
        projection_dim: the number of channels (x's last axis).
    """

    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape):
        if input_shape[-1] != self.projection_dim:
            raise ValueError(f"LayerScale {self.name!r}: the input's last axis must be "
                             f"projection_dim={self.projection_dim}; got shape "
                             f"{tuple(input_shape)}")
        # unnamed, as in Keras (its path ends in "variable")
        self.gamma = self.add_weight(shape=(self.projection_dim,),
                                     initializer=initializers.Constant(self.init_values),
                                     trainable=True)

    def call(self, x):
        return ops.multiply(x, self.gamma)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "init_values": self.init_values,
                "projection_dim": self.projection_dim}


def ConvNeXtBlock(projection_dim, drop_path_rate=0.0, layer_scale_init_value=1e-6, name=None):
    """One block: 7x7 depthwise convolution, layer normalization, pointwise MLP (Dense layers
    on the channel axis, 4x wide, GELU), the layer scale, stochastic depth (or a linear
    Activation where there is none, as Keras names it), added to the block's input."""
    if name is None:
        name = f"prestem{get_uid('prestem')}"

    def apply(inputs):
        x = layers.Conv2D(projection_dim, kernel_size=7, padding="same", groups=projection_dim,
                          name=f"{name}_depthwise_conv")(inputs)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_layernorm")(x)
        x = layers.Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(x)
        x = layers.Activation("gelu", name=f"{name}_gelu")(x)
        x = layers.Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
        if layer_scale_init_value is not None:
            x = LayerScale(layer_scale_init_value, projection_dim,
                           name=f"{name}_layer_scale")(x)
        if drop_path_rate:
            drop = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")
        else:
            drop = layers.Activation("linear", name=f"{name}_identity")
        return inputs + drop(x)

    return apply


def PreStem(name=None):
    """The input normalized with ImageNet's mean and standard deviation."""
    if name is None:
        name = f"prestem{get_uid('prestem')}"

    def apply(x):
        return layers.Normalization(mean=MEAN, variance=[s ** 2 for s in STD],
                                    name=f"{name}_prestem_normalization")(x)

    return apply


def Head(num_classes=1000, classifier_activation=None, name=None):
    """The classifier: global average pooling, layer normalization, Dense."""
    if name is None:
        name = str(get_uid("head"))

    def apply(x):
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_head_layernorm")(x)
        return layers.Dense(num_classes, activation=classifier_activation,
                            name=f"{name}_head_dense")(x)

    return apply


def ConvNeXt(depths, projection_dims, drop_path_rate=0.0, layer_scale_init_value=1e-6,
             default_size=224, name="convnext", include_preprocessing=True, include_top=True,
             weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", weights_name=None):
    """A ConvNeXt of any depths and widths (what the five constructors call).

    Args:
        depths: the number of blocks in each of the four stages.
        projection_dims: the width of each stage.
        drop_path_rate: the stochastic depth rate of the last block, rising linearly from 0
            at the first.
        layer_scale_init_value: the layer scales' initial value; None: no layer scale.
        default_size: the input size when `input_shape` is None.
        name: the model's name (it prefixes every layer's).
        include_preprocessing: normalize the [0, 255] input in the model (where it has 3
            channels); needed by the ImageNet weights.
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation: as for `mgp.applications.VGG16` (without the top, the
            features end in a layer normalization, after the pooling if any).
        weights_name: the ImageNet weights' variant ("convnext_tiny", ...).
    Returns:
        A functional `mgp.Model`.
    """
    if image_data_format() == "channels_first":
        raise ValueError("ConvNeXt does not support the `channels_first` image data format. "
                         "Switch to `channels_last` with mgp.config.set_image_data_format")
    _common.check_weights(
        weights, include_top, classes,
        weights_message="The `weights` argument should be either `None` (random "
                        "initialization), `imagenet` (pre-training on ImageNet), or the path "
                        "to the weights file to be loaded.",
        classes_message='If using `weights="imagenet"` with `include_top=True`, `classes` '
                        'should be 1000. Received classes={classes}')
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32, data_format=image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = _common.image_input(input_tensor, input_shape)
    x = img_input
    if include_preprocessing and input_shape[-1] == 3:
        x = PreStem(name=name)(x)
    # the stem and the three downsamplings are Sequential models inside the model, as in
    # Keras (their weights are nested so in Keras's files)
    downsamples = [Sequential([
        layers.Conv2D(projection_dims[0], kernel_size=4, strides=4, name=f"{name}_stem_conv"),
        layers.LayerNormalization(epsilon=1e-6, name=f"{name}_stem_layernorm"),
    ], name=f"{name}_stem")]
    for i in range(3):
        downsamples.append(Sequential([
            layers.LayerNormalization(epsilon=1e-6, name=f"{name}_downsampling_layernorm_{i}"),
            layers.Conv2D(projection_dims[i + 1], kernel_size=2, strides=2,
                          name=f"{name}_downsampling_conv_{i}"),
        ], name=f"{name}_downsampling_block_{i}"))
    # the stochastic depth rate grows linearly over all the blocks
    rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    first = 0
    for i, downsample in enumerate(downsamples):
        x = downsample(x)
        for j in range(depths[i]):
            x = ConvNeXtBlock(projection_dims[i], drop_path_rate=rates[first + j],
                              layer_scale_init_value=layer_scale_init_value,
                              name=f"{name}_stage_{i}_block_{j}")(x)
        first += depths[i]
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Head(num_classes=classes, classifier_activation=classifier_activation, name=name)(x)
    else:
        x = _common.pool(x, pooling)
        x = layers.LayerNormalization(epsilon=1e-6)(x)
    inputs = get_source_inputs(input_tensor)[0] if input_tensor is not None else img_input
    model = Model(inputs, x, name=name)
    if weights != "imagenet":
        return _common.load(model, weights)
    expected = MODEL_CONFIGS[weights_name.split("convnext_")[-1]]
    if depths != expected["depths"] or projection_dims != expected["projection_dims"]:
        raise ValueError(f"Architecture configuration does not match {weights_name} variant. "
                         f"When using pre-trained weights, the model architecture must match "
                         f"the pre-trained configuration exactly. Expected depths: "
                         f"{expected['depths']}, got: {depths}. Expected projection_dims: "
                         f"{expected['projection_dims']}, got: {projection_dims}.")
    if weights_name not in name:
        raise ValueError(f'Model name "{name}" does not match weights variant '
                         f'"{weights_name}". When using imagenet weights, model name must '
                         f'contain the weights variant (e.g., "convnext_'
                         f'{weights_name.split("convnext_")[-1]}").')
    file_name = name + (".h5" if include_top else "_notop.h5")
    return _common.load(model, weights, file_name, BASE_WEIGHTS_PATH + file_name,
                        WEIGHTS_HASHES[weights_name][0 if include_top else 1])


def _variant(size):
    """The constructor of one of Keras's five sizes."""
    config = MODEL_CONFIGS[size]

    def constructor(include_top=True, include_preprocessing=True, weights="imagenet",
                    input_tensor=None, input_shape=None, pooling=None, classes=1000,
                    classifier_activation="softmax", name=f"convnext_{size}"):
        return ConvNeXt(weights_name=f"convnext_{size}", depths=config["depths"],
                        projection_dims=config["projection_dims"], drop_path_rate=0.0,
                        layer_scale_init_value=1e-6, default_size=config["default_size"],
                        name=name, include_top=include_top,
                        include_preprocessing=include_preprocessing, weights=weights,
                        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                        classes=classes, classifier_activation=classifier_activation)

    title = {"xlarge": "XLarge"}.get(size, size.capitalize())
    constructor.__name__ = constructor.__qualname__ = f"ConvNeXt{title}"
    constructor.__doc__ = f"""The ConvNeXt{title} model, as `keras.applications.ConvNeXt{title}`
    builds it (same layer names and weights): {config['depths']} blocks of widths
    {config['projection_dims']}.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as for `ConvNeXt`.
        include_preprocessing: normalize the [0, 255] input in the model (True for the
            ImageNet weights).
    Returns:
        A functional `mgp.Model`.

    Example:
        >>> model = mgp.applications.ConvNeXt{title}(weights=None, input_shape=(32, 32, 3),
        ...                                          include_top=False, pooling="avg")
        >>> model.output_shape
        (None, {config['projection_dims'][-1]})
    """
    return constructor


ConvNeXtTiny = _variant("tiny")
ConvNeXtSmall = _variant("small")
ConvNeXtBase = _variant("base")
ConvNeXtLarge = _variant("large")
ConvNeXtXLarge = _variant("xlarge")


def preprocess_input(x, data_format=None):
    """`x` unchanged: ConvNeXt normalizes its [0, 255] input itself (its first layer)."""
    return x


def decode_predictions(preds, top=5):
    """The top ImageNet classes of each prediction (see `imagenet_utils.decode_predictions`)."""
    return imagenet_utils.decode_predictions(preds, top=top)
