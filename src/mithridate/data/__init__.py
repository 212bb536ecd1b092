"""Data: real image datasets and their loaders, synthetic digits rendered from fonts, and mixing of real with
synthetic datasets at a measured ratio."""

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
from .mix import Mix
from .rendered_digits import FONTS, font_path, render_digits, rendered_digits_dataset

__all__ = [
    "FONTS",
    "IMAGE_EXTENSIONS",
    "PICTURES",
    "DatasetError",
    "ImageDataset",
    "Mix",
    "font_path",
    "load_cifar10_batches",
    "load_digits",
    "load_image_folder",
    "load_images",
    "load_picture",
    "render_digits",
    "rendered_digits_dataset",
]
