"""The CTC ops: `ops.ctc_loss` against PyTorch's ctc_loss (values and gradients) and by
gradcheck; `ops.ctc_decode` against Keras 3.15's greedy and beam-search decoders."""
import warnings

import numpy as np
import pytest

import oracles

import mgp
from mgp import ops

rng = np.random.default_rng(0)
B, T, C = 5, 7, 5
LOGITS = rng.standard_normal((B, T, C))
# repeats (need a blank between), an empty target, a full-length one, padding of any value
TARGETS = np.array([[1, 2, 2, 0], [3, 0, 0, 0], [1, 1, 1, 4], [0, 0, 0, 0], [4, 3, 2, 1]])
TARGET_LENGTHS = np.array([3, 1, 4, 0, 4])
FRAMES = np.array([7, 5, 7, 3, 6])


def _torch_ctc(logits, targets, target_lengths, frames, blank=0):
    torch = oracles.torch()
    x = torch.tensor(logits, requires_grad=True)
    log_probs = torch.log_softmax(x, dim=-1).transpose(0, 1)
    loss = torch.nn.functional.ctc_loss(log_probs, torch.tensor(targets),
                                        torch.tensor(frames), torch.tensor(target_lengths),
                                        blank=blank, reduction="none")
    return loss, x


@pytest.mark.parametrize("blank", [0, 2, C - 1])
def test_ctc_loss_matches_pytorch_values_and_gradients(blank):
    targets = np.where(TARGETS == blank, (blank + 1) % C, TARGETS)  # the blank is no label
    expected, x_torch = _torch_ctc(LOGITS, targets, TARGET_LENGTHS, FRAMES, blank)
    x = mgp.tensor(LOGITS, dtype=np.float64, requires_grad=True)
    loss = ops.ctc_loss(targets, x, TARGET_LENGTHS, FRAMES, mask_index=blank)
    np.testing.assert_allclose(loss.numpy(), expected.detach().numpy(), rtol=1e-10)
    upstream = rng.standard_normal(B)
    loss.backward(upstream)
    expected.backward(oracles.torch().tensor(upstream))
    np.testing.assert_allclose(x.grad, x_torch.grad.numpy(), atol=1e-10)
    assert (x.grad[3, 3:] == 0).all() and (x.grad[1, 5:] == 0).all()  # frames past the end


def test_ctc_loss_float32_and_gradcheck():
    loss = ops.ctc_loss(TARGETS, mgp.tensor(LOGITS), TARGET_LENGTHS, FRAMES)
    expected, _ = _torch_ctc(LOGITS, TARGETS, TARGET_LENGTHS, FRAMES)
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.numpy(), expected.detach().numpy(), rtol=1e-5)
    x = mgp.tensor(LOGITS, dtype=np.float64, requires_grad=True)
    assert mgp.gradcheck(lambda z: ops.ctc_loss(TARGETS, z, TARGET_LENGTHS, FRAMES), x)


def test_labels_that_cannot_fit_give_an_infinite_loss_and_no_gradient():
    # three equal labels need five frames; three frames cannot hold them
    x = mgp.tensor(LOGITS[:2, :3], requires_grad=True)
    loss = ops.ctc_loss(np.array([[1, 1, 1], [1, 2, 0]]), x, np.array([3, 2]), np.array([3, 3]))
    assert np.isinf(loss.numpy()[0]) and np.isfinite(loss.numpy()[1])
    loss[1].backward()
    assert np.isfinite(x.grad).all() and (x.grad[0] == 0).all()


@pytest.mark.parametrize("call,message", [
    (lambda: ops.ctc_loss(TARGETS, mgp.tensor(LOGITS[0]), TARGET_LENGTHS, FRAMES),
     r"output must be float logits \(batch, time, classes\), got shape \(7, 5\)"),
    (lambda: ops.ctc_loss(TARGETS[:, 0], mgp.tensor(LOGITS), TARGET_LENGTHS, FRAMES),
     r"target must be integer labels \(batch=5, max_label_length\), got shape \(5,\)"),
    (lambda: ops.ctc_loss(TARGETS, mgp.tensor(LOGITS), TARGET_LENGTHS + 1, FRAMES),
     r"target_length must lie in \[0, 4\], got values from 1 to 5"),
    (lambda: ops.ctc_loss(TARGETS, mgp.tensor(LOGITS), TARGET_LENGTHS, FRAMES * 0),
     r"output_length must lie in \[1, 7\], got values from 0 to 0"),
    (lambda: ops.ctc_loss(TARGETS, mgp.tensor(LOGITS), TARGET_LENGTHS[:3], FRAMES),
     r"target_length must be 5 integers, one per sequence, got dtype int64 and shape \(3,\)"),
    (lambda: ops.ctc_loss(TARGETS + 5, mgp.tensor(LOGITS), TARGET_LENGTHS, FRAMES),
     r"target labels must lie in \[0, 5\), got values from 6 to 9"),
    (lambda: ops.ctc_loss(TARGETS, mgp.tensor(LOGITS), TARGET_LENGTHS, FRAMES, mask_index=5),
     r"mask_index 5 is not a class of outputs with 5 classes"),
    (lambda: ops.ctc_decode(LOGITS, FRAMES, strategy="best"),
     r"strategy must be 'greedy' or 'beam_search', got 'best'"),
    (lambda: ops.ctc_decode(LOGITS, FRAMES, strategy="beam_search", beam_width=2, top_paths=3),
     r"need beam_width >= 1 and 1 <= top_paths <= beam_width"),
    (lambda: ops.ctc_decode(LOGITS, FRAMES + 1),
     r"sequence_lengths must lie in \[0, 7\], got values from 4 to 8"),
])
def test_bad_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


DECODE_CASES = [
    ("greedy", {}), ("greedy", {"merge_repeated": False}), ("greedy", {"mask_index": None}),
    ("beam_search", {"beam_width": 1}), ("beam_search", {"beam_width": 3, "top_paths": 2}),
    ("beam_search", {"beam_width": 10, "top_paths": 3, "mask_index": 2}),
    ("beam_search", {"beam_width": 4, "mask_index": None}),
]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("strategy,kwargs", DECODE_CASES)
def test_ctc_decode_matches_keras(strategy, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keras = oracles.keras()
    logits = (LOGITS * 2).astype(np.float32)
    lengths = np.array([7, 5, 0, 3, 6])
    k_paths, k_scores = keras.ops.ctc_decode(logits, lengths, strategy=strategy, **kwargs)
    paths, scores = ops.ctc_decode(mgp.tensor(logits), lengths, strategy=strategy, **kwargs)
    assert paths.dtype == np.int32 and scores.dtype == np.float32
    np.testing.assert_array_equal(paths.numpy(), keras.ops.convert_to_numpy(k_paths))
    np.testing.assert_allclose(scores.numpy(), keras.ops.convert_to_numpy(k_scores), rtol=1e-5,
                               atol=1e-5)


def test_greedy_decoding_merges_repeats_and_drops_blanks():
    # frames' best classes: 1 1 0 1 2 2 0 -> 1 1 2 (a blank separates the two 1s)
    best = [1, 1, 0, 1, 2, 2, 0]
    logits = np.eye(3)[best][None] * 5.0
    paths, scores = ops.ctc_decode(logits, np.array([7]))
    assert paths.numpy().tolist() == [[[1, 1, 2, -1, -1, -1, -1]]]
    assert scores.numpy().tolist() == [[-35.0]]
    paths, _ = ops.ctc_decode(logits, np.array([7]), merge_repeated=False)
    assert paths.numpy().tolist() == [[[1, 1, 1, 2, 2, -1, -1]]]
