"""A Graphviz DOT picture: its text, always; SVG, PNG or PDF when Graphviz's `dot` is installed.

`draw_graph` and `plot_model` return one. In Jupyter it shows itself inline (`_repr_svg_`);
elsewhere `.save("graph.svg")` writes it and `.source` is the DOT text.
"""
import os
import shutil
import subprocess

_RENDERED = {"svg", "png", "pdf", "jpg", "jpeg", "gif", "ps"}
_SOURCE = {"dot", "gv"}
_INSTALL = ("install Graphviz, which provides it (Debian/Ubuntu: apt-get install graphviz; "
            "macOS: brew install graphviz; conda: conda install graphviz)")


def quote(text):
    """A DOT string literal."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def html_escape(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


class Dot:
    """A graph as Graphviz DOT text, rendered by the `dot` program on demand.

    Attributes:
        source: the DOT text (a `str`), usable with any Graphviz tool.
    """

    def __init__(self, source, nodes=0):
        self.source = source
        self.nodes = nodes

    def pipe(self, format="svg"):
        """The picture in `format` ('svg', 'png', 'pdf', ...) as bytes, made by Graphviz."""
        format = format.lower()
        if format in _SOURCE:
            return self.source.encode()
        if format not in _RENDERED:
            raise ValueError(f"unknown picture format {format!r}; use one of "
                             f"{sorted(_RENDERED | _SOURCE)}")
        program = shutil.which("dot")
        if program is None:
            raise ImportError(f"rendering a graph as {format} needs Graphviz's `dot` program, "
                              f"which is not on PATH: {_INSTALL}. The DOT text is in .source "
                              f"(and .save('graph.dot') writes it without Graphviz)")
        done = subprocess.run([program, f"-T{format}"], input=self.source.encode(),
                              capture_output=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"Graphviz's dot failed on this graph: "
                               f"{done.stderr.decode(errors='replace').strip()}")
        return done.stdout

    def save(self, path, format=None):
        """Write the picture to `path`, in the format its extension names (default png);
        '.dot' or '.gv' write the DOT text, which needs no Graphviz."""
        path = os.fspath(path)
        if format is None:
            ext = os.path.splitext(path)[1][1:].lower()
            format = ext or "png"
        data = self.pipe(format)  # before opening the file: a failure leaves nothing behind
        with open(path, "wb") as f:
            f.write(data)
        return path

    def _repr_svg_(self):
        """Jupyter's inline picture; None (so the text shows) when Graphviz is missing."""
        try:
            return self.pipe("svg").decode()
        except ImportError:
            return None

    def _repr_png_(self):
        try:
            return self.pipe("png")
        except ImportError:
            return None

    def __str__(self):
        return self.source

    def __repr__(self):
        return f"<Dot: {self.nodes} nodes, {len(self.source)} characters of DOT>"
