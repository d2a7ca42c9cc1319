"""Runs the ```python blocks of the Markdown docs (README.md, docs/**/*.md) as tests.

Each block is one test; the blocks of a file run in order in one namespace, as the cells of a
notebook do (a reader runs them top to bottom), each once, in a fresh working folder per file
so that files a chapter writes land there. A block right after the comment `<!-- not run -->`
is shown but not run (for the few that train for minutes; the comment says why).
"""
import os
import re
import shutil
import tempfile

import pytest

FENCE = re.compile(r"^(?P<indent>[ ]{0,3})```(?P<info>[^\n`]*)\n(?P<code>.*?)^(?P=indent)```[ ]*$",
                   re.M | re.S)
NOT_RUN = re.compile(r"<!--\s*not run\b[^>]*-->\s*$")


def python_blocks(text):
    """[(line number, code, run?)] of the ```python fences in Markdown `text`."""
    blocks = []
    for match in FENCE.finditer(text):
        info = match.group("info").strip().split()
        if not info or info[0] not in ("python", "py", "python3"):
            continue
        before = text[:match.start()].rstrip("\n")
        run = NOT_RUN.search(before.splitlines()[-1] if before else "") is None
        blocks.append((text.count("\n", 0, match.start()) + 2, match.group("code"), run))
    return blocks


class MarkdownFile(pytest.File):
    def collect(self):
        state = {"namespace": {"__name__": "__main__"}, "failed": None, "folder": None}
        for line, code, run in python_blocks(self.path.read_text(encoding="utf-8")):
            if run:
                yield MarkdownBlock.from_parent(self, name=f"line {line}", code=code,
                                                line=line, state=state)


class MarkdownBlock(pytest.Item):
    def __init__(self, *, code, line, state, **kwargs):
        super().__init__(**kwargs)
        self.code, self.line, self.state = code, line, state

    def runtest(self):
        state = self.state
        if state["failed"] is not None:
            raise AssertionError(f"not run: the block at line {state['failed']} of this file "
                                 f"failed, and this one builds on it")
        if state["folder"] is None:
            state["folder"] = tempfile.mkdtemp(prefix="mgp-docs-")
            self.config.add_cleanup(lambda: shutil.rmtree(state["folder"], ignore_errors=True))
        here = os.getcwd()
        os.chdir(state["folder"])
        try:
            compiled = compile("\n" * (self.line - 1) + self.code, str(self.path), "exec")
            exec(compiled, state["namespace"])  # noqa: S102  the docs' own code
        except BaseException:
            state["failed"] = self.line
            raise
        finally:
            os.chdir(here)

    def repr_failure(self, excinfo):
        """The failure as seen from the docs: the frames in the Markdown file and below it."""
        frames = excinfo.traceback
        ours = [i for i, entry in enumerate(frames) if str(entry.path) == str(self.path)]
        if ours:
            excinfo.traceback = frames[ours[0]:]
        return f"{self.path.name}, block at line {self.line}:\n" + str(
            excinfo.getrepr(style="short", chain=False))

    def reportinfo(self):
        return self.path, self.line - 1, f"{self.path.name}:{self.line}"


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".md" and file_path.name != "RESULTS.md":
        return MarkdownFile.from_parent(parent, path=file_path)
    return None
