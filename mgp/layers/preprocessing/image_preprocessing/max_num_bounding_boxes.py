"""MaxNumBoundingBoxes: give every image the same number of bounding boxes, so that they batch."""
from mgp import ops
from mgp.layers._utils import describe
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)
from mgp.utils.bounding_boxes import FORMATS


class MaxNumBoundingBoxes(BaseImagePreprocessingLayer):
    """Cut or pad each image's boxes to `max_number`: a dict {'images', 'bounding_boxes':
    {'boxes': (batch, n, 4), 'labels': (batch, n)}} comes back with the first `max_number`
    boxes and labels, padded with `fill_value` where there are fewer. Images (and 'labels',
    'segmentation_masks') pass unchanged; so does an array of images. The same in training and
    at inference, as Keras.

    Args:
        max_number: the number of boxes per image.
        fill_value: the value of the padding boxes' coordinates and labels (Keras's -1).
        bounding_box_format: the boxes' format (see `mgp.utils.bounding_boxes`); needed, as in
            Keras, when the input has 'bounding_boxes'.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, max_number, fill_value=-1, **kwargs):
        box_format = kwargs.pop("bounding_box_format", None)
        super().__init__(**kwargs)
        if isinstance(max_number, bool) or int(max_number) != max_number or max_number < 1:
            raise ValueError(f"MaxNumBoundingBoxes: max_number must be a positive int, got "
                             f"{max_number!r}")
        if box_format is not None and box_format not in FORMATS:
            raise ValueError(f"MaxNumBoundingBoxes: bounding_box_format must be one of "
                             f"{FORMATS}, got {box_format!r}")
        self.max_number, self.fill_value = int(max_number), int(fill_value)
        self.bounding_box_format = box_format

    def transform_images(self, images, transformation=None, training=True):
        return images

    def transform_labels(self, labels, transformation=None, training=True):
        return labels

    def transform_segmentation_masks(self, segmentation_masks, transformation=None,
                                     training=True):
        return segmentation_masks

    def transform_bounding_boxes(self, bounding_boxes):
        unknown = set(bounding_boxes) - {"boxes", "labels"}
        if unknown or not {"boxes", "labels"} <= set(bounding_boxes):
            raise ValueError(f"{describe(self)}: bounding_boxes must hold exactly 'boxes' and "
                             f"'labels', got keys {sorted(bounding_boxes)}")
        boxes = ops.convert_to_tensor(bounding_boxes["boxes"])
        labels = ops.convert_to_tensor(bounding_boxes["labels"])
        if boxes.ndim != 3 or boxes.shape[-1] != 4 or labels.shape != boxes.shape[:2]:
            raise ValueError(f"{describe(self)}: expected boxes (batch, n, 4) and labels "
                             f"(batch, n), got shapes {tuple(boxes.shape)} and "
                             f"{tuple(labels.shape)}")
        more = max(self.max_number - boxes.shape[1], 0)
        boxes = ops.pad(boxes[:, :self.max_number], [(0, 0), (0, more), (0, 0)],
                        constant_values=self.fill_value)
        labels = ops.pad(labels[:, :self.max_number], [(0, 0), (0, more)],
                         constant_values=self.fill_value)
        return {**bounding_boxes, "boxes": boxes, "labels": labels}

    def call(self, data, training=True):
        if not isinstance(data, dict) or "bounding_boxes" not in data:
            return super().call(data, training=training)
        if self.bounding_box_format is None:
            raise ValueError(f"{describe(self)}: the input has 'bounding_boxes' but the layer "
                             f"has no bounding_box_format; pass e.g. "
                             f"bounding_box_format='xyxy'")
        rest = {k: v for k, v in data.items() if k != "bounding_boxes"}
        out = super().call(rest, training=training)
        boxes = dict(data["bounding_boxes"])
        batched = self._is_batched(self._images_of(out))
        if not batched:  # one image: its boxes (n, 4) and labels (n,)
            boxes = {k: ops.expand_dims(ops.convert_to_tensor(v), 0) for k, v in boxes.items()}
        boxes = self.transform_bounding_boxes(boxes)
        if not batched:
            boxes = {k: ops.squeeze(v, 0) for k, v in boxes.items()}
        return {**out, "bounding_boxes": boxes}

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, dict) and "bounding_boxes" in input_shape:
            shapes = dict(input_shape)
            boxes = dict(shapes["bounding_boxes"])
            for key in ("boxes", "labels"):
                shape = list(boxes[key])
                shape[-2 if key == "boxes" else -1] = self.max_number
                boxes[key] = tuple(shape)
            shapes["bounding_boxes"] = boxes
            return shapes
        return input_shape

    def get_config(self):
        # as Keras's: fill_value is not in it (a reloaded layer pads with -1)
        return {**super().get_config(), "bounding_box_format": self.bounding_box_format,
                "max_number": self.max_number}


__all__ = ["MaxNumBoundingBoxes"]
