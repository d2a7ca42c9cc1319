"""Keras 3 as the oracle for `mgp.utils.bounding_boxes`: every format conversion, clipping,
cropping, padding, the affine map of the random affine layers, box deltas, IoU and CIoU give
Keras's values on the same boxes; IoU's gradient flows; bad arguments say what they got."""
import itertools

import numpy as np
import oracles
import pytest

keras = oracles.keras()
torch = oracles.torch()

import mgp
from mgp.utils import bounding_boxes as bb

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
kb = keras.utils.bounding_boxes
rng = np.random.default_rng(0)
H, W = 60, 80


def _boxes(*batch):
    """Valid 'xyxy' boxes inside a W x H image, any leading shape."""
    x1, y1 = rng.uniform(0, W - 10, batch), rng.uniform(0, H - 10, batch)
    x2, y2 = x1 + rng.uniform(1, 30, batch), y1 + rng.uniform(1, 30, batch)
    return np.stack([x1, y1, x2, y2], -1).astype(np.float32)


def close(ours, theirs, rtol=1e-5, atol=1e-4):
    np.testing.assert_allclose(ours.numpy() if hasattr(ours, "numpy") else ours,
                               keras.ops.convert_to_numpy(theirs), rtol=rtol, atol=atol)


BOXES = _boxes(2, 5)


@pytest.mark.parametrize("source, target", list(itertools.product(bb.FORMATS, repeat=2)))
def test_convert_format_as_keras(source, target):
    # boxes in `source` format: Keras's own conversion from xyxy
    given = keras.ops.convert_to_numpy(kb.convert_format(BOXES.copy(), "xyxy", source,
                                                         height=H, width=W))
    close(bb.convert_format(given, source, target, height=H, width=W),
          kb.convert_format(given.copy(), source, target, height=H, width=W))


def test_convert_format_of_a_dict_and_dtype():
    data = {"boxes": BOXES.copy(), "labels": np.ones((2, 5))}
    out = bb.convert_format(data, "xyxy", "xywh")
    assert out is data and out["boxes"].shape == (2, 5, 4)
    assert bb.convert_format(BOXES, "xyxy", "yxyx", dtype="float64").dtype == np.float64


def test_clip_crop_pad_as_keras():
    boxes = BOXES * 1.5 - 10  # some boxes beyond the image, some with no area left
    labels = np.arange(10, dtype=np.float32).reshape(2, 5)
    for fmt, data, h, w in [("xyxy", boxes, H, W), ("rel_xyxy", boxes / 50, None, None)]:
        ours = bb.clip_to_image_size({"boxes": data, "labels": labels}, h, w, fmt)
        theirs = kb.clip_to_image_size({"boxes": data.copy(), "labels": labels.copy()}, h, w,
                                       fmt)
        close(ours["boxes"], theirs["boxes"])
        close(ours["labels"], theirs["labels"])
    close(bb.crop(boxes, 5, 7, 30, 40), kb.crop(boxes.copy(), 5, 7, 30, 40))
    close(bb.pad(boxes, 5, 7), kb.pad(boxes.copy(), 5, 7))


def test_affine_transform_as_keras():
    n = BOXES.shape[0]
    args = [rng.uniform(-30, 30, n).astype(np.float32), rng.uniform(-0.2, 0.2, n),
            rng.uniform(-0.2, 0.2, n), rng.uniform(0.7, 1.3, n), rng.uniform(-10, 10, n),
            rng.uniform(-10, 10, n)]
    args = [np.asarray(a, np.float32) for a in args]
    for centre in [{}, {"center_x": 0.3, "center_y": 0.6}]:
        close(bb.affine_transform(BOXES, *args, H, W, **centre),
              kb.affine_transform(BOXES.copy(), *[torch.tensor(a) for a in args], H, W,
                                  **centre), atol=1e-3)


