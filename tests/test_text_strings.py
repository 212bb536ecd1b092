"""String-level text noise (mithridate.text.strings): edit logs and alignment, protected spans, per-sample
randomness, the dose as a per-unit rate, text policies and their strings, tables, bad input."""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mithridate.dose import ConstantSchedule, Dose, LinearSchedule
from mithridate.text.strings import (
    DEFAULT_PROTECTED,
    LAYOUTS,
    OPS,
    POLICIES,
    Edit,
    EditedText,
    KeyboardLayout,
    TextPolicy,
    apply_edits,
    keyboard_neighbours,
    map_span,
    misspellings,
    parse_text_policy,
    source_index,
)

SST2 = Path(__file__).resolve().parents[2] / "shared" / "data" / "sst2" / "dev.tsv"
OP_NAMES = tuple(OPS)
FALLBACK = [
    "the film is a charming , often hilarious look at friendship and loss .",
    "an utterly forgettable movie that never finds its footing",
    "Receive the package because the weather in Paris is nice.",
    "it 's played in the most straight-faced fashion , with little humor to lighten things up .",
]


def sentences(n: int) -> list[str]:
    """n real SST-2 sentences (the fallback sentences repeated where ../shared is missing)."""
    if SST2.is_file():
        rows = SST2.read_text(encoding="utf-8").splitlines()[1:]
        found = [row.split("\t", 1)[1] for row in rows if "\t" in row]
    else:
        found = FALLBACK
    return [found[i % len(found)] for i in range(n)]


def full(name: str, **kwargs) -> TextPolicy:
    """The policy of `name` at a strength that edits every eligible unit (rate 1)."""
    return POLICIES[name](dose=Dose(1.0, 1.0 / OPS[name].reference_rate), seed=5, **kwargs)


# Text strategies: ASCII words, punctuation, runs of mixed whitespace, Unicode (accents, a combining
# mark, sharp s, dotted I, CJK, an emoji) and protected things (URLs, e-mails, IPs, numbers).
_PIECES = st.sampled_from(
    [
        "the", "Paris", "receive", "because", "rn", "cl", "word", "I", "a", "don't", "e\u0301t\u00e9",
        "stra\u00dfe", "\u0130stanbul", "\u6f22\u5b57", "\U0001f600", "caf\u00e9", "x1y", ",", ".", "!?", "--",
        "(ok)", "192.168.1.1", "3.14", "2024", "http://example.com/a?b=1", "www.x.org", "me@mail.org",
    ]
)  # fmt: skip
_SPACES = st.sampled_from([" ", " ", " ", "  ", "\t", "\n", " \u00a0", ""])
texts = st.lists(st.tuples(_PIECES, _SPACES), max_size=14).map(lambda parts: "".join(a + b for a, b in parts))


def protected_spans(text: str) -> list[tuple[int, int]]:
    pattern = re.compile("|".join(f"(?:{p})" for p in DEFAULT_PROTECTED.values()))
    return [m.span() for m in pattern.finditer(text) if m.end() > m.start()]


def check_alignment(result: EditedText) -> None:
    """The edit log rebuilds the output; unedited characters map to themselves, in order; copied text
    (moved or repeated words, swapped characters) maps to what it copies."""
    original, text, edits = result.original, result.text, result.edits
    assert apply_edits(original, edits) == text
    source = result.source_index()
    assert source.shape == (len(text),)
    edited = np.zeros(len(original), dtype=bool)
    from_edit = np.zeros(len(text), dtype=bool)
    position = shift = 0
    for edit in edits:
        edited[edit.start : edit.end] = True
        out = edit.start + shift
        from_edit[out : out + len(edit.text)] = True
        shift += len(edit.text) - (edit.end - edit.start)
        position = edit.end
        if edit.origin is not None:
            assert edit.text == original[edit.origin : edit.origin + len(edit.text)]
            assert source[out : out + len(edit.text)].tolist() == list(range(edit.origin, edit.origin + len(edit.text)))
    assert position <= len(original)
    kept = np.flatnonzero(~from_edit)
    assert source[kept].tolist() == np.flatnonzero(~edited).tolist()
    assert all(text[q] == original[source[q]] for q in kept)
    assert ((source >= -1) & (source < max(len(original), 1))).all()


