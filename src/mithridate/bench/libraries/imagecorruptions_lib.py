"""imagecorruptions (Michaelis et al.), image by image on uint8 (H, W, C) numpy arrays, ImageNet-C parameters."""

from __future__ import annotations

import torch

from ..cases import CORRUPTION_SEVERITY, Case
from ._util import hwc_arrays, missing, package_version

NAME = "imagecorruptions"
MODE = "per image"
PACKAGE = "imagecorruptions"
DEVICES = ("cpu",)


def unavailable() -> str | None:
    return missing("imagecorruptions", "cv2", "scipy")


def version() -> str:
    return package_version("imagecorruptions")


def note(case: Case) -> str | None:
    return None


def _patched_corrupt():
    """imagecorruptions' `corrupt`, with shims for today's numpy (`np.float_` is gone) and scikit-image
    (`gaussian(multichannel=True)` is `channel_axis=-1` now); without them glass blur, gaussian blur and fog fail."""
    import warnings

    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from imagecorruptions import corrupt, corruptions

    if not getattr(corruptions.gaussian, "_mithridate_shim", False):
        gaussian = corruptions.gaussian

        def shimmed_gaussian(image, sigma=1, multichannel=None, **kwargs):
            if multichannel:
                kwargs["channel_axis"] = -1
            return gaussian(image, sigma=sigma, **kwargs)

        shimmed_gaussian._mithridate_shim = True
        corruptions.gaussian = shimmed_gaussian
    if not hasattr(np, "float_"):
        np.float_ = np.float64
    return corrupt


def prepare(case: Case, images: torch.Tensor, device: torch.device):
    if case.group != "corruption":
        return None
    corrupt = _patched_corrupt()
    pictures = hwc_arrays(images)
    return lambda count: [
        corrupt(picture, corruption_name=case.name, severity=CORRUPTION_SEVERITY) for picture in pictures[:count]
    ]
