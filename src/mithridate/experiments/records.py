"""What a sweep is and what one run of it measured: the spec (hashed, so that a re-run finds its finished
runs) and the record of a run, as plain dataclasses that the store, the summary and the report share."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["AXES", "DEFAULT_DOSES", "RUN_METRICS", "SOURCES", "VARY_ALL", "RunRecord", "SweepSpec", "source_seeds"]

AXES = ("strength", "p", "synthetic-ratio")
DEFAULT_DOSES = {
    "strength": (0.0, 0.5, 1.0, 1.5, 2.0, 3.0),
    "p": (0.0, 0.25, 0.5, 0.75, 1.0),
    "synthetic-ratio": (0.0, 0.25, 0.5, 0.75, 1.0),
}


RUN_METRICS = (
    "clean_accuracy",
    "corrupted_accuracy",
    "affinity",
    "final_train_loss",
    "train_seconds",
    "eval_seconds",
    "augment_images_per_second",
    "peak_memory_mb",
)
"""The numbers a sweep's run stores besides its accuracy per corruption (`corruption/NAME/SEVERITY`)."""

SOURCES = ("init", "order", "augment", "data")
"""The named sources of a run's randomness, each with its own seed: the weights' initialisation, the order
of the training batches, the augmentation's draws, and the data's draws (which synthetic images a
synthetic-ratio run mixes in; the train/test splits are fixed)."""
VARY_ALL = "all"


def source_seeds(vary: str, seed: int) -> dict[str, int]:
    """Each source's seed in a run of the `vary` series: with "all" every source takes `seed` (as one seed
    drives a run); with one source, that source takes `seed` and the others are held at 0."""
    if vary != VARY_ALL and vary not in SOURCES:
        raise ValueError(f"vary: expected {VARY_ALL!r} or one of {', '.join(SOURCES)}, got {vary!r}")
    return {source: seed if vary in (VARY_ALL, source) else 0 for source in SOURCES}


