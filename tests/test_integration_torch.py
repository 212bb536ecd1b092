"""DataLoader integration: results do not depend on batch size or worker count (persistent or not); the epoch
and the training progress travel with the indices from the main process; the collate keeps labels."""

from __future__ import annotations

import warnings

import numpy as np
import PIL.Image
import pytest
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, DistributedSampler, SequentialSampler, TensorDataset

import mithridate as mt
from mithridate.integrations import (
    AugmentCollate,
    BatchKeys,
    EpochSampler,
    Indexed,
    IndexedDataset,
    SampleKey,
)

EPOCHS = 3
RAMP = mt.LinearSchedule(mt.Dose(strength=0.0), mt.Dose(strength=2.0))  # the dose reveals the progress


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
    with pytest.warns(UserWarning, match="persistent_workers=True.*EpochSampler"):
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


# The epoch and the progress travel with the indices ----------------------------------------------------


def run_epochs(dataset, collate, sampler, *, batch_size: int, workers: int, persistent: bool, on_epoch=None):
    """Run EPOCHS epochs, calling set_epoch on the sampler (or `on_epoch(epoch)`, for the old pattern), and
    return per epoch the images in dataset order and the batches' keys."""
    loader = DataLoader(
        IndexedDataset(dataset),
        batch_size=batch_size,
        sampler=sampler,
        num_workers=workers,
        persistent_workers=persistent,
        collate_fn=collate,
    )
    epochs = []
    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch) if on_epoch is None else on_epoch(epoch)
        images, labels, keys = [], [], []
        for (batch, label), batch_keys in loader:
            images.append(batch)
            labels.append(label)
            keys.append(batch_keys)
        order = torch.argsort(torch.cat(labels))
        epochs.append((torch.cat(images)[order], keys))
    return epochs


def expected(dataset, policy, sampler: EpochSampler, epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """What epoch `epoch` must give: the policy on the dataset's images, each at the progress at which the
    sampler draws it, (epoch + position / 48) / EPOCHS."""
    sampler.set_epoch(epoch)
    order = torch.tensor([key.index for key in sampler])
    progress = torch.empty(len(order), dtype=torch.float64)
    progress[order] = (epoch + torch.arange(len(order), dtype=torch.float64) / len(order)) / EPOCHS
    images = dataset.tensors[0]
    return policy(images, index=torch.arange(len(images)), epoch=epoch, progress=progress), progress


SETUPS = [
    (workers, persistent, batch) for workers, persistent in ((0, False), (2, False), (2, True)) for batch in (8, 48)
]


def test_epoch_sampler_gives_every_loader_setup_the_same_epochs_and_doses():
    dataset = make_dataset()
    policy = mt.image.TrivialAugmentWide(seed=4, dose=RAMP)
    reference = EpochSampler(dataset, shuffle=True, seed=7, epochs=EPOCHS)
    wanted = [expected(dataset, policy, reference, epoch) for epoch in range(EPOCHS)]
    # Epochs differ from each other, and the ramp's first sample (progress 0, strength 0) is untouched.
    for a in range(EPOCHS):
        for b in range(a):
            assert not torch.equal(wanted[a][0], wanted[b][0])
    first = int(torch.argmin(wanted[0][1]))
    assert torch.equal(wanted[0][0][first], dataset.tensors[0][first])
    for workers, persistent, batch_size in SETUPS:
        sampler = EpochSampler(dataset, shuffle=True, seed=7, epochs=EPOCHS)
        collate = AugmentCollate(policy, return_keys=True)
        epochs = run_epochs(dataset, collate, sampler, batch_size=batch_size, workers=workers, persistent=persistent)
        for epoch, (images, keys) in enumerate(epochs):
            setup = (workers, persistent, batch_size, epoch)
            assert torch.equal(images, wanted[epoch][0]), setup
            assert all(isinstance(k, BatchKeys) and k.epoch == epoch for k in keys), setup
            progress = torch.empty(48, dtype=torch.float64)
            progress[torch.cat([k.index for k in keys])] = torch.cat([k.progress for k in keys])
            assert torch.equal(progress, wanted[epoch][1]), setup  # the same per-sample dose, exactly


def test_old_set_epoch_pattern_goes_stale_with_persistent_workers():
    """The limitation the sampler removes, shown so that the test above is known to be able to see it:
    persistent workers keep the collate's first epoch and the policy's first progress for good."""
    dataset = make_dataset()
    policy = mt.image.TrivialAugmentWide(seed=4, dose=RAMP)
    epochs_of = {}
    for persistent in (False, True):
        collate = AugmentCollate(policy, return_keys=True)

        def on_epoch(epoch: int, collate: AugmentCollate = collate) -> None:
            collate.set_epoch(epoch)
            policy.progress = (epoch + 1) / EPOCHS  # the old way to move a schedule, in the main process

        with pytest.warns(UserWarning, match="EpochSampler"):
            epochs_of[persistent] = run_epochs(
                dataset, collate, None, batch_size=16, workers=2, persistent=persistent, on_epoch=on_epoch
            )
    fresh, stale = epochs_of[False], epochs_of[True]
    assert not torch.equal(fresh[1][0], fresh[0][0])  # fresh workers copy the new epoch and progress ...
    assert torch.equal(stale[1][0], stale[0][0]) and torch.equal(stale[2][0], stale[0][0])  # ... persistent do not
    index = torch.arange(48)
    assert torch.equal(fresh[2][0], policy(dataset.tensors[0], index=index, epoch=2, progress=1.0))
    assert torch.equal(stale[2][0], policy(dataset.tensors[0], index=index, epoch=0, progress=1 / EPOCHS))


def test_prefetching_keeps_each_batch_in_its_epoch():
    dataset = make_dataset()
    sampler = EpochSampler(dataset, epochs=EPOCHS)
    loader = DataLoader(
        IndexedDataset(dataset),
        batch_size=4,
        sampler=sampler,
        num_workers=2,
        persistent_workers=True,
        prefetch_factor=4,
        collate_fn=AugmentCollate(None, return_keys=True),
    )
    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)
        seen = []
        for step, (_, keys) in enumerate(loader):
            if step == 0 and epoch + 1 < EPOCHS:
                sampler.set_epoch(epoch + 1)  # mid-epoch: the running iterator (and its prefetch) keeps its epoch
            seen.append(keys.epoch)
            assert torch.equal(keys.progress, (epoch + keys.index.double() / 48) / EPOCHS)  # sequential order
        assert seen == [epoch] * 12


