"""Integrations with data pipelines: torch Dataset/DataLoader (more to come: Hugging Face datasets, Ray)."""

from .torch import AugmentCollate, Indexed, IndexedDataset

__all__ = ["AugmentCollate", "Indexed", "IndexedDataset"]
