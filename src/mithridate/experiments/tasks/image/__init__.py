"""The image task of the sweep: digits, image folders and CIFAR-10 batches (`data`), the small CNN and
ResNet-8 (`models`), SGD with warm-up and cosine decay (`training`), the 19 corruptions at 5 severities."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from ....data.mix import Mix
from ....dose import ConstantSchedule, Dose
from ....image.policies import Policy
from ....image.policy_string import parse_policy
from ....meters import accuracy, affinity, corruption_accuracy
from ...records import SweepSpec
from .data import corrupted_test_set, load_sweep_data, resolve_spec
from .models import build_model
from .training import ImageTrainer

__all__ = ["ImageTask", "dose_policy"]


def dose_policy(spec: SweepSpec, dose: float, seed: int) -> Policy:
    """The spec's policy with its dose set along the sweep's axis (the string's other component kept); on the
    synthetic-ratio axis the dose is the data's mix and the policy keeps the dose of its string."""
    policy = parse_policy(spec.policy, seed=seed)
    if spec.axis == "synthetic-ratio":
        return policy
    base = policy.schedule.dose if isinstance(policy.schedule, ConstantSchedule) else Dose()
    field = "strength" if spec.axis == "strength" else "p"
    policy.schedule = ConstantSchedule(dataclasses.replace(base, **{field: dose}))
    return policy


class ImageTask:
    """The `Task` of image data (see `mithridate.experiments.tasks`)."""

    name = "image"

    def resolve(self, spec: SweepSpec) -> SweepSpec:
        return resolve_spec(spec)

    def prepare(self, spec: SweepSpec) -> dict[str, Any]:
        data = load_sweep_data(spec)
        shared = {
            "train_images": data.train.images,
            "train_labels": data.train.labels,
            "test_images": data.test.images,
            "test_labels": data.test.labels,
            "classes": list(data.train.classes),
            "mean": data.mean,
            "std": data.std,
            "corruption_index": data.corruption_index,
            "corrupted": corrupted_test_set(data, spec),
        }
        if data.synthetic is not None:
            shared["synthetic_images"] = data.synthetic.images
            shared["synthetic_labels"] = data.synthetic.labels
        return shared

    def describe(self, shared: dict[str, Any]) -> str:
        return (
            f"{len(shared['train_images'])} training and {len(shared['test_images'])} test images, "
            f"{len(shared['corrupted'])} corrupted copies of {len(shared['corruption_index'])} test images"
        )

    def policy(self, spec: SweepSpec, dose: float, seed: int) -> Policy:
        return dose_policy(spec, dose, seed)

    def build_model(self, spec: SweepSpec, shared: dict[str, Any], device: torch.device) -> nn.Module:
        channels, classes = shared["train_images"].shape[1], len(shared["classes"])
        return build_model(spec.model or "cnn", channels, classes, shared["mean"], shared["std"]).to(device)

    def training_set(
        self, spec: SweepSpec, shared: dict[str, Any], dose: float, seed: int
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
        images, labels = shared["train_images"], shared["train_labels"]
        if spec.axis != "synthetic-ratio":
            return images, labels, {}
        synthetic_images, synthetic_labels = shared["synthetic_images"], shared["synthetic_labels"]
        mix = Mix(range(len(images)), range(len(synthetic_images)), dose, seed=seed, replace=True)
        mixed = mix.take(images, synthetic_images), mix.take(labels, synthetic_labels)
        return *mixed, {"synthetic_images": mix.n_synthetic}

    def trainer(
        self,
        model: nn.Module,
        inputs: torch.Tensor,
        labels: torch.Tensor,
        spec: SweepSpec,
        seed: int,
        device: torch.device,
    ) -> ImageTrainer:
        return ImageTrainer(model, inputs, labels, spec, seed, device)

    def evaluate(self, model: nn.Module, shared: dict[str, Any], device: torch.device) -> dict[str, float]:
        clean = accuracy(model, shared["test_images"], shared["test_labels"], device)
        labels = shared["test_labels"][shared["corruption_index"]]
        per_corruption = corruption_accuracy(model, shared["corrupted"], labels, device)
        return {"clean_accuracy": clean, **{f"corruption/{name}": value for name, value in per_corruption.items()}}

    def affinity(self, reference: nn.Module, policy: Any, shared: dict[str, Any], device: torch.device) -> float:
        images, labels = shared["test_images"], shared["test_labels"]
        augmented = policy(images, index=torch.arange(len(images)), epoch=0)
        return affinity(reference, images, augmented, labels, device)
