"""A fused multiply-add for numba kernels: torch's vectorised CPU kernels fuse `a * b + c` (addcmul, add
with alpha, lerp), and matching them bit for bit needs the same single rounding."""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = ["fma32"]


@intrinsic
def fma32(typingctx, a, b, c):  # pragma: no cover - compiled by numba
    """float32 a * b + c with one rounding (LLVM's llvm.fma.f32)."""
    signature = types.float32(types.float32, types.float32, types.float32)

    def codegen(context, builder, sig, args):
        f32 = ir.FloatType()
        fn = builder.module.declare_intrinsic("llvm.fma", [f32], fnty=ir.FunctionType(f32, [f32, f32, f32]))
        return builder.call(fn, args)

    return signature, codegen
