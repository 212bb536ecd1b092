"""Training and measuring the image reference model: SGD with Nesterov momentum and weight decay, a linear
warm-up over the first epoch and a cosine decay to zero, the batches drawn by a generator seeded by the
run's data-order seed; the policy augments each batch on the fly with the sample indices and the epoch, so
a run is reproducible whatever the device. No policy (dose 0) is the same loop without augmentation."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ...records import SweepSpec

__all__ = ["ImageTrainer", "TrainStats", "lr_factor"]


def lr_factor(step: int, warmup: int, total: int) -> float:
    """The learning rate's factor at `step`: linear warm-up over `warmup` steps, then a cosine to zero."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


@dataclass
class TrainStats:
    """The mean training loss of the last epoch trained, and timings."""

    final_loss: float = 0.0
    seconds: float = 0.0
    augment_seconds: float = 0.0
    images_augmented: int = 0


class ImageTrainer:
    """Trains `model` in place on uint8 images, one epoch per `train_epoch` call."""

    def __init__(
        self,
        model: nn.Module,
        images: torch.Tensor,
        labels: torch.Tensor,
        spec: SweepSpec,
        order_seed: int,
        device: torch.device,
    ) -> None:
        self.model, self.images, self.device = model, images, device
        self.generator = torch.Generator().manual_seed(order_seed)
        self.n = len(images)
        self.batch = min(spec.batch_size, self.n)
        self.steps_per_epoch = math.ceil(self.n / self.batch)
        total = self.steps_per_epoch * spec.epochs
        self.optimizer = torch.optim.SGD(
            model.parameters(), lr=spec.learning_rate, momentum=0.9, nesterov=True, weight_decay=spec.weight_decay
        )
        warmup = self.steps_per_epoch
        self.schedule = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: lr_factor(s, warmup, total))
        self.labels = labels.to(device)
        self.stats = TrainStats()
        model.train()

    def train_epoch(self, policy: Callable[..., torch.Tensor] | None, epoch: int) -> float:
        """One pass over the data in a fresh random order; returns the epoch's mean loss."""
        start = time.perf_counter()
        order = torch.randperm(self.n, generator=self.generator)
        total_loss, count = 0.0, 0
        for step in range(self.steps_per_epoch):
            index = order[step * self.batch : (step + 1) * self.batch]
            inputs = self.images[index]
            if policy is not None:
                tick = time.perf_counter()
                inputs = policy(inputs, index=index, epoch=epoch)
                self.stats.augment_seconds += time.perf_counter() - tick
                self.stats.images_augmented += len(index)
            x = inputs.to(self.device, non_blocking=True).float().div_(255)
            loss = F.cross_entropy(self.model(x), self.labels[index.to(self.device)])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.schedule.step()
            total_loss += float(loss.detach()) * len(index)
            count += len(index)
        self.stats.final_loss = total_loss / max(count, 1)
        self.stats.seconds += time.perf_counter() - start
        return self.stats.final_loss