def test_keys_win_over_the_collate_epoch_and_the_policy_progress():
    dataset = make_dataset(12)
    policy = mt.image.RandAugment(seed=2, dose=RAMP)
    policy.progress = 1.0
    collate = AugmentCollate(policy, epoch=5)
    keys = [SampleKey(1, 0.25, i) for i in range(12)]
    images, _ = collate([IndexedDataset(dataset)[key] for key in keys])
    assert torch.equal(images, policy(dataset.tensors[0], index=torch.arange(12), epoch=1, progress=0.25))
    # Without progress in the keys, the policy's own is used (fine in the main process).
    images, _ = collate([IndexedDataset(dataset)[SampleKey(1, None, i)] for i in range(12)])
    assert torch.equal(images, policy(dataset.tensors[0], index=torch.arange(12), epoch=1, progress=1.0))


def test_a_scheduled_dose_without_progress_in_a_worker_warns(monkeypatch):
    import mithridate.integrations.torch as integration

    monkeypatch.setattr(integration, "get_worker_info", lambda: object())  # as if in a DataLoader worker
    items = [IndexedDataset(make_dataset(4))[i] for i in range(4)]
    with pytest.warns(UserWarning, match="its own copy of policy.progress"):
        AugmentCollate(mt.image.TrivialAugmentWide(seed=0, dose=RAMP))(items)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a constant dose has nothing to go stale
        AugmentCollate(mt.image.TrivialAugmentWide(seed=0))(items)


def test_distributed_sampler_ranks_split_the_epoch_and_follow_set_epoch():
    dataset = make_dataset()
    policy = mt.image.AutoAugment(seed=3, dose=RAMP)
    seen = []
    for rank in range(2):
        inner = DistributedSampler(dataset, num_replicas=2, rank=rank, shuffle=True, seed=3)
        sampler = EpochSampler(sampler=inner, epochs=EPOCHS)
        sampler.set_epoch(2)
        assert inner.epoch == 2 and len(sampler) == 24
        keys = list(sampler)
        assert [key.index for key in keys] == list(inner)
        assert [key.progress for key in keys] == [(2 + position / 24) / EPOCHS for position in range(24)]
        loader = DataLoader(
            IndexedDataset(dataset),
            batch_size=10,
            sampler=sampler,
            num_workers=0,
            collate_fn=AugmentCollate(policy, return_keys=True),
        )
        for (images, _), batch in loader:
            wanted = policy(dataset.tensors[0][batch.index], index=batch.index, epoch=2, progress=batch.progress)
            assert torch.equal(images, wanted)
        seen += [key.index for key in keys]
    assert sorted(seen) == list(range(48))


def test_epoch_sampler_orders_and_progress():
    dataset = make_dataset(10)
    assert [key for key in EpochSampler(dataset)] == [SampleKey(0, None, i) for i in range(10)]
    shuffled = EpochSampler(dataset, shuffle=True, seed=5)
    orders = {}
    for epoch in (2, 0, 1, 2):
        shuffled.set_epoch(epoch)
        order = [key.index for key in shuffled]
        assert orders.setdefault(epoch, order) == order  # a pure function of (seed, epoch)
        assert sorted(order) == list(range(10))
    assert orders[0] != orders[1]
    custom = EpochSampler(dataset, progress=lambda epoch, position: (epoch * 10 + position) / 20, epoch=1)
    assert [key.progress for key in custom] == [(10 + position) / 20 for position in range(10)]
    assert [key.epoch for key in custom] == [1] * 10


