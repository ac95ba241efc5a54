"""The usage examples in the sweep-related docstrings run as written."""
import re

import pytest

import gsvc
from gsvc.scenarios import presets, sweep


@pytest.mark.parametrize("module", [gsvc, sweep, presets], ids=lambda m: m.__name__)
def test_docstring_example_runs(module, tmp_path, monkeypatch):
    blocks = re.findall(r"::\n\n((?:    .*\n|\n)+)", module.__doc__)
    assert blocks
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        code = "\n".join(line[4:] for line in block.splitlines())
        exec(compile(code, module.__name__, "exec"), {})
