"""The per-sample magnitudes of the single-op rows, drawn once and identical in every library's process.

Each image draws its magnitude uniformly from TrivialAugmentWide's range (torchvision's `num_bins=31`
table: shear up to 0.99, translation up to 32 pixels, rotation up to 135 degrees, colour factors 1 +- 0.99,
posterize 2..8 bits, solarize threshold 0..1), with a random sign where the op is signed. Values are in
mithridate's op units (`mithridate.image.OPS`): factors as `factor - 1`, solarize as a fraction of the
maximum, autocontrast and equalize as the amount (1).
"""

from __future__ import annotations

import zlib

import torch

__all__ = ["TA_WIDE_LIMITS", "op_magnitudes"]

TA_WIDE_LIMITS: dict[str, tuple[float, float]] = {
    "Identity": (0.0, 0.0),
    "ShearX": (-0.99, 0.99),
    "ShearY": (-0.99, 0.99),
    "TranslateX": (-32.0, 32.0),
    "TranslateY": (-32.0, 32.0),
    "Rotate": (-135.0, 135.0),
    "Brightness": (-0.99, 0.99),
    "Color": (-0.99, 0.99),
    "Contrast": (-0.99, 0.99),
    "Sharpness": (-0.99, 0.99),
    "Posterize": (2.0, 8.0),
    "Solarize": (0.0, 1.0),
    "AutoContrast": (1.0, 1.0),
    "Equalize": (1.0, 1.0),
}
"""(low, high) of each op's magnitude under TrivialAugmentWide, in mithridate's op units."""


def op_magnitudes(name: str, n: int) -> torch.Tensor:
    """n float64 magnitudes for op `name`, uniform in its TA wide range; the same in every process."""
    if name not in TA_WIDE_LIMITS:
        raise ValueError(f"op: expected one of {', '.join(TA_WIDE_LIMITS)}, got {name!r}")
    low, high = TA_WIDE_LIMITS[name]
    generator = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    values = low + (high - low) * torch.rand(n, dtype=torch.float64, generator=generator)
    if name == "Posterize":
        values = values.round()
    if name in ("TranslateX", "TranslateY"):
        values = values.trunc()
    return values
