"""torchaug transforms on uint8 (N, C, H, W) batches, with `batch_transform=True` where it draws per sample.

torchaug's TrivialAugmentWide, RandAugment and AugMix are torchvision's, applied to the batch: one op per
batch, flagged in the table. Its sharpness, posterize and solarize take one fixed parameter per call.
"""

from __future__ import annotations

import math

import torch

from ..cases import Case
from ..draws import TA_WIDE_LIMITS
from ._util import ONE_OP_PER_BATCH, missing, one_op_per_batch_calls, package_version

NAME = "torchaug"
MODE = "batch"
PACKAGE = "torchaug"
DEVICES = ("cpu", "cuda")

_FIXED = ("Sharpness", "Posterize", "Solarize")


def unavailable() -> str | None:
    return missing("torchaug")


def version() -> str:
    return package_version("torchaug")


def note(case: Case) -> str | None:
    if case.group == "policy":
        return ONE_OP_PER_BATCH
    if case.name in _FIXED:
        return "one fixed parameter for the batch"
    return None


def min_calls(case: Case) -> int:
    return one_op_per_batch_calls(case.group)


def _op(name: str, width: int, height: int):
    import torchaug.transforms as T

    shear = math.degrees(math.atan(TA_WIDE_LIMITS["ShearX"][1]))
    factor = TA_WIDE_LIMITS["Brightness"][1]
    per_sample = {"batch_transform": True}
    table = {
        "ShearX": lambda: T.RandomAffine(degrees=0.0, shear=(-shear, shear, 0.0, 0.0), **per_sample),
        "ShearY": lambda: T.RandomAffine(degrees=0.0, shear=(0.0, 0.0, -shear, shear), **per_sample),
        "TranslateX": lambda: T.RandomAffine(degrees=0.0, translate=(32 / width, 0.0), **per_sample),
        "TranslateY": lambda: T.RandomAffine(degrees=0.0, translate=(0.0, 32 / height), **per_sample),
        "Rotate": lambda: T.RandomRotation(135.0, **per_sample),
        "Brightness": lambda: T.RandomColorJitter(brightness=(1 - factor, 1 + factor), p=1.0, **per_sample),
        "Color": lambda: T.RandomColorJitter(saturation=(1 - factor, 1 + factor), p=1.0, **per_sample),
        "Contrast": lambda: T.RandomColorJitter(contrast=(1 - factor, 1 + factor), p=1.0, **per_sample),
        "Sharpness": lambda: T.RandomAdjustSharpness(1.5, p=1.0, **per_sample),
        "Posterize": lambda: T.RandomPosterize(4, p=1.0, **per_sample),
        "Solarize": lambda: T.RandomSolarize(128.0, p=1.0, **per_sample),
        "AutoContrast": lambda: T.RandomAutocontrast(p=1.0, **per_sample),
        "Equalize": lambda: T.RandomEqualize(p=1.0, **per_sample),
    }
    return table[name]() if name in table else None


def prepare(case: Case, images: torch.Tensor, device: torch.device):
    import torchaug.transforms as T

    height, width = images.shape[-2:]
    if case.group == "policy":
        transform = {
            "TrivialAugmentWide": T.TrivialAugmentWide,
            "RandAugment(2, 9)": lambda: T.RandAugment(num_ops=2, magnitude=9),
            "AugMix": T.AugMix,
        }[case.name]()
    elif case.group == "op":
        transform = _op(case.name, width, height)
        if transform is None:
            return None
    else:
        return None
    return lambda count: transform(images)
