"""torch.utils.data integration: augment whole batches, reproducibly whatever the batch size or workers.

    sampler = EpochSampler(dataset, shuffle=True, seed=0, epochs=epochs)
    loader = DataLoader(IndexedDataset(dataset), sampler=sampler, batch_size=128, num_workers=4,
                        persistent_workers=True, collate_fn=AugmentCollate(policy))
    for epoch in range(epochs):
        sampler.set_epoch(epoch)                    # in the main process, before the epoch's iterator
        for images, labels in loader: ...

The sampler runs in the main process and draws `SampleKey(epoch, progress, index)` for each sample:
the epoch, the training progress at which the sample is drawn (for dose schedules), and its dataset
index. `IndexedDataset` hands the key to the collate function with the sample, so each sample's draws
are a pure function of (seed, epoch, index) and its dose of its progress: 0 or 8 workers, persistent
or not, batches of 32 or 256 give identical tensors. A copy of the epoch or the progress kept in a
worker (the collate function's, the policy's) would go stale: persistent workers keep the copy they
started with, and prefetching builds batches before the main loop reaches them.
To augment on the GPU instead, collate with `AugmentCollate(None, return_keys=True)` and call
`policy(images.cuda(), index=keys.index, epoch=keys.epoch, progress=keys.progress)` in the training loop.
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from typing import Any, NamedTuple

import numpy as np
import PIL.Image
import torch
from torch.utils.data import Dataset, RandomSampler, Sampler, SequentialSampler, default_collate, get_worker_info

from ..dose import ConstantSchedule
from ..image.adapters import to_batch
from ..image.policies import Policy

__all__ = ["AugmentCollate", "BatchKeys", "EpochSampler", "Indexed", "IndexedDataset", "SampleKey"]


class SampleKey(NamedTuple):
    """What EpochSampler draws for one sample, in the main process: the epoch, the training progress in
    [0, 1] at which the sample is drawn (None: the policy's own `progress`), and the dataset index."""

    epoch: int
    progress: float | None
    index: int


def _check_epoch(epoch: Any, name: str = "epoch") -> int:
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)):
        raise TypeError(f"{name}: expected a non-negative integer epoch, got {type(epoch).__name__}")
    if epoch < 0:
        raise ValueError(f"{name}: expected a non-negative integer epoch, got {epoch}")
    return int(epoch)


def _check_progress(progress: Any, name: str = "progress") -> float | None:
    if progress is None:
        return None
    if isinstance(progress, bool) or not isinstance(progress, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name}: expected training progress in [0, 1] or None, got {type(progress).__name__}")
    if not 0.0 <= float(progress) <= 1.0:  # NaN fails too
        raise ValueError(f"{name}: expected training progress in [0, 1] or None, got {progress}")
    return float(progress)


def _check_key(key: SampleKey) -> SampleKey:
    """Validate a key that crossed into the dataset (it may come from a user's own sampler)."""
    epoch = _check_epoch(key.epoch, "SampleKey.epoch")
    progress = _check_progress(key.progress, "SampleKey.progress")
    if isinstance(key.index, bool) or not isinstance(key.index, (int, np.integer)) or key.index < 0:
        raise ValueError(f"SampleKey.index: expected a non-negative integer dataset index, got {key.index!r}")
    return SampleKey(epoch, progress, int(key.index))


