"""Policies: torchvision's op spaces and semantics, per-sample draws, reproducibility, the dose, strings."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torchvision.transforms import v2

import mithridate as mt
from _exactness import TORCH_FUSES
from mithridate.image import Plan
from mithridate.image.ops import OP_IDS, OPS
from mithridate.image.policies import (
    _AUGMIX_PARTIAL_SPACE,
    _AUTO_SPACE,
    AUGMIX_SPACE,
    AUTOAUGMENT_POLICIES,
    RAND_SPACE,
    TRIVIAL_WIDE_SPACE,
)

POLICIES = ["ta_wide", "rand", "rand-n3-m15", "auto-imagenet", "auto-cifar10", "auto-svhn", "augmix", "augmix-d2-m5"]


def random_images(n: int, size: tuple[int, int] = (32, 32), channels: int = 3, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, channels, *size), dtype=torch.uint8, generator=generator)


# torchvision's op spaces ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ours", "theirs", "bins"),
    [
        (TRIVIAL_WIDE_SPACE, v2.TrivialAugmentWide._AUGMENTATION_SPACE, 31),
        (TRIVIAL_WIDE_SPACE, v2.TrivialAugmentWide._AUGMENTATION_SPACE, 7),
        (RAND_SPACE, v2.RandAugment._AUGMENTATION_SPACE, 31),
        (_AUTO_SPACE, v2.AutoAugment._AUGMENTATION_SPACE, 10),
        (AUGMIX_SPACE, v2.AugMix._AUGMENTATION_SPACE, 10),
        (_AUGMIX_PARTIAL_SPACE, v2.AugMix._PARTIAL_AUGMENTATION_SPACE, 10),
    ],
)
@pytest.mark.parametrize("size", [(32, 32), (224, 160)])
def test_spaces_equal_torchvision(ours, theirs, bins, size):
    assert list(ours) == list(theirs)
    for name, (magnitudes, signed) in ours.items():
        their_magnitudes, their_signed = theirs[name]
        assert signed == their_signed, name
        mine, reference = magnitudes(bins, *size), their_magnitudes(bins, *size)
        if reference is None:
            assert mine is None, name
        else:
            assert torch.equal(mine, reference), name


def test_autoaugment_policies_equal_torchvision():
    for name, policy in AUTOAUGMENT_POLICIES.items():
        assert policy == v2.AutoAugment(v2.AutoAugmentPolicy(name))._policies


# Replaying plans through torchvision ------------------------------------------------------------------


def _replay_with_torchvision(tv_policy, image: torch.Tensor, ops, magnitudes) -> torch.Tensor:
    """Apply one chain of a plan to one image with torchvision's own op implementation."""
    for op, magnitude in zip(ops, magnitudes, strict=True):
        name = OPS[op].name
        if name == "Identity":
            continue
        if name in ("AutoContrast", "Equalize", "Invert"):
            assert magnitude == 1.0
        image = tv_policy._apply_image_or_video_transform(
            image, name, float(magnitude), interpolation=tv_policy.interpolation, fill=tv_policy._fill
        )
    return image


@pytest.fixture
def torchvision_exactly(torchvision_grid_in_our_order, monkeypatch):
    """The replays compare bytes: torchvision's grid in our order (see conftest), and where torch's kernels
    round products apart (ATEN_CPU_CAPABILITY=default) the torch path, which follows them there (the compiled
    path always fuses: test_native.py bounds the difference)."""
    if not TORCH_FUSES:
        monkeypatch.setenv("MITHRIDATE_NATIVE", "0")