# Alignment ------------------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, seed=st.integers(0, 2**31), strength=st.sampled_from([1.0, 4.0, 1000.0]))
def test_edit_log_rebuilds_output_and_unedited_characters_map_to_themselves(text, seed, strength):
    for name in OP_NAMES:
        policy = POLICIES[name](dose=Dose(1.0, strength), seed=seed)
        (result,) = policy.augment([text], index=[seed % 1000])
        assert result.original == text
        check_alignment(result)
        assert all(edit.op == name for edit in result.edits)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, seed=st.integers(0, 2**31))
def test_protected_spans_are_never_edited(text, seed):
    spans = protected_spans(text)
    for name in OP_NAMES:
        (result,) = full(name).augment([text], index=[seed % 997])
        for start, end in spans:
            for edit in result.edits:  # no edit inside a protected span, nor an insertion within it
                assert edit.end <= start or edit.start >= end or (edit.start == edit.end and edit.start in (start, end))
            mapped = result.map_span(start, end)
            assert result.text[mapped[0] : mapped[1]] == text[start:end]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, seed=st.integers(0, 2**31))
def test_combining_marks_stay_on_their_base(text, seed):
    for name in OP_NAMES:
        (result,) = full(name).augment([text], index=[seed % 991])
        source = result.source_index()
        for q, char in enumerate(result.text):
            if unicodedata.combining(char) and source[q] >= 0:
                assert q > 0 and source[q - 1] == source[q] - 1
                assert result.text[q - 1] == text[source[q] - 1]


def test_ip_addresses_and_punctuation_stay_byte_for_byte():
    text = "Server 192.168.1.1 is down , call me@mail.org -- see http://x.org/a?b=1 (now)!"
    for name in OP_NAMES:
        for index in range(20):
            (result,) = full(name).augment([text], index=[index])
            assert "192.168.1.1" in result.text and "me@mail.org" in result.text and "http://x.org/a?b=1" in result.text
            check_alignment(result)
            if OPS[name].unit == "character":  # character ops edit letters and digits only
                assert all(text[e.start : e.end].isalnum() for e in result.edits if e.end > e.start)


def test_nlpaug_rejoins_tokens_and_we_do_not():
    """nlpaug rebuilds a text from its tokens with spaces (its issue 143: '192.168.1.1' becomes
    '192. 168. 1. 1'); here everything outside the edits stays as it was."""
    nac = pytest.importorskip("nlpaug.augmenter.char")
    text = "Server 192.168.1.1 is down, call me at home!"
    random.seed(0)
    np.random.seed(0)
    theirs = nac.KeyboardAug(aug_char_p=0.05, aug_word_p=1.0).augment(text)
    theirs = theirs[0] if isinstance(theirs, list) else theirs
    assert "192.168.1.1" not in theirs
    ours = POLICIES["typo"](dose=Dose(1.0, 4.0), seed=0).augment([text], index=[0])[0]
    assert ours.text != text and "192.168.1.1" in ours.text
    assert [c for c in ours.text if not c.isalnum()] == [c for c in text if not c.isalnum()]


def test_map_span_moves_ner_labels():
    text = "Yesterday Barack Obama visited Paris with friends ."
    spans = {"PER": (10, 22), "LOC": (31, 36)}
    for name in OP_NAMES:
        for index in range(30):
            (result,) = full(name).augment([text], index=[index])
            source = result.source_index()
            for (start, end), (new_start, new_end) in zip(
                spans.values(), result.map_spans(list(spans.values())), strict=True
            ):
                assert 0 <= new_start <= new_end <= len(result.text)
                from_span = np.flatnonzero((source >= start) & (source < end))
                assert ((from_span >= new_start) & (from_span < new_end)).all()
                if OPS[name].unit == "character":  # and nothing from outside it comes in
                    inside = source[new_start:new_end]
                    assert (((inside >= start) & (inside < end)) | (inside == -1)).all()
    # A swapped word carries its label along.
    result = EditedText(text, "Yesterday Barack Obama Paris visited with friends .", ())
    edits = (Edit(23, 30, "Paris", "word_swap", 31), Edit(31, 36, "visited", "word_swap", 23))
    result = EditedText(text, apply_edits(text, edits), edits)
    start, end = result.map_span(*spans["LOC"])
    assert result.text[start:end] == "Paris"
    start, end = result.map_span(*spans["PER"])
    assert result.text[start:end] == "Barack Obama"


