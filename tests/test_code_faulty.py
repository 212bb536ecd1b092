"""`code.python.faulty`: TransCoder's denoising noise on code tokens (against a re-implementation of XLM's
word_shuffle/word_dropout/word_blank on the token list), its bounds (no token moves k places, at least one kept,
blank share near p), T5-style spans, the layout between tokens kept, draws keyed by (seed, epoch, index), rates
linear in the strength, and bad input."""

from __future__ import annotations

import itertools
import tokenize

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mithridate.code import CodeSyntaxError, OpPolicy, SampleDraws, read_python
from mithridate.code.python.faulty import OPS, FaultyCode, SpanMask, code_tokens
from mithridate.code.python.stdlib import stdlib_files
from mithridate.dose import Dose
from mithridate.text.strings import apply_edits, source_index

SOURCE = '''def total(values, start=0):  # a comment
    """Sum."""
    result = start
    for value in values:
        result += value * 2
    return result
'''
N = 26  # its code tokens


class Recorder:
    """Draws from a generator, recorded per stream so a reference can replay them."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.streams: dict[int, np.ndarray] = {}

    def __call__(self, count: int, sub: int) -> np.ndarray:
        if sub not in self.streams or len(self.streams[sub]) < count:
            self.streams[sub] = self.rng.random(count)
        return self.streams[sub][:count]


def xlm_reference(words: list[str], streams: dict[int, np.ndarray], k: float, p_drop: float, p_blank: float,
                  mask: str) -> list[str]:  # fmt: skip
    """XLM's add_noise on one sentence without BOS/EOS (word_shuffle, word_dropout, word_blank) from the same
    uniforms: scores = position + noise * k, stable sort; keep where u >= p (one drawn word if none); blank where
    u < p."""
    n = len(words)
    order = np.argsort(np.arange(n) + streams[0][:n] * k, kind="stable") if k > 0 else np.arange(n)
    shuffled = [words[i] for i in order]
    keep = streams[1][:n] >= p_drop
    if not keep.any():
        keep[min(int(streams[2][0] * n), n - 1)] = True
    blank = streams[3][:n] < p_blank
    return [mask if b else w for w, kept, b in zip(shuffled, keep, blank, strict=True) if kept]


def noised(op, source: str, seed: int, strength: float = 1.0):
    parsed = read_python(source)
    recorder = Recorder(seed)
    edits = op.edits(parsed, SampleDraws(recorder, 0.0, strength))
    return parsed, edits, apply_edits(parsed.text, edits), recorder


def out_tokens(parsed, edits) -> list[str]:
    """The output's token sequence: slot by slot (deleted slots gone), read off the edits."""
    by_start = {e.start: e for e in edits}
    out = []
    for start, _, text in code_tokens(parsed):
        edit = by_start.get(start)
        if edit is None:
            out.append(text)
        elif edit.text:
            out.append(edit.text)
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 4.0))
def test_faulty_equals_xlm_add_noise_on_the_token_list(seed, strength):
    op = FaultyCode()
    parsed, edits, _, recorder = noised(op, SOURCE, seed, strength)
    words = [text for _, _, text in code_tokens(parsed)]
    expected = xlm_reference(words, recorder.streams, 3 * strength, min(0.1 * strength, 1), min(0.3 * strength, 1),
                             "<mask>")  # fmt: skip
    assert out_tokens(parsed, edits) == expected


@pytest.mark.parametrize("k", [1.0, 2.0, 3.0, 5.5])
def test_no_token_moves_k_places_or_more(k):
    op = FaultyCode(word_shuffle=k, word_dropout=0.0, word_blank=0.0)
    moved = 0
    for seed in range(60):
        parsed, edits, _, _ = noised(op, SOURCE, seed)
        starts = [start for start, _, _ in code_tokens(parsed)]
        for edit in edits:
            assert edit.origin is not None and edit.text == parsed.text[edit.origin : edit.origin + len(edit.text)]
            distance = abs(starts.index(edit.start) - starts.index(edit.origin))
            assert 0 < distance < k
            moved += 1
    assert (moved > 0) == (k > 1)  # noise in [0, 1) never reorders: XLM's word_shuffle=1 is the identity


def test_at_least_one_token_is_kept_and_the_blank_share_is_near_p():
    op = FaultyCode(word_shuffle=0.0, word_dropout=1.0, word_blank=0.0)
    for seed in range(20):
        parsed, edits, _, _ = noised(op, SOURCE, seed)
        assert len(out_tokens(parsed, edits)) == 1
    op = FaultyCode(word_shuffle=0.0, word_dropout=0.0)
    source = read_python(stdlib_files(limit=1)[0].read_bytes()).text
    blanks = drops = 0
    for seed in range(10):
        parsed, edits, _out, _ = noised(op, source, seed)
        blanks += sum(e.text == "<mask>" for e in edits)
        parsed, edits, _, _ = noised(FaultyCode(word_shuffle=0.0, word_blank=0.0), source, seed)
        drops += sum(e.text == "" for e in edits)
    total = 10 * len(code_tokens(parsed))
    assert blanks / total == pytest.approx(0.3, abs=0.02) and drops / total == pytest.approx(0.1, abs=0.015)


