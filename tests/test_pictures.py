"""Pictures: draw_graph (the autograd graph), plot_model / model_to_dot against Keras's, and the
matplotlib plots (training curves, filters, activation maps)."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import mgp
import oracles
from mgp import layers
from mgp.utils.dot import Dot

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _nodes_and_edges(source):
    nodes = dict(re.findall(r"^\s*(\w+) \[label=(<<.*?</table>>)", source, flags=re.M))
    edges = re.findall(r"^\s*(\w+) -> (\w+)", source, flags=re.M)
    return nodes, edges


# ---- draw_graph ------------------------------------------------------------------------------

def _small_graph():
    x = mgp.tensor(np.arange(6.0).reshape(2, 3) / 10, requires_grad=True)
    b = mgp.tensor(np.zeros(3), requires_grad=True)
    loss = ((x + b).tanh() ** 2).mean()
    return x, b, loss


def test_draw_graph_has_a_box_per_tensor_with_op_shape_dtype_and_arrows_forward():
    x, b, loss = _small_graph()
    dot = mgp.utils.draw_graph(loss, names={"x": x, "b": b})
    nodes, edges = _nodes_and_edges(dot.source)
    assert len(nodes) == 6  # x, b, add, tanh, power, mean (the exponent is a Python number)
    labels = {k: re.sub("<[^>]+>", " ", v[1:-1]) for k, v in nodes.items()}
    by_text = {" ".join(v.split()): k for k, v in labels.items()}
    assert {"x = parameter (2, 3) float32", "b = parameter (3,) float32",
            "add (2, 3) float32", "tanh (2, 3) float32", "power (2, 3) float32",
            "mean () float32"} == set(by_text)
    add = by_text["add (2, 3) float32"]
    assert (by_text["x = parameter (2, 3) float32"], add) in edges
    assert (by_text["b = parameter (3,) float32"], add) in edges
    assert (by_text["power (2, 3) float32"], by_text["mean () float32"]) in edges
    assert len(edges) == 5 and "data" not in dot.source


def test_draw_graph_shows_values_and_leaf_gradients_of_small_tensors():
    x, b, loss = _small_graph()
    loss.backward(retain_graph=True)
    source = mgp.utils.draw_graph(loss, show_values=True).source
    assert "grad [" in source and "data [0., 0., 0.]" in source
    b_grad = np.array2string(b.grad, precision=4, separator=", ", suppress_small=True)
    assert b_grad in source  # (3,) gradient, summed over the batch axis
    big = mgp.tensor(np.ones((5, 5)), requires_grad=True)
    assert "data" not in mgp.utils.draw_graph(big.sum(), show_values=True,
                                              value_limit=4).source.split("sum")[0]


def test_draw_graph_after_a_plain_backward_says_to_keep_the_graph():
    _, _, loss = _small_graph()
    loss.backward()
    with pytest.raises(ValueError, match="retain_graph=True"):
        mgp.utils.draw_graph(loss)


def test_a_large_graph_is_summarized():
    x = mgp.tensor(np.ones(3), requires_grad=True)
    y = x
    for i in range(2000):
        y = y * 1.0001 if i % 2 else y + 0.5
    dot = mgp.utils.draw_graph(y.sum(), max_nodes=50)
    nodes, edges = _nodes_and_edges(dot.source)
    assert len(nodes) == 50 and dot.nodes == 51
    match = re.search(r"([\d,]+) more tensors</b><br/>(.*?)>", dot.source)
    assert match.group(1) == "3,952"  # 4002 tensors: x, 2000 ops and their constants, sum
    assert "add x" in match.group(2) and "multiply x" in match.group(2)
    assert "summary -> " in dot.source


def test_draw_graph_rejects_bad_arguments():
    _, _, loss = _small_graph()
    with pytest.raises(TypeError, match="takes an mgp Tensor, got ndarray"):
        mgp.utils.draw_graph(np.ones(3))
    with pytest.raises(ValueError, match="rankdir"):
        mgp.utils.draw_graph(loss, rankdir="up")
    with pytest.raises(ValueError, match="max_nodes"):
        mgp.utils.draw_graph(loss, max_nodes=0)
    with pytest.raises(TypeError, match=r"names\['w'\] must be a Tensor"):
        mgp.utils.draw_graph(loss, names={"w": 3})


def test_dot_renders_svg_and_png_with_graphviz(tmp_path):
    oracles.program("dot")
    _, _, loss = _small_graph()
    dot = mgp.utils.draw_graph(loss)
    svg = dot._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "tanh" in svg
    assert dot._repr_png_().startswith(b"\x89PNG")
    assert open(dot.save(tmp_path / "g.png"), "rb").read(4) == b"\x89PNG"
    assert "<svg" in open(dot.save(tmp_path / "g.svg")).read()
    with pytest.raises(ValueError, match="unknown picture format 'bmpx'"):
        dot.save(tmp_path / "g.bmpx")
    assert not (tmp_path / "g.bmpx").exists()


def test_without_graphviz_the_error_names_it_and_dot_text_still_saves(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` here
    dot = Dot("digraph { a -> b }")
    with pytest.raises(ImportError, match="Graphviz's `dot` program.*apt-get install graphviz"):
        dot.pipe("svg")
    assert dot._repr_svg_() is None and dot._repr_png_() is None  # Jupyter shows the text
    dot.save(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == "digraph { a -> b }"
    with pytest.raises(ImportError, match="Graphviz"):
        dot.save(tmp_path / "g.png")
    assert not (tmp_path / "g.png").exists()


# ---- plot_model against Keras ------------------------------------------------------------------

def _branches(k):
    a, b = k.Input((4,), name="a"), k.Input((3,), name="b")
    shared = k.layers.Dense(5, activation="relu", name="shared")
    y = shared(k.layers.Dense(5, name="da")(a))
    z = shared(k.layers.Dense(5, name="db")(b))
    c = k.layers.Concatenate(name="cat")([y, z])
    return k.Model([a, b], [k.layers.Dense(2, name="o1")(c), k.layers.Dense(1, name="o2")(y)],
                   name="two")


def _nested(k):
    inner_in = k.Input((6,), name="inner_in")
    inner = k.Model(inner_in, k.layers.Dense(4, name="inner_dense")(inner_in), name="inner")
    seq = k.Sequential([k.layers.Dense(4, name="s1"), k.layers.Dense(4, name="s2")],
                       name="seq")
    x = k.Input((6,), name="outer_in")
    return k.Model(x, k.layers.Add(name="add")([inner(x), seq(x)]), name="outer")


def _sequential(k):
    return k.Sequential([k.Input((8, 8, 1)), k.layers.Conv2D(2, 3, name="conv"),
                         k.layers.Flatten(name="flat"), k.layers.Dense(3, name="out")],
                        name="seq")


def _by_name(source):
    nodes, edges = _nodes_and_edges(source)
    names = {k: re.search(r"<b>(.*?)</b>", v).group(1) for k, v in nodes.items()}
    return ({names[k]: v for k, v in nodes.items()},
            sorted((names[a], names[b]) for a, b in edges))


@pytest.mark.parametrize("build", [_branches, _nested, _sequential])
@pytest.mark.parametrize("options", [
    dict(),
    dict(show_shapes=True, show_dtype=True, show_layer_activations=True, show_trainable=True),
    dict(expand_nested=True, show_shapes=True, rankdir="LR"),
])
def test_model_to_dot_matches_keras(build, options):
    keras = oracles.keras()
    oracles.module("pydot")
    theirs = keras.utils.model_to_dot(build(keras), **options).to_string()
    ours = mgp.utils.model_to_dot(build(mgp), **options).source
    assert _by_name(ours) == _by_name(theirs)
    rank = options.get("rankdir", "TB")
    assert f"rankdir={rank}" in ours and "dpi=200" in ours and "splines=ortho" in ours


def test_plot_model_writes_the_picture_and_returns_it(tmp_path):
    oracles.program("dot")
    model = _branches(mgp)
    dot = mgp.utils.plot_model(model, to_file=tmp_path / "m.png", show_shapes=True, dpi=50)
    assert open(tmp_path / "m.png", "rb").read(4) == b"\x89PNG"
    assert isinstance(dot, Dot) and "Output shape: <b>(None, 10)</b>" in dot.source
    assert "<b>cat</b>" not in dot.source  # show_layer_names defaults to False, as in Keras
    mgp.utils.plot_model(model, to_file=tmp_path / "m.svg")
    assert "<svg" in (tmp_path / "m.svg").read_text()


def test_plot_model_errors():
    unbuilt = mgp.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="has not been built yet"):
        mgp.utils.plot_model(unbuilt)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        mgp.utils.plot_model(_sequential(mgp), show_colours=True)
    with pytest.raises(ValueError, match="rankdir"):
        mgp.utils.plot_model(_sequential(mgp), rankdir="sideways")


def test_a_subclassed_model_is_one_box():
    class Tiny(mgp.Model):
        def __init__(self):
            super().__init__(name="tiny")
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)
    model = Tiny()
    model(np.ones((1, 3)))
    nodes, edges = _nodes_and_edges(mgp.utils.model_to_dot(model).source)
    assert len(nodes) == 1 and not edges and "(Tiny)" in next(iter(nodes.values()))


# ---- matplotlib ---------------------------------------------------------------------------------

def _conv_model():
    mgp.utils.set_random_seed(0)
    model = mgp.Sequential([mgp.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"),
                            layers.Flatten(), layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_plot_history_one_panel_per_metric_training_against_validation(tmp_path):
    oracles.module("matplotlib")
    model = _conv_model()
    x = np.random.default_rng(0).random((20, 8, 8, 1)).astype("float32")
    y = np.arange(20) % 2
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0)
    fig = mgp.utils.plot_history(history, to_file=tmp_path / "curves.png")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    loss_ax = fig.axes[0]
    assert [list(line.get_ydata()) for line in loss_ax.get_lines()] == \
        [history.history["loss"], history.history["val_loss"]]
    assert list(loss_ax.get_lines()[0].get_xdata()) == [1, 2, 3]
    assert open(tmp_path / "curves.png", "rb").read(4) == b"\x89PNG"
    with pytest.raises(ValueError, match=r"no values for \['auc'\]"):
        mgp.utils.plot_history(history, metrics=["auc"])
    with pytest.raises(ValueError, match="History or its .history dict"):
        mgp.utils.plot_history({})


def test_plot_filters_and_activations_show_the_first_convolution(tmp_path):
    oracles.module("matplotlib")
    model = _conv_model()
    fig = mgp.utils.plot_filters(model, to_file=tmp_path / "filters.png")
    assert len(fig.axes) == 4
    kernel = model.layers[0].kernel.numpy()[:, :, 0, 2]
    assert np.allclose(fig.axes[2].get_images()[0].get_array(), kernel)
    x = np.random.default_rng(1).random((8, 8, 1)).astype("float32")
    fig = mgp.utils.plot_activations(model, x, to_file=tmp_path / "maps.png")
    assert len(fig.axes) == 5  # the input, then one map per filter
    expected = model.layers[0](x[None]).numpy()[0, :, :, 3]
    assert np.allclose(fig.axes[4].get_images()[0].get_array(), expected)
    assert (tmp_path / "maps.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="shows one input; got a batch of 2"):
        mgp.utils.plot_activations(model, np.zeros((2, 8, 8, 1)))
    dense_only = mgp.Sequential([mgp.Input((3,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="has no Conv2D layer"):
        mgp.utils.plot_filters(dense_only)


def test_without_matplotlib_the_error_names_the_extra():
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "import mgp\n"
            "try:\n"
            "    mgp.utils.plot_history({'loss': [1.0]})\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, check=True)
    assert 'plot_history needs matplotlib, an optional extra of mgp: pip install "mgp[plot]"' \
        in out.stdout
