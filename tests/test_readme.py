"""The README's Python examples run as written and print what it says."""
import contextlib
import io
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), {})
    for claimed in re.findall(r"# .*?at the end", BLOCKS[index]):
        # "...: 0.152 at the end" — the printed figure must match the comment
        figure = re.search(r"([0-9.]+) at the end", claimed).group(1)
        assert figure in out.getvalue()
