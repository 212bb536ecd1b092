"""Helpers shared by the library modules: package checks and per-image views of a batch."""

from __future__ import annotations

import importlib.metadata
import importlib.util

import numpy as np
import torch


def missing(*modules: str) -> str | None:
    """None when every module imports here, else a line naming the first one missing."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[bench]')"
    return None


def package_version(distribution: str) -> str:
    """The installed version of a distribution, or '?'."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def hwc_arrays(images: torch.Tensor) -> list[np.ndarray]:
    """The batch as a list of contiguous uint8 (H, W, C) numpy arrays, the per-image libraries' format."""
    array = images.permute(0, 2, 3, 1).contiguous().cpu().numpy()
    return [np.ascontiguousarray(image) for image in array]
