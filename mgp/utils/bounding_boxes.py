"""Bounding boxes: Keras's `keras.utils.bounding_boxes` functions, on mgp Tensors (so that an
IoU can be part of a differentiable loss).

Boxes are (..., 4) arrays in one of Keras's formats: 'xyxy' (corners), 'yxyx', 'xywh' (corner,
size), 'center_xywh', 'center_yxhw' (centre, size), or a relative one ('rel_xyxy', 'rel_yxyx',
'rel_xywh', 'rel_center_xywh': fractions of the image's width and height). Every function
computes in 'xyxy' (or 'yxyx' for the IoU) after `convert_format`, as Keras does.
"""
import math

from mgp import config, ops

FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy", "rel_yxyx",
           "rel_xywh", "rel_center_xywh")


def _columns(boxes):
    return [boxes[..., i:i + 1] for i in range(4)]


def _join(*columns):
    return ops.concatenate(list(columns), axis=-1)


def _to_xyxy(boxes, fmt, height, width):
    a, b, c, d = _columns(boxes)
    if fmt == "xyxy":
        return boxes
    if fmt == "yxyx":
        return _join(b, a, d, c)
    if fmt == "xywh":
        return _join(a, b, a + c, b + d)
    if fmt == "center_xywh":
        return _join(a - c / 2.0, b - d / 2.0, a + c / 2.0, b + d / 2.0)
    if fmt == "center_yxhw":
        return _join(b - d / 2.0, a - c / 2.0, b + d / 2.0, a + c / 2.0)
    # relative formats: the absolute box of the same format, scaled by the image's size
    absolute = _to_xyxy(boxes, fmt[len("rel_"):], height, width)
    x1, y1, x2, y2 = _columns(absolute)
    return _join(x1 * width, y1 * height, x2 * width, y2 * height)


def _from_xyxy(boxes, fmt, height, width):
    x1, y1, x2, y2 = _columns(boxes)
    if fmt.startswith("rel_"):
        relative = _join(x1 / width, y1 / height, x2 / width, y2 / height)
        return _from_xyxy(relative, fmt[len("rel_"):], height, width)
    if fmt == "xyxy":
        return boxes
    if fmt == "yxyx":
        return _join(y1, x1, y2, x2)
    w, h = x2 - x1, y2 - y1
    if fmt == "xywh":
        return _join(x1, y1, w, h)
    cx, cy = x1 + w / 2.0, y1 + h / 2.0
    return _join(cx, cy, w, h) if fmt == "center_xywh" else _join(cy, cx, h, w)


def convert_format(boxes, source, target, height=None, width=None, dtype="float32"):
    """`boxes` (..., 4) from format `source` to format `target` (see the module docstring), as
    `dtype`; a relative format on either side needs the image's `height` and `width`. A dict
    {'boxes': ..., ...} gets its 'boxes' entry converted (in place, as Keras) and is returned.

    Raises:
        ValueError: for boxes whose last axis is not 4, an unknown format, or a relative format
            without height and width.
    """
    if isinstance(boxes, dict):
        boxes["boxes"] = convert_format(boxes["boxes"], source, target, height, width, dtype)
        return boxes
    boxes = ops.convert_to_tensor(boxes)
    if boxes.ndim == 0 or boxes.shape[-1] != 4:
        raise ValueError(f"convert_format: boxes must have a last axis of 4, got shape "
                         f"{tuple(boxes.shape)}")
    source, target = str(source).lower(), str(target).lower()
    for name, fmt in (("source", source), ("target", target)):
        if fmt not in FORMATS:
            raise ValueError(f"convert_format: {name} format {fmt!r} is not one of {FORMATS}")
    if (source.startswith("rel_") or target.startswith("rel_")) and \
            (height is None or width is None):
        raise ValueError(f"convert_format: converting between {source!r} and {target!r} needs "
                         f"the image's height and width, got height={height}, width={width}")
    boxes = ops.cast(boxes, dtype)
    if source == target:
        return boxes
    if source.startswith("rel_") and target.startswith("rel_"):  # no image size needed
        source, target = source[len("rel_"):], target[len("rel_"):]
    return _from_xyxy(_to_xyxy(boxes, source, height, width), target, height, width)


def _area(xyxy):
    x1, y1, x2, y2 = _columns(xyxy)
    return (x2 - x1) * (y2 - y1)


