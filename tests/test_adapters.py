"""Inputs and outputs: every supported kind keeps its type, layout and dtype; bad input gets a clear error."""

from __future__ import annotations

import numpy as np
import PIL.Image
import pytest
import torch

import mithridate as mt

INDEX = list(range(6))


@pytest.fixture
def policy():
    return mt.image.TrivialAugmentWide(seed=21)


@pytest.fixture
def batch() -> torch.Tensor:
    return torch.randint(0, 256, (6, 3, 20, 24), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def test_chw_tensor_gives_chw_tensor(policy, batch):
    out = policy(batch[0], index=[0])
    assert out.shape == (3, 20, 24) and out.dtype == torch.uint8
    assert torch.equal(out, policy(batch[:1], index=[0])[0])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_float_tensors_keep_their_dtype(policy, batch, dtype):
    images = (batch.float() / 255).to(dtype)
    out = policy(images, index=INDEX)
    assert out.dtype == dtype and out.shape == images.shape
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    # Half precision computes in float32 and rounds back: the same as doing so by hand.
    reference = policy(images.float(), index=INDEX)
    if dtype == torch.float64:  # computed in float64: within float32 rounding of the float32 result
        assert torch.allclose(out.float(), reference, atol=1e-5)
    else:
        assert torch.equal(out, reference.to(dtype))


def test_numpy_hwc_and_nhwc(policy, batch):
    nhwc = batch.permute(0, 2, 3, 1).numpy().copy()
    out = policy(nhwc, index=INDEX)
    assert isinstance(out, np.ndarray) and out.shape == nhwc.shape and out.dtype == np.uint8
    expected = policy(batch, index=INDEX).permute(0, 2, 3, 1).numpy()
    assert np.array_equal(out, expected)
    single = policy(nhwc[0], index=[0])
    assert single.shape == (20, 24, 3) and np.array_equal(single, expected[0])
    as_float = policy(nhwc.astype(np.float32) / 255, index=INDEX)
    assert as_float.dtype == np.float32 and as_float.shape == nhwc.shape


def test_pil_images_and_lists(policy, batch):
    images = [PIL.Image.fromarray(image.permute(1, 2, 0).numpy()) for image in batch]
    out = policy(images, index=INDEX)
    assert isinstance(out, list) and all(isinstance(image, PIL.Image.Image) and image.mode == "RGB" for image in out)
    expected = policy(batch, index=INDEX)
    for got, want in zip(out, expected, strict=True):
        assert np.array_equal(np.asarray(got), want.permute(1, 2, 0).numpy())
    single = policy(images[2], index=[2])
    assert isinstance(single, PIL.Image.Image) and np.array_equal(np.asarray(single), np.asarray(out[2]))
    gray = policy(images[0].convert("L"), index=[0])
    assert gray.mode == "L" and gray.size == (24, 20)
    assert isinstance(policy(tuple(images), index=INDEX), tuple)


def test_alpha_channel_passes_through_untouched(policy, batch):
    alpha = torch.randint(0, 256, (6, 1, 20, 24), dtype=torch.uint8)
    rgba = torch.cat([batch, alpha], dim=1)
    out = policy(rgba, index=INDEX)
    assert out.shape == rgba.shape
    assert torch.equal(out[:, 3:], alpha)
    assert torch.equal(out[:, :3], policy(batch, index=INDEX))
    la = PIL.Image.fromarray(np.stack([batch[0, 0].numpy(), alpha[0, 0].numpy()], axis=-1), mode="LA")
    out_la = policy(la, index=[0])
    assert out_la.mode == "LA" and np.array_equal(np.asarray(out_la)[:, :, 1], alpha[0, 0].numpy())


def test_inputs_are_never_modified(policy, batch):
    for images in (batch, batch.float() / 255, batch.permute(0, 2, 3, 1).numpy().copy()):
        before = images.copy() if isinstance(images, np.ndarray) else images.clone()
        out = policy(images, index=INDEX)
        assert (np.array_equal(images, before)) if isinstance(images, np.ndarray) else torch.equal(images, before)
        assert out is not images


def test_identity_plan_still_returns_a_new_tensor(batch):
    policy = mt.image.TrivialAugmentWide(seed=0, dose=mt.Dose(p=0.0))
    out = policy(batch)
    assert torch.equal(out, batch) and out.data_ptr() != batch.data_ptr()


def test_empty_batches(policy):
    empty = torch.zeros((0, 3, 8, 8), dtype=torch.uint8)
    out = policy(empty)
    assert out.shape == (0, 3, 8, 8) and out.dtype == torch.uint8
    assert policy([]) == []
    assert policy(np.zeros((0, 8, 8, 3), dtype=np.uint8)).shape == (0, 8, 8, 3)
    assert mt.image.AugMix(seed=0)(empty.float()).shape == (0, 3, 8, 8)


def test_channels_last_memory_format_is_accepted(policy, batch):
    out = policy(batch.contiguous(memory_format=torch.channels_last), index=INDEX)
    assert torch.equal(out, policy(batch, index=INDEX))


@pytest.mark.parametrize(
    ("images", "error", "message"),
    [
        (
            torch.zeros(8, 8, dtype=torch.uint8),
            ValueError,
            r"images: expected a tensor shaped \(C, H, W\) or \(N, C, H, W\), got shape \(8, 8\)",
        ),
        (torch.zeros(1, 1, 3, 8, 8, dtype=torch.uint8), ValueError, "got shape"),
        (
            torch.zeros(2, 3, 8, 8, dtype=torch.int32),
            TypeError,
            "expected dtype uint8, or a floating dtype with values in \\[0, 1\\], got torch.int32",
        ),
        (
            torch.zeros(2, 5, 8, 8, dtype=torch.uint8),
            ValueError,
            "expected 1 or 3 channels \\(2 or 4 with alpha\\).*got 5",
        ),
        (torch.zeros(2, 8, 8, 3, dtype=torch.uint8), ValueError, "channels-last tensor\\?.*permute"),
        (torch.full((2, 3, 8, 8), 2.0), ValueError, "expected float values in \\[0, 1\\], got values in \\[2, 2\\]"),
        (torch.full((2, 3, 8, 8), -0.5), ValueError, "got values in \\[-0.5, -0.5\\]"),
        (torch.full((2, 3, 8, 8), float("nan")), ValueError, "got NaN"),
        (torch.full((2, 3, 8, 8), 255.0), ValueError, "uint8 images must have dtype uint8"),
        (np.zeros((8, 8), dtype=np.uint8), ValueError, r"expected an array shaped \(H, W, C\) or \(N, H, W, C\)"),
        (np.zeros((8, 8, 3), dtype=np.int16), TypeError, "expected dtype uint8, or float.*int16"),
        (np.zeros((3, 8, 8), dtype=np.uint8), ValueError, "in the HWC layout, got 8"),
        (PIL.Image.new("P", (8, 8)), ValueError, "unsupported PIL mode 'P'.*convert"),
        (PIL.Image.new("I;16", (8, 8)), ValueError, "unsupported PIL mode"),
        (
            [PIL.Image.new("RGB", (8, 8)), PIL.Image.new("RGB", (9, 8))],
            ValueError,
            r"images\[1\]: has \(C, H, W\) \(3, 8, 9\) but images\[0\] has \(3, 8, 8\)",
        ),
        ([PIL.Image.new("RGB", (8, 8)), np.zeros((8, 8, 3), dtype=np.uint8)], TypeError, "a mix of PIL, numpy"),
        ([PIL.Image.new("RGB", (8, 8)), PIL.Image.new("L", (8, 8))], ValueError, "share size and channels"),
        ("image.png", TypeError, "expected a torch tensor .* got str"),
    ],
)
def test_bad_input_gets_a_clear_error(policy, images, error, message):
    with pytest.raises(error, match=message):
        policy(images)


def test_plan_that_does_not_fit_the_batch(policy, batch):
    plan = policy.sample(4, (20, 24))
    with pytest.raises(ValueError, match="plan: made for 4 samples, but images hold 6"):
        policy.apply(batch, plan)
    with pytest.raises(TypeError, match="plan: expected a Plan"):
        policy.apply(batch, {"ops": []})
    with pytest.raises(ValueError, match=r"Plan\.weights: a plan with 3 chains needs mixing weights"):
        mt.image.Plan(torch.zeros((2, 3, 1), dtype=torch.int64), torch.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match="op ids in"):
        mt.image.Plan(torch.full((2, 1, 1), 99), torch.zeros((2, 1, 1)))
    with pytest.raises(ValueError, match="expected 6 sample indices"):
        policy(batch, index=[1, 2])
