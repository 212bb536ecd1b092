"""Run by test_native.py in a subprocess: the Triton kernels compile for real GPUs, without one.

Triton's interpreter runs what a GPU compiler may still reject, so every kernel, in every specialisation
the code launches, is compiled ahead of time for an H100 (sm_90) and an A100 (sm_80) down to a cubin
(Triton ships its own LLVM and ptxas). Its PTX is then read: every float32 add, multiply, fma and divide
must name its rounding (`.rn`), which leaves ptxas no freedom to fuse or approximate them, and none may be
approximate (`div.full`, `.approx.f32`). Prints one JSON line: per kernel and target, "ok" or the problem.
"""

from __future__ import annotations

import json
import re
import sys

import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

from mithridate._backend import rng_triton
from mithridate.image.gpu import _kernels as gpu_kernels

_IMAGE = {"src": "*u8", "ops": "*i64", "ops_stride": "i32", "magnitudes": "*fp64", "magnitudes_stride": "i32"}
_SIZE = {"H": "i32", "W": "i32"}
_LOOSE_FLOAT32 = re.compile(
    r"^\s*((?:add|sub|mul|fma|div)(?:\.ftz)?\.f32|div\.full\.f32|\w+\.approx(?:\.ftz)?\.f32)\b", re.M
)


def kernels():
    """(name, kernel, signature, constexprs, options) for every specialisation the code launches."""
    grids = {"ops": "*i64", "magnitudes": "*fp64", "grids": "*fp32", "total": "i32", **_SIZE, "BLOCK": "constexpr"}
    yield "grids", gpu_kernels._grids_kernel, grids, {"BLOCK": gpu_kernels._BLOCK}, gpu_kernels.COMPILE_OPTIONS
    for floating in (False, True):
        pixel = "*fp32" if floating else "*u8"
        image = {**_IMAGE, "src": pixel}
        for c in (1, 3):
            tables = {
                "src": pixel, "tables": "*u8", "stats": "*fp32" if floating else "*u8", **image, **_SIZE,
                "C": "constexpr", "FLOAT": "constexpr", "BLOCK": "constexpr",
            }  # fmt: skip
            constants = {"C": c, "FLOAT": floating, "BLOCK": gpu_kernels._STATS_BLOCK}
            options = gpu_kernels.COMPILE_OPTIONS
            yield f"tables C={c} float={floating}", gpu_kernels._tables_kernel, tables, constants, options
            for bilinear in (False, True):
                for fill in (False, True):
                    step = {
                        **image, "dst": pixel, "grids": "*fp32", "grids_stride": "i32", "tables": "*u8",
                        "stats": "*fp32" if floating else "*u8", "fill": pixel, **_SIZE, "C": "constexpr",
                        "FLOAT": "constexpr", "BILINEAR": "constexpr", "HAS_FILL": "constexpr", "BLOCK": "constexpr",
                    }  # fmt: skip
                    constants = {
                        "C": c,
                        "FLOAT": floating,
                        "BILINEAR": bilinear,
                        "HAS_FILL": fill,
                        "BLOCK": gpu_kernels._BLOCK,
                    }
                    name = f"step C={c} float={floating} bilinear={bilinear} fill={fill}"
                    yield name, gpu_kernels._step_kernel, step, constants, gpu_kernels.COMPILE_OPTIONS
    for mode in (0, 1, 2):  # words, uniforms, integers
        for draws in (1, 64):
            draw = {
                "index": "*i64", "out": "*fp32" if mode == 1 else "*i64", "n": "i32", "count": "i32", "k0": "i32",
                "k1": "i32", "high": "i32", "MODE": "constexpr", "ROWS": "constexpr", "DRAWS": "constexpr",
            }  # fmt: skip
            constants = {"MODE": mode, "ROWS": 1024 // draws, "DRAWS": draws}
            name = f"draws mode={mode} draws={draws}"
            yield name, rng_triton._draw_kernel, draw, constants, rng_triton.COMPILE_OPTIONS


def check(ptx: str) -> str:
    loose = sorted(set(_LOOSE_FLOAT32.findall(ptx)))
    return "ok" if not loose else f"float32 ops without an explicit rounding or approximate: {loose}"


def main() -> None:
    results = {}
    for arch in (90, 80):
        target = GPUTarget("cuda", arch, 32)
        for name, kernel, signature, constants, options in kernels():
            source = ASTSource(fn=kernel, signature=signature, constexprs=constants)
            try:
                compiled = triton.compile(source, target=target, options=dict(options))
                result = check(compiled.asm["ptx"]) if compiled.asm.get("cubin") else "no cubin"
            except Exception as error:  # report every kernel, not only the first failure
                result = f"{type(error).__name__}: {str(error)[:500]}"
            results[f"sm_{arch} {name}"] = result
    print(json.dumps(results))


if __name__ == "__main__":
    sys.exit(main())
