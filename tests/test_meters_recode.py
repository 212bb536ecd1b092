"""ReCode's metrics (`meters.recode`): hand-computed cases, the definitions checked against a plain loop on random
correctness tables (hypothesis), the relations between them, and bad input."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mithridate.meters.recode import recode_metrics, robust_accuracy, robust_drop, robust_relative

# Five samples, three perturbed versions each (hand-checked below).
CLEAN = torch.tensor([1, 1, 1, 0, 0])
PERTURBED = torch.tensor(
    [
        [1, 1, 1],  # robust
        [1, 0, 1],  # broken by one version
        [0, 0, 0],  # broken by all
        [0, 0, 0],  # wrong throughout: no change
        [0, 1, 0],  # fixed by one version
    ]
)


def test_hand_computed_case():
    assert robust_accuracy(PERTURBED) == pytest.approx(1 / 5)
    assert robust_drop(CLEAN, PERTURBED) == pytest.approx((3 / 5 - 1 / 5) / (3 / 5))  # 2/3
    assert robust_relative(CLEAN, PERTURBED) == pytest.approx(3 / 5)  # samples 2, 3 broken; 5 fixed
    metrics = recode_metrics(CLEAN, PERTURBED)
    assert metrics["clean_accuracy"] == pytest.approx(0.6)
    assert metrics["broken"] == pytest.approx(0.4) and metrics["fixed"] == pytest.approx(0.2)


def test_bool_and_integer_inputs_agree_and_one_version_is_plain_accuracy():
    assert recode_metrics(CLEAN.bool(), PERTURBED.bool()) == recode_metrics(CLEAN, PERTURBED)
    single = PERTURBED[:, 1:2]
    assert robust_accuracy(single) == pytest.approx(float(single.float().mean()))
    # with s = 1, relative is the share of samples whose correctness differs between the two versions
    assert robust_relative(CLEAN, single) == pytest.approx(float((single[:, 0] != CLEAN).float().mean()))


def test_edge_cases():
    everything_right = torch.ones(4, 2, dtype=torch.bool)
    assert robust_drop(torch.ones(4, dtype=torch.bool), everything_right) == 0.0
    assert robust_relative(torch.ones(4, dtype=torch.bool), everything_right) == 0.0
    assert robust_drop(torch.zeros(4, dtype=torch.bool), everything_right) is None  # no clean accuracy to drop
    # perturbations that only fix samples give a negative drop
    assert robust_drop(torch.tensor([1, 0]), torch.tensor([[1, 1], [1, 1]])) == pytest.approx(-1.0)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 12), st.integers(1, 6), st.data())
def test_definitions_against_a_plain_loop(n, s, data):
    clean = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    table = data.draw(st.lists(st.lists(st.booleans(), min_size=s, max_size=s), min_size=n, max_size=n))
    robust = sum(all(row) for row in table) / n
    nominal = sum(clean) / n
    changed = sum(any(v != c for v in row) for c, row in zip(clean, table, strict=True)) / n
    metrics = recode_metrics(torch.tensor(clean), torch.tensor(table))
    assert metrics["robust_accuracy"] == pytest.approx(robust) == robust_accuracy(torch.tensor(table))
    assert metrics["robust_relative"] == pytest.approx(changed)
    assert robust_relative(torch.tensor(clean), torch.tensor(table)) == pytest.approx(changed)
    if nominal:
        assert metrics["robust_drop"] == pytest.approx((nominal - robust) / nominal)
    else:
        assert metrics["robust_drop"] is None
    # worst case never beats the clean accuracy plus the samples perturbations fix
    assert metrics["robust_accuracy"] <= nominal + metrics["fixed"] + 1e-12
    # adding a perturbed version can only lower robust accuracy and raise relative
    extra = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    wider = torch.cat([torch.tensor(table), torch.tensor(extra).unsqueeze(1)], dim=1)
    assert robust_accuracy(wider) <= metrics["robust_accuracy"]
    assert robust_relative(torch.tensor(clean), wider) >= metrics["robust_relative"]


@pytest.mark.parametrize(
    ("clean", "perturbed", "error", "message"),
    [
        ([1, 0], torch.ones(2, 1), TypeError, "clean: expected a tensor"),
        (torch.ones(2), torch.ones(2, 1), TypeError, r"clean: expected bool or 0/1 integers, got torch.float32"),
        (torch.tensor([1, 2]), torch.ones(2, 1, dtype=torch.int64), ValueError, "expected 0/1 values"),
        (torch.ones(2, 1, dtype=torch.bool), torch.ones(2, 1, dtype=torch.bool), ValueError, r"shape \(N,\)"),
        (torch.ones(2, dtype=torch.bool), torch.ones(2, dtype=torch.bool), ValueError, r"shape \(N, s\)"),
        (torch.ones(3, dtype=torch.bool), torch.ones(2, 1, dtype=torch.bool), ValueError, "expected 3 rows"),
        (torch.ones(2, dtype=torch.bool), torch.ones(2, 0, dtype=torch.bool), ValueError, "s >= 1"),
        (torch.ones(0, dtype=torch.bool), torch.ones(0, 2, dtype=torch.bool), ValueError, "at least one sample"),
    ],
)
def test_bad_input_gets_a_clear_error(clean, perturbed, error, message):
    with pytest.raises(error, match=message):
        recode_metrics(clean, perturbed)


def test_inputs_are_not_mutated():
    clean, perturbed = CLEAN.clone(), PERTURBED.clone()
    recode_metrics(clean, perturbed)
    robust_drop(clean, perturbed)
    assert torch.equal(clean, CLEAN) and torch.equal(perturbed, PERTURBED)
