"""Meters: what a dose does to a model, as plain functions of models, images and losses.

- `accuracy`: top-1 accuracy of a classifier on uint8 images.
- `corruption_accuracy`: accuracy under each corrupted copy of a test set (robustness).
- `affinity` (Gontijo-Lopes et al., 2020): accuracy of a model trained without augmentation on the
  augmented test set over its accuracy on the clean test set: how far augmentation moves the data from
  what the clean model knows (1 = not at all).
- `diversity` (same paper): final training loss with augmentation over that without: how much harder
  the augmented data is to fit (1 = no harder).
- `recode` (Wang et al., 2022): ReCode's robust accuracy, robust drop and robust relative over perturbed
  versions of each test sample.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .recode import recode_metrics, robust_accuracy, robust_drop, robust_relative

__all__ = [
    "accuracy",
    "affinity",
    "corruption_accuracy",
    "diversity",
    "recode_metrics",
    "robust_accuracy",
    "robust_drop",
    "robust_relative",
]


@torch.inference_mode()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: torch.device | str = "cpu") -> float:
    """Top-1 accuracy in [0, 1] of `model` on uint8 images (N, C, H, W), fed as floats in [0, 1], in
    batches of 1,000; the model is put in eval mode."""
    model.eval()
    correct = 0
    for start in range(0, len(images), 1000):
        x = images[start : start + 1000].to(device).float().div_(255)
        predicted = model(x).argmax(dim=1).cpu()
        correct += int((predicted == labels[start : start + 1000]).sum())
    return correct / max(len(images), 1)


def corruption_accuracy(
    model: nn.Module, corrupted: dict[str, torch.Tensor], labels: torch.Tensor, device: torch.device | str = "cpu"
) -> dict[str, float]:
    """Accuracy on each corrupted copy of a test set (keys such as "fog/3"), all with the same labels."""
    return {key: accuracy(model, images, labels, device) for key, images in corrupted.items()}


def affinity(
    clean_model: nn.Module,
    clean_images: torch.Tensor,
    augmented_images: torch.Tensor,
    labels: torch.Tensor,
    device: torch.device | str = "cpu",
) -> float | None:
    """Accuracy of a model trained without augmentation on the augmented test set over its accuracy on
    the clean one (None when the clean accuracy is 0)."""
    clean = accuracy(clean_model, clean_images, labels, device)
    return accuracy(clean_model, augmented_images, labels, device) / clean if clean else None


def diversity(loss: float, reference_loss: float) -> float | None:
    """Final training loss of an augmented run over that of the run without augmentation (same seed);
    None when the reference is not a positive finite number."""
    loss, reference_loss = float(loss), float(reference_loss)
    if not math.isfinite(reference_loss) or reference_loss <= 0:
        return None
    return loss / reference_loss
