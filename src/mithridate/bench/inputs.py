"""The benchmark's inputs: real photos as uint8 batches, the same bytes for every library.

32x32: the CIFAR-10 subset of `../shared/data` (an image folder) when present, else scikit-image's bundled
photos resized; larger sizes: scikit-image's photos, cropped at varied places and scales and resized.
The batch is written once to an `.npy` file that each library's process reads.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import PIL.Image
import torch

__all__ = ["PHOTOS", "default_cifar_folder", "make_batch"]

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "colorwheel", "hubble_deep_field", "cat")


_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def default_cifar_folder() -> Path | None:
    """The CIFAR-10 subset: `$MITHRIDATE_CIFAR`, or `../shared/data/cifar10-small`, where images are below it."""
    candidates = [os.environ.get("MITHRIDATE_CIFAR"), "../shared/data/cifar10-small"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir() and any(_image_files(Path(candidate))):
            return Path(candidate)
    return None


def _image_files(folder: Path) -> list[Path]:
    """Every image below `folder`, at any depth; only the training split's where a `train` folder holds some
    (a data root such as `../shared/data`, a dataset root with `train/` and `test/`, or a class folder)."""
    files = sorted(path for path in folder.rglob("*") if path.suffix.lower() in _IMAGE_SUFFIXES and path.is_file())
    training = [path for path in files if "train" in path.relative_to(folder).parts[:-1]]
    return training or files


def _cifar(n: int, folder: Path) -> np.ndarray:
    if not folder.is_dir():
        raise ValueError(f"cifar: expected a folder of images, {folder} is not a folder")
    files = _image_files(folder)
    if not files:
        raise ValueError(
            f"cifar: expected .png or .jpg images below {folder} (e.g. ../shared/data/cifar10-small), found none"
        )
    step = max(len(files) // n, 1)
    chosen = (files[::step] * (n // max(len(files[::step]), 1) + 1))[:n]
    return np.stack([np.asarray(PIL.Image.open(path).convert("RGB").resize((32, 32))) for path in chosen])


def _photos(n: int, size: int) -> np.ndarray:
    from skimage import data

    pictures = [PIL.Image.fromarray(getattr(data, name)()).convert("RGB") for name in PHOTOS]
    crops = []
    for i in range(n):
        picture = pictures[i % len(pictures)]
        width, height = picture.size
        side = min(width, height) * (0.6 + 0.4 * ((i * 7) % 5) / 4)
        left = (width - side) * ((i * 3) % 4) / 3
        top = (height - side) * ((i * 5) % 3) / 2
        box = (round(left), round(top), round(left + side), round(top + side))
        crops.append(np.asarray(picture.resize((size, size), PIL.Image.BILINEAR, box=box)))
    return np.stack(crops)


def make_batch(size: int, n: int, cifar: Path | None = None) -> tuple[torch.Tensor, str]:
    """A uint8 (n, 3, size, size) batch of real photos and a line saying where they come from."""
    if size < 8 or n < 1:
        raise ValueError(f"inputs: expected size >= 8 and n >= 1, got size {size}, n {n}")
    folder = cifar if cifar is not None else default_cifar_folder()
    if size == 32 and folder is not None:
        array, source = _cifar(n, folder), "CIFAR-10 subset"
    else:
        array, source = _photos(n, size), "scikit-image photos"
    return torch.from_numpy(array).permute(0, 3, 1, 2).contiguous(), source
