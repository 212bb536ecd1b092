"""Counter-based randomness and the Dose: purity, distributions, validation, schedules."""

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

import mithridate as mt
from mithridate.rng import Key, as_index, hash32


def test_hash32_matches_reference_values():
    # lowbias32 reference values computed with 32-bit unsigned C arithmetic.
    def reference(x: int) -> int:
        x ^= x >> 16
        x = (x * 0x7FEB352D) & 0xFFFFFFFF
        x ^= x >> 15
        x = (x * 0x846CA68B) & 0xFFFFFFFF
        return x ^ (x >> 16)

    values = [0, 1, 2, 12345, 0xFFFFFFFF, 0x80000000, 0xDEADBEEF]
    got = hash32(torch.tensor(values, dtype=torch.int64)).tolist()
    assert got == [reference(v) for v in values]


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    epoch=st.integers(0, 1000),
    indices=st.lists(st.integers(0, 2**62), min_size=1, max_size=20),
)
def test_draws_are_pure_functions_of_coordinates(seed, epoch, indices):
    key = Key(seed, epoch)
    index = torch.tensor(indices)
    whole = key.bits(index, stream=3, count=4)
    # Any split of the batch, in any order, gives the same per-sample draws.
    reversed_draws = key.bits(index.flip(0), stream=3, count=4).flip(0)
    singles = torch.cat([key.bits(index[i : i + 1], stream=3, count=4) for i in range(len(indices))])
    assert torch.equal(whole, reversed_draws)
    assert torch.equal(whole, singles)
    assert ((whole >= 0) & (whole < 2**32)).all()


def test_coordinates_change_draws():
    index = torch.arange(1000)
    base = Key(1, 0).bits(index, 1)
    others = (Key(2, 0), Key(1, 1), Key(1, 0, 0))
    for other in [key.bits(index, 1) for key in others] + [Key(1, 0).bits(index, 2)]:
        assert (other != base).float().mean() > 0.99
    assert Key(1, 0).bits(index, 1, sub=1).ne(base).float().mean() > 0.99
    # Neighbouring indices are unrelated.
    assert base[:, 0].unique().numel() == 1000


def test_uniform_and_integers_are_uniform():
    index = torch.arange(200_000)
    u = Key(7).uniform(index, 1)[:, 0]
    assert u.dtype == torch.float32 and u.min() >= 0.0 and u.max() < 1.0
    counts = torch.histc(u, bins=20, min=0.0, max=1.0)
    expected = len(index) / 20
    chi2 = ((counts - expected) ** 2 / expected).sum().item()
    assert chi2 < 43.8  # chi-square, 19 degrees of freedom, p = 0.001
    k = Key(7).integers(index, 2, high=14)[:, 0]
    counts = torch.bincount(k, minlength=14).float()
    chi2 = ((counts - len(index) / 14) ** 2 / (len(index) / 14)).sum().item()
    assert k.min() == 0 and k.max() == 13 and chi2 < 34.5  # 13 dof, p = 0.001


@pytest.mark.parametrize("alpha", [0.3, 1.0, 4.0])
def test_gamma_and_dirichlet_moments(alpha):
    index = torch.arange(100_000)
    g = Key(3).gamma(index, 5, alpha, 2).double()
    assert g.min() >= 0
    assert abs(g.mean().item() - alpha) < 0.03 * max(alpha, 1)
    assert abs(g.var().item() - alpha) < 0.06 * max(alpha, 1)
    d = Key(3).dirichlet(index, 6, alpha, 3).double()
    assert torch.allclose(d.sum(1), torch.ones(len(index), dtype=torch.float64), atol=1e-5)
    var = (alpha * 2 * alpha) / ((3 * alpha) ** 2 * (3 * alpha + 1))
    assert abs(d[:, 0].mean().item() - 1 / 3) < 0.01
    assert abs(d[:, 0].var().item() - var) < 0.1 * var


