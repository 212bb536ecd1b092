"""Run under TRITON_INTERPRET=1 by test_native.py: the fused Triton path against the torch path on the CPU.

Triton's interpreter evaluates `tl.fma` as a product and a sum, two roundings; a GPU fuses them. So that
the interpreter computes what the GPU would, its fma is replaced by one through float64 (the product of
two float32 is exact there; the sum then rounds twice, which differs from one rounding only when the
float64 sum lands exactly halfway between two float32 values).
Prints one JSON line: for each case, the share of identical values and the largest difference.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import torch
from triton.runtime import interpreter

from mithridate.image import OPS, Plan, apply_plan


def _fused(self, x, y, z):
    exact = x.data.astype(np.float64) * y.data.astype(np.float64) + z.data.astype(np.float64)
    return interpreter.TensorHandle(exact.astype(z.data.dtype), z.dtype.scalar)


interpreter.InterpreterBuilder.create_fma = _fused


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
    for channels, height, width, chains, depth, interpolation, fill in cases:
        n = 2 * len(OPS)
        images = torch.randint(0, 256, (n, channels, height, width), dtype=torch.uint8, generator=generator)
        images[:4] //= 8
        ops = torch.randint(0, len(OPS), (n, chains, depth), generator=generator)
        ops[:, 0, 0] = torch.arange(n) % len(OPS)  # every op at least twice
        u = torch.rand(n, chains, depth, generator=generator, dtype=torch.float64)
        magnitudes = torch.zeros_like(u)
        for op, spec in enumerate(OPS):
            lower, upper = max(spec.lower, -1.0), min(spec.upper, 2.0)
            if spec.name in ("TranslateX", "TranslateY"):
                lower, upper = -5.0, 5.0
            if spec.name == "Rotate":
                lower, upper = -60.0, 60.0
            values = lower + (upper - lower) * u
            values = values.floor() if spec.integer else values
            magnitudes = torch.where(ops == op, values, magnitudes)
        weights = None
        if chains > 1:
            weights = torch.rand(n, chains + 1, generator=generator)
            weights = weights / weights.sum(dim=1, keepdim=True)
        plan = Plan(ops, magnitudes, weights)
        options = {"interpolation": interpolation, "fill": fill}
        fused = apply_plan(images, plan, backend="triton", **options)
        reference = apply_plan(images, plan, backend="torch", **options)
        difference = (fused.int() - reference.int()).abs()
        key = f"C{channels} {height}x{width} W{chains} D{depth} {interpolation} fill={fill}"
        results[key] = {"identical": float((difference == 0).float().mean()), "max": int(difference.max())}
    print(json.dumps(results))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
