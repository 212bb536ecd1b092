"""Training the code reference model: the text task's loop (AdamW with warm-up and cosine decay, batches drawn
by a generator seeded by the run's data-order seed, the policy noising each batch of sources with the sample
indices and the epoch), with the policy's training progress (epoch / epochs) set at the start of each epoch, so
a code policy with a dose schedule follows it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from ...records import SweepSpec
from ..text.training import TextTrainer

__all__ = ["CodeTrainer"]


class CodeTrainer(TextTrainer):
    """Trains `model` in place on source strings, one epoch per `train_epoch` call (see `TextTrainer`)."""

    def __init__(
        self,
        model: nn.Module,
        sources: Sequence[str],
        labels: torch.Tensor,
        spec: SweepSpec,
        order_seed: int,
        device: torch.device,
    ) -> None:
        super().__init__(model, sources, labels, spec, order_seed, device)
        self.epochs = int(spec.epochs or 1)

    def train_epoch(self, policy: Callable[..., list[str]] | None, epoch: int) -> float:
        """One pass over the data in a fresh random order; returns the epoch's mean loss."""
        if policy is not None and hasattr(policy, "progress"):
            policy.progress = min(epoch / self.epochs, 1.0)
        return super().train_epoch(policy, epoch)
