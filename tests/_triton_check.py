"""Run under TRITON_INTERPRET=1 by test_native.py: the fused Triton path against the torch path on the CPU.

Triton's interpreter evaluates `tl.fma` as a product and a sum, two roundings; a GPU fuses them. So that
the interpreter computes what the GPU would, its fma is replaced by an exact one (`_exactness.fma32`). It
cannot call libdevice either: the geometry's float64 trigonometry goes through numpy, as the CPU path's does.
uint8 cases must give the compiled CPU path's bytes (the same on every CPU; the torch path where numba is
missing); float32 cases (images in [0, 1]) the torch path's values to within a few ulps, since torch's CPU
kernels round their last bits in ways of their own (test_native.py allows 1e-6).
Prints one JSON line: for each case, the share of identical values and the largest difference.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import torch
import triton.language as tl
from triton.runtime import interpreter

import mithridate as mt
from _exactness import fma32
from mithridate.image import Plan, apply_plan, gpu, native
from mithridate.image.gpu import _kernels as gpu_kernels
from mithridate.image.ops import OPS, geometric_matrices


def _fused(self, x, y, z):
    if z.data.dtype == np.float32:
        return interpreter.TensorHandle(fma32(x.data, y.data, z.data), z.dtype.scalar)
    raise NotImplementedError(f"an exact fma of {z.data.dtype}: the kernels fuse float32 only")


interpreter.InterpreterBuilder.create_fma = _fused


_NUMPY_FUNCTIONS = {"atan": np.arctan, "cos": np.cos, "sin": np.sin, "tan": np.tan, "fmod": np.fmod}


class NumpyLibdevice:
    """libdevice's float64 functions through numpy (the interpreter cannot call libdevice): the same
    functions as the CPU path's matrices (`functional._geometry._elementwise`)."""

    def __getattr__(self, name):
        function = _NUMPY_FUNCTIONS[name]

        def apply(*args):
            out = function(*(a.handle.data for a in args))
            return tl.tensor(interpreter.TensorHandle(out, args[0].handle.dtype), args[0].type)

        return apply


gpu_kernels.libdevice = NumpyLibdevice()


def _reference_backend(dtype: torch.dtype) -> str:
    """The compiled CPU path for uint8 (it always fuses, as a GPU does), else the torch path."""
    return "native" if dtype == torch.uint8 and native.available() else "torch"


