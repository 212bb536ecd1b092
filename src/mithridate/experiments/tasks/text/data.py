"""The data of a text sweep: the training sample, the test set, the defaults, and the corrupted test texts
every run of a sweep is measured on.

Defaults (any text data): policy `text_ta`, the `fasttext` model, 5 epochs of AdamW at learning rate 0.005
(batches of 64, the spec's weight decay), 2,000 training texts per class drawn by a fixed stratified sample
(`SPLIT_SEED`, as the image task), every corruption of `mithridate.text.strings.TEXT_CORRUPTIONS` at
severities 1 to 5 on the whole test set. A folder's `train.*` file is sampled and its `dev.*` (or
`validation.*`, `test.*`) file is the test set; a single file gives the training sample and the rest of
the file is the test set.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from ....data.datasets import DatasetError
from ....data.text import TextDataset, is_text_data, load_text_splits
from ...records import SweepSpec
from .models import MODELS

__all__ = ["TEXT_DEFAULTS", "TextSweepData", "corrupted_test_texts", "load_text_sweep_data", "resolve_text_spec"]

SPLIT_SEED = 20_201_130  # the fixed seed of the stratified samples: every run and seed sees the same split
CORRUPTION_SEED = 0
TEXT_DEFAULTS: dict[str, Any] = {
    "policy": "text_ta",
    "model": "fasttext",
    "epochs": 5,
    "train_size": 2000,
    "learning_rate": 0.005,
    "corruption_test_size": None,
}


def _strings() -> Any:
    try:
        from ....text import strings
    except ImportError as error:
        raise ImportError(
            f"the text sweep needs mithridate.text.strings (text policies, corruptions): {error}"
        ) from None
    return strings


def resolve_text_spec(spec: SweepSpec) -> SweepSpec:
    """The spec with the text defaults filled in (policy, model, epochs, train size, learning rate,
    corruptions), checked: the model is a text model, the corruptions are text corruptions, the policy
    parses."""
    if not is_text_data(spec.data):
        raise ValueError(
            f"data: {spec.data!r} is not text data (a TSV, CSV or JSON Lines file, a folder with train and dev "
            f"files, a Hugging Face datasets folder); model {spec.model!r} is a text model"
        )
    if spec.axis == "synthetic-ratio":
        raise ValueError("axis: the synthetic-ratio axis has no text source; use strength or p for text data")
    strings = _strings()
    changes = {name: value for name, value in TEXT_DEFAULTS.items() if getattr(spec, name) is None}
    if spec.corruptions is None:
        changes["corruptions"] = tuple(strings.TEXT_CORRUPTIONS)
    resolved = dataclasses.replace(spec, **changes)
    if resolved.model not in MODELS:
        raise ValueError(f"model: expected one of {', '.join(MODELS)} for text data, got {resolved.model!r}")
    unknown = sorted(set(resolved.corruptions or ()) - set(strings.TEXT_CORRUPTIONS))
    if unknown:
        raise ValueError(f"corruptions: unknown {unknown}; expected some of {', '.join(strings.TEXT_CORRUPTIONS)}")
    strings.parse_text_policy(resolved.policy, seed=0)  # a bad policy string fails here, before any run
    return resolved


def stratified_indices(labels: torch.Tensor, per_class: int | None, seed: int) -> torch.Tensor:
    """Indices of up to `per_class` samples of every class (all with None), drawn in a fixed random order
    from `seed`, sorted."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(labels), generator=generator)
    chosen = [order[labels[order] == label] for label in labels.unique().tolist()]
    if per_class is not None:
        chosen = [members[:per_class] for members in chosen]
    return torch.cat(chosen).sort().values if chosen else torch.zeros(0, dtype=torch.int64)


@dataclass
class TextSweepData:
    """The training sample, the test set and the stratified test indices used for corruptions."""

    train: TextDataset
    test: TextDataset
    corruption_index: torch.Tensor


def load_text_sweep_data(spec: SweepSpec) -> TextSweepData:
    """Load and sample the data of a resolved spec (see the module docstring)."""
    train, test = load_text_splits(spec.data)
    chosen = stratified_indices(train.labels, spec.train_size, SPLIT_SEED)
    if test is None:
        rest = torch.ones(len(train), dtype=torch.bool)
        rest[chosen] = False
        if not rest.any():
            raise DatasetError(f"data {spec.data!r}: train_size {spec.train_size} per class leaves no text for testing")
        test = train.subset(rest.nonzero().flatten())
    train = train.subset(chosen)
    if len(test) == 0:
        raise DatasetError(f"data {spec.data!r}: the test set is empty")
    corruption_index = torch.arange(len(test))
    if spec.corruption_test_size is not None and spec.corruption_test_size < len(test):
        per_class = max(spec.corruption_test_size // len(test.classes), 1)
        corruption_index = stratified_indices(test.labels, per_class, SPLIT_SEED)
    return TextSweepData(train, test, corruption_index)


def corrupted_test_texts(data: TextSweepData, spec: SweepSpec) -> dict[str, list[str]]:
    """The corruption subset of the test set under every corruption and severity of the spec, keyed
    "name/severity": deterministic (seed 0, sample index = test index), so every run sees the same."""
    strings = _strings()
    index = data.corruption_index
    texts = [data.test.texts[i] for i in index.tolist()]
    return {
        f"{name}/{severity}": list(strings.corrupt_text(texts, name, severity, seed=CORRUPTION_SEED, index=index))
        for name in spec.corruptions or strings.TEXT_CORRUPTIONS
        for severity in spec.severities
    }
