"""Pure, batched image kernels: (N, C, H, W) uint8 or float images and one magnitude per sample.

No randomness and no I/O: policies decide what to apply, adapters convert inputs. Each kernel here follows
the semantics of torchvision's `transforms.v2.functional` op of the same name (`shear_x`, `shear_y`,
`translate_x` and `translate_y`: its `affine` with that one parameter; `grayscale`: its
`rgb_to_grayscale`), sample by sample. The affine matrices behind the geometric kernels are in `matrices`,
the blend behind the colour kernels in `mixing`.
"""

from ._color import (
    adjust_brightness,
    adjust_contrast,
    adjust_saturation,
    adjust_sharpness,
    autocontrast,
    equalize,
    grayscale,
    invert,
    posterize,
    solarize,
)
from ._geometry import (
    INTERPOLATIONS,
    affine,
    rotate,
    shear_x,
    shear_y,
    translate_x,
    translate_y,
)

__all__ = [
    "INTERPOLATIONS",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_saturation",
    "adjust_sharpness",
    "affine",
    "autocontrast",
    "equalize",
    "grayscale",
    "invert",
    "posterize",
    "rotate",
    "shear_x",
    "shear_y",
    "solarize",
    "translate_x",
    "translate_y",
]
