"""Helpers shared by the library modules: package checks and per-image views of a batch."""

from __future__ import annotations

import importlib.metadata
import importlib.util

import numpy as np
import torch

ONE_OP_PER_BATCH = "one op per batch, not per sample"
"""The flag of policies that draw one op for the whole batch (kornia's and torchaug's)."""


def one_op_per_batch_calls(group: str) -> int:
    """Calls a one-op-per-batch policy makes over a measurement: enough to draw each of 14 ops about twice,
    so that the figure is its mean cost, not the cost of whichever op it drew."""
    return 28 if group == "policy" else 1


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
