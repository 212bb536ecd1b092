"""Experiments: reference models, the dose-response sweep, its store, summary and report.

The real datasets live in `mithridate.data.datasets` (data/ never imports experiments/); they are
re-exported here for the experiments' callers.

The sweep modules import torch training code and matplotlib; import them explicitly
(`mithridate.experiments.sweep`, `.store`, `.summary`, `.report`) so that loading datasets stays light.
"""

from ..data.datasets import (
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
