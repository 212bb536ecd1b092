"""jpeg_compression's DCTs (libjpeg's float AAN butterflies) against scipy's orthonormal DCT, its quantisation
tables against libjpeg's definitions, and the compiled round trip against the torch one where the compiled
kernel's chunking of blocks has edge cases (wide planes, one block, odd sizes, gray)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mithridate.image.corruptions import corrupt
from mithridate.image.corruptions._jpeg import AAN_SCALE, fdct8, float_tables, idct8, quantization_table

_AAN = np.array(AAN_SCALE)
_SCALE = np.outer(_AAN, _AAN)  # the AAN outputs' scale, aan(u) aan(v), up to the factor 8


def _forward(block: np.ndarray) -> np.ndarray:
    """fdct8 along rows, then along columns, as jpeg_fdct_float's two passes."""
    rows = np.stack(fdct8(*block.T), axis=1)
    return np.stack(fdct8(*rows), axis=0)


def _inverse(coefficients: np.ndarray) -> np.ndarray:
    """idct8 along columns, then along rows, as jpeg_idct_float's two passes (without the level shift)."""
    columns = np.stack(idct8(*coefficients), axis=0)
    return np.stack(idct8(*columns.T), axis=1)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_forward_is_the_orthonormal_dct_scaled(seed: int) -> None:
    """Scaled by 8 aan(u) aan(v), the JPEG standard's (orthonormal) DCT-II of the block; in float32 within a
    few ulps of values of up to 1024 (measured on 3,000 blocks: 1.5e-4 at most)."""
    block = np.random.default_rng(seed).integers(-128, 128, (8, 8)).astype(np.float32)
    expected = scipy.fft.dctn(block.astype(np.float64), norm="ortho")
    out = _forward(block)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out / (8 * _SCALE), expected, atol=5e-4)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_inverse_is_the_orthonormal_inverse_dct(seed: int) -> None:
    """Given coefficients times aan(u) aan(v) / 8 (what the dequantisation multipliers give), the inverse
    orthonormal DCT; and forward then inverse gives the block back (measured: 1.1e-4 at most)."""
    rng = np.random.default_rng(seed)
    coefficients = (rng.standard_normal((8, 8)) * 60).astype(np.float32)
    out = _inverse((coefficients * _SCALE / 8).astype(np.float32))
    np.testing.assert_allclose(out, scipy.fft.idctn(coefficients.astype(np.float64), norm="ortho"), atol=5e-4)
    block = rng.integers(-128, 128, (8, 8)).astype(np.float32)
    back = _inverse((_forward(block) / 64).astype(np.float32))
    np.testing.assert_allclose(back, block, atol=5e-4)


@pytest.mark.parametrize("quality", [1, 15, 50, 75, 100])
def test_float_tables_are_libjpegs(quality: int) -> None:
    """divisor = float(1 / (step aan(u) aan(v) 8)), multiplier = float(step aan(u) aan(v)) / 8, with the IJG
    table scaled as jpeg_set_quality does (quality 50: the table itself; 100: all ones)."""
    from mithridate.image.corruptions._jpeg import LUMA_TABLE

    table = quantization_table(LUMA_TABLE, quality)
    if quality == 50:
        assert table == list(LUMA_TABLE)
    if quality == 100:
        assert table == [1] * 64
    divisors, multipliers = float_tables(table)
    steps = np.array(table, dtype=np.float64).reshape(8, 8)
    assert divisors.dtype == multipliers.dtype == np.float32
    np.testing.assert_array_equal(divisors, (1.0 / (steps * _SCALE * 8.0)).astype(np.float32))
    np.testing.assert_array_equal(multipliers, (steps * _SCALE).astype(np.float32) / np.float32(8))


@pytest.mark.exactness
@pytest.mark.parametrize(
    "shape",
    [(3, 8, 8), (3, 1, 1), (3, 40, 300), (3, 300, 24), (1, 17, 9), (1, 8, 520), (3, 61, 57), (3, 16, 48)],
)
def test_compiled_round_trip_is_the_torch_one(shape: tuple[int, int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled kernel takes blocks 32 at a time in runs of whole vectors (planes wider than 256 pixels
    take several runs per strip of rows; narrow ones share a chunk between strips): the same bytes as the
    torch path for every layout and quality."""
    images = torch.randint(0, 256, (3, *shape), dtype=torch.uint8, generator=torch.Generator().manual_seed(7))
    images[1] = images[1] // 64 * 64  # flat areas: most coefficients quantise to zero
    for severity in (1, 3, 5):
        monkeypatch.setenv("MITHRIDATE_NATIVE", "0")
        expected = corrupt(images, "jpeg_compression", severity, params="imagenet")
        monkeypatch.setenv("MITHRIDATE_NATIVE", "1")
        assert torch.equal(corrupt(images, "jpeg_compression", severity, params="imagenet"), expected), severity