@pytest.mark.parametrize(
    ("policy_string", "tv_class"),
    [
        ("ta_wide", v2.TrivialAugmentWide),
        ("rand-n3-m13", v2.RandAugment),
        ("auto-imagenet", v2.AutoAugment),
        ("auto-svhn", v2.AutoAugment),
        ("ta_wide-ibilinear-f17_99_230", v2.TrivialAugmentWide),
    ],
)
@pytest.mark.exactness
@pytest.mark.usefixtures("torchvision_exactly")
@pytest.mark.parametrize("size", [(32, 32), (45, 37)])
def test_single_chain_policies_equal_torchvision_replay(policy_string, tv_class, size, photos):
    """Every sample of a batch equals torchvision applying the same ops and magnitudes to it alone."""
    policy = mt.image.policy(policy_string, seed=11)
    fill = list(policy.fill) if isinstance(policy.fill, tuple) else policy.fill
    tv_policy = tv_class(interpolation=policy.interpolation, fill=fill)
    images = torch.cat([random_images(96, size), torch.nn.functional.interpolate(photos.float(), size).byte()])
    plan = policy.sample(len(images), size, index=range(len(images)))
    ours = policy.apply(images, plan)
    for i, image in enumerate(images):
        expected = _replay_with_torchvision(tv_policy, image, plan.ops[i, 0].tolist(), plan.magnitudes[i, 0].tolist())
        assert torch.equal(ours[i], expected), f"sample {i}: {plan.describe(i)}"


@pytest.mark.exactness
@pytest.mark.usefixtures("torchvision_exactly")
def test_augmix_equals_torchvision_ops_mixed_and_rounded():
    """AugMix chains are torchvision's ops; the mix is rounded where torchvision truncates (<= 1 level)."""
    policy = mt.image.AugMix(seed=5)
    tv_policy = v2.AugMix()
    images = random_images(48, (24, 24))
    plan = policy.sample(len(images), (24, 24), index=range(len(images)))
    ours = policy.apply(images, plan)
    for i, image in enumerate(images):
        chains = [
            _replay_with_torchvision(tv_policy, image, plan.ops[i, c].tolist(), plan.magnitudes[i, c].tolist())
            for c in range(plan.chains)
        ]
        w = plan.weights[i]
        mix = image.float() * w[0]
        for c, chain in enumerate(chains):
            mix.add_(chain.float() * w[c + 1])
        assert torch.equal(ours[i], mix.round().clamp(0, 255).byte()), plan.describe(i)
        truncated = mix.to(torch.uint8)  # what torchvision's AugMix returns for these draws
        assert (ours[i].int() - truncated.int()).abs().max() <= 1


def test_float_images_follow_the_same_plan(photos):
    policy = mt.image.TrivialAugmentWide(seed=3)
    images = photos
    plan = policy.sample(len(images), (32, 32), index=range(len(images)))
    as_uint8 = policy.apply(images, plan)
    as_float = policy.apply(images.float() / 255, plan)
    assert as_float.dtype == torch.float32
    # Same ops on the same picture: float results agree with uint8 ones up to uint8 quantisation.
    # Posterize and Equalize bin float values to 256 levels and Solarize thresholds compare in float,
    # so allow 2 levels on a few pixels.
    difference = (as_float * 255 - as_uint8.float()).abs()
    assert difference.mean() < 0.6
    assert (difference > 2.5).float().mean() < 0.01


# Properties -------------------------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(
    policy_string=st.sampled_from(POLICIES),
    n=st.integers(0, 9),
    size=st.tuples(st.integers(1, 20), st.integers(1, 20)),
    channels=st.sampled_from([1, 3]),
    floating=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_shape_dtype_device_and_range_are_kept(policy_string, n, size, channels, floating, seed):
    policy = mt.image.policy(policy_string, seed=seed)
    images = random_images(n, size, channels, seed=seed % 1000)
    if floating:
        images = images.double() / 255
    before = images.clone()
    out = policy(images)
    assert out.shape == images.shape and out.dtype == images.dtype and out.device == images.device
    assert torch.equal(images, before), "the input must never be modified"
    if out.numel():
        assert out.min() >= 0 and out.max() <= (1 if floating else 255)
        assert not torch.isnan(out.double()).any()


@settings(max_examples=15, deadline=None)
@given(
    policy_string=st.sampled_from(POLICIES),
    dose=st.sampled_from([mt.Dose(p=0.0), mt.Dose(strength=0.0), mt.Dose(p=0.0, strength=2.0)]),
    seed=st.integers(0, 2**32),
)
def test_zero_dose_is_identity(policy_string, dose, seed):
    policy = mt.image.policy(policy_string, seed=seed, dose=dose)
    images = random_images(32, (20, 20), seed=seed % 97)
    assert torch.equal(policy(images), images)
    assert torch.equal(policy(images.float() / 255), images.float() / 255)


