"""albumentations, image by image on uint8 (H, W, C) numpy arrays, its native format.

albumentations has no TrivialAugment, RandAugment or AugMix: the policies are written out here from its
closest equivalents of the 14 ops (`ta_wide_ops`), so anyone can check them. TrivialAugmentWide is a
`OneOf` of the 14 with TA wide's magnitude ranges; RandAugment(2, 9) is `SomeOf(n=2)` of the 14 at
magnitude 9 of 30 (random sign); AugMix has no equivalent. Geometric ops use nearest-neighbour sampling and
a zero fill, as torchvision's TrivialAugmentWide does.
"""

from __future__ import annotations

import math

import torch

from ..cases import Case
from ..draws import TA_WIDE_LIMITS
from ._util import hwc_arrays, missing, package_version

NAME = "albumentations"
MODE = "per image"
PACKAGE = "albumentations"
DEVICES = ("cpu",)


def unavailable() -> str | None:
    return missing("albumentations", "cv2")


def version() -> str:
    return package_version("albumentations")


def note(case: Case) -> str | None:
    if case.group == "policy":
        return "policy written out from its closest ops (see the module)"
    return None


def ta_wide_ops(scale: float, width: int, height: int) -> dict:
    """albumentations' closest equivalent of each TA wide op, magnitudes at `scale` of TA wide's range (1 = full)."""
    import albumentations as A
    import cv2

    nearest = {"interpolation": cv2.INTER_NEAREST, "border_mode": cv2.BORDER_CONSTANT, "fill": 0, "p": 1.0}
    shear = math.degrees(math.atan(TA_WIDE_LIMITS["ShearX"][1] * scale))
    shift = TA_WIDE_LIMITS["TranslateX"][1] * scale
    angle = TA_WIDE_LIMITS["Rotate"][1] * scale
    factor = TA_WIDE_LIMITS["Brightness"][1] * scale
    bits_low = round(8 - 6 * scale)
    return {
        "Identity": A.NoOp(p=1.0),
        "ShearX": A.Affine(shear={"x": (-shear, shear), "y": (0, 0)}, **nearest),
        "ShearY": A.Affine(shear={"x": (0, 0), "y": (-shear, shear)}, **nearest),
        "TranslateX": A.Affine(translate_px={"x": (-round(shift), round(shift)), "y": (0, 0)}, **nearest),
        "TranslateY": A.Affine(translate_px={"x": (0, 0), "y": (-round(shift), round(shift))}, **nearest),
        "Rotate": A.Affine(rotate=(-angle, angle), **nearest),
        # torchvision's brightness multiplies every pixel by one factor: MultiplicativeNoise without noise.
        "Brightness": A.MultiplicativeNoise(multiplier=(1 - factor, 1 + factor), per_channel=False, p=1.0),
        "Color": A.ColorJitter(
            brightness=(1, 1), contrast=(1, 1), saturation=(1 - factor, 1 + factor), hue=(0, 0), p=1.0
        ),
        "Contrast": A.RandomBrightnessContrast(brightness_limit=(0, 0), contrast_limit=(-factor, factor), p=1.0),
        "Sharpness": A.Sharpen(alpha=(0.0, min(factor, 1.0)), lightness=(1.0, 1.0), p=1.0),
        "Posterize": A.Posterize(num_bits=(bits_low, 8), p=1.0),
        "Solarize": A.Solarize(threshold_range=(1.0 - scale, 1.0), p=1.0),
        "AutoContrast": A.AutoContrast(p=1.0),
        "Equalize": A.Equalize(p=1.0),
    }


def prepare(case: Case, images: torch.Tensor, device: torch.device):
    import albumentations as A

    pictures = hwc_arrays(images)
    height, width = pictures[0].shape[:2]
    if case.group == "policy":
        if case.name == "TrivialAugmentWide":
            transform = A.OneOf(list(ta_wide_ops(1.0, width, height).values()), p=1.0)
        elif case.name == "RandAugment(2, 9)":
            transform = A.SomeOf(list(ta_wide_ops(9 / 30, width, height).values()), n=2, p=1.0)
        else:
            return None
    elif case.group == "op":
        transform = ta_wide_ops(1.0, width, height)[case.name]
    else:
        return None
    return lambda count: [transform(image=picture)["image"] for picture in pictures[:count]]