def test_map_span_of_deleted_and_typed_spans():
    text = "a quick fox"
    edits = (Edit(2, 8, "", "word_drop"),)
    assert map_span(len(text), edits, 2, 7) == (2, 2)
    assert map_span(len(text), edits, 8, 11) == (2, 5)
    edits = (Edit(3, 3, "x", "char_insert"), Edit(5, 6, "", "char_delete"))
    assert apply_edits(text, edits) == "a qxuik fox"
    assert map_span(len(text), edits, 2, 7) == (2, 7)
    assert source_index(len(text), edits).tolist() == [0, 1, 2, -1, 3, 4, 6, 7, 8, 9, 10]
    assert map_span(len(text), (Edit(1, 1, "zz", "char_insert"),), 1, 1) == (1, 1)
    with pytest.raises(ValueError, match="start, end"):
        map_span(len(text), edits, 5, 2)
    with pytest.raises(TypeError, match="start"):
        map_span(len(text), edits, 1.5, 2)
    with pytest.raises(ValueError, match="sorted and not overlapping"):
        apply_edits(text, (Edit(3, 5, "", "x"), Edit(4, 6, "", "x")))
    with pytest.raises(TypeError, match="text"):
        apply_edits(None, ())  # type: ignore[arg-type]


# Randomness -----------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batch=st.lists(texts, min_size=1, max_size=6),
    others=st.lists(texts, max_size=6),
    seed=st.integers(0, 2**40),
    epoch=st.integers(0, 5),
    name=st.sampled_from([*OP_NAMES, "text_ta"]),
)
def test_a_sample_draws_the_same_whatever_the_batch(batch, others, seed, epoch, name):
    policy = POLICIES[name](dose=Dose(0.8, 3.0), seed=seed)
    index = list(range(100, 100 + len(batch)))
    alone = [policy.augment([text], index=[i], epoch=epoch)[0] for text, i in zip(batch, index, strict=True)]
    # Mixed with other texts, in another order, in a bigger batch.
    mixed_texts = [*others, *reversed(batch)]
    mixed_index = [*range(500, 500 + len(others)), *reversed(index)]
    mixed = policy.augment(mixed_texts, index=mixed_index, epoch=epoch)[len(others) :][::-1]
    assert [r.text for r in mixed] == [r.text for r in alone]
    assert [r.edits for r in mixed] == [r.edits for r in alone]


def test_determinism_seed_epoch_and_call_counter():
    batch = sentences(64)
    index = list(range(64))
    a = POLICIES["typo"](seed=1)
    b = POLICIES["typo"](seed=1)
    assert a(batch, index=index) == b(batch, index=index) == a(batch, index=index)
    assert a(batch, index=index) != POLICIES["typo"](seed=2)(batch, index=index)
    assert a(batch, index=index, epoch=1) != a(batch, index=index, epoch=0)
    # Without indices a call counter stands in: repeated calls differ, the sequence is reproducible.
    first, second = a(batch), a(batch)
    assert first != second
    c = POLICIES["typo"](seed=1)
    assert (c(batch), c(batch)) == (first, second)
    assert POLICIES["typo"]().seed != POLICIES["typo"]().seed  # seed=None draws one


def test_inputs_are_never_mutated_and_types_are_kept():
    batch = sentences(16)
    copy = list(batch)
    for name in POLICIES:
        out = POLICIES[name](seed=3, dose=Dose(1.0, 5.0))(tuple(batch), index=range(16))
        assert isinstance(out, list) and all(type(t) is str for t in out)
        assert batch == copy
    out = POLICIES["typo"](seed=0)(np.array(batch[:3]), index=[0, 1, 2])
    assert all(type(t) is str for t in out)


