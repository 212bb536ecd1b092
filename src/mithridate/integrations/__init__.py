"""Integrations with data pipelines: torch Dataset/DataLoader (more to come: Hugging Face datasets, Ray)."""

from .torch import AugmentCollate, BatchKeys, EpochSampler, Indexed, IndexedDataset, SampleKey

__all__ = ["AugmentCollate", "BatchKeys", "EpochSampler", "Indexed", "IndexedDataset", "SampleKey"]
