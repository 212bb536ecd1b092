"""The op table of the auto-augment family: ids, how a strength scales each magnitude, and how a plan's
magnitude becomes a kernel's argument.

A plan stores, per sample and step, an op id and a magnitude in torchvision's auto-augment units:
shear coefficient, pixels, degrees, `factor - 1` for the colour ops, bits for Posterize, a fraction of
full intensity for Solarize's threshold, and for the ops without a magnitude (AutoContrast, Equalize,
Invert) the amount in [0, 1] by which the result replaces the image (1 = the op in full).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

from . import functional as F
from .functional.matrices import inverse_affine_matrices, shear_degrees, trunc
from .functional.mixing import blend

__all__ = [
    "GEOMETRIC_IDS",
    "OPS",
    "OP_IDS",
    "OpSpec",
    "apply_op",
    "check_magnitudes",
    "geometric_matrices",
    "is_amount_op",
    "op_id",
    "scale_magnitudes",
]


@dataclass(frozen=True)
class OpSpec:
    """One op: its name, the magnitude that leaves an image unchanged, and the hard limits of its magnitude.

    A strength s scales the distance from `neutral`: m(s) = neutral + s (m - neutral), clamped to
    [lower, upper], rounded half up when `integer`. Limits are those of the op itself: a colour factor
    cannot go below 0, bits lie in [0, 8], a threshold in [0, 1], an amount in [0, 1].
    """

    name: str
    neutral: float = 0.0
    lower: float = -math.inf
    upper: float = math.inf
    integer: bool = False
    geometric: bool = False
    unit: str = ""


OPS: tuple[OpSpec, ...] = (
    OpSpec("Identity"),
    OpSpec("ShearX", geometric=True),
    OpSpec("ShearY", geometric=True),
    OpSpec("TranslateX", geometric=True, unit="px"),
    OpSpec("TranslateY", geometric=True, unit="px"),
    OpSpec("Rotate", geometric=True, unit="°"),
    OpSpec("Brightness", lower=-1.0),
    OpSpec("Color", lower=-1.0),
    OpSpec("Contrast", lower=-1.0),
    OpSpec("Sharpness", lower=-1.0),
    OpSpec("Posterize", neutral=8.0, lower=0.0, upper=8.0, integer=True, unit=" bits"),
    OpSpec("Solarize", neutral=1.0, lower=0.0, upper=1.0),
    OpSpec("AutoContrast", lower=0.0, upper=1.0),
    OpSpec("Equalize", lower=0.0, upper=1.0),
    OpSpec("Invert", lower=0.0, upper=1.0),
)
OP_IDS: dict[str, int] = {spec.name: i for i, spec in enumerate(OPS)}
GEOMETRIC_IDS: tuple[int, ...] = tuple(i for i, spec in enumerate(OPS) if spec.geometric)
_AMOUNT_OPS = ("AutoContrast", "Equalize", "Invert")


def op_id(name: str) -> int:
    """The id of an op by name, with a clear error listing the valid names."""
    try:
        return OP_IDS[name]
    except KeyError:
        raise ValueError(f"op: unknown op {name!r}; expected one of {', '.join(OP_IDS)}") from None


@functools.cache
def _limits(device: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-op neutral values, lower and upper limits, and integer flags, as tensors on a device."""
    neutral = torch.tensor([spec.neutral for spec in OPS], dtype=torch.float32)
    lower = torch.tensor([spec.lower for spec in OPS], dtype=torch.float32)
    upper = torch.tensor([spec.upper for spec in OPS], dtype=torch.float32)
    integer = torch.tensor([spec.integer for spec in OPS])
    return neutral.to(device), lower.to(device), upper.to(device), integer.to(device)


def scale_magnitudes(ops: torch.Tensor, magnitudes: torch.Tensor, strength: float) -> torch.Tensor:
    """Apply a strength to published magnitudes of the given op ids (see OpSpec), as float32."""
    neutral, lower, upper, integer = (t[ops] for t in _limits(str(ops.device)))
    scaled = neutral + (magnitudes.to(torch.float32) - neutral) * strength
    scaled = torch.maximum(torch.minimum(scaled, upper), lower)
    return torch.where(integer, torch.floor(scaled + 0.5), scaled)