@dataclass(frozen=True)
class SweepSpec:
    """A dose-response experiment: which data, which policy, which doses along which axis, how many seeds,
    and the training recipe. Fields that cannot change a result (device, jobs, output folder) are not here.

    `doses` of None means (0, 0.5, 1, 1.5, 2, 3) on the strength axis (3 is an overdose) and
    (0, 0.25, 0.5, 0.75, 1) on the p axis. `policy`, `learning_rate`, `epochs`, `train_size`, `model`,
    `corruptions` and `corruption_test_size` of None mean the task's and data's documented defaults
    (`ta_wide` and 0.05 for images, `text_ta` and 0.005 for text; see `experiments.tasks.image.data` and
    `experiments.tasks.text.data`), resolved by the task (`task_for(spec).resolve(spec)`) before hashing
    so the hash names what actually runs. `train_size` is per class; `corruption_test_size` is how many
    test samples (stratified) are corrupted for the robustness measure.

    On the `synthetic-ratio` axis a dose is the share of synthetic images in the training set (its size
    fixed), drawn from `synthetic`: "rendered-digits" (digits rendered from fonts, the default for
    digits) or an image folder with the training data's classes; the policy keeps the dose of its string.

    `vary` lists the seed series to run: "all" (every source of randomness changes with the seed, the
    default) and any of `SOURCES` (only that source changes with the seed, the others held at seed 0), so
    the report can split the spread over seeds by its source. The first series is the headline table's.

    Doses, seeds and vary are the grid's extent, not its recipe: `recipe()` leaves them out, so a sweep
    widened with a dose, a seed or a series trains only the new runs.
    """

    data: str = "digits"
    policy: str | None = None
    axis: str = "strength"
    doses: tuple[float, ...] | None = None
    seeds: int = 3
    epochs: int | None = None
    train_size: int | None = None
    model: str | None = None
    batch_size: int = 64
    learning_rate: float | None = None
    weight_decay: float = 5e-4
    severities: tuple[int, ...] = (1, 2, 3, 4, 5)
    corruptions: tuple[str, ...] | None = None
    corruption_test_size: int | None = None
    synthetic: str | None = None
    vary: tuple[str, ...] = (VARY_ALL,)

    def __post_init__(self) -> None:
        if self.axis not in AXES:
            raise ValueError(f"axis: expected one of {', '.join(AXES)}, got {self.axis!r}")
        doses = tuple(float(d) for d in (DEFAULT_DOSES[self.axis] if self.doses is None else self.doses))
        if not doses:
            raise ValueError("doses: expected at least one dose")
        if any(math.isnan(d) or d < 0 for d in doses):
            raise ValueError(f"doses: expected non-negative numbers, got {list(doses)}")
        if self.axis in ("p", "synthetic-ratio") and any(d > 1 for d in doses):
            what = "probabilities" if self.axis == "p" else "shares"
            raise ValueError(f"doses: on the {self.axis} axis doses are {what} in [0, 1], got {list(doses)}")
        if self.synthetic is not None and self.axis != "synthetic-ratio":
            raise ValueError(f"synthetic: a synthetic source is used on the synthetic-ratio axis only, not {self.axis}")
        if len(set(doses)) != len(doses):
            raise ValueError(f"doses: expected distinct doses, got {list(doses)}")
        object.__setattr__(self, "doses", tuple(sorted(doses)))
        if not isinstance(self.seeds, int) or self.seeds < 1:
            raise ValueError(f"seeds: expected a positive number of seeds, got {self.seeds!r}")
        object.__setattr__(self, "severities", tuple(int(s) for s in self.severities))
        if not self.severities or any(s not in (1, 2, 3, 4, 5) for s in self.severities):
            raise ValueError(f"severities: expected values in 1..5, got {list(self.severities)}")
        if self.corruptions is not None:
            object.__setattr__(self, "corruptions", tuple(self.corruptions))
        vary = (self.vary,) if isinstance(self.vary, str) else tuple(self.vary)
        known = (VARY_ALL, *SOURCES)
        if not vary or any(v not in known for v in vary) or len(set(vary)) != len(vary):
            raise ValueError(f"vary: expected distinct names among {', '.join(known)}, got {list(vary)}")
        object.__setattr__(self, "vary", vary)

    def to_dict(self) -> dict[str, Any]:
        values = {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}
        if values["synthetic"] is None:
            del values["synthetic"]
        return values

    def recipe_params(self) -> dict[str, Any]:
        """What changes a run's result besides its dose and seeds: every field but the grid's extent."""
        values = self.to_dict()
        for extent in ("doses", "seeds", "vary"):
            values.pop(extent)
        return values

    @classmethod
    def from_recipe(cls, params: dict[str, Any], **extent: Any) -> SweepSpec:
        """The spec of stored recipe params, with the extent (doses, seeds, vary) given or defaulted."""
        return cls.from_dict({**params, **extent})

    def cells(self) -> list[dict[str, Any]]:
        """The grid's cells: one per dose and series, `{"dose": d}` for "all" and `{"dose": d, "vary": s}`
        for a single source's series."""
        return [
            {"dose": float(dose)} if vary == VARY_ALL else {"dose": float(dose), "vary": vary}
            for vary in self.vary
            for dose in self.doses
        ]

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SweepSpec:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"sweep spec: unknown keys {unknown}; expected some of {sorted(known)}")
        converted = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls(**converted)

    def spec_hash(self) -> str:
        """A short stable hash of the recipe: everything that determines a run's result but its cell and seed
        (the same as the engine's hash of the sweep's recipe)."""
        canonical = json.dumps(
            {"experiment": "sweep", "params": self.recipe_params()}, sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass
class RunRecord:
    """One trained model at one dose and seed, and everything measured about it.

    Accuracies are fractions in [0, 1]. `corruption_accuracy` maps "name/severity" to accuracy;
    `corrupted_accuracy` is their mean. `affinity` is the dose-0 model's accuracy on the test set augmented
    at this dose over its clean accuracy (same seed). `final_train_loss` is the mean training loss of the
    last epoch, on augmented batches; diversity is derived from it (see the summary). `vary` is the seed
    series the run belongs to (see `SweepSpec.vary`). `measures` holds the other numbers the task measured
    (e.g. the code task's ReCode metrics `robust_accuracy` and `recode/NAME/robust_drop`).
    """

    sweep_id: str
    spec_hash: str
    data: str
    policy: str
    axis: str
    dose: float
    seed: int
    clean_accuracy: float
    corrupted_accuracy: float
    corruption_accuracy: dict[str, float]
    affinity: float | None
    final_train_loss: float
    train_seconds: float
    eval_seconds: float
    augment_images_per_second: float
    peak_memory_mb: float
    versions: dict[str, str]
    started_at: str
    finished_at: str
    extra: dict[str, Any] = field(default_factory=dict)
    vary: str = VARY_ALL
    measures: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunRecord:
        return cls(**values)
