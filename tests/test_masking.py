"""Masks, as Keras 3 carries them: a layer's `compute_mask` attaches `_keras_mask` to its outputs,
`call` receives `mask=` when it takes one, the elementwise layers pass masks on, merges combine
them, and Sequential and functional models carry them (on placeholders too). Checked against
Keras (torch backend) with the same small mask-making and mask-reading layers."""
import warnings

import numpy as np
import pytest

import oracles

import mgp

keras = oracles.keras()

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

X = np.ones((3, 5, 4), np.float32)
X[0, 3:] = 0   # the first sequence has 3 steps, the second 1, the third 5
X[1, 1:] = 0
X *= np.arange(1, 5, dtype=np.float32)


def to_numpy(t):
    return np.asarray(t.numpy() if isinstance(t, mgp.Tensor) else keras.ops.convert_to_numpy(t))


def mask_layers(k):
    """(MaskSteps, ReadMask) written for framework `k`: the first marks the steps whose first
    feature is not 0 (as Masking does), the second records the mask its call receives."""
    def not_zero(x):
        if k is mgp:
            return mgp.Tensor(np.asarray(x.numpy()[..., 0] != 0))
        return k.ops.not_equal(x[..., 0], 0)

    class MaskSteps(k.layers.Layer):
        def compute_mask(self, inputs, mask=None):
            return not_zero(inputs)

        def call(self, inputs):
            return inputs * 1.0

        def compute_output_shape(self, input_shape):
            return input_shape

    class ReadMask(k.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True
            self.seen = []

        def call(self, inputs, mask=None):
            self.seen.append(None if mask is None else to_numpy(mask))
            return inputs

        def compute_mask(self, inputs, mask=None):
            return None  # consumes the mask, as a pooling or recurrent layer does

        def compute_output_shape(self, input_shape):
            return input_shape
    return MaskSteps, ReadMask


EXPECTED = X[..., 0] != 0


def chain(k):
    """The elementwise layers that pass masks on, between a mask maker and a mask reader."""
    L = k.layers
    return [L.Dense(4), L.Activation("tanh"), L.Dropout(0.3), L.BatchNormalization(), L.ReLU(),
            L.LeakyReLU(), L.ELU(), L.PReLU(shared_axes=[1]), L.ActivityRegularization(l1=0.1)]
    # (Softmax reads the mask instead, and a per-step mask does not broadcast to per-feature
    # inputs: Keras raises there too)


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_masks_pass_through_elementwise_layers_as_keras(kind):
    for k in (mgp, keras):
        MaskSteps, ReadMask = mask_layers(k)
        reader = ReadMask()
        if kind == "sequential":
            model = k.Sequential([k.Input((None, 4)), MaskSteps()] + chain(k) + [reader])
        else:
            inputs = k.Input((None, 4))
            x = MaskSteps()(inputs)
            for layer in chain(k):
                x = layer(x)
            model = k.Model(inputs, reader(x))
        reader.seen.clear()
        model(X, training=True)
        np.testing.assert_array_equal(reader.seen[-1], EXPECTED)


def test_symbolic_masks_as_keras():
    shapes = []
    for k in (mgp, keras):
        MaskSteps, _ = mask_layers(k)
        inputs = k.Input((None, 4))
        masked = MaskSteps()(inputs)
        dense = k.layers.Dense(2)(masked)
        added = k.layers.Add()([masked, masked])
        joined = k.layers.Concatenate()([masked, k.layers.Dense(3)(inputs)])
        plain = k.layers.Dense(2)(inputs)
        shapes.append([None if t._keras_mask is None else tuple(t._keras_mask.shape)
                       for t in (masked, dense, added, joined)] +
                      [getattr(plain, "_keras_mask", None)])
    assert shapes[0] == shapes[1] == [(None, None)] * 4 + [None]


def test_merge_layers_combine_masks_as_keras():
    results = []
    other = np.ones((3, 5, 4), np.float32)
    other[2, 4:] = 0  # a mask of its own
    for k in (mgp, keras):
        MaskSteps, ReadMask = mask_layers(k)
        a, b = k.Input((None, 4)), k.Input((None, 4))
        ma, mb = MaskSteps()(a), MaskSteps()(b)
        readers = [ReadMask() for _ in range(4)]
        outs = [readers[0](k.layers.Add()([ma, mb])),
                readers[1](k.layers.Maximum()([ma, mb])),
                readers[2](k.layers.Concatenate()([ma, mb])),
                readers[3](k.layers.Concatenate(axis=1)([ma, k.layers.Dense(4)(b)]))]
        k.Model([a, b], outs)([X, other])
        results.append([r.seen[-1] for r in readers])
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


def test_mask_argument_of_a_model_call_and_warning_when_a_mask_is_lost():
    MaskSteps, ReadMask = mask_layers(mgp)
    reader = ReadMask()
    inputs = mgp.Input((None, 4))
    model = mgp.Model(inputs, reader(mgp.layers.Dense(2)(inputs)))
    given = np.array([[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 1, 1]], bool)
    model(X, mask=given)
    np.testing.assert_array_equal(reader.seen[-1], given)
    seq = mgp.Sequential([mgp.Input((None, 4)), mgp.layers.Dense(2), reader])
    seq(X, mask=given)
    np.testing.assert_array_equal(reader.seen[-1], given)
    for k in (mgp, keras):  # Keras warns too
        flatten = k.layers.Flatten()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            flatten(mask_layers(k)[0]()(k.Input((5, 4))))
        assert any("mask" in str(w.message) for w in caught), k.__name__


def test_softmax_reads_the_mask_it_is_given():
    logits = np.random.default_rng(0).normal(size=(2, 5)).astype(np.float32)
    mask = np.array([[1, 1, 0, 1, 0], [0, 0, 0, 0, 0]], bool)
    ours = mgp.layers.Softmax()(logits, mask=mask).numpy()
    theirs = to_numpy(keras.layers.Softmax()(logits, mask=mask))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
    assert np.all(ours[1] == 0) and np.all(ours[0][~mask[0]] == 0)


def test_several_tensor_arguments_get_their_own_masks():
    """`call(query, value, query_mask=None, value_mask=None)`, as attention layers take them."""
    MaskSteps, _ = mask_layers(mgp)

    class Pair(mgp.layers.Layer):
        def compute_mask(self, inputs, mask=None):
            return None  # consumes the masks

        def call(self, query, value, query_mask=None, value_mask=None):
            self.masks = (query_mask, value_mask)
            return query

        def compute_output_shape(self, query_shape, value_shape):
            return query_shape
    pair = Pair()
    q, v = MaskSteps()(mgp.Input((None, 4))), mgp.Input((None, 6))
    assert pair(q, v).shape == (None, None, 4)  # compute_output_shape(query_shape, value_shape)
    masked = MaskSteps()(mgp.tensor(X))
    pair(masked, mgp.tensor(X))
    np.testing.assert_array_equal(pair.masks[0].numpy(), EXPECTED)
    assert pair.masks[1] is None


def test_batch_normalization_trains_on_the_unmasked_steps_only_as_keras():
    import torch
    x = np.random.default_rng(2).normal(2, 3, size=(3, 5, 4)).astype(np.float32)
    mask = EXPECTED
    ours, theirs = mgp.layers.BatchNormalization(momentum=0.5), \
        keras.layers.BatchNormalization(momentum=0.5)
    ours(x), theirs(x)
    theirs.set_weights(ours.get_weights())
    g = np.random.default_rng(3).normal(size=x.shape).astype(np.float32)
    x_ours, x_theirs = mgp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_ours = ours(x_ours, training=True, mask=mask)
    out_theirs = theirs(x_theirs, training=True, mask=torch.tensor(mask))
    np.testing.assert_allclose(out_ours.numpy(), to_numpy(out_theirs), rtol=1e-5, atol=1e-5)
    (out_ours * g).sum().backward()
    (out_theirs * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), rtol=1e-4, atol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):  # moving statistics
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="one axis less than the inputs"):
        ours(x, training=True, mask=np.ones((3, 5, 4), bool))


def test_the_mask_on_a_model_s_output_weights_its_loss_and_metrics_as_keras():
    y = np.random.default_rng(4).normal(size=(3, 5, 2)).astype(np.float32)
    runs, models = [], []
    for k in (mgp, keras):
        MaskSteps, _ = mask_layers(k)
        inputs = k.Input((None, 4))
        model = k.Model(inputs, k.layers.Dense(2)(MaskSteps()(inputs)))
        models.append(model)
    models[1].set_weights(models[0].get_weights())
    for model in models:
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        runs.append(model.fit(X, y, batch_size=3, epochs=2, shuffle=False, verbose=0).history)
    assert set(runs[0]) == set(runs[1])
    for key in runs[0]:
        np.testing.assert_allclose(runs[0][key], runs[1][key], rtol=1e-5, err_msg=key)
