"""Shared fixtures: real photos from ../shared/data (CIFAR-10 subset) for tests that want real images."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CIFAR_SMALL = SHARED_DATA / "cifar10-small"


@pytest.fixture(scope="session")
def cifar_images() -> torch.Tensor:
    """16 real CIFAR-10 test images (two per class of the first eight), uint8 (16, 3, 32, 32)."""
    root = CIFAR_SMALL / "test"
    if not root.is_dir():
        pytest.skip(f"real CIFAR-10 subset not found at {root}")
    files = [path for folder in sorted(root.iterdir())[:8] for path in sorted(folder.glob("*.jpg"))[:2]]
    arrays = [np.asarray(PIL.Image.open(path).convert("RGB")) for path in files]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


@pytest.fixture(scope="session")
def photos(request) -> torch.Tensor:
    """16 real 32x32 photos: the CIFAR-10 images when ../shared is there, else crops of scikit-image's
    bundled photos (for properties that hold for any real pictures)."""
    if (CIFAR_SMALL / "test").is_dir():
        return request.getfixturevalue("cifar_images")
    from skimage import data

    crops = []
    for i, name in enumerate(["astronaut", "chelsea", "coffee", "rocket"] * 4):
        picture = PIL.Image.fromarray(getattr(data, name)()).convert("RGB")
        side = min(picture.size) // (1 + i // 4)
        crops.append(np.asarray(picture.resize((32, 32), PIL.Image.BILINEAR, box=(0, 0, side, side))))
    return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).contiguous()


@pytest.fixture(autouse=True, scope="session")
def _one_thread_per_xdist_worker():
    """Under pytest-xdist, run torch on one thread per worker.

    With `-n 2` on 2 cores, two workers with 2 intra-op threads each oversubscribe the CPU and OpenMP's
    spin-waiting makes every small call slow (measured: 110 s instead of 10 s for the kernel reference
    tests). Without xdist the default thread count is kept.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def torchvision_grid_in_our_order(monkeypatch):
    """torchvision's affine grid computed in the torch path's order (`_exactness.reference_grid`).

    torchvision multiplies pixel centres by the matrix with `bmm`, whose rounding is the BLAS library's (fused
    by MKL on Intel CPUs, not on AMD ones); the grid here is the same product in one fixed order, so that its
    ops can be compared with ours exactly on any CPU. What differs with torchvision's own grid is bounded by
    `test_functional_reference.test_geometry_with_torchvisions_own_grid`.
    """
    from torchvision.transforms.v2.functional import _geometry

    from _exactness import reference_grid

    monkeypatch.setattr(_geometry, "_affine_grid", reference_grid)