class EpochSampler(Sampler[SampleKey]):
    """A sampler of `SampleKey(epoch, progress, index)`: the epoch and the training progress travel with
    the indices from the main process, so no worker can hold a stale copy of them.

    Give a dataset (then the order is sequential, or with `shuffle=True` random: a pure function of
    (`seed`, epoch) when `seed` is given) or any sampler of indices, e.g. a DistributedSampler, whose
    `set_epoch` is called too. Progress is `(epoch + position / len(self)) / epochs` with `epochs` (the
    number of epochs of the whole training), `progress(epoch, position)` with a callable, or None: position
    is the sample's place in the epoch's order, so the dose of a sample does not depend on the batch size
    or the workers. The epoch is read when the epoch's iterator is created (`iter(loader)`): batches that
    workers prefetch belong to the epoch of the iterator that drew them.
    """

    def __init__(
        self,
        dataset: Sized | None = None,
        *,
        sampler: Iterable[int] | None = None,
        shuffle: bool = False,
        seed: int | None = None,
        epochs: int | None = None,
        progress: Callable[[int, int], float] | None = None,
        epoch: int = 0,
    ) -> None:
        if (dataset is None) == (sampler is None):
            raise ValueError("EpochSampler: expected a dataset or a sampler of indices (sampler=...), not both")
        if sampler is not None and (shuffle or seed is not None):
            raise ValueError("EpochSampler: shuffle and seed are for a dataset; a given sampler orders itself")
        if epochs is not None and progress is not None:
            raise ValueError(
                "EpochSampler: expected epochs (progress = (epoch + position / length) / epochs) "
                "or a progress callable, not both"
            )
        if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1):
            raise ValueError(f"epochs: expected the number of training epochs, a positive integer, got {epochs!r}")
        if progress is not None and not callable(progress):
            raise TypeError(f"progress: expected a callable (epoch, position) -> float, got {type(progress).__name__}")
        if sampler is None:
            if not isinstance(dataset, Sized):
                raise TypeError(f"dataset: expected a dataset with __len__, got {type(dataset).__name__}")
            sampler = SequentialSampler(dataset)  # type: ignore[arg-type]
        elif epochs is not None and not isinstance(sampler, Sized):
            raise TypeError(f"sampler: progress from epochs needs its length, {type(sampler).__name__} has none")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0 or not shuffle):
            raise ValueError(f"seed: expected a non-negative integer, with shuffle=True, got {seed!r}")
        self.seed = seed
        # Seeded with seed + epoch in __iter__ (DistributedSampler's convention), so an epoch's order does not
        # depend on the epochs iterated before it: a resumed run draws the same order.
        self.generator = None if seed is None else torch.Generator()
        if shuffle:
            sampler = RandomSampler(dataset, generator=self.generator)  # type: ignore[arg-type]
        self.sampler = sampler
        self.epochs = epochs
        self.progress = progress
        self.epoch = 0
        self.set_epoch(epoch)

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch of the next iterator, in the main process; a wrapped sampler's `set_epoch` too."""
        epoch = _check_epoch(epoch)
        if self.epochs is not None and epoch >= self.epochs:
            raise ValueError(f"epoch: expected an epoch in [0, epochs={self.epochs}), got {epoch}")
        self.epoch = epoch
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        if not isinstance(self.sampler, Sized):
            raise TypeError(f"EpochSampler: the wrapped {type(self.sampler).__name__} has no length")
        return len(self.sampler)

    def __iter__(self) -> Iterator[SampleKey]:
        # Read the epoch now, not at the first draw: the iterator belongs to the epoch it was created in.
        epoch = self.epoch
        if self.generator is not None:
            self.generator.manual_seed(self.seed + epoch)  # type: ignore[operator]
        length = len(self) if self.epochs is not None else 0
        return self._keys(epoch, iter(self.sampler), length)

    def _keys(self, epoch: int, indices: Iterator[int], length: int) -> Iterator[SampleKey]:
        for position, index in enumerate(indices):
            try:
                index = operator.index(index)
            except TypeError:
                raise TypeError(
                    f"EpochSampler: expected the wrapped sampler to yield dataset indices, got {type(index).__name__} "
                    "(pass EpochSampler as the DataLoader's sampler= and let the DataLoader batch)"
                ) from None
            if self.epochs is not None:  # past 1 only if the wrapped sampler yields more than its length
                progress = _check_progress(
                    (epoch + position / length) / self.epochs, "(epoch + position / len) / epochs"
                )
            elif self.progress is not None:
                progress = _check_progress(self.progress(epoch, position), "progress(epoch, position)")
            else:
                progress = None
            yield SampleKey(epoch, progress, index)


class Indexed(NamedTuple):
    """A sample with its dataset index, and the epoch and progress its key carried (None without a key),
    as IndexedDataset produces it."""

    index: int
    sample: Any
    epoch: int | None = None
    progress: float | None = None


class IndexedDataset(Dataset):
    """Wrap a map-style dataset so that each item carries its index: `Indexed(index, dataset[index])`, or
    with a SampleKey from EpochSampler `Indexed(index, dataset[index], epoch, progress)`."""

    def __init__(self, dataset: Dataset) -> None:
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(
                f"dataset: expected a map-style dataset with __getitem__ and __len__, got {type(dataset).__name__}"
            )
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, key: int | SampleKey) -> Indexed:
        if isinstance(key, SampleKey):
            key = _check_key(key)
            return Indexed(key.index, self.dataset[key.index], key.epoch, key.progress)
        try:
            index = operator.index(key)
        except TypeError:
            raise TypeError(
                f"key: expected a dataset index or a SampleKey from EpochSampler, got {type(key).__name__}"
            ) from None
        return Indexed(index, self.dataset[index])


