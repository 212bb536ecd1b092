"""DataLoader integration: results do not depend on batch size or worker count; the collate keeps labels."""

from __future__ import annotations

import numpy as np
import PIL.Image
import pytest
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

import mithridate as mt
from mithridate.integrations import AugmentCollate, Indexed, IndexedDataset


def make_dataset(n: int = 48) -> TensorDataset:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 3, 16, 16), dtype=torch.uint8, generator=generator)
    return TensorDataset(images, torch.arange(n))


def run_loader(dataset, policy, *, batch_size: int, workers: int, epoch: int = 0, shuffle: bool = False):
    collate = AugmentCollate(policy, epoch=epoch)
    loader = DataLoader(
        IndexedDataset(dataset),
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=collate,
        shuffle=shuffle,
        generator=torch.Generator().manual_seed(1),
    )
    images, labels = zip(*loader, strict=True)
    images, labels = torch.cat(images), torch.cat(labels)
    order = torch.argsort(labels)  # labels are the dataset indices here
    return images[order], labels[order]


def test_workers_and_batch_size_do_not_change_results():
    dataset = make_dataset()
    policy = mt.image.TrivialAugmentWide(seed=4)
    reference, labels = run_loader(dataset, policy, batch_size=8, workers=0)
    assert torch.equal(labels, torch.arange(48))
    for batch_size, workers, shuffle in ((5, 2, False), (48, 0, True), (7, 2, True)):
        images, _ = run_loader(dataset, policy, batch_size=batch_size, workers=workers, shuffle=shuffle)
        assert torch.equal(images, reference), (batch_size, workers, shuffle)
    # And they equal a direct call with the dataset indices.
    assert torch.equal(reference, policy(dataset.tensors[0], index=torch.arange(48)))
    assert not torch.equal(reference, dataset.tensors[0])


def test_epochs_draw_differently():
    dataset = make_dataset()
    policy = mt.image.RandAugment(seed=4)
    first, _ = run_loader(dataset, policy, batch_size=16, workers=0, epoch=0)
    second, _ = run_loader(dataset, policy, batch_size=16, workers=0, epoch=1)
    assert not torch.equal(first, second)
    collate = AugmentCollate(policy)
    collate.set_epoch(1)
    assert collate.epoch == 1


class DictDataset(Dataset):
    """Samples as dicts with PIL images, as many real datasets return them."""

    def __init__(self, n: int = 6) -> None:
        self.arrays = [np.full((10, 12, 3), 20 * i, dtype=np.uint8) for i in range(n)]

    def __len__(self) -> int:
        return len(self.arrays)

    def __getitem__(self, i: int) -> dict:
        return {"image": PIL.Image.fromarray(self.arrays[i]), "label": i, "name": f"x{i}"}


def test_dict_samples_with_pil_images():
    collate = AugmentCollate(mt.image.TrivialAugmentWide(seed=0), image_key="image")
    batch = next(iter(DataLoader(IndexedDataset(DictDataset()), batch_size=6, collate_fn=collate)))
    assert batch["image"].shape == (6, 3, 10, 12) and batch["image"].dtype == torch.uint8
    assert batch["label"].tolist() == list(range(6)) and batch["name"] == [f"x{i}" for i in range(6)]


def test_collate_without_policy_returns_indices_for_gpu_augmentation():
    dataset = make_dataset(10)
    collate = AugmentCollate(None, return_index=True)
    (images, _labels), index = collate([IndexedDataset(dataset)[i] for i in (3, 1, 4)])
    assert torch.equal(index, torch.tensor([3, 1, 4])) and torch.equal(images, dataset.tensors[0][[3, 1, 4]])
    policy = mt.image.TrivialAugmentWide(seed=2)
    # Augmenting later (on any device) with those indices gives what the collate would have given.
    later = policy(images, index=index)
    direct = AugmentCollate(policy)([IndexedDataset(dataset)[i] for i in (3, 1, 4)])[0]
    assert torch.equal(later, direct)


def test_plain_items_warn_that_results_depend_on_order():
    dataset = make_dataset(4)
    collate = AugmentCollate(mt.image.TrivialAugmentWide(seed=0))
    with pytest.warns(UserWarning, match="IndexedDataset"):
        images, labels = collate([dataset[i] for i in range(4)])
    assert images.shape == (4, 3, 16, 16) and labels.tolist() == [0, 1, 2, 3]


def test_indexed_items_and_errors():
    item = IndexedDataset(make_dataset(3))[2]
    assert isinstance(item, Indexed) and item.index == 2 and item.sample[1] == 2
    with pytest.raises(TypeError, match="map-style dataset"):
        IndexedDataset(iter([1, 2]))
    with pytest.raises(TypeError, match="expected a mithridate image Policy"):
        AugmentCollate("ta_wide")
    with pytest.raises(TypeError, match="expected images at key 1"):
        AugmentCollate(None, image_key=1)([(torch.zeros(3, 4, 4), "label")])
