"""The code corruption suite (`code.corruptions`) on real functions of the standard library: outputs compile,
renaming keeps the token structure, edits grow with the severity, draws are fixed per (seed, index, corruption)
whatever the batch, and bad input gets a clear error."""

from __future__ import annotations

import ast
import io
import tokenize
from collections import Counter

import pytest

from mithridate.code.corruptions import CODE_CORRUPTIONS, SEVERITY_STRENGTHS, corrupt_code, corruption_ops
from mithridate.data.code import extract_functions, stdlib_root

MODULES = ("textwrap.py", "json/decoder.py", "fnmatch.py")


@pytest.fixture(scope="module")
def sources() -> list[str]:
    out = []
    for module in MODULES:
        functions, _ = extract_functions((stdlib_root() / module).read_text(), module)
        out.extend(f.source for f in functions)
    assert len(out) > 24
    return out[::2][:24]  # a spread of 24 functions keeps the file within seconds


def tokens(text: str) -> list[tuple[int, str]]:
    return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline)]


def distance(a: str, b: str) -> int:
    """Lines of one text not matched in the other (as multisets): how many lines a corruption touched."""
    before, after = Counter(a.splitlines()), Counter(b.splitlines())
    return sum(((before - after) + (after - before)).values())


def test_the_suite_and_its_ops():
    assert CODE_CORRUPTIONS == ("rename", "rewrite", "format")
    for name in CODE_CORRUPTIONS:
        ops = corruption_ops(name)
        assert ops and all(op.preserving for op in ops)
        strengths = SEVERITY_STRENGTHS[name]
        assert len(strengths) == 5 and list(strengths) == sorted(set(strengths))
    assert [op.name for op in corruption_ops("rename")] == ["rename"]


@pytest.mark.parametrize("name", CODE_CORRUPTIONS)
def test_outputs_compile_and_change_more_with_the_severity(sources, name):
    means = []
    for severity in (1, 3, 5):
        out = corrupt_code(sources, name, severity)
        assert len(out) == len(sources)
        for text in out:
            compile(text, "<corrupted>", "exec", dont_inherit=True)
        means.append(sum(distance(a, b) for a, b in zip(sources, out, strict=True)) / len(sources))
    assert 0 < means[0] < means[1] < means[2]


def test_renaming_keeps_the_tokens_and_grows_per_sample(sources):
    changed_before = [0] * len(sources)
    for severity in (1, 2, 3, 4, 5):
        out = corrupt_code(sources, "rename", severity, seed=4)
        for i, (source, text) in enumerate(zip(sources, out, strict=True)):
            before, after = tokens(source), tokens(text)
            assert [t for t, _ in before] == [t for t, _ in after]  # only names change
            changed = sum(a != b for a, b in zip(before, after, strict=True))
            assert changed >= changed_before[i]  # the definitions renamed at a severity stay renamed at the next
            changed_before[i] = changed
            assert ast.dump(ast.parse(text)).count("Name(") == ast.dump(ast.parse(source)).count("Name(")


@pytest.mark.parametrize("name", CODE_CORRUPTIONS)
def test_draws_are_fixed_per_seed_index_and_corruption(sources, name):
    whole = corrupt_code(sources, name, 3, seed=2)
    assert corrupt_code(sources, name, 3, seed=2) == whole
    part = corrupt_code(sources[10:4:-1], name, 3, seed=2, index=list(range(10, 4, -1)))
    assert part == whole[10:4:-1]
    assert corrupt_code(sources, name, 3, seed=3) != whole
    shifted = corrupt_code(sources, name, 3, seed=2, index=[i + 1000 for i in range(len(sources))])
    assert shifted != whole


def test_corruptions_draw_apart(sources):
    renamed = corrupt_code(sources, "rename", 5)
    rewritten = corrupt_code(sources, "rewrite", 5)
    assert all("VAR_" not in text for text in rewritten) and any("VAR_" in text for text in renamed)


def test_bytes_and_empty_batches(sources):
    assert corrupt_code([], "rename", 1) == []
    encoded = [sources[0].encode("utf-8")]
    assert corrupt_code(encoded, "format", 4) == corrupt_code(sources[:1], "format", 4)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": "fog"}, ValueError, "unknown code corruption 'fog'; expected one of rename, rewrite, format"),
        ({"severity": 0}, ValueError, "severity: expected an integer in 1..5, got 0"),
        ({"severity": 6}, ValueError, "severity: expected an integer in 1..5"),
        ({"severity": True}, ValueError, "severity: expected an integer in 1..5"),
        ({"severity": 2.0}, ValueError, "severity: expected an integer in 1..5"),
        ({"seed": -1}, TypeError, "seed: expected a non-negative integer"),
        ({"index": [0]}, ValueError, r"index: expected 2 sample indices \(one per sample\), got 1"),
        ({"index": [0, -1]}, ValueError, "index: expected non-negative"),
        ({"sources": "def f(): pass\n"}, TypeError, "expected a sequence of sources"),
        ({"sources": [1, 2]}, TypeError, r"sources\[0\]: expected str or bytes"),
    ],
)
def test_bad_input_gets_a_clear_error(kwargs, error, message):
    arguments = {"sources": ["def f(x):\n    return x\n", "def g(y):\n    return y\n"], "name": "rename", "severity": 1}
    with pytest.raises(error, match=message):
        corrupt_code(**{**arguments, **kwargs})


def test_inputs_are_not_mutated(sources):
    batch = list(sources[:5])
    corrupt_code(batch, "rewrite", 5)
    assert batch == sources[:5]
