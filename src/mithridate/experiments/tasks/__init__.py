"""Tasks: what one modality brings to the dose-response sweep. A task loads its data and corruption suite
once per sweep (`prepare`), builds its reference model, sets a policy to a dose, trains one epoch at a time
with the policy applied to each batch (with the sample indices and the epoch), and measures a model (clean
accuracy, accuracy under each corruption, affinity). The sweep (`studies.sweep`) drives any task the same
way; `task_for(spec)` picks the task of a spec's data (`tasks.image`, `tasks.text`, `tasks.code`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import torch
from torch import nn

from ..records import SweepSpec

__all__ = ["Task", "Trainer", "task_for"]


class Trainer(Protocol):
    """Trains one model in place, one epoch per call; `stats` has `final_loss`, `seconds`,
    `augment_seconds` and `images_augmented`."""

    stats: Any

    def train_epoch(self, policy: Callable[..., Any] | None, epoch: int) -> float: ...


class Task(Protocol):
    """A modality's data, model, training step, corruption suite and meters (see the module docstring)."""

    name: str

    def resolve(self, spec: SweepSpec) -> SweepSpec:
        """The spec with the data's defaults filled in (before hashing, so the hash names what runs)."""
        ...

    def prepare(self, spec: SweepSpec) -> dict[str, Any]:
        """The data and the corrupted test sets, as a dict of tensors (shared by every run of the sweep)."""
        ...

    def describe(self, shared: dict[str, Any]) -> str:
        """One line on the prepared data, for the console."""
        ...

    def policy(self, spec: SweepSpec, dose: float, seed: int) -> Any:
        """The spec's policy at `dose` along the spec's axis, its draws keyed by `seed`."""
        ...

    def build_model(self, spec: SweepSpec, shared: dict[str, Any], device: torch.device) -> nn.Module: ...

    def training_set(
        self, spec: SweepSpec, shared: dict[str, Any], dose: float, seed: int
    ) -> tuple[Any, Any, dict[str, Any]]:
        """The training inputs and labels of a run (on the synthetic-ratio axis, mixed at the dose with the
        choice drawn from `seed`), and facts about them."""
        ...

    def trainer(
        self, model: nn.Module, inputs: Any, labels: Any, spec: SweepSpec, seed: int, device: torch.device
    ) -> Trainer: ...

    def evaluate(self, model: nn.Module, shared: dict[str, Any], device: torch.device) -> dict[str, float]:
        """`clean_accuracy` and `corruption/NAME/SEVERITY` accuracies, fractions in [0, 1]."""
        ...

    def affinity(self, reference: nn.Module, policy: Any, shared: dict[str, Any], device: torch.device) -> float:
        """The reference (dose-0) model's accuracy on the test set augmented by `policy`, over its clean one."""
        ...


def task_for(spec: SweepSpec) -> Task:
    """The task of a spec's data: code for "stdlib" or a folder of `.py` files, optionally with ":verb" or ":bug"
    (`mithridate.data.code.is_code_data`), or a code model; text for a TSV, CSV or JSON Lines file, a folder
    with `train.*` text files or a Hugging Face `save_to_disk` folder (`mithridate.data.text.is_text_data`), or
    a text model (so a resolved spec finds its task where the data folder is absent, e.g. on a Ray worker);
    images otherwise ('digits', image folders, CIFAR-10 batches)."""
    from ...data.code import is_code_data
    from ...data.text import is_text_data
    from .code.models import MODELS as CODE_MODELS
    from .text.models import MODELS as TEXT_MODELS

    if spec.model in CODE_MODELS or (spec.data != "digits" and is_code_data(spec.data)):
        from .code import CodeTask

        return CodeTask()
    if spec.model in TEXT_MODELS or (spec.data != "digits" and is_text_data(spec.data)):
        from .text import TextTask

        return TextTask()
    from .image import ImageTask

    return ImageTask()