@settings(max_examples=15, deadline=None)
@given(
    policy_string=st.sampled_from(POLICIES),
    seed=st.integers(0, 2**63 - 1),
    epoch=st.integers(0, 100),
    cut=st.integers(1, 23),
)
def test_same_seed_epoch_index_gives_same_output_whatever_the_split(policy_string, seed, epoch, cut):
    policy = mt.image.policy(policy_string, seed=seed)
    images = random_images(24, (16, 16))
    index = torch.arange(1000, 1024)
    whole = policy(images, index=index, epoch=epoch)
    parts = torch.cat(
        [policy(images[:cut], index=index[:cut], epoch=epoch), policy(images[cut:], index=index[cut:], epoch=epoch)]
    )
    assert torch.equal(whole, parts)
    shuffled = torch.randperm(24, generator=torch.Generator().manual_seed(seed % 1000))
    assert torch.equal(policy(images[shuffled], index=index[shuffled], epoch=epoch), whole[shuffled])
    fresh = mt.image.policy(policy_string, seed=seed)  # a new object with the same seed
    assert torch.equal(fresh(images, index=index, epoch=epoch), whole)


@pytest.mark.parametrize("policy_string", POLICIES)
def test_different_indices_epochs_and_calls_draw_differently(policy_string):
    policy = mt.image.policy(policy_string, seed=1)
    n = 64
    by_index = policy.sample(n, (32, 32), index=range(n))
    other_indices = policy.sample(n, (32, 32), index=range(n, 2 * n))
    other_epoch = policy.sample(n, (32, 32), index=range(n), epoch=1)
    first_call, second_call = policy.sample(n, (32, 32)), policy.sample(n, (32, 32))

    def differ(a: Plan, b: Plan) -> float:
        return ((a.ops != b.ops) | (a.magnitudes != b.magnitudes)).flatten(1).any(1).float().mean().item()

    assert differ(by_index, other_indices) > 0.5
    assert differ(by_index, other_epoch) > 0.5
    assert differ(first_call, second_call) > 0.5
    # Within one batch, samples draw their own ops: many distinct plans.
    assert len({by_index.describe(i) for i in range(n)}) > n // 4


def test_call_counter_is_reproducible_from_the_seed():
    a, b = mt.image.TrivialAugmentWide(seed=9), mt.image.TrivialAugmentWide(seed=9)
    images = random_images(16)
    assert torch.equal(a(images), b(images)) and torch.equal(a(images), b(images))
    assert not torch.equal(a(images), mt.image.TrivialAugmentWide(seed=10)(images))
    assert isinstance(mt.image.TrivialAugmentWide().seed, int)  # seed=None draws one and records it


# Per-sample statistics --------------------------------------------------------------------------------


def test_trivial_augment_draws_every_op_for_copies_of_one_image(photos):
    policy = mt.image.TrivialAugmentWide(seed=0)
    copies = photos[:1].expand(512, -1, -1, -1)
    plan = policy.sample(512, (32, 32), index=range(512))
    out = policy.apply(copies, plan)
    drawn = {OPS[op].name for op in plan.ops.flatten().tolist()}
    assert drawn == set(TRIVIAL_WIDE_SPACE)
    # The outputs really differ per sample, not only the plans: one op per batch would give at most 62
    # distinct images (31 bins x 2 signs); ~850 equally likely (op, bin, sign) draws give ~270 of 512.
    assert len({bytes(image.numpy()) for image in out}) > 200


def _chi_square(counts: torch.Tensor) -> float:
    expected = counts.sum() / counts.numel()
    return float(((counts - expected) ** 2 / expected).sum())


# Chi-square critical values at p = 0.001 for the degrees of freedom used below.
CHI2_999 = {13: 34.53, 30: 59.70, 1: 10.83}


