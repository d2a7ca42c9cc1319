"""Keras's pretrained image models (`keras.applications`), built with mgp's layers: the same
architectures, layer names and parameter counts, loading the same published ImageNet weights.

Each family has its module, as in Keras, with its constructors, its `preprocess_input` (the
preprocessing its weights were trained with) and `decode_predictions`:

    >>> from mgp.applications import mobilenet_v2
    >>> model = mobilenet_v2.MobileNetV2(weights="imagenet")          # downloads once
    >>> x = mobilenet_v2.preprocess_input(images.astype("float32"))   # (n, 224, 224, 3) RGB
    >>> mobilenet_v2.decode_predictions(model.predict(x), top=3)

`weights="imagenet"` downloads Keras's weight files (Keras 2's HDF5 layout, which
`Model.load_weights` reads) into ~/.mgp/models, checked against Keras's published hashes
where Keras has them.
"""
from mgp.applications import (  # noqa: F401
    convnext, densenet, efficientnet, efficientnet_v2, imagenet_utils, inception_resnet_v2,
    inception_v3, mobilenet, mobilenet_v2, mobilenet_v3, nasnet, resnet, resnet50, resnet_v2,
    vgg16, vgg19, xception,
)
from mgp.applications.convnext import (  # noqa: F401
    ConvNeXtBase, ConvNeXtLarge, ConvNeXtSmall, ConvNeXtTiny, ConvNeXtXLarge,
)
from mgp.applications.densenet import DenseNet121, DenseNet169, DenseNet201  # noqa: F401
from mgp.applications.efficientnet import (  # noqa: F401
    EfficientNetB0, EfficientNetB1, EfficientNetB2, EfficientNetB3, EfficientNetB4,
    EfficientNetB5, EfficientNetB6, EfficientNetB7,
)
from mgp.applications.efficientnet_v2 import (  # noqa: F401
    EfficientNetV2B0, EfficientNetV2B1, EfficientNetV2B2, EfficientNetV2B3, EfficientNetV2L,
    EfficientNetV2M, EfficientNetV2S,
)
from mgp.applications.inception_resnet_v2 import InceptionResNetV2  # noqa: F401
from mgp.applications.inception_v3 import InceptionV3  # noqa: F401
from mgp.applications.mobilenet import MobileNet  # noqa: F401
from mgp.applications.mobilenet_v2 import MobileNetV2  # noqa: F401
from mgp.applications.mobilenet_v3 import MobileNetV3Large, MobileNetV3Small  # noqa: F401
from mgp.applications.nasnet import NASNetLarge, NASNetMobile  # noqa: F401
from mgp.applications.resnet import ResNet50, ResNet101, ResNet152  # noqa: F401
from mgp.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2  # noqa: F401
from mgp.applications.vgg16 import VGG16  # noqa: F401
from mgp.applications.vgg19 import VGG19  # noqa: F401
from mgp.applications.xception import Xception  # noqa: F401

