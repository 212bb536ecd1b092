"""The op index names, for every op and corruption, a spec and implementations that exist, and the documentation
prints it as it is."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import pytest

from mithridate.image import corruptions
from mithridate.image.op_index import CORRUPTION_HOMES, OP_HOMES, markdown
from mithridate.image.ops import OPS

DOCS = Path(__file__).resolve().parents[1] / "docs" / "op-index.md"
TRITON = importlib.util.find_spec("triton") is not None


def _expand(dotted: str) -> list[str]:
    """The names a dotted name with `[a|b]` alternatives stands for, one per alternative."""
    match = re.search(r"\[([^]]*\|[^]]*)\]", dotted)
    if match is None:
        return [dotted]
    head, tail = dotted[: match.start()], dotted[match.end() :]
    return [name for key in match.group(1).split("|") for name in _expand(f"{head}[{key}]{tail}")]


def _resolve(dotted: str) -> object:
    """The object a dotted name of the index names: a module's attribute path, then `[key]` table lookups
    (`OPS[name]` finds the spec of that name); a name with `[a|b]` must resolve for each alternative."""
    resolved = [_resolve_one(name) for name in _expand(dotted)]
    return resolved[0]


def _resolve_one(dotted: str) -> object:
    path, *keys = re.split(r"\[", dotted)
    keys = [key.rstrip("]") for key in keys]
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        break
    else:
        raise AssertionError(f"{dotted}: no module")
    for key in keys:
        if isinstance(target, tuple):  # the op table: a spec by name
            (target,) = [spec for spec in target if spec.name == key]
        else:
            target = target[key]
    return target


def test_alternatives_are_each_resolved():
    assert _expand("a.B[x|y][z]") == ["a.B[x][z]", "a.B[y][z]"]
    with pytest.raises(KeyError):
        _resolve("mithridate.image.corruptions.PARAMS[cifar|nowhere][fog]")


def test_every_op_and_corruption_has_one_home():
    assert list(OP_HOMES) == [spec.name for spec in OPS]
    assert list(CORRUPTION_HOMES) == list(corruptions.CORRUPTIONS)


@pytest.mark.parametrize("name", [*OP_HOMES, *CORRUPTION_HOMES])
def test_every_name_of_the_index_resolves(name):
    home = OP_HOMES.get(name) or CORRUPTION_HOMES[name]
    assert _resolve(home.spec) is not None
    for dotted in (*home.torch, *home.compiled, *(home.gpu if TRITON else ())):
        assert callable(_resolve(dotted)), dotted


def test_the_spec_of_an_op_is_its_entry_of_the_table():
    for name, home in OP_HOMES.items():
        assert _resolve(home.spec).name == name


def test_the_documentation_prints_the_index():
    assert markdown() in DOCS.read_text()