@pytest.mark.parametrize("encoding", ["center_yxhw", "center_xywh"])
@pytest.mark.parametrize("variance", [None, [0.1, 0.1, 0.2, 0.2]])
def test_box_deltas_as_keras(encoding, variance):
    anchors, boxes = _boxes(6), _boxes(6)
    ours = bb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", encoding, variance)
    theirs = kb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", encoding, variance)
    close(ours, theirs)
    back = bb.decode_deltas_to_boxes(anchors, ours.numpy(), "xyxy", "xywh", encoding, variance)
    close(back, kb.decode_deltas_to_boxes(anchors, theirs, "xyxy", "xywh", encoding, variance))
    np.testing.assert_allclose(bb.convert_format(back, "xywh", "xyxy").numpy(), boxes,
                               rtol=1e-5, atol=1e-3)
    levels = bb.decode_deltas_to_boxes({"p3": anchors}, {"p3": ours.numpy()}, "xyxy", "xyxy",
                                       encoding, variance)
    np.testing.assert_allclose(levels["p3"].numpy(), boxes, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("shapes", [((5,), (3,)), ((2, 5), (2, 3))])
@pytest.mark.parametrize("fmt", ["xyxy", "yxyx", "center_xywh", "rel_xyxy"])
def test_iou_as_keras(shapes, fmt):
    a, b = _boxes(*shapes[0]), _boxes(*shapes[1])
    b[..., 0, :] = -1  # a padding box, for use_masking
    image = (H, W, 3)
    a = keras.ops.convert_to_numpy(kb.convert_format(a.copy(), "xyxy", fmt, height=H, width=W))
    b = keras.ops.convert_to_numpy(kb.convert_format(b.copy(), "xyxy", fmt, height=H, width=W))
    for masking in (False, True):
        close(bb.compute_iou(a, b, fmt, masking, -1, image),
              kb.compute_iou(a.copy(), b.copy(), fmt, masking, -1, image), atol=1e-5)


def test_ciou_as_keras_and_iou_gradients():
    a, b = _boxes(2, 4), _boxes(2, 4)
    for fmt in ["xyxy", "center_xywh"]:
        fa = bb.convert_format(a, "xyxy", fmt).numpy()
        fb = bb.convert_format(b, "xyxy", fmt).numpy()
        close(bb.compute_ciou(fa, fb, fmt), kb.compute_ciou(fa.copy(), fb.copy(), fmt),
              atol=1e-5)
    a[0, 0] = [10, 10, 30, 30]
    b[0, 0] = [15, 12, 40, 35]  # overlapping, so the IoU has a gradient
    ta = mgp.tensor(a, requires_grad=True)
    bb.compute_iou(ta, b, "xyxy").sum().backward()
    kt = torch.tensor(a, requires_grad=True)
    kb.compute_iou(kt, torch.tensor(b), "xyxy").sum().backward()
    np.testing.assert_allclose(ta.grad, kt.grad.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("call, error, match", [
    (lambda: bb.convert_format(np.zeros((2, 3)), "xyxy", "xywh"), ValueError,
     r"last axis of 4, got shape \(2, 3\)"),
    (lambda: bb.convert_format(np.zeros((2, 4)), "xyxy", "xyzw"), ValueError,
     "target format 'xyzw'"),
    (lambda: bb.convert_format(np.zeros((2, 4)), "xyxy", "rel_xyxy"), ValueError,
     "needs the image's height and width"),
    (lambda: bb.clip_to_image_size({"boxes": np.zeros((1, 4))}), ValueError,
     "'xyxy' boxes need the image's height and width"),
    (lambda: bb.crop(np.zeros((1, 4)), 0, 0, 5, 5, "yxyx"), NotImplementedError,
     "crop: only 'xyxy'"),
    (lambda: bb.compute_iou(np.zeros(4), np.zeros((2, 4)), "xyxy"), ValueError,
     r"boxes1 must be \(boxes, 4\)"),
    (lambda: bb.encode_box_to_deltas(np.zeros((1, 4)), np.zeros((1, 4)), "xyxy", "xyxy",
                                     variance=[1, 2]), ValueError, "variance must have 4"),
])
def test_bad_arguments_say_what_they_got(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ============================================= MaxNumBoundingBoxes ===============================

def _boxes_input(batch, n, label_dtype="float32"):
    shape = (batch,) if batch else ()
    return {"images": rng.normal(size=shape + (8, 8, 3)).astype(np.float32),
            "bounding_boxes": {"boxes": _boxes(*shape, n),
                               "labels": rng.integers(0, 5, shape + (n,)).astype(label_dtype)}}


@pytest.mark.parametrize("batch, n, max_number, label_dtype", [
    (2, 5, 3, "float32"), (2, 2, 4, "int32"), (3, 4, 4, "float32"), (0, 2, 3, "float32"),
    (0, 5, 1, "int32")])
@pytest.mark.parametrize("training", [True, False])
def test_max_num_bounding_boxes_as_keras(batch, n, max_number, label_dtype, training):
    data = _boxes_input(batch, n, label_dtype)
    ours = mgp.layers.MaxNumBoundingBoxes(max_number, bounding_box_format="xyxy", name="m")
    theirs = keras.layers.MaxNumBoundingBoxes(max_number, bounding_box_format="xyxy", name="m")
    out = ours(data, training=training)
    expected = theirs({"images": data["images"],
                       "bounding_boxes": dict(data["bounding_boxes"])}, training=training)
    close(out["images"], expected["images"], atol=0)
    for key in ("boxes", "labels"):
        got, want = out["bounding_boxes"][key], expected["bounding_boxes"][key]
        assert got.dtype == keras.ops.convert_to_numpy(want).dtype, key
        close(got, want, atol=0)
    assert ours.get_config() == {**theirs.get_config(), "dtype": ours.get_config()["dtype"]}
    shapes = {"images": (2, 8, 8, 3), "bounding_boxes": {"boxes": (2, n, 4), "labels": (2, n)}}
    assert ours.compute_output_shape(shapes)["bounding_boxes"] == \
        {"boxes": (2, max_number, 4), "labels": (2, max_number)}
    images = data["images"]  # images alone pass through
    np.testing.assert_array_equal(ours(images).numpy(), images)


def test_max_num_bounding_boxes_refuses_what_keras_refuses():
    data = _boxes_input(2, 3)
    with pytest.raises(ValueError, match="no bounding_box_format"):
        mgp.layers.MaxNumBoundingBoxes(2)(data)
    with pytest.raises(ValueError, match="max_number must be a positive int"):
        mgp.layers.MaxNumBoundingBoxes(0)
    bad = {"images": data["images"], "bounding_boxes": {**data["bounding_boxes"], "x": 1}}
    with pytest.raises(ValueError, match="exactly 'boxes' and 'labels'"):
        mgp.layers.MaxNumBoundingBoxes(2, bounding_box_format="xyxy")(bad)