def test_normal_moments():
    z = Key(5).normal(torch.arange(100_000), 1)[:, 0].double()
    assert abs(z.mean().item()) < 0.02 and abs(z.var().item() - 1) < 0.02


@pytest.mark.parametrize(
    ("index", "error", "message"),
    [
        ([0, 1], ValueError, "expected 3 sample indices"),
        ([0, -1, 2], ValueError, "non-negative"),
        ([0.5, 1.0, 2.0], TypeError, "expected integers"),
        ("abc", TypeError, "sequence or tensor"),
        (["a", "b", "c"], TypeError, "expected integers"),
        (object(), TypeError, "sequence or tensor"),
    ],
)
def test_bad_indices(index, error, message):
    with pytest.raises(error, match=message):
        as_index(index, 3)


def test_dose_validation():
    assert mt.Dose() == mt.Dose(1.0, 1.0)
    assert mt.Dose(0.5, 3).strength == 3.0
    with pytest.raises(ValueError, match=r"Dose.p: expected a probability in \[0, 1\], got 1.5"):
        mt.Dose(p=1.5)
    with pytest.raises(ValueError, match=r"Dose\.strength: expected a non-negative"):
        mt.Dose(strength=-0.1)
    with pytest.raises(TypeError, match=r"Dose\.p: expected a number, got str"):
        mt.Dose(p="1")
    with pytest.raises(ValueError, match="finite"):
        mt.Dose(strength=math.nan)
    assert mt.Dose(p=0).is_zero and mt.Dose(strength=0).is_zero and not mt.Dose().is_zero


def test_schedules():
    ramp = mt.LinearSchedule(mt.Dose(0.0, 0.0), mt.Dose(1.0, 2.0), begin=0.0, end=0.5)
    assert ramp(0.0) == mt.Dose(0.0, 0.0)
    assert ramp(0.25) == mt.Dose(0.5, 1.0)
    assert ramp(0.9) == mt.Dose(1.0, 2.0)
    cosine = mt.CosineSchedule(mt.Dose(1.0, 2.0), mt.Dose(1.0, 0.0))
    assert cosine(0.0).strength == 2.0 and cosine(1.0).strength == 0.0
    assert cosine(0.5).strength == pytest.approx(1.0)
    assert cosine(0.25).strength > 1.0  # a half-cosine decays slowly at first
    function = mt.as_schedule(lambda progress: 3 * progress)
    assert function(0.5) == mt.Dose(strength=1.5)
    assert mt.as_schedule(mt.Dose(0.3)).at(0.7) == mt.Dose(0.3)
    assert mt.as_schedule(None)(0.2) == mt.Dose()
    with pytest.raises(ValueError, match=r"progress: expected training progress in \[0, 1\], got 1.5"):
        ramp(1.5)
    with pytest.raises(ValueError, match="begin < end"):
        mt.LinearSchedule(mt.Dose(), mt.Dose(), begin=0.6, end=0.4)
    with pytest.raises(TypeError, match="expected a Dose, a Schedule or a callable"):
        mt.as_schedule(3)
    with pytest.raises(TypeError, match="return a Dose or a number"):
        mt.as_schedule(lambda progress: "x")(0.5)


