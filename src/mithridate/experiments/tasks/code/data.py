"""The data of a code sweep: the functions of the standard library (or a folder of `.py` files) split by module
file, the training sample, the defaults, the corrupted test sources every run is measured on, and the perturbed
copies for ReCode's metrics.

Data strings: "stdlib" or a folder, with ":verb" (the default: the name's verb among the 20 most common of the
training modules, the name hidden) or ":bug" (balanced bug detection, the bug injected by `bug_injector`); the
resolved spec names the label ("stdlib:verb"), so the hash says what runs.

Defaults (`CODE_DEFAULTS`): policy `rename` (DOBF's renaming; on the strength axis a dose is the renaming rate
over 0.5), the `bag` model, 5 epochs of AdamW at learning rate 0.03 (batches of 64, the spec's weight decay), up
to 1,000 training functions per class drawn by a fixed stratified sample (all of them for the verbs), every
corruption of `mithridate.code.corruptions.CODE_CORRUPTIONS` at severities 1 to 5 on up to 600 test functions
(stratified), and ReCode's metrics over `RECODE_SEEDS` perturbation seeds of each corruption at severity
`RECODE_SEVERITY`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from ....data.code import CodeDataset, is_code_data, load_code_splits, parse_code_data
from ....data.datasets import DatasetError
from ...records import SweepSpec
from ..text.data import stratified_indices
from .models import MODELS

__all__ = [
    "BUG_SEED",
    "CODE_DEFAULTS",
    "RECODE_SEEDS",
    "RECODE_SEVERITY",
    "CodeSweepData",
    "bug_injector",
    "corrupted_test_sources",
    "load_code_sweep_data",
    "parse_policy",
    "recode_test_sources",
    "resolve_code_spec",
]

SPLIT_SEED = 20_201_130  # the fixed seed of the stratified samples (as the image and text tasks)
CORRUPTION_SEED = 0
BUG_SEED = 20_170_805  # the draws of the injected bugs: every run sees the same buggy functions
RECODE_SEEDS = 5
RECODE_SEVERITY = 3
CODE_DEFAULTS: dict[str, Any] = {
    "policy": "rename",
    "model": "bag",
    "epochs": 5,
    "train_size": 1000,
    "learning_rate": 0.03,
    "corruption_test_size": 600,
}


def _corruptions() -> Any:
    try:
        from ....code import corruptions
    except ImportError as error:
        raise ImportError(f"the code sweep needs mithridate.code.corruptions (code ops): {error}") from None
    return corruptions


def parse_policy(policy: str, seed: int) -> Any:
    """`mithridate.code.parse_code_policy(policy, seed=seed)`, or an ImportError saying what the sweep needs."""
    try:
        from ....code import parse_code_policy
    except ImportError as error:
        raise ImportError(
            f"the code sweep needs mithridate.code.parse_code_policy (code policy strings): {error}"
        ) from None
    return parse_code_policy(policy, seed=seed)


def resolve_code_spec(spec: SweepSpec) -> SweepSpec:
    """The spec with the code defaults filled in (policy, model, epochs, train size, learning rate, corruptions,
    the label named in the data string), checked: the model is a code model, the corruptions are code
    corruptions, the policy parses."""
    if not is_code_data(spec.data):
        raise ValueError(
            f"data: {spec.data!r} is not code data (stdlib or a folder of .py files, optionally with :verb or :bug); "
            f"model {spec.model!r} is a code model"
        )
    if spec.axis == "synthetic-ratio":
        raise ValueError("axis: the synthetic-ratio axis has no code source; use strength or p for code data")
    corruptions = _corruptions()
    source, label = parse_code_data(spec.data)
    changes: dict[str, Any] = {name: value for name, value in CODE_DEFAULTS.items() if getattr(spec, name) is None}
    changes["data"] = f"{source}:{label}"
    if spec.corruptions is None:
        changes["corruptions"] = tuple(corruptions.CODE_CORRUPTIONS)
    resolved = dataclasses.replace(spec, **changes)
    if resolved.model not in MODELS:
        raise ValueError(f"model: expected one of {', '.join(MODELS)} for code data, got {resolved.model!r}")
    unknown = sorted(set(resolved.corruptions or ()) - set(corruptions.CODE_CORRUPTIONS))
    if unknown:
        raise ValueError(f"corruptions: unknown {unknown}; expected some of {', '.join(corruptions.CODE_CORRUPTIONS)}")
    parse_policy(resolved.policy, 0)  # a bad policy string fails here, before any run
    return resolved


def bug_injector(seed: int = BUG_SEED) -> Any:
    """An injector for `mithridate.data.code` (source, key) -> buggy source or None: one bug of a kind drawn
    uniformly among the kinds of `mithridate.code.python.bugs.OPS` with a place in the source, at the place its
    draws pick; the draws keyed by (seed, key), so the same function always gets the same bug."""
    from ....code.policies import OpPolicy
    from ....code.python import bugs
    from ....code.python.source import CodeSyntaxError, read_python
    from ....dose import Dose
    from ....rng import Key

    ops = [cls() for cls in bugs.OPS.values()]
    policies = [OpPolicy(op, dose=Dose(1.0, 1.0), seed=seed) for op in ops]
    choose = Key(seed, 0, None)

    def inject(source: str, key: int) -> str | None:
        try:
            parsed = read_python(source)
            usable = [k for k, op in enumerate(ops) if op.sites(parsed) > 0]
        except CodeSyntaxError:
            return None
        if not usable:
            return None
        index = torch.tensor([key], dtype=torch.int64)
        pick = usable[int(choose.integers(index, 0xC0DE_B06, len(usable))[0, 0])]
        out = policies[pick]([source], index=[key], epoch=0)[0]
        return out if out != source else None

    return inject


@dataclass
class CodeSweepData:
    """The training sample, the test set and the test indices used for corruptions."""

    train: CodeDataset
    test: CodeDataset
    corruption_index: torch.Tensor


def load_code_sweep_data(spec: SweepSpec) -> CodeSweepData:
    """Load and sample the data of a resolved spec (see the module docstring)."""
    _, label = parse_code_data(spec.data)
    injector = bug_injector() if label == "bug" else None
    train, test = load_code_splits(spec.data, injector=injector)
    train = train.subset(stratified_indices(train.labels, spec.train_size, SPLIT_SEED))
    if len(train) == 0 or len(test) == 0:
        raise DatasetError(f"data {spec.data!r}: an empty training or test set")
    corruption_index = torch.arange(len(test))
    if spec.corruption_test_size is not None and spec.corruption_test_size < len(test):
        generator = torch.Generator().manual_seed(SPLIT_SEED)
        corruption_index = torch.randperm(len(test), generator=generator)[: spec.corruption_test_size].sort().values
    return CodeSweepData(train, test, corruption_index)


def _subset_sources(data: CodeSweepData) -> list[str]:
    return [data.test.sources[i] for i in data.corruption_index.tolist()]


def corrupted_test_sources(data: CodeSweepData, spec: SweepSpec) -> dict[str, list[str]]:
    """The corruption subset of the test set under every corruption and severity of the spec, keyed
    "name/severity": deterministic (seed 0, sample index = test index), so every run sees the same."""
    corruptions = _corruptions()
    sources = _subset_sources(data)
    return {
        f"{name}/{severity}": corruptions.corrupt_code(
            sources, name, severity, seed=CORRUPTION_SEED, index=data.corruption_index
        )
        for name in spec.corruptions or corruptions.CODE_CORRUPTIONS
        for severity in spec.severities
    }


def recode_test_sources(
    data: CodeSweepData, spec: SweepSpec, corrupted: dict[str, list[str]] | None = None
) -> dict[str, list[list[str]]]:
    """Per corruption of the spec, the corruption subset perturbed at `RECODE_SEVERITY` with seeds 0 to
    `RECODE_SEEDS` - 1 (ReCode's s perturbed versions); seed 0 is taken from `corrupted` where it is there."""
    corruptions = _corruptions()
    sources = _subset_sources(data)
    out: dict[str, list[list[str]]] = {}
    for name in spec.corruptions or corruptions.CODE_CORRUPTIONS:
        versions = []
        for seed in range(RECODE_SEEDS):
            key = f"{name}/{RECODE_SEVERITY}"
            if seed == CORRUPTION_SEED and corrupted is not None and key in corrupted:
                versions.append(corrupted[key])
            else:
                versions.append(
                    corruptions.corrupt_code(sources, name, RECODE_SEVERITY, seed=seed, index=data.corruption_index)
                )
        out[name] = versions
    return out