class BatchKeys(NamedTuple):
    """A batch's keys, for augmenting later: `policy(images, index=keys.index, epoch=keys.epoch,
    progress=keys.progress)`. index is an int64 tensor (None for items without IndexedDataset), progress
    a float64 tensor of one progress per sample or None (the policy's own)."""

    index: torch.Tensor | None
    epoch: int
    progress: torch.Tensor | None


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
    Items drawn by EpochSampler carry their epoch and progress, which win over `epoch`/`set_epoch` and the
    policy's `progress`. `policy=None` only collates, for augmenting later on the GPU (`return_keys`).
    """

    def __init__(
        self,
        policy: Policy | None,
        *,
        image_key: int | str | None = 0,
        collate_fn: Callable[[list[Any]], Any] = default_collate,
        epoch: int = 0,
        return_index: bool = False,
        return_keys: bool = False,
    ) -> None:
        if policy is not None and not isinstance(policy, Policy):
            raise TypeError(f"policy: expected a mithridate image Policy or None, got {type(policy).__name__}")
        if return_index and return_keys:
            raise ValueError("AugmentCollate: expected return_index or return_keys, not both (keys hold the index)")
        self.policy = policy
        self.image_key = image_key
        self.collate_fn = collate_fn
        self.epoch = _check_epoch(epoch)
        self.return_index = return_index
        self.return_keys = return_keys
        self._warned: set[str] = set()

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch of items that carry none (call before creating the epoch's iterator).

        DataLoader workers hold a copy of this object made when they start: with `persistent_workers=True`
        they keep the epoch of the first iterator for good. Draw the epoch with the indices instead: give
        the DataLoader `sampler=EpochSampler(...)` and call the sampler's `set_epoch` (a warning says so).
        """
        self.epoch = _check_epoch(epoch)
        self._warn_once(
            "set_epoch",
            "AugmentCollate.set_epoch: DataLoader workers keep the copy of the epoch they started with, so with "
            "persistent_workers=True every epoch would draw the first one's augmentations; draw the epoch with the "
            "indices instead: DataLoader(IndexedDataset(dataset), sampler=EpochSampler(...), ...) and "
            "sampler.set_epoch(epoch)",
        )

    def _warn_once(self, topic: str, message: str) -> None:
        if topic not in self._warned:
            warnings.warn(message, UserWarning, stacklevel=3)
            self._warned.add(topic)

    def _keys(self, items: list[Indexed]) -> tuple[int, torch.Tensor | None]:
        """The batch's epoch and per-sample progress: the items' own (from EpochSampler) when they carry them."""
        epochs = {item.epoch for item in items}
        if len(epochs) > 1:
            shown = ", ".join(str(epoch) for epoch in sorted(epochs, key=lambda epoch: (epoch is None, epoch or 0)))
            raise ValueError(
                f"AugmentCollate: one batch holds samples of epochs {shown}; a batch's keys must come from one "
                "epoch's sampler iterator (EpochSampler draws them so), and all or none of them carry an epoch"
            )
        carried = epochs.pop()
        epoch = self.epoch if carried is None else carried
        has_progress = [item.progress is not None for item in items]
        if all(has_progress):
            return epoch, torch.tensor([item.progress for item in items], dtype=torch.float64)
        if any(has_progress):
            raise ValueError("AugmentCollate: some samples of the batch carry a training progress and some do not")
        if self.policy is not None and not isinstance(self.policy.schedule, ConstantSchedule) and get_worker_info():
            self._warn_once(
                "progress",
                "AugmentCollate: the policy's dose follows a schedule, but the samples carry no training progress, "
                "so this DataLoader worker reads its own copy of policy.progress, which does not follow the main "
                "process (and never changes with persistent workers); draw the progress with the indices: "
                "EpochSampler(..., epochs=...) as the DataLoader's sampler",
            )
        return epoch, None

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
        epoch, progress = self._keys(items) if indexed else (self.epoch, None)
        split = [self._split(sample) for sample in samples]
        images = [image for image, _ in split]
        if not all(_is_image(image) for image in images):
            kinds = sorted({type(image).__name__ for image in images})
            raise TypeError(f"AugmentCollate: expected images at key {self.image_key!r}, got {', '.join(kinds)}")
        batch = _stack_images(images)
        if self.policy is not None:
            if index is None:
                self._warn_once(
                    "index",
                    "AugmentCollate: samples carry no dataset index (wrap the dataset in IndexedDataset); "
                    "draws then depend on batch order and on the number of workers",
                )
            batch = self.policy(batch, index=index, epoch=epoch, progress=progress)
        if self.image_key is None:
            collated: Any = batch
        else:
            collated = self._join(batch, self.collate_fn([rest for _, rest in split]))
        if self.return_keys:
            return collated, BatchKeys(index, epoch, progress)
        if self.return_index:
            return collated, index
        return collated
