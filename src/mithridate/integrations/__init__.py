"""Integrations with data pipelines: torch Dataset/DataLoader (`torch`) and Ray Data (`ray_data`, with the optional
`ray` extra; Ray itself is imported only when a Ray dataset is mapped). More to come: Hugging Face datasets."""

from .ray_data import AugmentBatches, augment_dataset
from .torch import AugmentCollate, BatchKeys, EpochSampler, Indexed, IndexedDataset, SampleKey

__all__ = [
    "AugmentBatches",
    "AugmentCollate",
    "BatchKeys",
    "EpochSampler",
    "Indexed",
    "IndexedDataset",
    "SampleKey",
    "augment_dataset",
]