def test_policy_follows_its_schedule():
    policy = mt.image.TrivialAugmentWide(dose=mt.LinearSchedule(mt.Dose(0.0), mt.Dose(1.0)), seed=0)
    plan_start = policy.sample(256, (32, 32), index=range(256))
    assert not plan_start.touched().any()
    policy.progress = 1.0
    assert policy.dose == mt.Dose(1.0)
    plan_end = policy.sample(256, (32, 32), index=range(256))
    assert plan_end.touched().float().mean() > 0.85  # Identity and bin-0 draws leave ~10% unchanged
    halfway = policy.sample(256, (32, 32), index=range(256), progress=0.5).touched().float().mean()
    assert 0.3 < halfway < 0.6


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    epoch=st.integers(0, 10**6),
    call=st.one_of(st.none(), st.integers(0, 10**6)),
    indices=st.lists(st.integers(0, 2**62), min_size=0, max_size=40),
    count=st.integers(0, 9),
    stream=st.integers(0, 2**20),
    high=st.integers(1, 2**31 - 1),
)
def test_compiled_cpu_draws_equal_the_torch_draws(seed, epoch, call, indices, count, stream, high):
    """On the CPU the words come from a compiled loop (`_backend.rng_compiled`); they must be the torch code's."""
    key, index = Key(seed, epoch, call), torch.tensor(indices, dtype=torch.int64)

    def draws():
        return (
            key.bits(index, stream, count),
            key.uniform(index, stream, count),
            key.normal(index, stream, 2),
            key.integers(index, stream, high, count),
        )

    compiled = draws()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MITHRIDATE_NATIVE", "0")
        reference = draws()
    for ours, theirs in zip(compiled, reference, strict=True):
        assert ours.dtype == theirs.dtype and torch.equal(ours, theirs)


def test_triton_draws_equal_the_torch_draws_in_the_interpreter():
    """The one-launch CUDA kernel (`_backend.rng_triton`), run by Triton's interpreter on the CPU, gives the torch
    code's words and uniforms: keys with stream words on both sides of 2**31, indices up to 2**63 - 1."""
    if importlib.util.find_spec("triton") is None:
        pytest.skip("Triton is not installed (it ships with CUDA builds of torch)")
    script = Path(__file__).with_name("_triton_rng_check.py")
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    run = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True)
    assert run.returncode in (0, 1), run.stderr[-2000:]
    results = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(results) > 50
    assert [case for case, same in results.items() if not same] == []
    assert run.returncode == 0


def test_triton_draws_are_on_unless_turned_off_and_fall_back_after_a_failed_launch(monkeypatch):
    if importlib.util.find_spec("triton") is None:
        pytest.skip("Triton is not installed (it ships with CUDA builds of torch)")
    from mithridate._backend import rng_triton, switch

    monkeypatch.setattr(switch, "_triton_failure", None)
    monkeypatch.setenv("MITHRIDATE_TRITON", "0")
    assert not rng_triton.enabled()
    monkeypatch.delenv("MITHRIDATE_TRITON")
    assert rng_triton.enabled()
    launches = []

    def broken(*args, **kwargs):
        launches.append(args)
        raise RuntimeError("no kernel for this GPU")

    monkeypatch.setattr(rng_triton, "_launch", broken)
    # CPU tensors keep the CPU draws.
    assert Key(3).bits(torch.arange(5), 1, 2).shape == (5, 2) and not launches
    index = torch.arange(5)
    assert rng_triton.try_draw(index.view(5, 1), 1, 2, 3, uniform=False) is None and not launches  # not 1-d
    with pytest.warns(RuntimeWarning, match="Triton draws failed .*no kernel for this GPU"):
        assert rng_triton.try_draw(index, 1, 2, 3, uniform=False) is None
    assert not rng_triton.enabled()  # every Triton path is off after the failure: no further launch
    assert len(launches) == 1


