"""Experiments: real datasets to preview, train and measure on (reference models and sweeps come next)."""

from .datasets import (
    IMAGE_EXTENSIONS,
    PICTURES,
    DatasetError,
    ImageDataset,
    load_cifar10_batches,
    load_digits,
    load_image_folder,
    load_images,
    load_picture,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "PICTURES",
    "DatasetError",
    "ImageDataset",
    "load_cifar10_batches",
    "load_digits",
    "load_image_folder",
    "load_images",
    "load_picture",
]
