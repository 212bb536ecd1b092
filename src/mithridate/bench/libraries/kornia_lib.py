"""kornia.augmentation on float32 (N, C, H, W) batches in [0, 1], its native format (conversion untimed).

kornia's TrivialAugment and RandAugment choose one op per forward call for the whole batch (only the
magnitude is drawn per sample), so their rows do less work than a per-sample policy: the table flags them.
Its single-op augmentations draw their parameters per sample.
"""

from __future__ import annotations

import math

import torch

from ..cases import Case
from ..draws import TA_WIDE_LIMITS
from ._util import ONE_OP_PER_BATCH, missing, one_op_per_batch_calls, package_version

NAME = "kornia"
MODE = "batch"
PACKAGE = "kornia"
DEVICES = ("cpu", "cuda")


def unavailable() -> str | None:
    return missing("kornia")


def version() -> str:
    return package_version("kornia")


def note(case: Case) -> str | None:
    if case.group == "policy":
        return ONE_OP_PER_BATCH
    return None


def min_calls(case: Case) -> int:
    return one_op_per_batch_calls(case.group)


def _op(name: str, width: int, height: int):
    import kornia.augmentation as K

    shear = math.degrees(math.atan(TA_WIDE_LIMITS["ShearX"][1]))
    factor = TA_WIDE_LIMITS["Brightness"][1]
    geometric = {"resample": "nearest", "padding_mode": "zeros", "p": 1.0}
    table = {
        "ShearX": lambda: K.RandomShear((-shear, shear, 0.0, 0.0), **geometric),
        "ShearY": lambda: K.RandomShear((0.0, 0.0, -shear, shear), **geometric),
        "TranslateX": lambda: K.RandomAffine(degrees=0.0, translate=(32 / width, 0.0), **geometric),
        "TranslateY": lambda: K.RandomAffine(degrees=0.0, translate=(0.0, 32 / height), **geometric),
        "Rotate": lambda: K.RandomRotation(135.0, resample="nearest", p=1.0),
        "Brightness": lambda: K.RandomBrightness((1 - factor, 1 + factor), p=1.0),
        "Color": lambda: K.RandomSaturation((1 - factor, 1 + factor), p=1.0),
        "Contrast": lambda: K.RandomContrast((1 - factor, 1 + factor), p=1.0),
        "Sharpness": lambda: K.RandomSharpness((0.0, 1 + factor), p=1.0),
        "Posterize": lambda: K.RandomPosterize((2, 8), p=1.0),
        "Solarize": lambda: K.RandomSolarize(thresholds=0.5, additions=0.0, p=1.0),
        "AutoContrast": lambda: K.RandomAutoContrast(p=1.0),
        "Equalize": lambda: K.RandomEqualize(p=1.0),
    }
    return table[name]() if name in table else None


def prepare(case: Case, images: torch.Tensor, device: torch.device):
    from kornia.augmentation import auto

    batch = images.to(torch.float32).div_(255.0)
    height, width = batch.shape[-2:]
    if case.group == "policy":
        if case.name == "TrivialAugmentWide":
            transform = auto.TrivialAugment()
        elif case.name == "RandAugment(2, 9)":
            transform = auto.RandAugment(n=2, m=9)
        else:
            return None
    elif case.group == "op":
        transform = _op(case.name, width, height)
        if transform is None:
            return None
    else:
        return None
    transform = transform.to(device)

    def run(count: int):
        with torch.no_grad():
            return transform(batch)

    return run