def test_trivial_augment_op_bins_and_signs_are_uniform():
    n = 28_000
    policy = mt.image.TrivialAugmentWide(seed=123)
    plan = policy.sample(n, (32, 32), index=range(n))
    ops, magnitudes = plan.ops[:, 0, 0], plan.magnitudes[:, 0, 0]
    op_counts = torch.bincount(ops, minlength=len(OPS))[[OP_IDS[name] for name in TRIVIAL_WIDE_SPACE]]
    assert _chi_square(op_counts.double()) < CHI2_999[13]
    # Bins: recover each sample's bin from its magnitude for the linearly spaced signed ops.
    signed_ops = [
        OP_IDS[name] for name in ("ShearX", "ShearY", "Brightness", "Color", "Contrast", "Sharpness")
    ]
    chosen = torch.isin(ops, torch.tensor(signed_ops))
    bins = torch.round(magnitudes[chosen].abs() / 0.99 * 30).long()
    assert _chi_square(torch.bincount(bins, minlength=31).double()) < CHI2_999[30]
    nonzero = magnitudes[chosen] != 0
    negative = (magnitudes[chosen][nonzero] < 0).sum().item()
    positive = nonzero.sum().item() - negative
    assert _chi_square(torch.tensor([negative, positive], dtype=torch.float64)) < CHI2_999[1]


def test_randaugment_and_augmix_draw_uniformly_per_step():
    n = 14_000
    plan = mt.image.RandAugment(seed=2).sample(n, (32, 32), index=range(n))
    for step in range(2):
        counts = torch.bincount(plan.ops[:, 0, step], minlength=len(OPS))
        counts = counts[[OP_IDS[name] for name in RAND_SPACE]]
        assert _chi_square(counts.double()) < CHI2_999[13]
    augmix = mt.image.AugMix(seed=2).sample(n, (32, 32), index=range(n))
    depth = (augmix.ops != 0).sum(-1)  # Identity is not an AugMix op: non-zero ops count the depth
    assert depth.min() == 1 and depth.max() == 3
    assert abs(depth.float().mean().item() - 2.0) < 0.05
    assert torch.allclose(augmix.weights.sum(1), torch.ones(n), atol=1e-5)
    assert abs(augmix.weights[:, 0].mean().item() - 0.5) < 0.02  # Beta(1, 1) share of the original


def test_autoaugment_applies_ops_with_their_probabilities():
    n = 50_000
    plan = mt.image.AutoAugment("cifar10", seed=4).sample(n, (32, 32), index=range(n))
    # Sub-policy 0 of cifar10 is (Invert 0.1, Contrast 0.2): first steps that are Invert appear at
    # rate (1/25) * 0.1 from that sub-policy and (1/25) * ... from none else at step 0.
    invert_first = (plan.ops[:, 0, 0] == OP_IDS["Invert"]).float().mean().item()
    assert abs(invert_first - 0.1 / 25) < 0.0015
    expected_identity = sum(2 - p1 - p2 for (_, p1, _), (_, p2, _) in AUTOAUGMENT_POLICIES["cifar10"]) / 50
    identity_rate = (plan.ops == 0).float().mean().item()
    assert abs(identity_rate - expected_identity) < 0.01


# The dose --------------------------------------------------------------------------------------------


def test_p_gates_samples_and_keeps_their_draws():
    n = 4000
    full = mt.image.TrivialAugmentWide(seed=8).sample(n, (32, 32), index=range(n))
    half = mt.image.TrivialAugmentWide(seed=8, dose=mt.Dose(p=0.5)).sample(n, (32, 32), index=range(n))
    touched = half.ops[:, 0, 0] != 0
    assert abs(touched.float().mean().item() - 0.5 * 13 / 14) < 0.03
    # Common random numbers: a touched sample drew what it would at full dose.
    assert torch.equal(half.ops[touched], full.ops[touched])
    assert torch.equal(half.magnitudes[touched], full.magnitudes[touched])


