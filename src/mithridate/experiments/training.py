"""One run of a sweep: train a reference model with the policy at one dose and seed, then measure it.

The recipe is the same at every dose: SGD with Nesterov momentum, weight decay, a linear warm-up over the
first epoch and a cosine decay to zero, the training batches drawn by a generator seeded by the run's
seed. The policy augments each batch on the fly with the sample indices and the epoch, so a run is
reproducible whatever the device. Dose 0 is the same loop without augmentation.
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import resource
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .. import __version__
from ..data.mix import Mix
from ..dose import ConstantSchedule, Dose
from ..image.policies import Policy
from ..image.policy_string import parse_policy
from ..meters import accuracy, affinity, corruption_accuracy
from .models import build_model
from .records import RunRecord, SweepSpec

__all__ = ["RunTask", "dose_policy", "evaluate", "load_prepared", "run_one", "save_prepared", "train"]


@dataclass(frozen=True)
class RunTask:
    """Everything a worker process needs for one run (picklable)."""

    spec: SweepSpec
    sweep_id: str
    dose: float
    seed: int
    device: str
    prepared: Path
    model_dir: Path

    @property
    def label(self) -> str:
        return f"{self.spec.axis}={self.dose:g} seed={self.seed}"


def dose_policy(spec: SweepSpec, dose: float, seed: int) -> Policy:
    """The spec's policy with its dose set along the sweep's axis (the string's other component kept)."""
    policy = parse_policy(spec.policy, seed=seed)
    if spec.axis == "synthetic-ratio":  # the dose is the data's mix; the policy keeps its own dose
        return policy
    base = policy.schedule.dose if isinstance(policy.schedule, ConstantSchedule) else Dose()
    field = "strength" if spec.axis == "strength" else "p"
    policy.schedule = ConstantSchedule(dataclasses.replace(base, **{field: dose}))
    return policy


def save_prepared(path: Path, data, corrupted: dict[str, torch.Tensor]) -> None:
    """Write the sweep's data and corrupted test set for worker processes (atomically)."""
    payload = {
        "train_images": data.train.images,
        "train_labels": data.train.labels,
        "test_images": data.test.images,
        "test_labels": data.test.labels,
        "classes": list(data.train.classes),
        "mean": data.mean,
        "std": data.std,
        "corruption_index": data.corruption_index,
        "corrupted": corrupted,
    }
    if data.synthetic is not None:
        payload["synthetic_images"] = data.synthetic.images
        payload["synthetic_labels"] = data.synthetic.labels
    partial = path.with_suffix(".partial")
    torch.save(payload, partial)
    os.replace(partial, path)


def load_prepared(path: Path) -> dict:
    """Read what save_prepared wrote, memory-mapped (workers share the pages)."""
    return torch.load(path, mmap=True, weights_only=True)


def _lr_factor(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


@dataclass
class TrainStats:
    final_loss: float
    seconds: float
    augment_seconds: float
    images_augmented: int


def train(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    policy: Policy | None,
    spec: SweepSpec,
    seed: int,
    device: torch.device,
) -> TrainStats:
    """Train in place; returns the mean training loss of the last epoch and timings."""
    generator = torch.Generator().manual_seed(seed)
    n = len(images)
    batch = min(spec.batch_size, n)
    steps_per_epoch = math.ceil(n / batch)
    total = steps_per_epoch * spec.epochs
    optimizer = torch.optim.SGD(
        model.parameters(), lr=spec.learning_rate, momentum=0.9, nesterov=True, weight_decay=spec.weight_decay
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _lr_factor(s, steps_per_epoch, total))
    labels = labels.to(device)
    model.train()
    start = time.perf_counter()
    augment_seconds, augmented, last_loss, last_count = 0.0, 0, 0.0, 0
    for epoch in range(spec.epochs):
        order = torch.randperm(n, generator=generator)
        for step in range(steps_per_epoch):
            index = order[step * batch : (step + 1) * batch]
            inputs = images[index]
            if policy is not None:
                tick = time.perf_counter()
                inputs = policy(inputs, index=index, epoch=epoch)
                augment_seconds += time.perf_counter() - tick
                augmented += len(index)
            x = inputs.to(device, non_blocking=True).float().div_(255)
            loss = F.cross_entropy(model(x), labels[index.to(device)])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            if epoch == spec.epochs - 1:
                last_loss += float(loss.detach()) * len(index)
                last_count += len(index)
    return TrainStats(last_loss / max(last_count, 1), time.perf_counter() - start, augment_seconds, augmented)


def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: torch.device) -> float:
    """Top-1 accuracy in [0, 1] (see `mithridate.meters.accuracy`)."""
    return accuracy(model, images, labels, device)


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _versions() -> dict[str, str]:
    return {
        "mithridate": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def _model_path(task: RunTask) -> Path:
    return task.model_dir / f"{task.spec.spec_hash()}-seed{task.seed}-dose0.pt"


def run_one(task: RunTask, prepared: dict | None = None) -> RunRecord:
    """Train and measure one (dose, seed) of a sweep; saves the dose-0 model for the affinity of others."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    prepared = load_prepared(task.prepared) if prepared is None else prepared
    spec, device = task.spec, torch.device(task.device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    channels, classes = prepared["train_images"].shape[1], len(prepared["classes"])

    def new_model() -> nn.Module:
        return build_model(spec.model or "cnn", channels, classes, prepared["mean"], prepared["std"]).to(device)

    torch.manual_seed(task.seed)
    model = new_model()
    policy = dose_policy(spec, task.dose, task.seed)
    active = None if policy.dose.is_zero else policy
    train_images, train_labels, extra = _training_set(task, prepared)
    stats = train(model, train_images, train_labels, active, spec, task.seed, device)

    tick = time.perf_counter()
    test_images, test_labels = prepared["test_images"], prepared["test_labels"]
    clean = evaluate(model, test_images, test_labels, device)
    corruption_labels = test_labels[prepared["corruption_index"]]
    per_corruption = corruption_accuracy(model, prepared["corrupted"], corruption_labels, device)
    if spec.axis == "synthetic-ratio":  # affinity measures a policy's dose; here the dose is the data
        affinity = None
    else:
        dose_zero_model = model if active is None else None
        affinity = _affinity(task, policy, new_model, test_images, test_labels, device, dose_zero_model)
    eval_seconds = time.perf_counter() - tick

    return RunRecord(
        sweep_id=task.sweep_id,
        spec_hash=spec.spec_hash(),
        data=spec.data,
        policy=spec.policy,
        axis=spec.axis,
        dose=task.dose,
        seed=task.seed,
        clean_accuracy=clean,
        corrupted_accuracy=sum(per_corruption.values()) / max(len(per_corruption), 1),
        corruption_accuracy=per_corruption,
        affinity=affinity,
        final_train_loss=stats.final_loss,
        train_seconds=stats.seconds,
        eval_seconds=eval_seconds,
        augment_images_per_second=stats.images_augmented / stats.augment_seconds if stats.augment_seconds else 0.0,
        peak_memory_mb=_peak_memory_mb(device),
        versions=_versions(),
        started_at=started,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        extra={"device": task.device, "epochs": spec.epochs, "train_images": len(train_images), **extra},
    )


def _training_set(task: RunTask, prepared: dict) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """The training images and labels of a run: on the synthetic-ratio axis, real and synthetic images mixed
    at the dose (the set's size fixed, the choice drawn from the seed), else the real training set."""
    images, labels = prepared["train_images"], prepared["train_labels"]
    if task.spec.axis != "synthetic-ratio":
        return images, labels, {}
    synthetic_images, synthetic_labels = prepared["synthetic_images"], prepared["synthetic_labels"]
    mix = Mix(range(len(images)), range(len(synthetic_images)), task.dose, seed=task.seed, replace=True)
    mixed = mix.take(images, synthetic_images), mix.take(labels, synthetic_labels)
    return *mixed, {"synthetic_images": mix.n_synthetic}


def _affinity(task, policy, new_model, images, labels, device, dose_zero_model) -> float | None:
    """Accuracy of the dose-0 model (same seed) on the test set augmented at this dose, over its clean
    accuracy. The dose-0 run saves its model; other doses load it (None if there is no dose-0 run)."""
    path = _model_path(task)
    if dose_zero_model is not None:
        task.model_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        torch.save(dose_zero_model.state_dict(), partial)
        os.replace(partial, path)
        return 1.0
    if not path.is_file():
        return None
    reference = new_model()
    reference.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    augmented = policy(images, index=torch.arange(len(images)), epoch=0)
    return affinity(reference, images, augmented, labels, device)