def test_policies_pickle_for_dataloader_workers():
    import pickle

    batch = sentences(8)
    for name in POLICIES:
        policy = parse_text_policy(f"{name}-p0.7-s3", seed=3)
        copy = pickle.loads(pickle.dumps(policy))
        assert copy == policy and copy(batch, index=range(8), epoch=2) == policy(batch, index=range(8), epoch=2)
    # The misspelling table is not pickled along (it is read once per process).
    assert len(pickle.dumps(POLICIES["misspell"](seed=0))) < 10_000


# The dose -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["typo", "char_delete", "word_drop", "misspell"])
def test_edit_count_is_linear_in_strength_and_nested(name):
    if name == "misspell":
        pytest.importorskip("codespell_lib")
    batch = sentences(400)
    index = list(range(400))
    rate = OPS[name].reference_rate
    eligible = sum(len(r.edits) for r in full(name).augment(batch, index=index))  # rate 1 edits every one
    assert eligible > 300
    previous = None
    for strength in (0.5, 1.0, 2.0, 4.0):
        policy = POLICIES[name](dose=Dose(1.0, strength), seed=5)
        results = policy.augment(batch, index=index)
        count = sum(len(r.edits) for r in results)
        q = rate * strength
        mean, sd = eligible * q, math.sqrt(eligible * q * (1 - q))
        assert abs(count - mean) <= 4.5 * sd, (strength, count, mean)
        if name == "word_drop":  # the tokens dropped (a deletion's whitespace depends on its neighbours)
            edits = {(i, p) for i, r in enumerate(results) for e in r.edits for p in range(e.start, e.end)}
            edits = {(i, p) for i, p in edits if not batch[i][p].isspace()}
        else:
            edits = {(i, e) for i, r in enumerate(results) for e in r.edits}
        if previous is not None:  # common random numbers: the edits of a lower strength are kept
            assert previous <= edits
        previous = edits


def test_swap_counts_grow_with_strength():
    batch = sentences(300)
    counts = [
        sum(len(r.edits) for r in POLICIES[name](dose=Dose(1.0, s), seed=2).augment(batch, index=range(300)))
        for name in ("char_swap", "word_swap")
        for s in (1.0, 2.0, 4.0)
    ]
    assert counts[0] < counts[1] < counts[2] and counts[3] < counts[4] < counts[5]
    assert all(c % 2 == 0 for c in counts)  # a swap is two edits


@pytest.mark.parametrize("p", [0.0, 0.3, 0.75, 1.0])
def test_p_is_the_chance_a_sample_is_touched(p):
    n = 600
    batch = ["a sentence with plenty of letters"] * n
    touched = sum(r.changed for r in POLICIES["typo"](dose=Dose(p, 20.0), seed=9).augment(batch, index=range(n)))
    assert abs(touched - n * p) <= 4.5 * math.sqrt(n * p * (1 - p))


def test_zero_strength_and_schedules():
    batch = sentences(50)
    assert POLICIES["typo"](dose=Dose(1.0, 0.0), seed=1)(batch) == batch
    assert POLICIES["text_ta"](dose=Dose(0.0, 3.0), seed=1)(batch) == batch
    ramp = POLICIES["typo"](dose=LinearSchedule(Dose(1.0, 0.0), Dose(1.0, 4.0)), seed=1)
    assert ramp(batch, index=range(50), progress=0.0) == batch
    late = ramp(batch, index=range(50), progress=1.0)
    assert late == POLICIES["typo"](dose=Dose(1.0, 4.0), seed=1)(batch, index=range(50))
    # One progress per sample: each sample gets its own dose, the same as alone.
    progress = np.linspace(0.0, 1.0, 50)
    per_sample = ramp(batch, index=range(50), progress=progress)
    assert per_sample[0] == batch[0]
    assert per_sample[-1] == late[-1]
    assert per_sample[20] == ramp([batch[20]], index=[20], progress=float(progress[20]))[0]
    with pytest.raises(ValueError, match="progress"):
        ramp(batch, progress=1.5)
    with pytest.raises(ValueError, match="progress"):
        ramp(batch, progress=np.zeros(3))


