"""The affine matrices behind the geometric kernels, per sample, for code that composes them: the executor and
the compiled paths resample every geometric op of a step through one inverse matrix per sample.

`shear_degrees` and `trunc` turn a plan's shear and translation magnitudes into the arguments torchvision's
affine would get (its shear in degrees, its integer translation), so that a matrix built here is the one the
kernel of the same op uses, bit for bit.
"""

from ._geometry import (
    inverse_affine_matrices,
    rotate_matrices,
    shear_degrees,
    shear_x_matrices,
    shear_y_matrices,
    translate_matrices,
    trunc,
)

__all__ = [
    "inverse_affine_matrices",
    "rotate_matrices",
    "shear_degrees",
    "shear_x_matrices",
    "shear_y_matrices",
    "translate_matrices",
    "trunc",
]
