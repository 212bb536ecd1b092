"""torch.utils.data integration: augment whole batches, reproducibly whatever the batch size or workers.

    loader = DataLoader(IndexedDataset(dataset), batch_size=128, num_workers=4,
                        collate_fn=AugmentCollate(policy))
    for epoch in range(epochs):
        loader.collate_fn.set_epoch(epoch)          # before the epoch's iterator is created
        for images, labels in loader: ...

`IndexedDataset` hands each sample's dataset index to the collate function, so each sample's draws are a
pure function of (seed, epoch, index): 0 or 8 workers, batches of 32 or 256 give identical tensors.
To augment on the GPU instead, collate without a policy and call `policy(images.cuda(), index=index,
epoch=epoch)` in the training loop, with `AugmentCollate(None, return_index=True)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import PIL.Image
import torch
from torch.utils.data import Dataset, default_collate

from ..image.adapters import to_batch
from ..image.policies import Policy

__all__ = ["AugmentCollate", "Indexed", "IndexedDataset"]


class Indexed(tuple):
    """A sample together with its dataset index, as produced by IndexedDataset."""

    __slots__ = ()

    def __new__(cls, index: int, sample: Any) -> Indexed:
        return super().__new__(cls, (index, sample))

    @property
    def index(self) -> int:
        return self[0]

    @property
    def sample(self) -> Any:
        return self[1]


class IndexedDataset(Dataset):
    """Wrap a map-style dataset so that each item carries its index: `Indexed(index, dataset[index])`."""

    def __init__(self, dataset: Dataset) -> None:
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(
                f"dataset: expected a map-style dataset with __getitem__ and __len__, got {type(dataset).__name__}"
            )
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> Indexed:
        return Indexed(int(index), self.dataset[index])


def _is_image(value: Any) -> bool:
    return isinstance(value, (torch.Tensor, np.ndarray, PIL.Image.Image))


def _stack_images(images: Sequence[Any]) -> torch.Tensor:
    """Stack per-sample images into one (N, C, H, W) tensor through the image adapters."""
    if all(isinstance(image, torch.Tensor) for image in images):
        return torch.stack(list(images))
    batch = to_batch(list(images), name="dataset images")
    return batch.images if batch.alpha is None else torch.cat([batch.images, batch.alpha], dim=1)


class AugmentCollate:
    """A collate_fn that stacks a batch and augments its images in one per-sample policy call.

    `image_key` says where the image is in each sample: an int for tuple samples (default 0), a str for
    dict samples, or None when the sample is the image. PIL images and numpy HWC arrays are stacked to
    (N, C, H, W) uint8 tensors. With `IndexedDataset` items, draws follow the dataset indices; plain
    items fall back to the policy's call counter (then results depend on worker count: a warning says so).
    `policy=None` only collates, for augmenting later on the GPU.
    """

    def __init__(
        self,
        policy: Policy | None,
        *,
        image_key: int | str | None = 0,
        collate_fn: Callable[[list[Any]], Any] = default_collate,
        epoch: int = 0,
        return_index: bool = False,
    ) -> None:
        if policy is not None and not isinstance(policy, Policy):
            raise TypeError(f"policy: expected a mithridate image Policy or None, got {type(policy).__name__}")
        self.policy = policy
        self.image_key = image_key
        self.collate_fn = collate_fn
        self.epoch = epoch
        self.return_index = return_index
        self._warned = False

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch whose draws the next batches use (call before creating the epoch's iterator)."""
        self.epoch = int(epoch)

    def _split(self, sample: Any) -> tuple[Any, Any]:
        key = self.image_key
        if key is None:
            return sample, None
        if isinstance(key, str):
            return sample[key], {k: v for k, v in sample.items() if k != key}
        items = list(sample)
        return items.pop(key), items

    def _join(self, images: torch.Tensor, rest: Any) -> Any:
        if isinstance(self.image_key, str):
            return {self.image_key: images, **rest}
        items = list(rest)
        items.insert(self.image_key, images)  # type: ignore[arg-type]
        return tuple(items)

    def __call__(self, items: list[Any]) -> Any:
        indexed = bool(items) and all(isinstance(item, Indexed) for item in items)
        samples = [item.sample for item in items] if indexed else list(items)
        index = torch.tensor([item.index for item in items], dtype=torch.int64) if indexed else None
        split = [self._split(sample) for sample in samples]
        images = [image for image, _ in split]
        if not all(_is_image(image) for image in images):
            kinds = sorted({type(image).__name__ for image in images})
            raise TypeError(f"AugmentCollate: expected images at key {self.image_key!r}, got {', '.join(kinds)}")
        batch = _stack_images(images)
        if self.policy is not None:
            if index is None and not self._warned:
                import warnings

                warnings.warn(
                    "AugmentCollate: samples carry no dataset index (wrap the dataset in IndexedDataset); "
                    "draws then depend on batch order and on the number of workers",
                    stacklevel=2,
                )
                self._warned = True
            batch = self.policy(batch, index=index, epoch=self.epoch)
        if self.image_key is None:
            collated: Any = batch
        else:
            collated = self._join(batch, self.collate_fn([rest for _, rest in split]))
        if self.return_index:
            return collated, index
        return collated
