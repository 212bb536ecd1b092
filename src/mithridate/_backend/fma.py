"""A fused multiply-add for numba kernels: torch's vectorised CPU kernels fuse `a * b + c` (addcmul, add with
alpha, lerp), and matching them bit for bit needs the same single rounding."""

from __future__ import annotations

from llvmlite import ir
from numba.extending import intrinsic

__all__ = ["fma", "fma32"]


@intrinsic
def fma(typingctx, a, b, c):  # pragma: no cover - compiled by numba
    """a * b + c with one rounding (LLVM's llvm.fma), float32 or float64 (all three of one type)."""
    signature = a(a, a, a)

    def codegen(context, builder, sig, args):
        kind = context.get_value_type(sig.return_type)
        fn = builder.module.declare_intrinsic("llvm.fma", [kind], fnty=ir.FunctionType(kind, [kind, kind, kind]))
        return builder.call(fn, args)

    return signature, codegen


fma32 = fma  # the image kernels' name: all their operands are float32
