"""The image preprocessing layers, one a file as Keras keeps them: resizing and cropping, the
random geometric and colour augmentations, and the mixing ones (MixUp, CutMix, RandAugment,
AugMix); their common base is `base_image_preprocessing_layer`."""
