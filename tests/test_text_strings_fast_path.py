"""The plain call path (outputs built straight from positions, no edit log) against the edit-log path
(`augment`): the same texts for every op and text_ta, on SST-2-like sentences and on random text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mithridate.dose import Dose
from mithridate.text.strings import OPS, POLICIES, TextTrivialAugment, apply_edits
from test_text_strings import OP_NAMES, sentences, texts

MIXED = [
    "Visit http://example.com/a?b=1 or write to me@mail.org at 10:30 , 192.168.1.1 .",
    "caf\u00e9 e\u0301t\u00e9 stra\u00dfe \u0130stanbul \u6f22\u5b57 \U0001f600 rn cl x1y",
    "aa bb bb  cc\tdd \n ee",
    "",
    " ",
    "word",
]


def _batch(n: int) -> list[str]:
    return sentences(n) + MIXED


@pytest.mark.parametrize("name", OP_NAMES)
@pytest.mark.parametrize("strength", [1.0, 4.0, None])
def test_call_matches_augment_for_every_op(name, strength):
    if name == "misspell":
        pytest.importorskip("codespell_lib")
    batch = _batch(300)
    dose = Dose(1.0, 1.0 / OPS[name].reference_rate) if strength is None else Dose(1.0, strength)
    policy = POLICIES[name](dose=dose, seed=3)
    for epoch in range(2):
        expected = [result.text for result in policy.augment(batch, index=range(len(batch)), epoch=epoch)]
        assert policy(batch, index=range(len(batch)), epoch=epoch) == expected


def test_call_matches_augment_for_text_ta():
    batch = _batch(300)
    ops = [name for name in ("identity", *OPS) if name != "misspell"]
    policy = TextTrivialAugment(ops=ops, seed=1)
    for epoch in range(3):
        expected = [result.text for result in policy.augment(batch, index=range(len(batch)), epoch=epoch)]
        assert policy(batch, index=range(len(batch)), epoch=epoch) == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts, min_size=1, max_size=6), st.sampled_from([n for n in OP_NAMES if n != "misspell"]))
def test_call_matches_augment_on_random_text(batch, name):
    policy = POLICIES[name](dose=Dose(1.0, 0.5 / OPS[name].reference_rate), seed=7)
    expected = [result.text for result in policy.augment(batch, index=range(len(batch)))]
    assert policy(batch, index=range(len(batch))) == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.sampled_from([n for n in OP_NAMES if n != "misspell"]), st.data())
def test_op_apply_is_the_splice_of_its_edits(text, name, data):
    op = OPS[name]()
    bound = max(len(text), 1) + 2
    positions = sorted(data.draw(st.sets(st.integers(0, bound), max_size=8)))
    choices = data.draw(st.lists(st.floats(0.0, 0.999), min_size=len(positions), max_size=len(positions)))
    assert op.apply(text, positions, choices) == apply_edits(text, op.edits(text, positions, choices))