def test_layout_between_tokens_stays():
    op = FaultyCode()
    for seed in range(10):
        parsed, edits, out, _ = noised(op, SOURCE, seed)
        assert "# a comment" in out and out.count("\n") == SOURCE.count("\n")
        index = source_index(len(SOURCE), edits)
        assert len(index) == len(out)
        # every edit replaces exactly one code token
        tokens = {(start, end) for start, end, _ in code_tokens(parsed)}
        assert all((e.start, e.end) in tokens for e in edits)


def test_layout_and_comments_take_no_part():
    parsed = read_python(SOURCE)
    kinds = {t.type for t in parsed.tokens if (t.start, t.end, t.string) in set(code_tokens(parsed))}
    assert kinds <= {tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING}
    assert not any("#" in text or not text.strip() for _, _, text in code_tokens(parsed))
    assert FaultyCode().sites(parsed) == len(code_tokens(parsed)) == N
    assert [text for _, _, text in code_tokens(parsed)][:6] == ["def", "total", "(", "values", ",", "start"]


def test_spans_mask_and_delete():
    op = SpanMask(noise_density=0.3, mean_span_length=2.0, mask="<extra_id_{i}>")
    for seed in range(30):
        parsed, edits, out, recorder = noised(op, SOURCE, seed)
        n = len(code_tokens(parsed))
        spans = op.spans(n, SampleDraws(recorder, 0.0, 1.0))
        noise = sum(last - first for first, last in spans)
        assert noise == round(n * 0.3) and len(spans) == round(noise / 2.0)
        assert all(b[0] > a[1] for a, b in itertools.pairwise(spans))  # a token between spans
        assert all(0 <= first < last <= n for first, last in spans)
        assert [f"<extra_id_{i}>" in out for i in range(len(spans))] == [True] * len(spans)
        assert out_tokens(parsed, edits).count("<extra_id_0>") == 1
    deleted = SpanMask(mode="delete")
    parsed, edits, out, _ = noised(deleted, SOURCE, 1)
    assert all(e.text == "" for e in edits) and len(edits) == round(N * 0.15)
    # the first span's start is uniform: span starts cover the whole sample
    starts = set()
    for seed in range(200):
        parsed, edits, _, recorder = noised(SpanMask(), SOURCE, seed)
        starts.add(SpanMask().spans(N, SampleDraws(recorder, 0.0, 1.0))[0][0])
    assert min(starts) == 0 and max(starts) >= N - 7


def test_rates_are_linear_in_the_strength_and_keyed_draws():
    sources = [SOURCE] * 200
    counts = {}
    for strength in (0.5, 1.0, 2.0):
        out = OpPolicy(FaultyCode(word_shuffle=0.0, word_dropout=0.0), seed=2, dose=Dose(1.0, strength)).augment(
            sources, index=list(range(200))
        )
        counts[strength] = np.mean([len(item.edits) for item in out]) / N
    assert counts[0.5] == pytest.approx(0.15, abs=0.02)
    assert counts[1.0] == pytest.approx(0.3, abs=0.02)
    assert counts[2.0] == pytest.approx(0.6, abs=0.02)
    policy = OpPolicy(FaultyCode(), seed=7, dose=Dose(1.0, 1.0))
    whole = policy([SOURCE] * 8, index=list(range(8)), epoch=1)
    assert policy([SOURCE] * 3, index=[5, 6, 7], epoch=1) == whole[5:]
    assert len(set(whole)) == 8 and policy([SOURCE] * 8, index=list(range(8)), epoch=2) != whole
    spans = OpPolicy(SpanMask(), seed=7, dose=Dose(1.0, 2.0)).augment([SOURCE] * 50, index=list(range(50)))
    assert np.mean([len(item.edits) for item in spans]) == pytest.approx(round(N * 0.3), abs=0.5)


def test_op_contract_and_bad_input():
    assert set(OPS) == {"faulty", "faulty_spans"} and FaultyCode.stream != SpanMask.stream
    assert FaultyCode().params() == {} and FaultyCode(word_blank=0.1, mask="[MASK]").params() == {
        "word_blank": 0.1,
        "mask": "[MASK]",
    }
    assert SpanMask(mode="delete").params() == {"mode": "delete"} and SpanMask() == SpanMask()
    with pytest.raises(ValueError, match="word_dropout: expected a finite number in"):
        FaultyCode(word_dropout=1.5)
    with pytest.raises(TypeError, match="word_shuffle: expected a number"):
        FaultyCode(word_shuffle="3")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="mask: expected a str"):
        FaultyCode(mask=4)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mode: expected one of"):
        SpanMask(mode="swap")
    with pytest.raises(ValueError, match="mean_span_length: expected a number >= 1"):
        SpanMask(mean_span_length=0.5)
    policy = OpPolicy(FaultyCode(), seed=0, dose=Dose(1.0, 1.0))
    # code that tokenizes but does not parse is fine; code that does not tokenize is not
    assert policy(["x = = 1 if\nreturn\n"], index=[0])[0].count("\n") == 2
    with pytest.raises(CodeSyntaxError, match="expected Python code that tokenizes"):
        policy(['x = """never closed\n'], index=[0])
    assert policy([""], index=[0]) == [""] and policy(["# only a comment\n"], index=[0]) == ["# only a comment\n"]
    latin = "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n"
    assert (
        "\xe9" in policy([latin.encode("latin-1")], index=[0])[0]
        or "<mask>" in policy([latin.encode("latin-1")], index=[0])[0]
    )
    one = policy(["x\n"], index=[0])[0]
    assert one in ("x\n", "<mask>\n")  # the only token is never dropped