@pytest.mark.parametrize("text", ["ta_wide", "rand-n2-m9", "auto-imagenet", "augmix"])
@pytest.mark.parametrize("strength", [0.5, 2.0, 3.0])
def test_strength_scales_magnitudes_within_hard_limits(text, strength):
    n = 4000
    full = mt.image.policy(text, seed=8).sample(n, (32, 32), index=range(n))
    dosed = mt.image.policy(f"{text}-s{strength}", seed=8).sample(n, (32, 32), index=range(n))
    assert torch.equal(full.ops, dosed.ops)
    for name in ("ShearX", "TranslateY", "Rotate"):
        mask = full.ops == OP_IDS[name]
        assert torch.allclose(dosed.magnitudes[mask], full.magnitudes[mask] * strength)
    for name in ("Brightness", "Color", "Contrast", "Sharpness"):  # factor 1 + m never below 0
        mask = full.ops == OP_IDS[name]
        assert torch.allclose(dosed.magnitudes[mask], (full.magnitudes[mask] * strength).clamp(min=-1.0))
    posterize = full.ops == OP_IDS["Posterize"]
    bits = (8 - (8 - full.magnitudes[posterize]) * strength + 0.5).floor()  # rounded half up
    assert torch.equal(dosed.magnitudes[posterize], bits.clamp(0, 8))
    solarize = full.ops == OP_IDS["Solarize"]
    assert torch.allclose(dosed.magnitudes[solarize], (1 - (1 - full.magnitudes[solarize]) * strength).clamp(0, 1))
    amount = torch.isin(full.ops, torch.tensor([OP_IDS["AutoContrast"], OP_IDS["Equalize"]]))
    assert torch.all(dosed.magnitudes[amount] == min(strength, 1.0))


def test_larger_strength_moves_images_further(photos):
    """Mean absolute change grows with the dose: the dose is a real scale, not a label."""
    images = photos.repeat(8, 1, 1, 1)
    index = range(len(images))
    changes = []
    for strength in (0.25, 0.5, 1.0, 2.0):
        policy = mt.image.TrivialAugmentWide(seed=1, dose=mt.Dose(strength=strength))
        changes.append((policy(images, index=index).float() - images.float()).abs().mean().item())
    assert changes == sorted(changes) and changes[-1] > 2 * changes[0]


def test_amount_ops_blend_below_full_strength(photos):
    images = photos[:4]
    plan = Plan(
        torch.full((4, 1, 1), OP_IDS["Equalize"]),
        torch.tensor([0.0, 0.25, 0.5, 1.0]).view(4, 1, 1),
    )
    out = mt.image.TrivialAugmentWide(seed=0).apply(images, plan)
    full = mt.image.functional.equalize(images)
    assert torch.equal(out[0], images[0]) and torch.equal(out[3], full[3])
    expected = torch.lerp(images[2].float(), full[2].float(), 0.5).round().byte()
    assert torch.equal(out[2], expected)


# Policy strings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ta_wide",
        "ta_wide-p0.5-s1.5",
        "ta_wide-b15-ibilinear",
        "rand",
        "rand-n3-m15",
        "rand-n1-m4-b11-p0.8",
        "auto-imagenet",
        "auto-cifar10-s2",
        "auto-svhn-f128",
        "augmix",
        "augmix-m5-w4-d2-a0.5",
        "augmix-opartial-inearest-f0.2_0.4_0.6",
    ],
)
def test_policy_strings_round_trip(text):
    policy = mt.image.policy(text, seed=3)
    assert str(policy) == text
    assert str(mt.image.policy(str(policy))) == str(policy)
    assert mt.image.policy(str(policy), seed=3) == policy


def test_policy_strings_set_parameters():
    policy = mt.image.policy("rand-n3-m15-b21-p0.25-s2")
    assert (policy.num_ops, policy.magnitude, policy.num_magnitude_bins) == (3, 15, 21)
    assert policy.dose == mt.Dose(0.25, 2.0)
    augmix = mt.image.policy("augmix-m5-w4-d2-a0.5-opartial")
    assert (augmix.severity, augmix.mixture_width, augmix.chain_depth, augmix.alpha, augmix.all_ops) == (
        5,
        4,
        2,
        0.5,
        False,
    )
    assert mt.image.policy("auto").policy == "imagenet"
    assert mt.image.policy("ta_wide-f1_2_3").fill == (1.0, 2.0, 3.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("trivial", "unknown policy 'trivial'.*expected one of ta_wide, rand, auto, augmix"),
        ("ta_wide-x3", "unknown key 'x3'.*valid keys for ta_wide: b .*p .*s .*i .*f "),
        ("rand-q2", "valid keys for rand: n .*m .*b "),
        ("auto-cifar100", "unknown key 'cifar100'.*imagenet | cifar10 | svhn"),
        ("augmix-w", "bad value '' for key 'w'"),
        ("ta_wide-pabc", "bad value 'abc' for key 'p'"),
        ("ta_wide-p2", r"Dose.p: expected a probability in \[0, 1\]"),
        ("ta_wide-s-1", "bad value '' for key 's'"),
        ("ta_wide-p0.5-p0.6", "given twice"),
        ("rand-m40", r"magnitude: expected an integer in \[0, 30\]"),
        ("augmix-d0", "expected a positive integer"),
        ("ta_wide-icubic", "interpolation: expected one of nearest, bilinear"),
        ("", "expected a policy string"),
    ],
)
def test_bad_policy_strings_name_what_is_valid(text, message):
    with pytest.raises(ValueError, match=message):
        mt.image.policy(text)


