"""The data of a sweep: train and test splits of real data, each data source's documented defaults, and the
corrupted test set that every run of a sweep is measured on.

Defaults, by data:

- `digits` (the embedded default): scikit-learn's 1,797 handwritten digits, upsampled from 8x8 to 32x32
  (bilinear) so that the policies' published magnitude ranges, which are in pixels of CIFAR-size images,
  and the CIFAR-10-C corruption parameters apply. A low-data regime: 30 training images per class (300),
  drawn by a fixed stratified split, and the other 1,497 images for testing. Small CNN, 60 epochs.
  Corruption accuracy is measured on 500 of the test images (stratified), at all 19 corruptions x 5
  severities, to keep the default sweep under three minutes on two cores.
- an image folder with `train/` and `test/` class folders (e.g. ../shared/data/cifar10-small), or a
  CIFAR-10 python-batch folder: its own split; all training images unless `train_size` says how many
  per class; the small CNN, 30 epochs; corruptions on the whole test set. `model = "resnet"` trains a
  ResNet-8 instead (about three times slower on a CPU: a 5,000-image sweep then takes about an hour).
- any other image folder: split like the digits (`train_size` per class, default 30, the rest for testing).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn import functional as F

from ....data.datasets import DatasetError, ImageDataset, load_cifar10_batches, load_digits, load_image_folder
from ....data.rendered_digits import rendered_digits_dataset
from ....image.corruptions import CORRUPTIONS, corrupt
from ...records import SweepSpec

RENDERED_DIGITS = "rendered-digits"
"""The synthetic source of digits: 0-9 rendered from matplotlib's fonts with domain randomisation."""

__all__ = ["SweepData", "corrupted_test_set", "load_sweep_data", "resolve_spec"]

SPLIT_SEED = 20_201_130  # the fixed seed of the stratified splits: every run and seed sees the same split
CORRUPTION_SEED = 0


def _kind(data: str) -> str:
    if data == "digits":
        return "digits"
    path = Path(data)
    if (path / "batches.meta").is_file() or (path / "data_batch_1").is_file():
        return "cifar-batches"
    if (path / "train").is_dir() and (path / "test").is_dir():
        return "split-folder"
    if path.is_dir():
        return "folder"
    raise DatasetError(
        f"data {data!r}: expected 'digits', an image folder with train/ and test/ class folders, "
        "a CIFAR-10 python-batch folder or an image folder; no such folder"
    )


IMAGE_DEFAULTS = {"policy": "ta_wide", "learning_rate": 0.05}
"""The image task's policy and learning rate (None in `SweepSpec`, whose defaults are the task's)."""
_DEFAULTS = {
    "digits": {"model": "cnn", "epochs": 60, "train_size": 30, "corruption_test_size": 500},
    "cifar-batches": {"model": "cnn", "epochs": 30, "train_size": None, "corruption_test_size": None},
    "split-folder": {"model": "cnn", "epochs": 30, "train_size": None, "corruption_test_size": None},
    "folder": {"model": "cnn", "epochs": 30, "train_size": 30, "corruption_test_size": None},
}


def resolve_spec(spec: SweepSpec) -> SweepSpec:
    """The spec with the data's defaults filled in (policy, learning rate, model, epochs, train size,
    corruptions)."""
    kind = _kind(spec.data)
    defaults = _DEFAULTS[kind]
    changes = {name: value for name, value in defaults.items() if getattr(spec, name) is None}
    changes.update({name: value for name, value in IMAGE_DEFAULTS.items() if getattr(spec, name) is None})
    if spec.corruptions is None:
        changes["corruptions"] = CORRUPTIONS
    if spec.axis == "synthetic-ratio" and spec.synthetic is None:
        if kind != "digits":
            raise ValueError(
                "synthetic: the synthetic-ratio axis needs a synthetic source (--synthetic FOLDER, an image folder "
                "with the training data's classes); only digits has a default (rendered-digits)"
            )
        changes["synthetic"] = RENDERED_DIGITS
    unknown = sorted(set(spec.corruptions or ()) - set(CORRUPTIONS))
    if unknown:
        raise ValueError(f"corruptions: unknown {unknown}; expected some of {', '.join(CORRUPTIONS)}")
    return dataclasses.replace(spec, **changes)


