"""Training the text reference model: AdamW (the spec's learning rate and weight decay; fused where available),
a linear warm-up over the first epoch and a cosine decay to zero (as the image task), the batches drawn by a
generator seeded by the run's data-order seed; the policy noises each batch of strings with the sample
indices and the epoch, then the model featurises them. No policy (dose 0) is the same loop without noise."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ...records import SweepSpec
from ..image.training import TrainStats, lr_factor

__all__ = ["TextTrainer"]


def _adamw(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW, fused where the device has a fused kernel (CPU and CUDA: twice as fast on the large embedding)."""
    try:
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, ValueError):
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)


class TextTrainer:
    """Trains `model` in place on strings, one epoch per `train_epoch` call; `stats.images_augmented` counts
    the texts the policy noised (the sweep's name for samples augmented)."""

    def __init__(
        self,
        model: nn.Module,
        texts: Sequence[str],
        labels: torch.Tensor,
        spec: SweepSpec,
        order_seed: int,
        device: torch.device,
    ) -> None:
        if spec.learning_rate is None or spec.epochs is None:
            raise ValueError("TextTrainer: expected a resolved spec (learning rate and epochs set)")
        self.model, self.texts, self.device = model, list(texts), device
        self.generator = torch.Generator().manual_seed(order_seed)
        self.n = len(self.texts)
        self.batch = min(spec.batch_size, self.n)
        self.steps_per_epoch = math.ceil(self.n / self.batch)
        total = self.steps_per_epoch * spec.epochs
        self.optimizer = _adamw(model, spec.learning_rate, spec.weight_decay)
        warmup = self.steps_per_epoch
        self.schedule = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: lr_factor(s, warmup, total))
        self.labels = labels.to(device)
        self.stats = TrainStats()
        model.train()

    def train_epoch(self, policy: Callable[..., list[str]] | None, epoch: int) -> float:
        """One pass over the data in a fresh random order; returns the epoch's mean loss."""
        start = time.perf_counter()
        order = torch.randperm(self.n, generator=self.generator)
        total_loss, count = 0.0, 0
        for step in range(self.steps_per_epoch):
            index = order[step * self.batch : (step + 1) * self.batch]
            batch = [self.texts[i] for i in index.tolist()]
            if policy is not None:
                tick = time.perf_counter()
                batch = policy(batch, index=index, epoch=epoch)
                self.stats.augment_seconds += time.perf_counter() - tick
                self.stats.images_augmented += len(index)
            loss = F.cross_entropy(self.model(batch), self.labels[index.to(self.device)])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.schedule.step()
            total_loss += float(loss.detach()) * len(index)
            count += len(index)
        self.stats.final_loss = total_loss / max(count, 1)
        self.stats.seconds += time.perf_counter() - start
        return self.stats.final_loss