def test_schedule_is_settable_as_the_sweep_does():
    policy = parse_text_policy("typo-p0.5", seed=4)
    assert policy.dose == Dose(0.5, 1.0)
    policy.schedule = ConstantSchedule(dataclasses.replace(policy.schedule.dose, strength=3.0))
    assert policy.dose == Dose(0.5, 3.0)
    assert str(policy) == "typo-p0.5-s3"
    assert policy(sentences(20), index=range(20)) == parse_text_policy("typo-p0.5-s3", seed=4)(
        sentences(20), index=range(20)
    )


# text_ta ----------------------------------------------------------------------------------------------


def test_text_ta_draws_ops_and_bins_uniformly():
    policy = POLICIES["text_ta"](seed=11)
    n = 2800
    plan = policy.sample(n, index=range(n))
    ops = np.bincount(plan.op.numpy(), minlength=len(policy.ops))
    assert len(policy.ops) == 14 and policy.ops[0] == "identity"
    expected = n / 14
    assert (np.abs(ops - expected) <= 4.5 * math.sqrt(expected)).all()
    rate = plan.rate.numpy()
    reference = np.array([0.0 if o == "identity" else OPS[o].reference_rate for o in policy.ops])[plan.op.numpy()]
    bins = np.round(rate[reference > 0] / reference[reference > 0] * 30).astype(int)
    counts = np.bincount(bins, minlength=31)
    assert len(counts) == 31 and (counts > 0).all()  # every bin of 31, from 0 to the full strength
    assert np.allclose(rate[reference > 0] / reference[reference > 0] * 30, bins, atol=1e-6)
    # Applying: each sample edited by its own op only.
    batch = sentences(200)
    results = policy.augment(batch, index=range(200))
    plan = policy.sample(200, index=range(200))
    for k, result in enumerate(results):
        assert {e.op for e in result.edits} <= {policy.ops[int(plan.op[k])]}


def test_text_ta_options_and_codespell_requirement(monkeypatch):
    policy = parse_text_policy("text_ta-b11-otypo+ocr-lazerty", seed=1)
    assert policy.ops == ("typo", "ocr") and policy.num_magnitude_bins == 11
    assert str(policy) == "text_ta-b11-otypo+ocr-lazerty"
    with pytest.raises(ValueError, match="unknown op 'nope'"):
        POLICIES["text_ta"](ops=("nope",))
    misspellings.cache_clear()
    monkeypatch.setitem(sys.modules, "codespell_lib", None)
    try:
        with pytest.raises(ImportError, match=r"pip install 'mithridate\[text\]'"):
            POLICIES["text_ta"]()
        with pytest.raises(ImportError, match=r"pip install 'mithridate\[text\]'"):
            parse_text_policy("misspell")
        assert POLICIES["text_ta"](ops=("identity", "typo")).ops == ("identity", "typo")
    finally:
        monkeypatch.undo()
        misspellings.cache_clear()


# Policy strings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["text_ta", "text_ta-p0.5-s2", "typo-p0.5-s0.3", "misspell-s2", "typo-lqwertz", "text_ta-b7", *POLICIES],
)
def test_policy_strings_round_trip(text):
    policy = parse_text_policy(text, seed=3)
    assert str(policy) == text
    again = parse_text_policy(str(policy), seed=3)
    assert again == policy and again.seed == 3
    assert again(sentences(10), index=range(10)) == policy(sentences(10), index=range(10))
    assert repr(policy).startswith(type(policy).__name__)


