"""Experiments: real datasets, reference models, the dose-response sweep, its store, summary and report.

The sweep modules import torch training code and matplotlib; import them explicitly
(`mithridate.experiments.sweep`, `.store`, `.summary`, `.report`) so that loading datasets stays light.
"""

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
