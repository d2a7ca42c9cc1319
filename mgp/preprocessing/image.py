"""`keras.preprocessing.image`: the image file helpers of `mgp.utils`."""
from mgp._absent import absent
from mgp.utils import array_to_img, img_to_array, load_img, save_img  # noqa: F401

__getattr__ = absent("mgp.preprocessing.image", "smart_resize")
