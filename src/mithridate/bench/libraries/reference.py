"""The memory-bound reference: copying the batch, the floor no augmentation can beat."""

from __future__ import annotations

import torch

from ..cases import Case

NAME = "copy"
MODE = "batch"
PACKAGE = "torch"
DEVICES = ("cpu", "cuda")


def unavailable() -> str | None:
    return None


def version() -> str:
    return torch.__version__


def note(case: Case) -> str | None:
    return "torch clone of the batch: reads and writes every byte once"


def prepare(case: Case, images: torch.Tensor, device: torch.device):
    if case.group != "reference":
        return None
    return lambda count: images.clone()
