"""What "the same bytes" means on the running CPU, for the tests that compare paths and torchvision.

torch's CPU kernels are compiled once per instruction set (`ATEN_CPU_CAPABILITY`: default, avx2, avx512).
Where the set has fused multiply-adds (AVX2, AVX-512), torch's vector loops fuse `a * b + c` (addcmul, add
with alpha, lerp, grid_sample's coordinates and weights); the default build rounds the product first.
The compiled CPU path and the fused GPU path always fuse, so they give the torch path's bytes exactly when
torch fuses, and within `DEFAULT_BOUND` otherwise. torchvision's affine grid is a `bmm`, whose rounding is
the BLAS library's choice (fused on Intel CPUs by MKL, not on AMD ones): `torchvision_grid` repeats it in
the torch path's order, so that torchvision's ops can be compared exactly on any CPU.

`fma32` is an exact fused multiply-add in numpy (float64 with round-to-odd), independent of the code under
test and of the CPU.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = [
    "CAPABILITY",
    "DEFAULT_BOUND",
    "OUR_GRID_ORDER",
    "TORCH_FUSES",
    "assert_paths_agree",
    "assert_within_bound",
    "fma32",
    "reference_grid",
    "torchvision_grid_order",
]

CAPABILITY = torch.backends.cpu.get_cpu_capability()


def fma32(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """a * b + c for float32 arrays with one rounding (round-to-nearest-even), on any CPU.

    The product of two float32 is exact in float64; the float64 sum is made round-to-odd (its error from
    TwoSum: where it is inexact, an even last bit moves one ulp towards the exact sum), and rounding a
    round-to-odd float64 to float32 is then correct (Boldo and Melquiond, 2008: 53 >= 24 + 2 bits).
    """
    a, b, c = (np.asarray(v, dtype=np.float32).astype(np.float64) for v in (a, b, c))
    product = a * b
    total = product + c
    virtual = total - product
    error = (product - (total - virtual)) + (c - virtual)
    even = (total.view(np.int64) & 1) == 0
    nudge = (error != 0) & even
    towards = np.where(error > 0, np.inf, -np.inf)
    total = np.where(nudge, np.nextafter(total, towards), total)
    return total.astype(np.float32)


def _torch_fuses() -> bool:
    """Whether torch's CPU kernels fuse `c + a * b` here, in a vector loop (64 values) and its scalar tail both
    (GCC's x86 builds with AVX2 or AVX-512 do; a build that fuses one and not the other counts as not fusing)."""
    x = torch.full((67,), 1.0 + 2.0**-13)  # x * x = 1 + 2**-12 + 2**-26: the last term is lost unless fused
    out = torch.addcmul(torch.full((67,), -(1.0 + 2.0**-12)), x, x)
    return bool((out == 2.0**-26).all())


TORCH_FUSES = _torch_fuses()
"""True on AVX2 and AVX-512 builds of torch's kernels, False under ATEN_CPU_CAPABILITY=default."""

DEFAULT_BOUND = 5e-3
"""Where torch does not fuse: the largest share of values of a batch where the compiled path and the torch path
differ. Measured under ATEN_CPU_CAPABILITY=default: 6.6e-4 over random two-step plans at 32 to 224 pixels,
3.0e-3 on a batch that gives every op to two copies of a photo; one op alone differs by one level at most,
Color the most often (it blends with the luma, whose products torchvision adds with alpha)."""


def assert_within_bound(ours: torch.Tensor, reference: torch.Tensor, share: float, levels: int | None = None) -> None:
    """At most `share` of the values differ, and by at most `levels` where given."""
    assert ours.shape == reference.shape and ours.dtype == reference.dtype
    difference = (ours.double() - reference.double()).abs()
    differing = float((difference > 0).double().mean()) if difference.numel() else 0.0
    assert differing <= share, f"{differing:.2e} of the values differ (at most {share:.1e} allowed)"
    if levels is not None:
        assert float(difference.max()) <= levels, f"a value differs by {float(difference.max())} (at most {levels})"


def assert_paths_agree(
    compiled: torch.Tensor, reference: torch.Tensor, share: float = DEFAULT_BOUND, levels: int | None = None
) -> None:
    """The compiled path (always fused) against the torch path: the same bytes where torch fuses, else within
    `share` of the values (and `levels`, where given)."""
    if TORCH_FUSES:
        assert torch.equal(compiled, reference)
    else:
        assert_within_bound(compiled, reference, share, levels)


def reference_grid(theta: torch.Tensor, w: int, h: int, ow: int, oh: int, fused: bool = TORCH_FUSES) -> torch.Tensor:
    """torchvision's `_affine_grid` (float32) with the point computed as `fma(y, r10, x r00) + r20` (`fused`)
    or with both products rounded first, in numpy: the grid order the torch path promises, CPU-independent."""
    if theta.dtype != torch.float32:
        raise TypeError(f"reference_grid: float32 matrices only, got {theta.dtype}")
    xs = np.linspace((1.0 - ow) * 0.5, (ow - 1.0) * 0.5, ow, dtype=np.float32)  # half-integers: exact
    ys = np.linspace((1.0 - oh) * 0.5, (oh - 1.0) * 0.5, oh, dtype=np.float32)
    x, y = np.meshgrid(xs, ys)  # (oh, ow)
    rescaled = (theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h])).numpy()  # (n, 3, 2), float32
    r = rescaled[:, :, None, None, :]  # (n, 3, 1, 1, 2)
    xb, yb = x[None, :, :, None], y[None, :, :, None]
    first = (xb * r[:, 0]).astype(np.float32)
    point = fma32(yb, r[:, 1], first) if fused else first + (yb * r[:, 1]).astype(np.float32)
    grid = (point + r[:, 2]).astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(grid))


def torchvision_grid_order() -> str:
    """The order torchvision's own grid (a bmm: the BLAS library's rounding) computes in here: "fused"
    (`fma(y, r10, x r00) + r20`), "plain" (both products rounded, then summed) or "other"."""
    from torchvision.transforms.v2.functional._geometry import _affine_grid

    generator = torch.Generator().manual_seed(0)
    theta = (torch.rand(1, 2, 3, generator=generator) * 2 - 1).to(torch.float32)
    theta[0, :, 2] *= 10
    theirs = _affine_grid(theta.clone(), w=45, h=37, ow=45, oh=37)
    for order, fused in (("fused", True), ("plain", False)):
        if torch.equal(theirs, reference_grid(theta, 45, 37, 45, 37, fused=fused)):
            return order
    return "other"


OUR_GRID_ORDER = "fused" if TORCH_FUSES else "plain"
"""The order of the torch path's grid on this capability (addcmul: fused where torch fuses)."""
