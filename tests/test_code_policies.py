"""The code policy engine (`code.policies`, `code.ops`, `code.python.source`): per-sample draws keyed by (seed,
epoch, index) and independent of the batch, the dose's p and strength, TrivialAugment's op and bin draws, sources
as str or bytes with an encoding cookie, errors raised or passed through, and bad input."""

from __future__ import annotations

import io
import tokenize

import numpy as np
import pytest

from mithridate.code import CodeOp, CodeSyntaxError, CodeTrivialAugment, OpPolicy, read_python
from mithridate.dose import Dose
from mithridate.text.strings import Edit


class UpperNames(CodeOp):
    """Upper-cases each NAME token with probability rate (a test op)."""

    name = "upper"
    stream = 0xC1_FF01
    kind = "format"
    reference_rate = 0.5

    def sites(self, source):
        return sum(1 for token in source.tokens if token.type == tokenize.NAME)

    def edits(self, source, draws):
        names = [t for t in source.tokens if t.type == tokenize.NAME]
        chosen = draws.chosen(len(names))
        return [Edit(names[k].start, names[k].end, names[k].string.upper(), self.name) for k in chosen]


class AppendComment(CodeOp):
    name = "comment"
    stream = 0xC1_FF02
    kind = "format"

    def edits(self, source, draws):
        return [Edit(len(source.text), len(source.text), f"# {draws.pick(10)}\n", self.name)]


SOURCES = [f"def f{i}(a, b):\n    return a + b * {i}  # sum\n" for i in range(12)]


def test_a_sample_draws_the_same_whatever_the_batch():
    policy = OpPolicy(UpperNames(), seed=5)
    whole = policy(SOURCES, index=list(range(12)), epoch=2)
    part = policy(SOURCES[3:7][::-1], index=[6, 5, 4, 3], epoch=2)
    assert part == whole[3:7][::-1]
    assert len(set(whole)) > 6  # samples differ
    assert policy(SOURCES, index=list(range(12)), epoch=3) != whole
    assert OpPolicy(UpperNames(), seed=6)(SOURCES, index=list(range(12)), epoch=2) != whole


def test_without_index_repeated_calls_differ():
    policy = OpPolicy(UpperNames(), seed=5)
    assert policy(SOURCES) != policy(SOURCES)


def test_the_dose_sets_the_share_touched_and_the_rate():
    sources = ["x = y + z + w + v + u + t + s\n"] * 400
    index = list(range(400))
    none = OpPolicy(UpperNames(), seed=1, dose=Dose(0.0, 1.0))(sources, index=index)
    assert none == sources
    half = OpPolicy(UpperNames(), seed=1, dose=Dose(0.5, 1.0)).augment(sources, index=index)
    touched = np.mean([out.op is not None for out in half])
    assert 0.4 < touched < 0.6
    edits = {s: np.mean([len(out.edits) for out in OpPolicy(UpperNames(), seed=1, dose=Dose(1.0, s)).augment(
        sources, index=index)]) for s in (0.5, 1.0, 2.0)}  # fmt: skip
    assert edits[0.5] == pytest.approx(8 * 0.25, rel=0.15)
    assert edits[1.0] == pytest.approx(8 * 0.5, rel=0.1)
    assert edits[2.0] == 8


def test_edits_are_logged_and_text_outside_them_stays():
    out = OpPolicy(UpperNames(), seed=2).augment(SOURCES[:3], index=[0, 1, 2])
    for item, original in zip(out, SOURCES[:3], strict=True):
        assert item.original == original and "# sum" in item.text
        assert item.text.lower() == original.lower()
        for edit in item.edits:
            assert original[edit.start : edit.end].upper() == edit.text


def test_trivial_augment_draws_one_op_and_a_bin_per_sample():
    policy = CodeTrivialAugment([UpperNames(), AppendComment()], seed=3)
    out = policy.augment(SOURCES * 20, index=list(range(240)))
    ops = [item.op for item in out]
    assert {"upper", "comment"} <= set(ops) and 0.35 < ops.count("upper") / 240 < 0.65
    plan = policy.sample(240, index=list(range(240)))
    assert len(set(plan.strength.tolist())) > 20 and float(plan.strength.max()) <= 1.0
    with pytest.raises(ValueError, match="distinct"):
        CodeTrivialAugment([UpperNames(), UpperNames()])


def test_bytes_with_an_encoding_cookie_are_decoded():
    source = "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n"
    out = OpPolicy(AppendComment(), seed=0).augment([source.encode("latin-1")], index=[0])[0]
    assert out.original == source and out.text.startswith(source)


def test_sources_that_do_not_tokenize_raise_or_pass():
    bad = ["x = (\n", "def f(:\n    pass\n"]
    with pytest.raises(CodeSyntaxError, match=r"sources\[0\]: source: expected Python code that tokenizes"):
        OpPolicy(UpperNames(), seed=0)(bad, index=[0, 1])
    out = OpPolicy(UpperNames(), seed=0, on_error="pass").augment(bad, index=[0, 1])
    assert out[0].text == bad[0] and out[0].error and not out[0].edits
    with pytest.raises(CodeSyntaxError, match=r"parses, got .* at line 1"):
        _ = read_python(bad[1]).tree


@pytest.mark.parametrize(
    "sources, error, match",
    [
        ("x = 1\n", TypeError, "expected a sequence of sources"),
        ([None], TypeError, r"sources\[0\]: expected str or bytes, got NoneType"),
        ([1], TypeError, r"sources\[0\]: expected str or bytes"),
        ([b"# coding: nonsense\nx = 1\n"], CodeSyntaxError, "known encoding"),
    ],
)
def test_bad_input_is_named(sources, error, match):
    with pytest.raises(error, match=match):
        OpPolicy(UpperNames(), seed=0)(sources, index=list(range(len(sources))) if isinstance(sources, list) else None)


def test_empty_batch_and_empty_source():
    policy = OpPolicy(UpperNames(), seed=0)
    assert policy([], index=[]) == []
    assert policy([""], index=[0]) == [""]
    with pytest.raises(ValueError, match="on_error"):
        OpPolicy(UpperNames(), on_error="ignore")
    with pytest.raises(TypeError, match="CodeOp"):
        OpPolicy("upper")  # type: ignore[arg-type]


def test_inputs_are_not_mutated():
    sources = list(SOURCES)
    OpPolicy(UpperNames(), seed=0)(sources, index=list(range(12)))
    assert sources == SOURCES


def test_positions_convert_between_tokenize_and_ast():
    source = read_python("s = 'héllo'; t = s  # ü\nu = t\n")
    assign = source.tree.body[1]
    assert source.segment(assign) == "t = s"
    assert source.segment(source.tree.body[2]) == "u = t"
    assert [t.string for t in source.tokens if t.type == tokenize.NAME] == ["s", "t", "s", "u", "t"]
    text = source.text
    assert source.untokenized() == text
    assert tokenize.untokenize(tokenize.generate_tokens(io.StringIO(text).readline)) == text


def test_indices_are_checked_as_everywhere_else():
    policy = OpPolicy(UpperNames(), seed=0)
    with pytest.raises(ValueError, match=r"index: expected 2 sample indices \(one per sample\), got 1"):
        policy(SOURCES[:2], index=[0])
    with pytest.raises(ValueError, match="index: expected non-negative"):
        policy(SOURCES[:2], index=[0, -1])
    with pytest.raises(ValueError, match=r"expected 0 sample indices"):
        policy([], index=[3])