def test_string_and_argument_conflicts():
    with pytest.raises(ValueError, match="choose one"):
        mt.image.policy("ta_wide-p0.5", dose=mt.Dose())
    with pytest.raises(ValueError, match="choose one"):
        mt.image.policy("ta_wide-f3", fill=4)


# Constructor validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: mt.image.TrivialAugmentWide(num_magnitude_bins=1), ValueError, "num_magnitude_bins"),
        (lambda: mt.image.RandAugment(num_ops=-1), ValueError, "num_ops"),
        (lambda: mt.image.RandAugment(magnitude=31), ValueError, "magnitude"),
        (lambda: mt.image.AutoAugment("cifar100"), ValueError, "imagenet, cifar10, svhn"),
        (lambda: mt.image.AugMix(severity=11), ValueError, "severity"),
        (lambda: mt.image.AugMix(alpha=0.0), ValueError, "alpha"),
        (lambda: mt.image.AugMix(chain_depth=0), ValueError, "chain_depth"),
        (lambda: mt.image.TrivialAugmentWide(seed=-1), ValueError, "seed"),
        (lambda: mt.image.TrivialAugmentWide(seed=1.5), TypeError, "seed"),
        (lambda: mt.image.TrivialAugmentWide(fill=(1, 2)), ValueError, "fill"),
        (lambda: mt.image.TrivialAugmentWide(interpolation="bicubic"), ValueError, "interpolation"),
        (lambda: mt.image.TrivialAugmentWide(dose=2), TypeError, "dose"),
    ],
)
def test_bad_arguments(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_autoaugment_accepts_torchvision_enum():
    assert mt.image.AutoAugment(v2.AutoAugmentPolicy.SVHN).policy == "svhn"


def test_randaugment_with_zero_ops_is_identity():
    images = random_images(8)
    assert torch.equal(mt.image.RandAugment(num_ops=0, seed=0)(images), images)


def test_plan_is_printable_and_replayable():
    policy = mt.image.AugMix(seed=0)
    plan = policy.sample(5, (32, 32), index=range(5))
    text = repr(plan)
    assert text.startswith("Plan(5 samples, 3 chains x 3 steps)") and "original" in text
    rebuilt = Plan.from_records(plan.to_records())
    images = random_images(5)
    assert torch.equal(policy.apply(images, rebuilt), policy.apply(images, plan))
    assert len(plan[1:3]) == 2 and plan[1:3].describe(0) == plan.describe(1)
    assert math.isclose(sum(plan.to_records()[0]["weights"]), 1.0, rel_tol=1e-5)


@pytest.mark.parametrize("policy_string", ["ta_wide", "rand-n3", "augmix", "auto-svhn-f9_8_7"])
def test_chunking_does_not_change_results(policy_string, monkeypatch):
    """The CPU executor works in cache-sized chunks; any chunk size gives the same images."""
    from mithridate.image import executor
    from mithridate.image.executor import apply_plan

    policy = mt.image.policy(policy_string, seed=6)
    images = random_images(40, (20, 28))
    plan = policy.sample(40, (20, 28), index=range(40))
    kwargs = {"interpolation": policy.interpolation, "fill": policy.fill}
    whole = apply_plan(images, plan, chunk_elements=0, **kwargs)
    for chunk_elements in (1, 3 * 20 * 28 * 7, 10_000):
        assert torch.equal(apply_plan(images, plan, chunk_elements=chunk_elements, **kwargs), whole)
    assert torch.equal(policy.apply(images, plan), whole)
    monkeypatch.setattr(executor, "CPU_CHUNK_ELEMENTS", 3 * 20 * 28 * 3)  # the default path, 3 per chunk
    assert torch.equal(apply_plan(images, plan, **kwargs), whole)


def test_drawn_plans_skip_value_checks_but_not_shapes():
    """Policies build plans with Plan.drawn (no device read-back); Plan(...) still checks every value."""
    ops = torch.full((2, 1, 1), OP_IDS["Posterize"], dtype=torch.int64)
    bad = torch.full((2, 1, 1), 9.0)  # 9 bits: outside [0, 8]
    with pytest.raises(ValueError, match="outside"):
        Plan(ops, bad)
    assert Plan.drawn(ops, bad).magnitudes is bad
    with pytest.raises(ValueError, match=r"Plan\.drawn: expected"):
        Plan.drawn(ops.view(2, 1), bad.view(2, 1))
    plan = mt.image.TrivialAugmentWide(seed=0).sample(6, (8, 8))
    assert isinstance(plan, Plan) and plan.ops.shape == (6, 1, 1)
    Plan(plan.ops, plan.magnitudes)  # what a policy draws passes the full checks


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(0, 14), st.floats(-1e4, 1e4, allow_nan=False, width=32)), min_size=1, max_size=12
    ),
    height=st.integers(1, 300),
    width=st.integers(1, 300),
)
def test_small_plans_get_the_batch_matrices_bit_for_bit(steps, height, width):
    """A small CPU plan's matrices come one step at a time from a cache: they must be the batch's, so that
    an image's result never depends on how many others share its call."""
    from mithridate.image.executor import _plan_matrices
    from mithridate.image.ops import geometric_matrices

    steps = [*steps, (5, 0.0), (5, -0.0), (3, -0.0), (3, 0.0)]  # signed zeros: equal as keys, not as matrices
    ops = torch.tensor([op for op, _ in steps]).view(-1, 1, 1)
    magnitudes = torch.tensor([m for _, m in steps], dtype=torch.float32).view(-1, 1, 1)
    small = _plan_matrices(Plan.drawn(ops, magnitudes), height, width)
    batch = geometric_matrices(ops.flatten(), magnitudes.flatten(), height, width).view(-1, 1, 1, 2, 3)
    assert _plan_matrices(Plan.drawn(ops.clamp(min=6), magnitudes), height, width) is None  # nothing geometric
    geometric = ((ops >= 1) & (ops <= 5)).view(-1)
    ours, theirs = small.view(-1, 2, 3)[geometric], batch.view(-1, 2, 3)[geometric]
    assert torch.equal(ours.view(torch.int64), theirs.view(torch.int64))  # the bits, signed zeros included