def check_magnitudes(ops: torch.Tensor, magnitudes: torch.Tensor) -> None:
    """Raise if a plan's magnitude lies outside its op's hard limits, or is not finite."""
    if ops.numel() == 0:
        return
    _, lower, upper, integer = (t[ops] for t in _limits(str(ops.device)))
    bad = ~torch.isfinite(magnitudes) | (magnitudes < lower) | (magnitudes > upper)
    bad |= integer & (magnitudes != torch.floor(magnitudes))
    if bool(bad.any()):
        where = tuple(int(i) for i in bad.nonzero()[0])
        op = OPS[int(ops[where])]
        raise ValueError(
            f"Plan.magnitudes: {op.name} magnitude {float(magnitudes[where])} at {where} is outside "
            f"[{op.lower}, {op.upper}]{' or not whole' if op.integer else ''}"
        )


def geometric_matrices(ops: torch.Tensor, magnitudes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Inverse affine matrices (n, 2, 3) of geometric ops, in one batched computation (others: identity).

    Each sample's parameters (pivot, angle, translation, shear) are chosen first and go through one call
    of `inverse_affine_matrices`, with exactly the values the per-op functions would pass (zeros elsewhere),
    so the matrices are those of `shear_x_matrices`, `translate_matrices` and `rotate_matrices`, bit for bit,
    for a quarter of the work of computing all four and choosing afterwards.
    """
    m = magnitudes.to(torch.float64)
    zero = torch.zeros_like(m)
    is_shear_x, is_shear_y = ops == OP_IDS["ShearX"], ops == OP_IDS["ShearY"]
    is_shear = is_shear_x | is_shear_y
    degrees = shear_degrees(m)
    whole = trunc(m)
    return inverse_affine_matrices(
        n=m.shape[0],
        device=m.device,
        centre=(torch.where(is_shear, -0.5 * width, zero), torch.where(is_shear, -0.5 * height, zero)),
        angle=torch.where(ops == OP_IDS["Rotate"], -torch.remainder(m, 360.0), zero),
        translate=(
            torch.where(ops == OP_IDS["TranslateX"], whole, zero),
            torch.where(ops == OP_IDS["TranslateY"], whole, zero),
        ),
        shear=(torch.where(is_shear_x, degrees, zero), torch.where(is_shear_y, degrees, zero)),
    )


def apply_op(name: str, images: torch.Tensor, magnitudes: torch.Tensor) -> torch.Tensor:
    """Apply one non-geometric op to a group of images, each with its plan magnitude."""
    m = magnitudes.to(torch.float64)
    if name == "Identity":
        return images
    # Plan magnitudes are valid by construction (scale_magnitudes clamps them): skip the kernels' checks.
    if name == "Brightness":
        return F.adjust_brightness(images, 1.0 + m, validate=False)
    if name == "Color":
        return F.adjust_saturation(images, 1.0 + m, validate=False)
    if name == "Contrast":
        return F.adjust_contrast(images, 1.0 + m, validate=False)
    if name == "Sharpness":
        return F.adjust_sharpness(images, 1.0 + m, validate=False)
    if name == "Posterize":
        return F.posterize(images, m.to(torch.int64), validate=False)
    if name == "Solarize":
        bound = 255.0 if images.dtype == torch.uint8 else 1.0
        return F.solarize(images, bound * m, validate=False)
    if name in _AMOUNT_OPS:
        kernel = {"AutoContrast": F.autocontrast, "Equalize": F.equalize, "Invert": F.invert}[name]
        out = kernel(images)
        # Blending with amount 1 gives `out` exactly; on the CPU skip it when no sample needs it (asking
        # costs nothing there), on an accelerator always blend rather than wait for the answer.
        if images.device.type == "cpu" and not bool((m < 1.0).any()):
            return out
        return blend(images, out, m)
    raise ValueError(f"op: {name!r} is geometric or unknown; geometric ops go through geometric_matrices")


def is_amount_op(name: str) -> bool:
    """Ops without a magnitude, whose plan magnitude is the amount of the result blended in."""
    return name in _AMOUNT_OPS