def clip_to_image_size(bounding_boxes, height=None, width=None, bounding_box_format="xyxy"):
    """Clip {'boxes', 'labels' (optional)} to the image ('xyxy': [0, width] x [0, height];
    'rel_xyxy': [0, 1]); boxes left with no area get the label -1. Returns a new dict."""
    if bounding_box_format not in ("xyxy", "rel_xyxy"):
        raise NotImplementedError(f"clip_to_image_size: only 'xyxy' and 'rel_xyxy' boxes (as in "
                                  f"Keras), got {bounding_box_format!r}")
    if bounding_box_format == "xyxy" and (height is None or width is None):
        raise ValueError("clip_to_image_size: 'xyxy' boxes need the image's height and width")
    boxes = ops.convert_to_tensor(bounding_boxes["boxes"])
    labels = bounding_boxes.get("labels")
    top_x, top_y = (width, height) if bounding_box_format == "xyxy" else (1.0, 1.0)
    x1, y1, x2, y2 = _columns(boxes)
    boxes = _join(ops.clip(x1, 0, top_x), ops.clip(y1, 0, top_y), ops.clip(x2, 0, top_x),
                  ops.clip(y2, 0, top_y))
    result = dict(bounding_boxes)
    result["boxes"] = boxes
    if labels is not None:
        area = ops.squeeze(_area(boxes), axis=-1)
        result["labels"] = ops.where(area > 0, labels, -1)
    return result


def _xyxy_only(fn, bounding_box_format):
    if bounding_box_format != "xyxy":
        raise NotImplementedError(f"{fn}: only 'xyxy' boxes (as in Keras), got "
                                  f"{bounding_box_format!r}")


def crop(boxes, top, left, height, width, bounding_box_format="xyxy"):
    """'xyxy' boxes in the frame of the crop of `height` x `width` at (`top`, `left`), clipped
    to it."""
    _xyxy_only("crop", bounding_box_format)
    x1, y1, x2, y2 = _columns(ops.convert_to_tensor(boxes))
    return _join(ops.clip(x1 - left, 0, width), ops.clip(y1 - top, 0, height),
                 ops.clip(x2 - left, 0, width), ops.clip(y2 - top, 0, height))


def pad(boxes, top, left, height=None, width=None, bounding_box_format="xyxy"):
    """'xyxy' boxes moved by the padding `top` and `left` (height and width, as in Keras, are
    not needed)."""
    _xyxy_only("pad", bounding_box_format)
    x1, y1, x2, y2 = _columns(ops.convert_to_tensor(boxes))
    return _join(x1 + left, y1 + top, x2 + left, y2 + top)


def _inverse_affine_matrices(center_x, center_y, angle, translate_x, translate_y, scale,
                             shear_x, shear_y, height, width):
    """(batch, 3, 3): the inverse of the affine map of Keras's random affine layers (angles
    and shears in degrees, translations and centres as fractions of the image)."""
    angle = ops.convert_to_tensor(angle)
    rot, sx, sy = (ops.multiply(-v, math.pi / 180) for v in (angle, shear_x, shear_y))
    cx, cy = ops.multiply(center_x, width - 1), ops.multiply(center_y, height - 1)
    tx, ty = ops.multiply(-translate_x, width - 1), ops.multiply(-translate_y, height - 1)
    a = ops.cos(rot - sy) / ops.cos(sy)
    b = a * ops.tan(sx) + ops.sin(rot)
    c = -ops.sin(rot - sy) / ops.cos(sy)
    d = ops.cos(rot) - c * ops.tan(sx)
    a0, a1, b0, b1 = d * scale, -b * scale, -c * scale, a * scale
    a2 = cx - a0 * (cx + tx) - a1 * (cy + ty)
    b2 = cy - b0 * (cx + tx) - b1 * (cy + ty)
    zeros = ops.zeros_like(a0)
    return ops.reshape(ops.stack([a0, a1, a2, b0, b1, b2, zeros, zeros, zeros + 1], axis=-1),
                       (-1, 3, 3))


