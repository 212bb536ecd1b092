"""The published parameter tables of the 19 corruptions, one row per severity 1..5.

Two tables, as published:

- "cifar": Hendrycks & Dietterich's `ImageNet-C/create_c/make_cifar_c.py` (hendrycks/robustness), the
  script that made CIFAR-10-C (32x32 images);
- "imagenet": `ImageNet-C/create_c/make_imagenet_c.py` (224x224), as packaged for any image size by
  `imagecorruptions/corruptions.py` (bethgelab/imagecorruptions 1.1.2). Both agree on every entry but
  elastic_transform, where the package's size-relative version is used (see `_digital.py`).

Every value below is copied from those files (the comment on each entry says what its fields mean); the
tests check a sample of entries against the values read there.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PARAMS", "PARAM_SETS", "zoom_factors"]

PARAM_SETS = ("cifar", "imagenet")


def zoom_factors(stop: float, step: float) -> tuple[float, ...]:
    """The zoom factors of zoom_blur exactly as the references write them, `np.arange(1, stop, step)`.

    Floating arange can include its stop (np.arange(1, 1.06, 0.01) has 7 values, 1.06 included): kept.
    """
    return tuple(float(v) for v in np.arange(1, stop, step))


_CIFAR: dict[str, tuple] = {
    # Noise --------------------------------------------------------------------------------------------
    "gaussian_noise": (0.04, 0.06, 0.08, 0.09, 0.10),  # std of the additive normal noise (x in [0, 1])
    "shot_noise": (500, 250, 100, 75, 50),  # photons per unit intensity: Poisson(x * c) / c
    "impulse_noise": (0.01, 0.02, 0.03, 0.05, 0.07),  # fraction of values set to 0 or 1 (salt & pepper)
    "speckle_noise": (0.06, 0.1, 0.12, 0.16, 0.2),  # std of the multiplicative normal noise
    # Blur ---------------------------------------------------------------------------------------------
    "gaussian_blur": (0.4, 0.6, 0.7, 0.8, 1),  # sigma in pixels
    "glass_blur": ((0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)),  # sigma, delta, iters
    "defocus_blur": ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)),  # disk radius, alias sigma
    "motion_blur": ((6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)),  # ImageMagick radius, sigma
    "zoom_blur": ((1.06, 0.01), (1.11, 0.01), (1.16, 0.01), (1.21, 0.01), (1.26, 0.01)),  # arange stop, step
    # Weather ------------------------------------------------------------------------------------------
    # snow: loc, scale of the flake field, zoom, threshold, blur radius, blur sigma, blend with the image
    "snow": (
        (0.1, 0.2, 1, 0.6, 8, 3, 0.95),
        (0.1, 0.2, 1, 0.5, 10, 4, 0.9),
        (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
        (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85),
        (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8),
    ),
    "frost": ((1, 0.2), (1, 0.3), (0.9, 0.4), (0.85, 0.4), (0.75, 0.45)),  # image weight, frost weight
    "fog": ((0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)),  # fog strength, plasma wibble decay
    # Digital ------------------------------------------------------------------------------------------
    "brightness": (0.05, 0.1, 0.15, 0.2, 0.3),  # added to the HSV value
    "contrast": (0.75, 0.5, 0.4, 0.3, 0.15),  # factor on the deviation from the channel mean
    # elastic (CIFAR): displacement scale alpha, its smoothing sigma, random-affine jitter; all in units of
    # the image side (the script writes IMSIZE * 0.05 and so on with IMSIZE = 32)
    "elastic_transform": ((0, 0, 0.08), (0.05, 0.2, 0.07), (0.08, 0.06, 0.06), (0.1, 0.04, 0.05), (0.1, 0.03, 0.03)),
    "pixelate": (0.95, 0.9, 0.85, 0.75, 0.65),  # downscale factor (BOX down, BOX up)
    "jpeg_compression": (80, 65, 58, 50, 40),  # JPEG quality
    # Extra --------------------------------------------------------------------------------------------
    # spatter: loc, scale of the liquid field, its blur sigma, threshold, colour strength / mud sigma, mud?
    "spatter": (
        (0.62, 0.1, 0.7, 0.7, 0.5, 0),
        (0.65, 0.1, 0.8, 0.7, 0.5, 0),
        (0.65, 0.3, 1, 0.69, 0.5, 0),
        (0.65, 0.1, 0.7, 0.69, 0.6, 1),
        (0.65, 0.1, 0.5, 0.68, 0.6, 1),
    ),
    "saturate": ((0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)),  # HSV saturation * a + b
}

_IMAGENET: dict[str, tuple] = {
    "gaussian_noise": (0.08, 0.12, 0.18, 0.26, 0.38),
    "shot_noise": (60, 25, 12, 5, 3),
    "impulse_noise": (0.03, 0.06, 0.09, 0.17, 0.27),
    "speckle_noise": (0.15, 0.2, 0.35, 0.45, 0.6),
    "gaussian_blur": (1, 2, 3, 4, 6),
    "glass_blur": ((0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)),
    "defocus_blur": ((3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)),
    "motion_blur": ((10, 3), (15, 5), (15, 8), (15, 12), (20, 15)),
    "zoom_blur": ((1.11, 0.01), (1.16, 0.01), (1.21, 0.02), (1.26, 0.02), (1.31, 0.03)),
    "snow": (
        (0.1, 0.3, 3, 0.5, 10, 4, 0.8),
        (0.2, 0.3, 2, 0.5, 12, 4, 0.7),
        (0.55, 0.3, 4, 0.9, 12, 8, 0.7),
        (0.55, 0.3, 4.5, 0.85, 12, 8, 0.65),
        (0.55, 0.3, 2.5, 0.85, 12, 12, 0.55),
    ),
    "frost": ((1, 0.4), (0.8, 0.6), (0.7, 0.7), (0.65, 0.7), (0.6, 0.75)),
    "fog": ((1.5, 2), (2.0, 2), (2.5, 1.7), (2.5, 1.5), (3.0, 1.4)),
    "brightness": (0.1, 0.2, 0.3, 0.4, 0.5),
    "contrast": (0.4, 0.3, 0.2, 0.1, 0.05),
    # elastic (imagecorruptions): alpha = 250 * a; the field is uniform in +-0.005 H smoothed with sigma
    # 0.01 (H, W), so the displacement scales with the image
    "elastic_transform": (250 * 0.05, 250 * 0.065, 250 * 0.085, 250 * 0.1, 250 * 0.12),
    "pixelate": (0.6, 0.5, 0.4, 0.3, 0.25),  # downscale factor (BOX down, NEAREST up)
    "jpeg_compression": (25, 18, 15, 10, 7),
    "spatter": (
        (0.65, 0.3, 4, 0.69, 0.6, 0),
        (0.65, 0.3, 3, 0.68, 0.6, 0),
        (0.65, 0.3, 2, 0.68, 0.5, 0),
        (0.65, 0.3, 1, 0.65, 1.5, 1),
        (0.67, 0.4, 1, 0.65, 1.5, 1),
    ),
    "saturate": ((0.3, 0), (0.1, 0), (2, 0), (5, 0.1), (20, 0.2)),
}

PARAMS: dict[str, dict[str, tuple]] = {"cifar": _CIFAR, "imagenet": _IMAGENET}