def test_triton_draws_check_themselves_once_per_kind_and_turn_off_when_a_draw_differs(monkeypatch):
    """Before `Key` draws with Triton on a device, draws of that kind and count (the kernel compiled for them)
    must equal the CPU's there, on indices across the int64 range, checked once; one differing draw warns and
    turns the Triton paths off. The kernel is stood in for by the compiled CPU loop (the same words)."""
    if importlib.util.find_spec("triton") is None:
        pytest.skip("Triton is not installed (it ships with CUDA builds of torch)")
    from mithridate import rng
    from mithridate._backend import rng_triton, switch

    monkeypatch.delenv("MITHRIDATE_TRITON", raising=False)
    monkeypatch.setattr(switch, "_triton_failure", None)
    monkeypatch.setattr(rng_triton, "_verdicts", {})
    calls = []

    def faithful(index, k0, k1, count, uniform, high=None):
        calls.append((len(index), int(index.max()), count, uniform, high))
        return torch.from_numpy(rng._load_compiled().draw(index.numpy(), k0, k1, count, uniform, high))

    def one_uniform_off(index, k0, k1, count, uniform, high=None):
        out = faithful(index, k0, k1, count, uniform, high)
        if uniform:
            out[-1, -1] = 0.5 if out[-1, -1] != 0.5 else 0.25  # the widest index, the last (partial) tile of draws
        return out

    monkeypatch.setattr(rng_triton, "draw", faithful)
    cpu = torch.device("cpu")

    def verified(count, uniform, high=None):
        return rng_triton.verified(cpu, count, uniform, high, rng._reference_draws)

    assert verified(1, False, 15) and verified(1, False, 15)
    assert calls == [(305, 2**63 - 1, 1, False, 15)]  # once per kind and count, up to the widest index
    assert verified(70, True) and verified(5, False)
    assert verified(3 * 224 * 224, True) and calls[-1][0] == 5 + 6  # rows cut for wide draws
    assert len(calls) == 4
    monkeypatch.setattr(rng_triton, "_verdicts", {})
    monkeypatch.setattr(rng_triton, "draw", one_uniform_off)
    assert verified(1, False, 15)  # integers: untouched
    with pytest.warns(RuntimeWarning, match=r"self-check of the Triton draws failed .*70 uniforms per sample differ"):
        assert not verified(70, True)
    assert not rng_triton.enabled() and rng._triton(cpu, 1, False, 15) is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40), st.floats(0.0, 0.5), st.floats(0.55, 1.0))
def test_schedules_give_many_doses_as_one_by_one(progress, begin, end):
    """`Schedule.doses` (what a batch with one progress per sample takes) equals `Schedule(progress)` value by
    value, bit for bit, for every kind of schedule."""
    import numpy as np

    start, stop = mt.Dose(p=0.2, strength=0.0), mt.Dose(p=1.0, strength=2.0)
    schedules = [
        mt.ConstantSchedule(mt.Dose(p=0.5, strength=1.5)),
        mt.LinearSchedule(start, stop, begin=begin, end=end),
        mt.CosineSchedule(start, stop, begin=begin, end=end),
        mt.dose.FunctionSchedule(lambda x: 3.0 * x),
    ]
    values = np.array(progress)
    for schedule in schedules:
        p, strength = schedule.doses(values)
        expected = [schedule(value) for value in progress]
        assert p.tolist() == [d.p for d in expected] and strength.tolist() == [d.strength for d in expected]


@settings(max_examples=60, deadline=None)
@given(
    p=st.floats(min_value=1e-9, max_value=1.0, allow_subnormal=False),
    strength=st.floats(min_value=0.0, max_value=1e6, allow_subnormal=False),
)
@example(p=1.0, strength=1.0)  # the default dose: the string has no dose part
@example(p=1e-9, strength=0.0)
def test_every_modality_writes_a_dose_its_parser_reads_back(p, strength):
    """A policy string carries any dose exactly: tiny probabilities are not written in exponent notation, whose
    '-' would split the string, and no digit is lost."""
    from mithridate.code import parse_code_policy
    from mithridate.text.strings import parse_text_policy
    from mithridate.text.tokens import TokenVocab, parse_token_policy

    dose = mt.Dose(p=p, strength=strength)
    parsers = [mt.image.policy, parse_text_policy, parse_code_policy]
    for parse, name in zip(parsers, ("ta_wide", "typo", "rename"), strict=True):
        text = str(parse(name, seed=0, dose=dose))
        assert "e" not in text.partition("-")[2], text
        again = parse(text, seed=0)
        assert str(again) == text and again.schedule.dose == dose, text
    vocab = TokenVocab(vocab_size=100, pad_token_id=0, mask_token_id=1)
    text = str(parse_token_policy("mlm", vocab=vocab, seed=0, dose=dose))
    assert parse_token_policy(text, vocab=vocab, seed=0).schedule.dose == dose, text
