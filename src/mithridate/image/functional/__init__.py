"""Pure, batched image kernels: (N, C, H, W) uint8 or float images and one magnitude per sample.

No randomness and no I/O: policies decide what to apply, adapters convert inputs. Each kernel follows
the semantics of torchvision's `transforms.v2.functional` op of the same name, sample by sample.
"""

from ._color import (
    adjust_brightness,
    adjust_contrast,
    adjust_saturation,
    adjust_sharpness,
    autocontrast,
    autocontrast_stretch,
    blend,
    equalize,
    equalize_tables,
    grayscale,
    invert,
    posterize,
    solarize,
)
from ._geometry import (
    INTERPOLATIONS,
    affine,
    inverse_affine_matrices,
    rotate,
    rotate_matrices,
    shear_degrees,
    shear_x,
    shear_x_matrices,
    shear_y,
    shear_y_matrices,
    translate_matrices,
    translate_x,
    translate_y,
    trunc,
)

__all__ = [
    "INTERPOLATIONS",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_saturation",
    "adjust_sharpness",
    "affine",
    "autocontrast",
    "autocontrast_stretch",
    "blend",
    "equalize",
    "equalize_tables",
    "grayscale",
    "inverse_affine_matrices",
    "invert",
    "posterize",
    "rotate",
    "rotate_matrices",
    "shear_degrees",
    "shear_x",
    "shear_x_matrices",
    "shear_y",
    "shear_y_matrices",
    "solarize",
    "translate_matrices",
    "translate_x",
    "translate_y",
    "trunc",
]