def _stratified(labels: torch.Tensor, per_class: int | None, seed: int) -> torch.Tensor:
    """Indices of up to `per_class` samples of every class, in a fixed random order, sorted."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(labels), generator=generator)
    chosen = []
    for label in labels.unique().tolist():
        members = order[labels[order] == label]
        chosen.append(members if per_class is None else members[:per_class])
    return torch.cat(chosen).sort().values


def _split(dataset: ImageDataset, per_class: int) -> tuple[ImageDataset, ImageDataset]:
    train = _stratified(dataset.labels, per_class, SPLIT_SEED)
    rest = torch.ones(len(dataset), dtype=torch.bool)
    rest[train] = False
    if not rest.any():
        raise DatasetError(f"train_size {per_class} per class leaves no image for testing")
    return dataset.subset(train), dataset.subset(rest.nonzero().flatten())


@dataclass
class SweepData:
    """Train and test images (uint8, N C H W), labels, class names, the training set's per-channel mean
    and standard deviation in [0, 1] units, and the stratified test indices used for corruptions."""

    train: ImageDataset
    test: ImageDataset
    mean: torch.Tensor
    std: torch.Tensor
    corruption_index: torch.Tensor
    synthetic: ImageDataset | None = None

    @property
    def channels(self) -> int:
        return int(self.train.images.shape[1])

    @property
    def classes(self) -> int:
        return len(self.train.classes)


def _upsample_digits(digits: ImageDataset) -> ImageDataset:
    """8x8 digits at 32x32, as the sweep trains on them."""
    images = F.interpolate(digits.images.float(), size=(32, 32), mode="bilinear", align_corners=False)
    return ImageDataset(images.round().clamp(0, 255).to(torch.uint8), digits.labels, digits.classes)


def _synthetic(spec: SweepSpec, train: ImageDataset) -> ImageDataset | None:
    """The synthetic images of the synthetic-ratio axis: as many per class as the training set has."""
    if spec.axis != "synthetic-ratio":
        return None
    per_class = max(int(torch.bincount(train.labels).max()), 1)
    if spec.synthetic == RENDERED_DIGITS:
        rendered = _upsample_digits(rendered_digits_dataset(per_class, seed=SPLIT_SEED))
        if _kind(spec.data) != "digits" or tuple(rendered.images.shape[1:]) != tuple(train.images.shape[1:]):
            raise DatasetError("synthetic: rendered-digits goes with data digits only")
        return rendered
    folder = load_image_folder(spec.synthetic, size=tuple(train.images.shape[-2:]), limit_per_class=per_class)
    if folder.classes != train.classes:
        raise DatasetError(
            f"synthetic {spec.synthetic!r}: expected the training data's classes {list(train.classes)}, "
            f"got {list(folder.classes)}"
        )
    if folder.images.shape[1] != train.images.shape[1]:
        raise DatasetError(f"synthetic {spec.synthetic!r}: expected {train.images.shape[1]}-channel images")
    return folder


def load_sweep_data(spec: SweepSpec) -> SweepData:
    """Load and split the data of a resolved spec (see the module docstring)."""
    kind = _kind(spec.data)
    if kind == "digits":
        train, test = _split(_upsample_digits(load_digits()), spec.train_size or 30)
    elif kind == "cifar-batches":
        train, test = load_cifar10_batches(spec.data, "train"), load_cifar10_batches(spec.data, "test")
        train = train.subset(_stratified(train.labels, spec.train_size, SPLIT_SEED))
    elif kind == "split-folder":
        root = Path(spec.data)
        train = load_image_folder(root / "train", limit_per_class=spec.train_size)
        test = load_image_folder(root / "test", size=tuple(train.images.shape[-2:]))
        if test.classes != train.classes:
            raise DatasetError(f"data {spec.data!r}: train/ and test/ have different classes")
    else:
        train, test = _split(load_image_folder(spec.data), spec.train_size or 30)
    scaled = train.images.float().div_(255)
    mean = scaled.mean(dim=(0, 2, 3))
    std = scaled.std(dim=(0, 2, 3))
    corruption_index = _stratified(test.labels, None, SPLIT_SEED)
    if spec.corruption_test_size is not None and spec.corruption_test_size < len(test):
        per_class = max(spec.corruption_test_size // len(test.classes), 1)
        corruption_index = _stratified(test.labels, per_class, SPLIT_SEED)
    return SweepData(train, test, mean, std, corruption_index, _synthetic(spec, train))


def corrupted_test_set(data: SweepData, spec: SweepSpec) -> dict[str, torch.Tensor]:
    """The corruption subset of the test set under every corruption and severity of the spec, keyed
    "name/severity": deterministic (seed 0, sample index = test index), so every run sees the same."""
    images = data.test.images[data.corruption_index]
    out = {}
    for name in spec.corruptions or CORRUPTIONS:
        for severity in spec.severities:
            out[f"{name}/{severity}"] = corrupt(
                images, name, severity, seed=CORRUPTION_SEED, index=data.corruption_index
            )
    return out
