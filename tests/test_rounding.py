"""The rounding the exactness tests rely on: the exact fma reference, torch's fusing per capability, and the
torch path's sampling grid in one order on every CPU."""

from __future__ import annotations

import platform

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from _exactness import CAPABILITY, TORCH_FUSES, fma32, reference_grid
from mithridate.image.functional._geometry import _sampling_grid, rotate_matrices, shear_x_matrices

pytestmark = pytest.mark.exactness


def _near_ties(count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triples whose exact a * b + c lies less than half a float64 ulp from a float32 rounding tie: there the
    float64 sum lands on the tie, and rounding it to float32 (a second rounding) picks the wrong side.

    c has an odd last bit in [1, 2) times 2**e; a * b = +-(1 - k**2 2**-46) 2**(e-24), half an ulp of c less a
    hair, from a = 1 + k 2**-23 and b = (1 - k 2**-23) 2**(e-24), k < 362.
    """
    rng = np.random.default_rng(seed)
    scale = np.exp2(rng.integers(-20, 20, count)).astype(np.float64)
    k = rng.integers(1, 362, count).astype(np.float64)
    sign = rng.choice([-1.0, 1.0], count)
    c = ((1 + (2 * rng.integers(0, 2**22, count) + 1) * 2.0**-23) * scale).astype(np.float32)
    a = (1 + k * 2.0**-23).astype(np.float32)
    b = (sign * (1 - k * 2.0**-23) * 2.0**-24 * scale).astype(np.float32)
    return a, b, c


def test_fma32_is_one_rounding_even_next_to_ties():
    numba = pytest.importorskip("numba")
    from mithridate._backend.fma import fma

    llvm_fma = numba.vectorize(["float32(float32, float32, float32)"])(lambda a, b, c: fma(a, b, c))
    a, b, c = _near_ties(200_000, seed=0)
    doubled = (a.astype(np.float64) * b + c).astype(np.float32)  # two roundings
    assert (doubled != llvm_fma(a, b, c)).mean() > 0.9  # the cases are hard ones
    np.testing.assert_array_equal(fma32(a, b, c), llvm_fma(a, b, c))
    rng = np.random.default_rng(1)
    a, b, c = (rng.standard_normal(100_000).astype(np.float32) * s for s in (1, 1e3, 1e-3))
    np.testing.assert_array_equal(fma32(a, b, c), llvm_fma(a, b, c))


def test_torch_fuses_exactly_where_its_instruction_set_has_fma():
    """torch's vector kernels fuse on AVX2 and AVX-512 builds and round the product first on the default one
    (the promise the exactness tests lean on; `ATEN_CPU_CAPABILITY` selects the build)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip(f"the promise is for x86-64 builds of torch, not {platform.machine()}")
    if CAPABILITY in ("AVX2", "AVX512"):
        assert TORCH_FUSES
    elif CAPABILITY == "DEFAULT":
        assert not TORCH_FUSES
    else:
        pytest.skip(f"no promise for capability {CAPABILITY}")


@settings(max_examples=60, deadline=None)
@given(
    height=st.integers(1, 70),
    width=st.integers(1, 70),
    seed=st.integers(0, 2**31 - 1),
    shear=st.booleans(),
)
def test_sampling_grid_is_in_one_order_on_every_cpu(height, width, seed, shear):
    """The torch path's grid: fma(y, r10, x r00) + r20 where torch fuses, both products rounded first where it
    does not, whatever the BLAS library (torchvision's bmm is fused on Intel CPUs and not on AMD ones) and
    the size (bmm takes another loop below 67 pixels)."""
    generator = torch.Generator().manual_seed(seed)
    magnitudes = torch.rand(5, generator=generator, dtype=torch.float64) * 2 - 1
    matrices = shear_x_matrices(magnitudes, height, width) if shear else rotate_matrices(magnitudes * 180)
    theta = matrices.to(torch.float32)
    grid = _sampling_grid(theta, height, width)
    assert torch.equal(grid, reference_grid(theta, width, height, width, height, fused=TORCH_FUSES))