def test_per_sample_progress_gives_each_sample_the_dose_of_its_own_progress():
    schedule = mt.LinearSchedule(mt.Dose(p=0.3, strength=0.0), mt.Dose(p=1.0, strength=2.0))
    n = 24
    progress = torch.linspace(0.0, 1.0, n, dtype=torch.float64)
    images = make_dataset(n).tensors[0]
    for kind in (mt.image.TrivialAugmentWide, mt.image.RandAugment, mt.image.AutoAugment, mt.image.AugMix):
        policy = kind(seed=3, dose=schedule)
        plan = policy.sample(n, (16, 16), index=range(n), epoch=1, progress=progress)
        batch = policy(images, index=range(n), epoch=1, progress=progress)
        for i in range(n):
            one = policy.sample(1, (16, 16), index=[i], epoch=1, progress=float(progress[i]))
            assert torch.equal(plan.ops[i : i + 1], one.ops) and torch.equal(plan.magnitudes[i : i + 1], one.magnitudes)
            assert torch.equal(
                batch[i : i + 1], policy(images[i : i + 1], index=[i], epoch=1, progress=float(progress[i]))
            )
    # The magnitudes reveal the dose: Rotate at bin 10 of 31 is 10 degrees at strength 1, here 2 * progress.
    policy = mt.image.RandAugment(num_ops=1, magnitude=10, seed=1, dose=RAMP)
    n = 512
    progress = torch.rand(n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    plan = policy.sample(n, (16, 16), index=range(n), progress=progress)
    rotate = plan.ops[:, 0, 0] == mt.image.ops.OP_IDS["Rotate"]
    assert rotate.sum() > 10
    strength = plan.magnitudes[rotate, 0, 0].abs().double() / 10.0
    assert torch.allclose(strength, 2 * progress[rotate], rtol=1e-5, atol=1e-6)
    # One progress for all samples draws what the number would.
    same = policy.sample(8, (16, 16), index=range(8), progress=torch.full((8,), 0.5, dtype=torch.float64))
    number = policy.sample(8, (16, 16), index=range(8), progress=0.5)
    assert torch.equal(same.ops, number.ops) and torch.equal(same.magnitudes, number.magnitudes)


def test_bad_keys_and_batches_get_clear_errors():
    indexed = IndexedDataset(make_dataset(4))
    with pytest.raises(ValueError, match=r"SampleKey\.epoch: expected a non-negative integer epoch, got -1"):
        indexed[SampleKey(-1, None, 0)]
    with pytest.raises(ValueError, match=r"SampleKey.progress: expected training progress in \[0, 1\]"):
        indexed[SampleKey(0, 1.5, 0)]
    with pytest.raises(ValueError, match=r"SampleKey\.index"):
        indexed[SampleKey(0, 0.5, -2)]
    with pytest.raises(TypeError, match="a dataset index or a SampleKey"):
        indexed["0"]
    collate = AugmentCollate(mt.image.TrivialAugmentWide(seed=0))
    with pytest.raises(ValueError, match="one batch holds samples of epochs 0, 1"):
        collate([indexed[SampleKey(0, 0.0, 0)], indexed[SampleKey(1, 0.5, 1)]])
    with pytest.raises(ValueError, match="epochs 0, None"):
        collate([indexed[SampleKey(0, None, 0)], indexed[1]])
    with pytest.raises(ValueError, match="some samples of the batch carry a training progress"):
        collate([indexed[SampleKey(0, None, 0)], indexed[SampleKey(0, 0.5, 1)]])
    with pytest.raises(ValueError, match="return_index or return_keys"):
        AugmentCollate(None, return_index=True, return_keys=True)
    with pytest.raises(ValueError, match=r"a floating tensor of one progress per sample, shape \(4,\)"):
        mt.image.TrivialAugmentWide(seed=0).sample(4, (8, 8), index=range(4), progress=torch.zeros(3))
    dataset = make_dataset(8)
    with pytest.raises(ValueError, match="a dataset or a sampler"):
        EpochSampler(dataset, sampler=SequentialSampler(dataset))
    with pytest.raises(ValueError, match="a dataset or a sampler"):
        EpochSampler()
    with pytest.raises(ValueError, match="epochs: expected the number of training epochs"):
        EpochSampler(dataset, epochs=0)
    with pytest.raises(ValueError, match="not both"):
        EpochSampler(dataset, epochs=2, progress=lambda epoch, position: 0.0)
    with pytest.raises(ValueError, match=r"seed: .*with shuffle=True"):
        EpochSampler(dataset, seed=1)
    with pytest.raises(ValueError, match="a given sampler orders itself"):
        EpochSampler(sampler=SequentialSampler(dataset), shuffle=True)
    with pytest.raises(ValueError, match=r"expected an epoch in \[0, epochs=2\), got 2"):
        EpochSampler(dataset, epochs=2).set_epoch(2)
    with pytest.raises(ValueError, match="non-negative integer epoch, got -1"):
        EpochSampler(dataset).set_epoch(-1)
    with pytest.raises(TypeError, match="yield dataset indices, got list"):
        list(EpochSampler(sampler=BatchSampler(SequentialSampler(dataset), 4, False)))
    with pytest.raises(ValueError, match=r"progress\(epoch, position\): expected training progress in \[0, 1\]"):
        list(EpochSampler(dataset, progress=lambda epoch, position: 2.0))
