"""The text task of the sweep: text classification files and folders (`data`), the fastText-style and
character-CNN reference models (`models`), AdamW with warm-up and cosine decay (`training`), the text
policies and corruption suite of `mithridate.text.strings`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from ....dose import ConstantSchedule, Dose
from ...records import SweepSpec
from .data import corrupted_test_texts, load_text_sweep_data, resolve_text_spec
from .models import build_text_model
from .training import TextTrainer

__all__ = ["TextTask", "text_accuracy", "text_affinity", "text_dose_policy"]


def text_dose_policy(spec: SweepSpec, dose: float, seed: int) -> Any:
    """The spec's text policy with its dose set along the sweep's axis (the string's other component kept)."""
    from ....text.strings import parse_text_policy

    policy = parse_text_policy(spec.policy, seed=seed)
    base = policy.schedule.dose if isinstance(policy.schedule, ConstantSchedule) else Dose()
    field = "strength" if spec.axis == "strength" else "p"
    policy.schedule = ConstantSchedule(dataclasses.replace(base, **{field: dose}))
    return policy


@torch.inference_mode()
def text_accuracy(
    model: Callable[[list[str]], torch.Tensor] | nn.Module,
    texts: Sequence[str],
    labels: torch.Tensor,
    device: torch.device | str = "cpu",
) -> float:
    """Top-1 accuracy in [0, 1] of a text classifier on `texts`, in batches of 1,000 (eval mode)."""
    if isinstance(model, nn.Module):
        model.eval()
    correct = 0
    for start in range(0, len(texts), 1000):
        predicted = model(list(texts[start : start + 1000])).argmax(dim=1).cpu()
        correct += int((predicted == labels[start : start + 1000]).sum())
    return correct / max(len(texts), 1)


def text_affinity(
    clean_model: nn.Module,
    clean_texts: Sequence[str],
    noised_texts: Sequence[str],
    labels: torch.Tensor,
    device: torch.device | str = "cpu",
) -> float | None:
    """Accuracy of a model trained without noise on the noised test texts over its accuracy on the clean
    ones (None when the clean accuracy is 0)."""
    clean = text_accuracy(clean_model, clean_texts, labels, device)
    return text_accuracy(clean_model, noised_texts, labels, device) / clean if clean else None


class TextTask:
    """The `Task` of text data (see `mithridate.experiments.tasks`)."""

    name = "text"

    def resolve(self, spec: SweepSpec) -> SweepSpec:
        return resolve_text_spec(spec)

    def prepare(self, spec: SweepSpec) -> dict[str, Any]:
        data = load_text_sweep_data(spec)
        return {
            "train_texts": data.train.texts,
            "train_labels": data.train.labels,
            "test_texts": data.test.texts,
            "test_labels": data.test.labels,
            "classes": list(data.train.classes),
            "corruption_index": data.corruption_index,
            "corrupted": corrupted_test_texts(data, spec),
        }

    def describe(self, shared: dict[str, Any]) -> str:
        return (
            f"{len(shared['train_texts'])} training and {len(shared['test_texts'])} test texts, "
            f"{len(shared['corrupted'])} corrupted copies of {len(shared['corruption_index'])} test texts"
        )

    def policy(self, spec: SweepSpec, dose: float, seed: int) -> Any:
        return text_dose_policy(spec, dose, seed)

    def build_model(self, spec: SweepSpec, shared: dict[str, Any], device: torch.device) -> nn.Module:
        return build_text_model(spec.model or "fasttext", len(shared["classes"])).to(device)

    def training_set(
        self, spec: SweepSpec, shared: dict[str, Any], dose: float, seed: int
    ) -> tuple[list[str], torch.Tensor, dict[str, Any]]:
        return list(shared["train_texts"]), shared["train_labels"], {}

    def trainer(
        self,
        model: nn.Module,
        inputs: list[str],
        labels: torch.Tensor,
        spec: SweepSpec,
        seed: int,
        device: torch.device,
    ) -> TextTrainer:
        return TextTrainer(model, inputs, labels, spec, seed, device)

    def evaluate(self, model: nn.Module, shared: dict[str, Any], device: torch.device) -> dict[str, float]:
        clean = text_accuracy(model, shared["test_texts"], shared["test_labels"], device)
        labels = shared["test_labels"][shared["corruption_index"]]
        per_corruption = {
            f"corruption/{key}": text_accuracy(model, texts, labels, device)
            for key, texts in shared["corrupted"].items()
        }
        return {"clean_accuracy": clean, **per_corruption}

    def affinity(self, reference: nn.Module, policy: Any, shared: dict[str, Any], device: torch.device) -> float:
        texts, labels = shared["test_texts"], shared["test_labels"]
        noised = policy(list(texts), index=torch.arange(len(texts)), epoch=0)
        value = text_affinity(reference, texts, noised, labels, device)
        return float("nan") if value is None else value
