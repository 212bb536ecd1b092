"""The compiled path's shortcuts against the torch path: each takes a branch that random plans seldom reach.

Nearest resampling of images of 64 columns or more copies shifted rows when a matrix keeps rows apart
(translations, horizontal shears) and gathers packed pixels otherwise; bilinear resampling gathers packed
corners; Equalize counts four pixels at a time from 4,096 pixels. Exact translations and shears, rotations
by quarter turns, odd sizes (a centre row and column), thin images, one channel and fills go through both
paths here and must give the same bytes (where torch fuses: elsewhere one differing value of a tiny image
exceeds the bound's share, and `test_native.py` checks the bound on large batches); the nearest kernel's
shortcuts also meet a numpy reference on matrices made of exact ties, on every CPU.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from _exactness import TORCH_FUSES, fma32
from mithridate.image import Plan, apply_plan, native
from mithridate.image.ops import OP_IDS

pytestmark = [
    pytest.mark.skipif(not native.available(), reason="numba is not installed or MITHRIDATE_NATIVE=0"),
    pytest.mark.exactness,
]

_GEOMETRIC_MAGNITUDES = {
    "TranslateX": [0.0, 1.0, -3.0, 0.5, -2.5, 7.25, 40.0, -1000.0],
    "TranslateY": [0.0, 2.0, -5.0, 1.5, -0.5, 3.75, -40.0, 1000.0],
    "ShearX": [0.0, 0.25, -0.5, 0.99, -0.3, 0.125, 1.5, -1.5],
    "ShearY": [0.0, -0.25, 0.5, -0.99, 0.3, -0.125, -1.5, 1.5],
    "Rotate": [0.0, 90.0, -90.0, 180.0, 270.0, 45.0, -30.0, 0.5],
}
_SIZES = [(1, 1), (1, 7), (6, 1), (2, 2), (3, 5), (8, 8), (9, 9), (4, 16), (16, 17), (32, 32), (33, 31), (64, 48)]
_WIDE = [(1, 64), (3, 65), (64, 64), (33, 97), (70, 130)]  # 64 columns and more: the shortcuts


def _images(channels: int, height: int, width: int, n: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, channels, height, width), dtype=torch.uint8, generator=generator)


def _both_paths(images: torch.Tensor, plan: Plan, **options) -> None:
    if not TORCH_FUSES:  # one value of a tiny image is already more than the bound's share of it
        pytest.skip("torch rounds products apart here: the share of differing values is bounded on large batches")
    before = images.clone()
    ours = apply_plan(images, plan, backend="native", **options)
    reference = apply_plan(images, plan, backend="torch", **options)
    assert torch.equal(images, before)
    assert torch.equal(ours, reference)


@pytest.mark.parametrize("op", list(_GEOMETRIC_MAGNITUDES))
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("fill", [None, 0, 77, (10, 200, 255)])
@pytest.mark.parametrize("channels", [1, 3])
def test_each_geometric_shortcut_equals_the_torch_path(op, interpolation, fill, channels):
    if isinstance(fill, tuple) and channels == 1:
        fill = fill[:1]
    magnitudes = torch.tensor(_GEOMETRIC_MAGNITUDES[op], dtype=torch.float64)
    n = magnitudes.numel()
    plan = Plan(torch.full((n, 1, 1), OP_IDS[op]), magnitudes.view(n, 1, 1))
    for height, width in _SIZES + _WIDE:
        images = _images(channels, height, width, n, seed=height * 100 + width)
        _both_paths(images, plan, interpolation=interpolation, fill=fill)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_chains_of_geometric_steps_equal_the_torch_path(interpolation):
    generator = torch.Generator().manual_seed(5)
    n, depth = 40, 3
    names = list(_GEOMETRIC_MAGNITUDES)
    ops = torch.tensor([OP_IDS[names[k]] for k in torch.randint(0, 5, (n * depth,), generator=generator)])
    magnitudes = torch.empty(n * depth, dtype=torch.float64)
    for k, op in enumerate(ops.tolist()):
        choices = _GEOMETRIC_MAGNITUDES[next(name for name in names if OP_IDS[name] == op)]
        magnitudes[k] = choices[int(torch.randint(0, len(choices), (1,), generator=generator))]
    plan = Plan(ops.view(n, 1, depth), magnitudes.view(n, 1, depth))
    for height, width in [(37, 29), (37, 129)]:
        _both_paths(_images(3, height, width, n, seed=5), plan, interpolation=interpolation, fill=(1, 2, 3))


@pytest.mark.parametrize("op", ["Equalize", "Sharpness", "AutoContrast", "Contrast"])
def test_histogram_and_neighbourhood_ops_on_odd_sizes(op):
    magnitude = {"Equalize": 1.0, "AutoContrast": 1.0, "Sharpness": 0.7, "Contrast": -0.4}[op]
    for channels in (1, 3):
        for height, width in [*_SIZES, (224, 223), (5, 255)]:
            images = _images(channels, height, width, 6, seed=height + width)
            images[1] //= 64  # few levels: long runs of one bin
            images[2] = 9  # flat
            plan = Plan(torch.full((6, 1, 1), OP_IDS[op]), torch.full((6, 1, 1), magnitude, dtype=torch.float64))
            _both_paths(images, plan)


def _nearest_reference(src: np.ndarray, rescaled: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Nearest resampling pixel by pixel in numpy, as `_kernels.affine_nearest` documents it."""
    _, h, w = src.shape
    f32 = np.float32
    bx = (f32((1.0 - w) * 0.5) + np.arange(w, dtype=f32))[None, :]
    by = (f32((1.0 - h) * 0.5) + np.arange(h, dtype=f32))[:, None]
    (r00, r01), (r10, r11), (r20, r21) = rescaled.astype(f32)
    gx = f32(r20) + fma32(by, r10, (bx * r00).astype(f32))
    gy = f32(r21) + fma32(by, r11, (bx * r01).astype(f32))
    sx = np.rint(fma32((gx + f32(1)).astype(f32), f32(w * 0.5), f32(-0.5)))
    sy = np.rint(fma32((gy + f32(1)).astype(f32), f32(h * 0.5), f32(-0.5)))
    inside = (sx >= 0) & (sx < w) & (sy >= 0) & (sy < h)
    rows, cols = np.where(inside, sy, 0).astype(np.int64), np.where(inside, sx, 0).astype(np.int64)
    return np.where(inside[None], src[:, rows, cols], fill[:, None, None]).astype(np.uint8)