def affine_transform(boxes, angle, translate_x, translate_y, scale, shear_x, shear_y, height,
                     width, center_x=None, center_y=None, bounding_box_format="xyxy"):
    """(batch, boxes, 4) 'xyxy' boxes through each image's affine map (one `angle`,
    translation, `scale` and shear per image, as Keras's RandomRotation/Translation/Zoom/Shear
    draw them): the corners are mapped, and each box becomes their bounding box."""
    _xyxy_only("affine_transform", bounding_box_format)
    matrix = _inverse_affine_matrices(0.5 if center_x is None else center_x,
                                      0.5 if center_y is None else center_y, angle, translate_x,
                                      translate_y, scale, shear_x, shear_y, height, width)
    boxes = ops.cast(ops.convert_to_tensor(boxes), matrix.dtype)
    if boxes.ndim != 3:
        raise ValueError(f"affine_transform: boxes must be (batch, boxes, 4), got shape "
                         f"{tuple(boxes.shape)}")
    batch, n = boxes.shape[:2]
    x1, y1, x2, y2 = (boxes[..., i] for i in range(4))
    corners = ops.reshape(ops.stack([x1, y1, x2, y1, x2, y2, x1, y2], axis=-1),
                          (batch, n, 4, 2))
    corners = ops.concatenate([corners, ops.ones((batch, n, 4, 1), corners.dtype)], axis=-1)
    moved = ops.einsum("bnxy,byz->bnxz", corners,
                       ops.transpose(matrix[:, :2, :], (0, 2, 1)))
    return ops.concatenate([ops.min(moved, axis=2), ops.max(moved, axis=2)], axis=-1)


def _check_variance(variance):
    if variance is None:
        return None
    variance = ops.convert_to_tensor(variance, "float32")
    if variance.ndim == 0 or variance.shape[-1] != 4:
        raise ValueError(f"variance must have 4 values, got {variance}")
    return variance


def _image_size(image_shape):
    return (None, None) if image_shape is None else tuple(image_shape)[:2]


def encode_box_to_deltas(anchors, boxes, anchor_format, box_format,
                         encoding_format="center_yxhw", variance=None, image_shape=None):
    """Boxes as offsets from their anchors, the regression targets of SSD / Faster R-CNN: in
    `encoding_format` (centre and size), (centre - anchor centre) / anchor size and
    log(size / anchor size), each divided by `variance` when given."""
    variance = _check_variance(variance)
    if encoding_format not in ("center_xywh", "center_yxhw"):
        raise ValueError(f"encode_box_to_deltas: encoding_format must be 'center_xywh' or "
                         f"'center_yxhw', got {encoding_format!r}")
    height, width = _image_size(image_shape)
    anchors = convert_format(anchors, anchor_format, encoding_format, height, width)
    boxes = convert_format(boxes, box_format, encoding_format, height, width)
    eps = config.epsilon()
    anchor_size = ops.maximum(anchors[..., 2:], eps)
    deltas = ops.concatenate([(boxes[..., :2] - anchors[..., :2]) / anchor_size,
                              ops.log(ops.maximum(boxes[..., 2:], eps) / anchor_size)], axis=-1)
    return deltas if variance is None else deltas / variance


def decode_deltas_to_boxes(anchors, boxes_delta, anchor_format, box_format,
                           encoded_format="center_yxhw", variance=None, image_shape=None):
    """The inverse of `encode_box_to_deltas`: boxes in `box_format` from their anchors and
    deltas; dicts of levels ({level: anchors}, {level: deltas}) are decoded level by level."""
    variance = _check_variance(variance)
    if encoded_format not in ("center_xywh", "center_yxhw"):
        raise ValueError(f"decode_deltas_to_boxes: encoded_format must be 'center_xywh' or "
                         f"'center_yxhw', got {encoded_format!r}")
    height, width = _image_size(image_shape)

    def decode(anchor, delta):
        anchor = convert_format(anchor, anchor_format, encoded_format, height, width)
        delta = ops.convert_to_tensor(delta)
        if variance is not None:
            delta = delta * variance
        box = ops.concatenate([delta[..., :2] * anchor[..., 2:] + anchor[..., :2],
                               ops.exp(delta[..., 2:]) * anchor[..., 2:]], axis=-1)
        return convert_format(box, encoded_format, box_format, height, width)
    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        return {level: decode(anchor, boxes_delta[level]) for level, anchor in anchors.items()}
    return decode(anchors, boxes_delta)


