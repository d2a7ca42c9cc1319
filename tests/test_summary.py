"""model.summary() against Keras's summary of the same model: rows, shapes, counts, and the
"Connected to" column of functional models that are not a plain chain."""
import io
import re

import pytest

import mgp

oracles = pytest.importorskip("oracles")


def _keras_rows(model, monkeypatch):
    """Keras's rich table, cell by cell (wrapped cells joined again)."""
    monkeypatch.setenv("COLUMNS", "200")  # rich would cut the table at the terminal's width
    out = io.StringIO()
    model.summary(print_fn=lambda text, **kw: out.write(text))
    rows, current, header = [], None, None
    for line in out.getvalue().splitlines():
        if line.startswith("┃"):
            header = [c.strip() for c in line.strip("┃").split("┃")]
        elif line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            if current is None:
                current = cells
            else:
                current = [f"{a} {b}".strip() for a, b in zip(current, cells)]
        elif line.startswith(("├", "└")) and current is not None:
            rows.append(tuple(current))
            current = None
    return header, rows


def _mgp_rows(model):
    """mgp's plain table: cells are separated by two spaces or more."""
    out = io.StringIO()
    model.summary(print_fn=out.write)
    lines = out.getvalue().splitlines()
    header = re.split(r"\s{2,}", lines[2].strip())
    rows = []
    for line in lines[4:lines.index(lines[3], 4)]:
        cells = re.split(r"\s{2,}", line.strip())
        if line.startswith(" " * 20):  # a connection continued on the next line
            rows[-1] = rows[-1][:-1] + (f"{rows[-1][-1]} {cells[0]}",)
        else:
            rows.append(tuple(cells))
    return header, rows


def _branches(k):
    a, b = k.Input((4,), name="a"), k.Input((3,), name="b")
    shared = k.layers.Dense(5, name="shared")
    y = shared(k.layers.Dense(5, name="da")(a))
    z = shared(k.layers.Dense(5, name="db")(b))
    c = k.layers.Concatenate(name="cat")([y, z])
    return k.Model([a, b], [k.layers.Dense(2, name="o1")(c), k.layers.Dense(1, name="o2")(y)],
                   name="two")


def _residual(k):
    x = k.Input((8, 8, 2), name="img")
    h = k.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(x)
    h2 = k.layers.Conv2D(4, 3, padding="same", name="conv_b")(h)
    s = k.layers.Add(name="skip")([h, h2])
    p = k.layers.GlobalAveragePooling2D(name="gap")(s)
    return k.Model(x, k.layers.Dense(3, activation="softmax", name="head")(p), name="res")


def _nested(k):
    inner_in = k.Input((6,), name="inner_in")
    inner = k.Model(inner_in, k.layers.Dense(4, name="inner_dense")(inner_in), name="inner")
    x = k.Input((6,), name="outer_in")
    left = inner(x)
    right = k.layers.Dense(4, name="right")(x)
    return k.Model(x, k.layers.Multiply(name="mul")([left, right]), name="outer")


def _chain(k):
    x = k.Input((5,), name="x")
    h = k.layers.Dense(3, activation="relu", name="hidden")(x)
    return k.Model(x, k.layers.Dense(2, name="out")(h), name="chain")


def _sequential(k):
    return k.Sequential([k.Input((10,)), k.layers.Dense(4, name="d1"),
                         k.layers.Dropout(0.5, name="drop"), k.layers.Dense(1, name="d2")],
                        name="seq")


@pytest.mark.parametrize("build", [_branches, _residual, _nested, _chain, _sequential])
def test_summary_rows_match_keras(build, monkeypatch):
    keras = oracles.keras()
    mgp.backend.clear_session()
    theirs_header, theirs = _keras_rows(build(keras), monkeypatch)
    ours_header, ours = _mgp_rows(build(mgp))
    assert ours_header == theirs_header
    assert ours == theirs


def test_connected_to_column_only_for_non_chain_functional_models():
    mgp.backend.clear_session()
    assert "Connected to" in _mgp_rows(_branches(mgp))[0]
    assert "Connected to" not in _mgp_rows(_chain(mgp))[0]
    assert "Connected to" not in _mgp_rows(_sequential(mgp))[0]
    _, rows = _mgp_rows(_branches(mgp))
    assert dict((r[0], r[3]) for r in rows)["cat (Concatenate)"] == \
        "shared[0][0], shared[1][0]"


def test_show_trainable_marks_each_layer_as_keras():
    keras = oracles.keras()

    def flags(K):
        x = K.Input((3,))
        a, b = K.layers.Dense(2, name="d1")(x), K.layers.Dense(2, name="d2")(x)
        model = K.Model(x, K.layers.add([a, b], name="plus"))
        model.layers[1].trainable = False
        lines = []
        model.summary(show_trainable=True, print_fn=lambda s, line_break=None: lines.append(s))
        rows = [r for r in "\n".join(lines).splitlines() if re.search(r"input_layer|d1 |d2 |plus ",
                                                                       r.split("│")[1]
                                                                       if "│" in r else r)]
        return [r.rstrip(" │").split()[-1] for r in rows]
    assert flags(mgp) == flags(keras) == ["-", "N", "Y", "-"]
