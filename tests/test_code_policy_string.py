"""Code policy strings: every op and `code_ta` parse, print and parse back to the same policy; the dose and op
parameters land where they should; bad strings get errors naming the valid keys or names."""

from __future__ import annotations

import pytest

from mithridate.code import CODE_OPS, CODE_TA_OPS, POLICY_NAMES, CodeTrivialAugment, OpPolicy, parse_code_policy
from mithridate.dose import Dose

SOURCE = (
    "def total(values, start=0):\n    result = start  # running sum\n    for v in values:\n"
    "        result = result + v\n    return result\n"
)


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_every_policy_name_round_trips(name):
    policy = parse_code_policy(name, seed=1)
    assert str(policy) == name
    again = parse_code_policy(f"{name}-p0.5-s0.25", seed=1)
    assert again.dose == Dose(0.5, 0.25) and str(again) == f"{name}-p0.5-s0.25"
    assert str(parse_code_policy(str(again))) == str(again)


@pytest.mark.parametrize(
    "text, attribute, value",
    [
        ("rename-yplausible", "style", "plausible"),
        ("rename-n0", "rename_parameters", False),
        ("faulty-k2", "word_shuffle", 2.0),
        ("faulty-d0.2", "word_dropout", 0.2),
        ("faulty-b0.5", "word_blank", 0.5),
        ("faulty-m[MASK]", "mask", "[MASK]"),
        ("faulty_spans-r0.3", "noise_density", 0.3),
        ("faulty_spans-l2", "mean_span_length", 2.0),
        ("faulty_spans-xdelete", "mode", "delete"),
        ("lexed_faulty-gc", "lexer_language", "c"),
    ],
)
def test_op_parameters_reach_the_op(text, attribute, value):
    policy = parse_code_policy(text)
    assert isinstance(policy, OpPolicy) and getattr(policy.op, attribute) == value
    assert parse_code_policy(str(policy)).op == policy.op


def test_code_ta_ops_default_and_chosen():
    default = parse_code_policy("code_ta")
    assert isinstance(default, CodeTrivialAugment) and default.ops == CODE_TA_OPS
    assert "rename" in CODE_TA_OPS and "faulty" not in CODE_TA_OPS and "swapped_args" not in CODE_TA_OPS
    assert all(CODE_OPS[name].preserving for name in CODE_TA_OPS)
    chosen = parse_code_policy("code_ta-orename+faulty-s0.5")
    assert chosen.ops == ("rename", "faulty") and str(chosen) == "code_ta-orename+faulty-s0.5"


def test_the_policy_noises_by_its_string():
    renamed = parse_code_policy("rename-s2", seed=0)([SOURCE], index=[0])[0]
    assert "FUNC_0" in renamed and "VAR_" in renamed and "# running sum" in renamed
    assert compile(renamed, "<renamed>", "exec")
    untouched = parse_code_policy("rename-p0", seed=0)([SOURCE], index=[0])[0]
    assert untouched == SOURCE


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "expected a code policy string"),
        ("nope", "unknown code policy 'nope'.*expected one of rename"),
        ("rename-q1", r"unknown key 'q1'.*valid keys for rename: y \(style\), n \(rename_parameters\)"),
        ("rename-s1-s2", "key 's' given twice"),
        ("rename-sx", "bad value 'x' for key 's'"),
        ("rename-n2", "bad value '2' for key 'n'.*0 or 1"),
        ("rename-ywrong", "style: expected one of"),
        ("code_ta-onope+rename", r"unknown code ops \['nope'\]"),
        ("faulty-y1", "unknown key 'y1'"),
    ],
)
def test_bad_strings_are_named(text, match):
    with pytest.raises(ValueError, match=match):
        parse_code_policy(text)


def test_a_dose_in_the_string_and_as_an_argument_conflict():
    with pytest.raises(ValueError, match="choose one"):
        parse_code_policy("rename-s0.5", dose=Dose(1.0, 1.0))
    assert parse_code_policy("rename", dose=Dose(0.5, 2.0)).dose == Dose(0.5, 2.0)