@pytest.mark.parametrize("kind", ["translation", "rows alone", "columns alone", "general"])
def test_nearest_kernel_on_dyadic_matrices_with_rounding_ties(kind):
    """Matrices of dyadic entries put source coordinates exactly halfway between pixels, where rint rounds
    to even and rows stop being shifted copies: the kernel must fall back to its gather there."""
    from mithridate.image.native import _kernels

    generator = np.random.default_rng(3)
    for height, width in [(8, 8), (4, 16), (16, 8), (2, 2), (32, 32), (8, 64), (64, 128)]:
        c = 3
        src = generator.integers(0, 256, (c, height, width), dtype=np.uint8)
        fill = np.array([5, 6, 7], np.uint8)
        index, columns = np.empty(width, np.int32), np.empty(width, np.int32)
        products, gathered = np.empty((2, width), np.float32), np.empty(width, np.uint32)
        packed = np.empty(height * width + 1, np.uint32)
        for _ in range(40):
            scale = np.array([2.0 / width, 2.0 / height], np.float32)
            r = generator.integers(-8, 9, (3, 2)) / 8.0 * scale  # steps of an eighth of a pixel
            r[0, 0], r[1, 1] = scale[0] * generator.choice([1, 1, -1, 0.5]), scale[1] * generator.choice([1, -1, 2])
            if kind in ("translation", "rows alone"):
                r[0, 1] = 0.0
            if kind in ("translation", "columns alone"):
                r[1, 0] = 0.0
            rescaled = r.astype(np.float32)
            dst = np.empty_like(src)
            _kernels.nearest(src, dst, rescaled, fill, index, columns, products, packed, gathered)
            np.testing.assert_array_equal(dst, _nearest_reference(src, rescaled, fill))