def compute_iou(boxes1, boxes2, bounding_box_format, use_masking=False, mask_val=-1,
                image_shape=None):
    """The intersection over union of every box of `boxes1` (N, 4) or (batch, N, 4) with every
    box of `boxes2` (M, 4) or (batch, M, 4): (N, M) or (batch, N, M). With `use_masking`,
    pairs with a padding box (all coordinates negative) get `mask_val`."""
    for name, b in (("boxes1", boxes1), ("boxes2", boxes2)):
        if len(ops.shape(b)) not in (2, 3):
            raise ValueError(f"compute_iou: {name} must be (boxes, 4) or (batch, boxes, 4), got "
                             f"shape {tuple(ops.shape(b))}")
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError(f"compute_iou: relative boxes ({bounding_box_format!r}) need "
                         f"image_shape")
    height, width = _image_size(image_shape)
    boxes1 = convert_format(boxes1, bounding_box_format, "yxyx", height, width)
    boxes2 = convert_format(boxes2, bounding_box_format, "yxyx", height, width)
    swap = (1, 0) if boxes2.ndim == 2 else (0, 2, 1)
    y1a, x1a, y2a, x2a = _columns(boxes1)
    y1b, x1b, y2b, x2b = (ops.transpose(c, swap) for c in _columns(boxes2))
    inter = (ops.maximum(ops.minimum(y2a, y2b) - ops.maximum(y1a, y1b), 0.0)
             * ops.maximum(ops.minimum(x2a, x2b) - ops.maximum(x1a, x1b), 0.0))
    area1 = (y2a - y1a) * (x2a - x1a)
    area2 = (y2b - y1b) * (x2b - x1b)
    iou = inter / (area1 + area2 - inter + config.epsilon())
    if not use_masking:
        return iou
    pad1 = ops.max(boxes1, axis=-1, keepdims=True) < 0
    pad2 = ops.transpose(ops.max(boxes2, axis=-1, keepdims=True) < 0,
                         (1, 0) if boxes1.ndim == 2 else (0, 2, 1))
    return ops.where(ops.logical_or(pad1, pad2), ops.cast(mask_val, iou.dtype), iou)


def compute_ciou(boxes1, boxes2, bounding_box_format, image_shape=None):
    """The complete IoU (Zheng et al. 2020) of boxes1[i] and boxes2[i] (element-wise, shapes
    broadcasting): IoU minus the squared centre distance over the squared diagonal of the
    enclosing box, minus the aspect-ratio term v * alpha."""
    if "rel" in bounding_box_format:
        raise ValueError(f"compute_ciou: relative boxes ({bounding_box_format!r}) are not "
                         f"supported (as in Keras)")
    height, width = _image_size(image_shape)
    x1a, y1a, x2a, y2a = _columns(convert_format(boxes1, bounding_box_format, "xyxy", height,
                                                 width))
    x1b, y1b, x2b, y2b = _columns(convert_format(boxes2, bounding_box_format, "xyxy", height,
                                                 width))
    eps = config.epsilon()
    wa, ha = x2a - x1a, y2a - y1a + eps
    wb, hb = x2b - x1b, y2b - y1b + eps
    inter = (ops.maximum(ops.minimum(x2a, x2b) - ops.maximum(x1a, x1b), 0)
             * ops.maximum(ops.minimum(y2a, y2b) - ops.maximum(y1a, y1b), 0))
    union = wa * ha + wb * hb - inter + eps
    iou = ops.squeeze(inter / (union + eps), axis=-1)
    diagonal = ops.squeeze((ops.maximum(x2a, x2b) - ops.minimum(x1a, x1b)) ** 2
                           + (ops.maximum(y2a, y2b) - ops.minimum(y1a, y1b)) ** 2 + eps, axis=-1)
    centres = ops.squeeze(((x1a + x2a) / 2 - (x1b + x2b) / 2) ** 2
                          + ((y1a + y2a) / 2 - (y1b + y2b) / 2) ** 2, axis=-1)
    v = ops.squeeze(4 / math.pi ** 2 * (ops.arctan(wb / hb) - ops.arctan(wa / ha)) ** 2, axis=-1)
    alpha = v / (v - iou + (1 + eps))
    return iou - (centres / diagonal + v * alpha)


__all__ = ["affine_transform", "clip_to_image_size", "compute_ciou", "compute_iou",
           "convert_format", "crop", "decode_deltas_to_boxes", "encode_box_to_deltas", "pad"]
