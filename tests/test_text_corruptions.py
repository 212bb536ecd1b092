"""The text corruption suite: names, fixed draws per (seed, index, corruption), damage growing with the
severity (nested edits), protected spans, alignment, bad input."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mithridate.text.strings import (
    DEFAULT_PROTECTED,
    SEVERITY_RATES,
    TEXT_CORRUPTIONS,
    TEXT_SEVERITIES,
    apply_edits,
    corrupt_text,
    corrupt_text_with_edits,
    parse_text_policy,
)

SST2 = Path(__file__).resolve().parents[2] / "shared" / "data" / "sst2" / "dev.tsv"
SWAPS = ("char_swap", "word_swap")


def sentences(n: int) -> list[str]:
    if SST2.is_file():
        rows = SST2.read_text(encoding="utf-8").splitlines()[1 : n + 1]
        return [row.split("\t", 1)[1] for row in rows]
    base = ["a charming , often hilarious film about friendship .", "Receive the package because it is 5 pm."]
    return [base[i % 2] for i in range(n)]


words = st.sampled_from(["the", "Film", "receive", "because", "rn", "192.168.1.1", "me@x.org", "caf\u00e9", ",", "2.5"])
texts = st.lists(words, max_size=12).map(" ".join)


def test_names_and_severities():
    assert TEXT_CORRUPTIONS == (
        "typo",
        "ocr",
        "char_insert",
        "char_delete",
        "char_swap",
        "misspell",
        "word_drop",
        "word_swap",
        "case",
    )
    assert TEXT_SEVERITIES == (1, 2, 3, 4, 5)
    for name, rates in SEVERITY_RATES.items():
        assert len(rates) == 5 and all(0 < a < b <= 1 for a, b in itertools.pairwise(rates)), name


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(texts, min_size=1, max_size=5), seed=st.integers(0, 2**40), data=st.data())
def test_fixed_per_seed_index_and_corruption_whatever_the_batch(batch, seed, data):
    name = data.draw(st.sampled_from(TEXT_CORRUPTIONS))
    severity = data.draw(st.sampled_from(TEXT_SEVERITIES))
    index = data.draw(st.lists(st.integers(0, 10**9), min_size=len(batch), max_size=len(batch), unique=True))
    together = corrupt_text(batch, name, severity, seed=seed, index=index)
    alone = [corrupt_text([t], name, severity, seed=seed, index=[i])[0] for t, i in zip(batch, index, strict=True)]
    assert together == alone
    reverse = corrupt_text(batch[::-1], name, severity, seed=seed, index=index[::-1])
    assert reverse[::-1] == together


def test_draws_depend_on_seed_index_and_corruption_only():
    batch = sentences(100)
    a = corrupt_text(batch, "typo", 3, seed=1)
    assert a == corrupt_text(batch, "typo", 3, seed=1, index=range(100))
    assert a != corrupt_text(batch, "typo", 3, seed=2)
    assert a != corrupt_text(batch, "typo", 3, seed=1, index=range(100, 200))
    # Not the draws of the typo policy with the same seed: corruptions have streams of their own.
    policy = parse_text_policy("typo-s1.4", seed=1)  # 0.07 of the letters, as severity 3
    assert a != policy(batch, index=range(100))


@pytest.mark.parametrize("name", TEXT_CORRUPTIONS)
def test_damage_grows_with_severity_and_edits_are_nested(name):
    if name == "misspell":
        pytest.importorskip("codespell_lib")
    batch = sentences(150)
    results = [corrupt_text_with_edits(batch, name, s, seed=7) for s in TEXT_SEVERITIES]
    totals = [sum(len(r.edits) for r in level) for level in results]
    assert totals[0] > 0 and totals[-1] > 2 * totals[0]
    for lower, higher in itertools.pairwise(results):
        for a, b in zip(lower, higher, strict=True):
            assert len(a.edits) <= len(b.edits)  # per sample, never fewer edits
            if name not in SWAPS and name != "word_drop":
                assert set(a.edits) <= set(b.edits)  # the same edits, and more
            if name == "word_drop":  # the same tokens dropped, and more
                dropped_a = {p for e in a.edits for p in range(e.start, e.end) if not a.original[p].isspace()}
                dropped_b = {p for e in b.edits for p in range(e.start, e.end) if not b.original[p].isspace()}
                assert dropped_a <= dropped_b


@pytest.mark.parametrize("name", TEXT_CORRUPTIONS)
def test_rate_at_severity_five_is_as_documented(name):
    if name == "misspell":
        pytest.importorskip("codespell_lib")
    batch = sentences(200)
    everything = corrupt_text_with_edits(batch, name, 5, seed=3)
    count = sum(len(r.edits) for r in everything) / (2 if name in SWAPS else 1)
    if name in ("typo", "char_delete", "char_insert", "case"):
        letters = sum(sum(c.isalpha() for c in t) for t in batch)
        assert abs(count / letters - SEVERITY_RATES[name][4]) < 0.03
    else:
        assert count > 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, seed=st.integers(0, 2**31), severity=st.sampled_from(TEXT_SEVERITIES))
def test_alignment_and_protected_spans(text, seed, severity):
    pattern = re.compile("|".join(f"(?:{p})" for p in DEFAULT_PROTECTED.values()))
    spans = [m.span() for m in pattern.finditer(text)]
    for name in TEXT_CORRUPTIONS:
        (result,) = corrupt_text_with_edits([text], name, severity, seed=seed)
        assert apply_edits(text, result.edits) == result.text
        for start, end in spans:
            mapped = result.map_span(start, end)
            assert result.text[mapped[0] : mapped[1]] == text[start:end]
        source = result.source_index()
        assert source.shape == (len(result.text),)


def test_bad_input():
    with pytest.raises(ValueError, match="unknown text corruption 'typos'; expected one of typo, ocr"):
        corrupt_text(["a"], "typos", 1)
    for severity in (0, 6, 2.0, True, "3"):
        with pytest.raises(ValueError, match=r"severity: expected an integer in 1\.\.5"):
            corrupt_text(["a"], "typo", severity)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"texts: .*got one str"):
        corrupt_text("a text", "typo", 1)
    with pytest.raises(TypeError, match=r"texts\[0\]: expected str, got NoneType"):
        corrupt_text([None], "typo", 1)  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"texts\[1\]: expected str, got bytes"):
        corrupt_text(["a", b"b"], "typo", 1)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="seed"):
        corrupt_text(["a"], "typo", 1, seed=-1)
    with pytest.raises(ValueError, match="index"):
        corrupt_text(["a", "b"], "typo", 1, index=[3])


def test_empty_input_and_no_mutation():
    assert corrupt_text([], "typo", 5) == []
    assert corrupt_text([], "typo", 5, index=[]) == []
    batch = ["", "a b c", "Some text here ."]
    copy = list(batch)
    for name in TEXT_CORRUPTIONS:
        out = corrupt_text(tuple(batch), name, 5, seed=1)
        assert out[0] == "" and len(out) == 3 and all(type(t) is str for t in out)
    assert batch == copy
    assert corrupt_text(np.array(["word"]), "case", 5) == corrupt_text(["word"], "case", 5)
