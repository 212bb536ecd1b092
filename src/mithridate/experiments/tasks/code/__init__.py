"""The code task of the sweep: functions of the standard library split by module file, labelled by the verb of
their (hidden) name or by an injected bug (`data`), the hashed sub-token bag (`models`), the text task's training
loop (`training`), the code policies (`mithridate.code.parse_code_policy`), the code corruption suite
(`mithridate.code.corruptions`) and ReCode's metrics (`mithridate.meters.recode`).

Besides `clean_accuracy` and `corruption/NAME/SEVERITY`, a run measures per corruption `recode/NAME/...`
(`robust_accuracy`, `robust_drop`, `robust_relative` over `RECODE_SEEDS` perturbed versions at severity
`RECODE_SEVERITY`) and their means over the corruptions (`robust_accuracy`, `robust_drop`, `robust_relative`);
they are stored with the run's metrics.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from ....dose import ConstantSchedule, Dose
from ....meters.recode import recode_metrics
from ...records import SweepSpec
from .data import (
    CODE_DEFAULTS,
    corrupted_test_sources,
    load_code_sweep_data,
    parse_policy,
    recode_test_sources,
    resolve_code_spec,
)
from .models import build_code_model
from .training import CodeTrainer

__all__ = ["CODE_DEFAULTS", "CodeTask", "code_dose_policy", "code_predictions"]


def code_dose_policy(spec: SweepSpec, dose: float, seed: int) -> Any:
    """The spec's code policy with its dose set along the sweep's axis (the string's other component kept)."""
    policy = parse_policy(spec.policy, seed)
    base = policy.schedule.dose if isinstance(policy.schedule, ConstantSchedule) else Dose()
    field = "strength" if spec.axis == "strength" else "p"
    policy.schedule = ConstantSchedule(dataclasses.replace(base, **{field: dose}))
    return policy


@torch.inference_mode()
def code_predictions(
    model: Callable[[list[str]], torch.Tensor] | nn.Module, sources: Sequence[str], batch: int = 1000
) -> torch.Tensor:
    """The predicted class of each source (int64, on the CPU), in batches (eval mode)."""
    if isinstance(model, nn.Module):
        model.eval()
    out = [model(list(sources[start : start + batch])).argmax(dim=1).cpu() for start in range(0, len(sources), batch)]
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.int64)


def _accuracy(correct: torch.Tensor) -> float:
    return float(correct.double().mean()) if len(correct) else 0.0


class CodeTask:
    """The `Task` of code data (see `mithridate.experiments.tasks`)."""

    name = "code"

    def resolve(self, spec: SweepSpec) -> SweepSpec:
        return resolve_code_spec(spec)

    def prepare(self, spec: SweepSpec) -> dict[str, Any]:
        data = load_code_sweep_data(spec)
        corrupted = corrupted_test_sources(data, spec)
        return {
            "train_sources": data.train.sources,
            "train_labels": data.train.labels,
            "test_sources": data.test.sources,
            "test_labels": data.test.labels,
            "classes": list(data.train.classes),
            "corruption_index": data.corruption_index,
            "corrupted": corrupted,
            "recode": recode_test_sources(data, spec, corrupted),
        }

    def describe(self, shared: dict[str, Any]) -> str:
        return (
            f"{len(shared['train_sources'])} training and {len(shared['test_sources'])} test functions, "
            f"{len(shared['classes'])} classes, {len(shared['corrupted'])} corrupted copies of "
            f"{len(shared['corruption_index'])} test functions"
        )

    def policy(self, spec: SweepSpec, dose: float, seed: int) -> Any:
        return code_dose_policy(spec, dose, seed)

    def build_model(self, spec: SweepSpec, shared: dict[str, Any], device: torch.device) -> nn.Module:
        return build_code_model(spec.model or CODE_DEFAULTS["model"], len(shared["classes"])).to(device)

    def training_set(
        self, spec: SweepSpec, shared: dict[str, Any], dose: float, seed: int
    ) -> tuple[list[str], torch.Tensor, dict[str, Any]]:
        return list(shared["train_sources"]), shared["train_labels"], {}

    def trainer(
        self,
        model: nn.Module,
        inputs: list[str],
        labels: torch.Tensor,
        spec: SweepSpec,
        seed: int,
        device: torch.device,
    ) -> CodeTrainer:
        return CodeTrainer(model, inputs, labels, spec, seed, device)

    def evaluate(self, model: nn.Module, shared: dict[str, Any], device: torch.device) -> dict[str, float]:
        labels = shared["test_labels"]
        metrics = {"clean_accuracy": _accuracy(code_predictions(model, shared["test_sources"]) == labels)}
        subset = labels[shared["corruption_index"]]
        for key, sources in shared["corrupted"].items():
            metrics[f"corruption/{key}"] = _accuracy(code_predictions(model, sources) == subset)
        clean = code_predictions(model, [shared["test_sources"][i] for i in shared["corruption_index"].tolist()])
        robust: dict[str, list[float]] = {"robust_accuracy": [], "robust_drop": [], "robust_relative": []}
        for name, versions in shared["recode"].items():
            perturbed = torch.stack([code_predictions(model, v) == subset for v in versions], dim=1)
            values = recode_metrics(clean == subset, perturbed)
            for metric, series in robust.items():
                value = values[metric]
                metrics[f"recode/{name}/{metric}"] = math.nan if value is None else float(value)
                series.append(metrics[f"recode/{name}/{metric}"])
        for metric, series in robust.items():
            metrics[metric] = sum(series) / len(series) if series else math.nan
        return metrics

    def affinity(self, reference: nn.Module, policy: Any, shared: dict[str, Any], device: torch.device) -> float:
        sources, labels = shared["test_sources"], shared["test_labels"]
        clean = _accuracy(code_predictions(reference, sources) == labels)
        noised = policy(list(sources), index=torch.arange(len(sources)), epoch=0)
        return _accuracy(code_predictions(reference, noised) == labels) / clean if clean else math.nan