def test_policy_string_errors_list_what_is_valid():
    with pytest.raises(ValueError, match=r"expected one of typo, ocr, .*text_ta"):
        parse_text_policy("typos")
    with pytest.raises(ValueError, match=r"valid keys for typo: l \(keyboard layout.*p \(dose probability"):
        parse_text_policy("typo-x3")
    with pytest.raises(ValueError, match="given twice"):
        parse_text_policy("typo-p0.5-p0.4")
    with pytest.raises(ValueError, match="bad value"):
        parse_text_policy("typo-pabc")
    with pytest.raises(ValueError, match=r"Dose\.p"):
        parse_text_policy("typo-p2")
    with pytest.raises(ValueError, match="unknown keyboard layout 'dvorak'; expected one of qwerty"):
        parse_text_policy("typo-ldvorak")
    with pytest.raises(ValueError, match="choose one"):
        parse_text_policy("typo-p0.5", dose=Dose())
    with pytest.raises(ValueError, match="policy"):
        parse_text_policy("")


# Tables -------------------------------------------------------------------------------------------------


def test_qwerty_neighbours():
    table = keyboard_neighbours("qwerty")
    assert set(table["g"]) == set("fhtyvb")
    assert set(table["s"]) == set("adwezx")
    assert set(table["q"]) == set("12wa")
    for key, near in table.items():  # touching is symmetric
        assert all(key in table[other] for other in near)
        assert key not in near and len(near) >= 2
    assert set(table) >= set("abcdefghijklmnopqrstuvwxyz0123456789")


def test_qwerty_neighbours_agree_with_nlpaug():
    nlpaug = pytest.importorskip("nlpaug")
    theirs = json.loads((Path(nlpaug.__file__).parent / "res/char/keyboard/en.json").read_text())
    ours = keyboard_neighbours("qwerty")
    for key in "abcdefghijklmnopqrstvwxyz":  # nlpaug's 'u' lacks 'y' (and has ' t'): left out
        letters = {c.strip() for c in theirs[key] if c.strip().isalpha()} - {key}
        assert {c for c in ours[key] if c.isalpha()} <= letters


def test_layouts_are_data():
    assert set(LAYOUTS) == {"qwerty", "azerty", "qwertz"}
    assert "q" in keyboard_neighbours("azerty")["a"] and "z" in keyboard_neighbours("qwertz")["t"]
    dvorak = KeyboardLayout("dvorak", ("1234567890", "',.pyfgcrl", "aoeuidhtns", ";qjkxbmwvz"), (0, 0.5, 0.75, 1.25))
    policy = POLICIES["typo"](layout=dvorak, dose=Dose(1.0, 20.0), seed=0)
    out = policy(["aaaa"], index=[0])[0]
    assert set(out) <= set(keyboard_neighbours(dvorak)["a"])
    custom = POLICIES["typo"](layout={"a": "b"}, dose=Dose(1.0, 20.0), seed=0)
    assert custom(["a cat"], index=[0]) == ["b cbt"]
    assert custom(["A CAT"], index=[0]) == ["B CBT"]
    with pytest.raises(TypeError, match="layout"):
        POLICIES["typo"](layout=3)


def test_codespell_inversion_holds_known_pairs():
    table = misspellings()
    assert "recieve" in table["receive"]
    assert "becuase" in table["because"] and "teh" in table["the"]
    assert all(w == w.lower() and w not in wrongs for w, wrongs in list(table.items())[:2000])
    policy = POLICIES["misspell"](dose=Dose(1.0, 5.0), seed=0)
    out = policy(["RECEIVE Receive receive"], index=[0])[0].split()
    assert out[0].isupper() and out[1][0].isupper() and out[1][1:].islower() and out[2].islower()
    assert all(w.lower() in table["receive"] for w in out)
    # The dictionary is read from the installed package, never shipped.
    package = Path(__file__).resolve().parents[1] / "src" / "mithridate"
    assert not any("dictionary" in p.name for p in package.rglob("*.txt"))


