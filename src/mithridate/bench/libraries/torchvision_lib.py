"""torchvision transforms v2, image by image on uint8 (C, H, W) tensors, as a Dataset's transform runs."""

from __future__ import annotations

import math

import torch

from ..cases import Case
from ..draws import op_magnitudes
from ._util import missing, package_version

NAME = "torchvision"
MODE = "per image"
PACKAGE = "torchvision"
DEVICES = ("cpu", "cuda")


def unavailable() -> str | None:
    return missing("torchvision")


def version() -> str:
    return package_version("torchvision")


def note(case: Case) -> str | None:
    return None


def _op(name: str):
    """torchvision's functional op for a single-op row, as torchvision's TrivialAugmentWide applies it."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.v2 import functional as F

    nearest = InterpolationMode.NEAREST

    def shear(image, m, axis):
        degrees = math.degrees(math.atan(m))
        return F.affine(
            image,
            angle=0.0,
            translate=[0, 0],
            scale=1.0,
            shear=[degrees, 0.0] if axis == 0 else [0.0, degrees],
            interpolation=nearest,
            center=[0, 0],
        )

    def translate(image, m, axis):
        offset = [int(m), 0] if axis == 0 else [0, int(m)]
        return F.affine(image, angle=0.0, translate=offset, scale=1.0, shear=[0.0, 0.0], interpolation=nearest)

    table = {
        "Identity": lambda image, m: image,
        "ShearX": lambda image, m: shear(image, m, 0),
        "ShearY": lambda image, m: shear(image, m, 1),
        "TranslateX": lambda image, m: translate(image, m, 0),
        "TranslateY": lambda image, m: translate(image, m, 1),
        "Rotate": lambda image, m: F.rotate(image, m, interpolation=nearest),
        "Brightness": lambda image, m: F.adjust_brightness(image, 1.0 + m),
        "Color": lambda image, m: F.adjust_saturation(image, 1.0 + m),
        "Contrast": lambda image, m: F.adjust_contrast(image, 1.0 + m),
        "Sharpness": lambda image, m: F.adjust_sharpness(image, 1.0 + m),
        "Posterize": lambda image, m: F.posterize(image, int(m)),
        "Solarize": lambda image, m: F.solarize(image, 255.0 * m),
        "AutoContrast": lambda image, m: F.autocontrast(image),
        "Equalize": lambda image, m: F.equalize(image),
    }
    return table[name]


def prepare(case: Case, images: torch.Tensor, device: torch.device):
    from torchvision.transforms import v2

    pictures = list(images)
    if case.group == "policy":
        transform = {
            "TrivialAugmentWide": v2.TrivialAugmentWide,
            "RandAugment(2, 9)": lambda: v2.RandAugment(num_ops=2, magnitude=9),
            "AugMix": v2.AugMix,
        }[case.name]()
        return lambda count: [transform(picture) for picture in pictures[:count]]
    if case.group == "op":
        op = _op(case.name)
        magnitudes = op_magnitudes(case.name, len(pictures)).tolist()
        return lambda count: [op(picture, m) for picture, m in zip(pictures[:count], magnitudes, strict=False)]
    return None
