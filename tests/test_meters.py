"""Meters: accuracy, robustness, affinity and diversity on a model whose answers are known."""

import math

import torch
from torch import nn

from mithridate.meters import accuracy, affinity, corruption_accuracy, diversity


class BrightnessClassifier(nn.Module):
    """Class 1 when the mean intensity is above one half, else class 0: a model with known answers."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bright = x.mean(dim=(1, 2, 3))
        return torch.stack([0.5 - bright, bright - 0.5], dim=1)


def images_of(levels: list[int]) -> torch.Tensor:
    return torch.tensor(levels, dtype=torch.uint8).view(-1, 1, 1, 1).expand(-1, 1, 4, 4).contiguous()


def test_accuracy_feeds_images_in_unit_range_and_batches():
    model = BrightnessClassifier()
    images = images_of([10, 250] * 1500)  # more than one batch of 1,000
    labels = torch.tensor([0, 1] * 1500)
    assert accuracy(model, images, labels) == 1.0
    assert accuracy(model, images, 1 - labels) == 0.0
    assert accuracy(model, images[:0], labels[:0]) == 0.0


def test_corruption_accuracy_and_affinity():
    model = BrightnessClassifier()
    clean, labels = images_of([10, 250, 20, 240]), torch.tensor([0, 1, 0, 1])
    darkened = images_of([10, 100, 20, 240])  # one bright image no longer reads as bright
    assert corruption_accuracy(model, {"dark/1": darkened, "same/1": clean}, labels) == {"dark/1": 0.75, "same/1": 1.0}
    assert affinity(model, clean, darkened, labels) == 0.75
    assert affinity(model, clean, clean, 1 - labels) is None  # clean accuracy 0: no ratio


def test_diversity():
    assert diversity(0.5, 0.25) == 2.0
    assert diversity(0.5, 0.0) is None and diversity(0.5, math.nan) is None and diversity(0.5, -1.0) is None