def test_ocr_confusions_and_word_ops_edit_as_documented():
    table = POLICIES["ocr"](table={"rn": ["m"], "m": ["rn"]}, dose=Dose(1.0, 20.0), seed=0)
    assert table(["rn", "m", "corner"], index=[0, 1, 2]) == ["m", "rn", "comer"]
    ocr = POLICIES["ocr"](dose=Dose(1.0, 20.0), seed=0)
    assert all(out in ("1", "I", "|") for out in ocr(["l"] * 20, index=range(20)))
    text = "one two three four"
    drop = POLICIES["word_drop"](dose=Dose(1.0, 10.0), seed=0)
    assert drop([text], index=[0]) == [""]
    assert drop([f"  {text} \n"], index=[0]) == ["   \n"]
    crop = POLICIES["word_crop"](dose=Dose(1.0, 10.0), seed=0)
    (cropped,) = crop([text], index=[0])
    assert cropped in text.split()  # all but one token cut
    repeat = POLICIES["word_repeat"](dose=Dose(1.0, 10.0), seed=0)
    assert repeat([text], index=[0]) == ["one one two two three three four four"]
    split = POLICIES["word_split"](dose=Dose(1.0, 10.0), seed=0)
    (parts,) = split(["abcdef"], index=[0])
    assert parts.replace(" ", "") == "abcdef" and parts.count(" ") == 1
    swap = POLICIES["word_swap"](dose=Dose(1.0, 10.0), seed=0)
    assert swap(["one two , three four"], index=[0]) == ["two one , four three"]


# Bad input ----------------------------------------------------------------------------------------------


def test_bad_input_gets_clear_errors():
    policy = POLICIES["typo"](seed=0)
    with pytest.raises(TypeError, match=r"texts: expected a sequence of str .* got one str; wrap it in a list"):
        policy("one text")
    with pytest.raises(TypeError, match=r"texts: .* got one bytes"):
        policy(b"bytes")
    with pytest.raises(TypeError, match="texts: expected a sequence of str"):
        policy(None)
    with pytest.raises(TypeError, match=r"texts\[1\]: expected str, got NoneType"):
        policy(["ok", None])
    with pytest.raises(TypeError, match=r"texts\[0\]: expected str, got bytes"):
        policy.augment([b"x"])
    with pytest.raises(TypeError, match=r"texts\[2\]: expected str, got int"):
        parse_text_policy("text_ta")(["a", "b", 3])
    with pytest.raises(ValueError, match=r"index: expected 2 sample indices \(one per sample\), got 1"):
        policy(["a", "b"], index=[0])
    with pytest.raises(ValueError, match="index"):
        policy(["a"], index=[-1])
    with pytest.raises(TypeError, match="epoch"):
        policy(["a"], epoch=1.5)
    with pytest.raises(TypeError, match="seed"):
        POLICIES["typo"](seed="x")
    with pytest.raises(TypeError, match="protect"):
        POLICIES["typo"](protect=r"\d+")
    with pytest.raises(ValueError, match=r"protect\[0\]: bad regular expression"):
        POLICIES["typo"](protect=["("])
    with pytest.raises(TypeError, match="plan"):
        policy.apply(["a"], "plan")
    with pytest.raises(ValueError, match="plan: made for 2 samples"):
        policy.apply(["a"], policy.sample(2))


def test_empty_texts_and_batches():
    for name in POLICIES:
        policy = POLICIES[name](seed=1, dose=Dose(1.0, 10.0))
        assert policy([]) == [] and policy.augment([], index=[]) == []
        assert policy(["", " ", "\n"], index=[0, 1, 2])[0] == ""
        assert policy([""], index=torch.tensor([7])) == [""]


def test_custom_protection():
    text = "keep SECRET words here"
    policy = POLICIES["char_delete"](dose=Dose(1.0, 20.0), seed=0, protect=[r"SECRET"])
    assert policy([text], index=[0]) == [" SECRET  "]
    nothing = POLICIES["char_delete"](dose=Dose(1.0, 20.0), seed=0, protect=[])
    assert nothing(["abc 123"], index=[0]) == [" "]
    assert POLICIES["char_delete"](protect=[], seed=1) != POLICIES["char_delete"](seed=1)
    assert POLICIES["char_delete"](protect=[], seed=1) == POLICIES["char_delete"](protect=(), seed=1)