@settings(max_examples=15, deadline=None)
@given(
    policy_string=st.sampled_from(["ta_wide", "rand-n2-m9", "augmix", "auto-imagenet"]),
    floating=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_grouping_by_the_host_copy_of_the_ops_gives_the_same_images(policy_string, floating, seed):
    """A plan drawn on the host for a device batch steers the torch path's groups with its host ops (no read
    of the device). Here both copies live on the CPU: the per-chunk, per-chain, per-step slicing of the host
    ops must pick the same groups as the ops themselves."""
    from mithridate.image import executor

    policy = mt.image.policy(policy_string, seed=seed)
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (40, 3, 12, 10), dtype=torch.uint8, generator=generator)
    images = images.float() / 255 if floating else images
    plan = policy.sample(40, (12, 10), index=range(40))
    matrices = executor._plan_matrices(plan, 12, 10)
    matrices = torch.zeros((*plan.ops.shape, 2, 3), dtype=torch.float64) if matrices is None else matrices
    outputs = []
    for host_ops in (None, plan.ops.clone()):
        out = torch.empty_like(images)
        args = (plan.ops, plan.magnitudes, matrices, plan.weights, policy.interpolation, policy.fill, out, host_ops)
        executor._apply_chunk(images, *args)
        outputs.append(out)
    assert torch.equal(outputs[0], outputs[1])
    assert torch.equal(outputs[0], executor.apply_plan(images, plan, backend="torch", **_options(policy)))


def _options(policy) -> dict:
    return {"interpolation": policy.interpolation, "fill": policy.fill}