def main(seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    results = {}
    cases = [
        (3, 9, 11, 1, 1, "nearest", None),
        (3, 8, 8, 1, 2, "bilinear", None),
        (1, 7, 10, 1, 1, "nearest", 5),
        (3, 10, 9, 1, 1, "bilinear", (10, 200, 30)),
        (3, 6, 7, 3, 2, "bilinear", None),
        # more pixels than the tables kernel's block: its statistics loop turns twice, Equalize's step > 0
        (3, 37, 41, 1, 1, "nearest", None),
        (1, 33, 35, 1, 1, "bilinear", 7),
    ]
    float_cases = [  # float32 images in [0, 1]: fills in those units
        (3, 9, 11, 1, 1, "nearest", None),
        (1, 7, 10, 1, 1, "nearest", 0.3),
        (3, 10, 9, 1, 1, "bilinear", (0.1, 0.9, 0.5)),
        (3, 37, 41, 1, 1, "bilinear", None),
        (3, 6, 7, 3, 2, "bilinear", None),
        (1, 8, 8, 1, 3, "nearest", None),
    ]
    all_cases = [(torch.uint8, *case) for case in cases] + [(torch.float32, *case) for case in float_cases]
    for case, (dtype, channels, height, width, chains, depth, interpolation, fill) in enumerate(all_cases):
        # images and plans as the self-check draws them: every op twice, stepped ops last on float images
        shape = (channels, (height, width), chains, depth, chains > 1)
        images, plan = gpu.check_batch(*shape, dtype=dtype, seed=1000 * seed + case)
        options = {"interpolation": interpolation, "fill": fill}
        fused = apply_plan(images, plan, backend="triton", **options)
        reference = apply_plan(images, plan, backend=_reference_backend(dtype), **options)
        difference = (fused.double() - reference.double()).abs()
        key = f"{str(dtype)[6:]} C{channels} {height}x{width} W{chains} D{depth} {interpolation} fill={fill}"
        if dtype == torch.uint8:
            results[key] = {"identical": float((difference == 0).float().mean()), "max": int(difference.max())}
            continue
        # float32: the torch CPU kernels' own last bits (Contrast's mean summed in another order, bilinear
        # weights in another order on narrow images): ulps
        results[key] = {"identical": float((difference == 0).float().mean()), "max": float(difference.max())}
    results["grids"] = _grids(generator)
    results.update(_policies(generator))
    # The self-check a CUDA device runs once per configuration passes where the kernels are right.
    ops = torch.zeros((2, 1, 2), dtype=torch.int64)  # a gray batch with a plan of two steps: only shapes count
    gray = torch.zeros((2, 1, 40, 30), dtype=torch.uint8)
    passed = gpu.verified(gray, Plan(ops, ops.double()), "nearest", 9, apply_plan)
    passed &= gpu.verified(torch.zeros((2, 3, 32, 32)), Plan(ops, ops.double()), "bilinear", 0.5, apply_plan)
    results["self-check"] = {"identical": float(passed), "max": 0}
    print(json.dumps(results))


def _policies(generator: torch.Generator) -> dict:
    """Plans as policies draw them (float32 magnitudes, strengths, fills, chains), on both paths."""
    results = {}
    images = torch.randint(0, 256, (40, 3, 12, 13), dtype=torch.uint8, generator=generator)
    for text in ("ta_wide", "ta_wide-s2", "rand-n2-m9", "auto-imagenet", "augmix", "ta_wide-ibilinear-f128"):
        policy = mt.image.policy(text, seed=5)
        plan = policy.sample(len(images), (12, 13))
        options = {"interpolation": policy.interpolation, "fill": policy.fill}
        fused = apply_plan(images, plan, backend="triton", **options)
        reference = apply_plan(images, plan, backend=_reference_backend(images.dtype), **options)
        difference = (fused.int() - reference.int()).abs()
        results[f"policy {text}"] = {"identical": float((difference == 0).float().mean()), "max": int(difference.max())}
        floats = torch.rand(images.shape, generator=generator)  # float32 in [0, 1], fills in those units
        options["fill"] = None if policy.fill is None else 0.5
        fused = apply_plan(floats, plan, backend="triton", **options)
        difference = (fused - apply_plan(floats, plan, backend="torch", **options)).abs()
        results[f"float32 policy {text}"] = {
            "identical": float((difference == 0).float().mean()),
            "max": float(difference.max()),
        }
    return results


def _grids(generator: torch.Generator) -> dict:
    """The fused path's sampling-grid rows against the torch path's, bit for bit, over wide magnitudes."""
    n = 4000
    ops = torch.randint(0, len(OPS), (n, 2, 3), generator=generator)
    magnitudes = torch.randn(n, 2, 3, generator=generator, dtype=torch.float64)
    magnitudes *= torch.tensor([0.01, 1.0, 100.0, 1e4])[torch.randint(0, 4, (n, 2, 3), generator=generator)]
    magnitudes[:50] = torch.tensor([0.0, -0.0, 360.0, -360.0, 720.0, -1e-300, 1e15, -180.0, 0.5, -0.5]).repeat(5)[
        :, None, None
    ]
    height, width = 27, 40
    fused = gpu_kernels.plan_grids(ops, magnitudes, height, width)
    matrices = geometric_matrices(ops.flatten(), magnitudes.flatten(), height, width)
    scale = torch.tensor([0.5 * width, 0.5 * height], dtype=torch.float32)
    reference = matrices.to(torch.float32).transpose(-1, -2).div(scale).reshape(n, 2, 3, 6)
    same = (fused == reference) | (fused.isnan() & reference.isnan())
    return {"identical": float(same.double().mean()), "max": float((fused - reference).abs().nan_to_num().max())}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
