"""`keras.preprocessing`: Keras's other home of the dataset builders and of the sequence and
image helpers; each name here is the `mgp.utils` function of that name."""
from mgp.preprocessing import image, sequence  # noqa: F401
from mgp.utils import (  # noqa: F401
    image_dataset_from_directory,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)
