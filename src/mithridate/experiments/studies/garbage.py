"""Garbage in, garbage out: what k random features cost a model, and what `RandomProbeSelector` recovers
(`mithridate garbage`).

For each of scikit-learn's bundled tables (breast_cancer: 569 rows x 30 features, 2 classes; wine: 178 x 13,
3 classes; digits: 1,797 x 64, 10 classes), each kind of random feature (gaussian, uniform, categorical, id;
see `mithridate.tabular.random_features`) and each k (by default 0, 0.5, 1, 2 and 4 times the table's own
feature count d), one cell-seed:

1. appends k random features of the kind to the whole table (drawn from the seed, the dataset and the
   kind; nested, so the k columns of a smaller k are the first of a larger one);
2. splits the rows 75/25, stratified by class, by the seed;
3. fits every model family on the training split and measures test accuracy with all d + k features:
   logistic regression (after standardisation), random forest (100 trees), histogram gradient boosting
   (scikit-learn defaults) and k-nearest neighbours (k = 5, after standardisation);
4. fits `RandomProbeSelector` on the training split only (extra trees, 50 trees of depth at most 7,
   20 rounds at most, alpha 0.05) and measures every model again on the features it confirms, and which
   share of the real and of the random features it kept.

Each result is stored at once in `OUT/store.sqlite` (see `mithridate.experiments.store`): an interrupted run
resumes, and a wider grid or more seeds reuse what is stored. The summary gives each accuracy's mean over
seeds with its 95% t interval; the report (`OUT/report.html`) has the tables and figures (`garbage.png` and one
`garbage_<dataset>.png` per table), `OUT/results.json` the numbers.
"""

from __future__ import annotations

import functools
import math
import time
import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ...tabular.random_features import KINDS, add_random_features
from ..engine import Backend, CellSummary, Failure, Recipe, Record, Run, load_grid, run_grid, summarize_grid
from ..report import (
    GridFigure,
    Section,
    html_table,
    new_figure_grid,
    run_section,
    text_table,
    write_grid_report,
)
from ..store import STORE_FILE
from ..summary import INTERVAL_LEGEND, NOT_AVAILABLE, Estimate

__all__ = [
    "DATASETS",
    "DEFAULT_MULTIPLES",
    "EXPERIMENT",
    "MODELS",
    "GarbageConfig",
    "GarbageSummary",
    "compute_cell",
    "load_table",
    "run_garbage",
    "show_garbage",
    "write_garbage_report",
]

EXPERIMENT = "garbage"
RECIPE = 1  # bump when the computation of a cell changes, so that old results are not mixed with new ones
DATASETS = ("breast_cancer", "wine", "digits")
MODELS = ("logreg", "random_forest", "gradient_boosting", "knn")
MODEL_NAMES = {
    "logreg": "logistic regression",
    "random_forest": "random forest",
    "gradient_boosting": "gradient boosting",
    "knn": "k-nearest neighbours",
}
DEFAULT_MULTIPLES = (0.0, 0.5, 1.0, 2.0, 4.0)
NONE = "none"  # the kind of the k = 0 cells
_KIND_ORDER = (NONE, *KINDS)
_FEATURES = {"breast_cancer": 30, "wine": 13, "digits": 64}


@functools.cache
def load_table(name: str) -> tuple[np.ndarray, np.ndarray]:
    """One of scikit-learn's bundled tables as (X float64, y int64)."""
    from sklearn import datasets

    if name not in DATASETS:
        raise ValueError(f"dataset: expected one of {', '.join(DATASETS)}, got {name!r}")
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


def _names(name: str, values: Any, known: Sequence[str]) -> tuple[str, ...]:
    values = tuple(values)
    unknown = [v for v in values if v not in known]
    if not values or unknown:
        raise ValueError(f"{name}: expected some of {', '.join(known)}, got {', '.join(map(str, values)) or 'none'}")
    if len(set(values)) != len(values):
        raise ValueError(f"{name}: expected no name twice, got {', '.join(values)}")
    return values


def _positive(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return value


@dataclass(frozen=True)
class GarbageConfig:
    """The grid (datasets, kinds, k, seeds) and the recipe of the random-features experiment.

    k is given either as `multiples` of each table's feature count d (k = round(m * d); the default
    0, 0.5, 1, 2, 4) or as absolute counts `ks` (the same for every table); not both. `models` are fitted
    in every cell. The recipe (test share, models, categories, the selector's settings) is what the store
    hashes: the same recipe reuses stored results, whatever the grid.
    """

    datasets: tuple[str, ...] = DATASETS
    kinds: tuple[str, ...] = KINDS
    multiples: tuple[float, ...] | None = None
    ks: tuple[int, ...] | None = None
    models: tuple[str, ...] = MODELS
    seeds: int = 3
    test_size: float = 0.25
    n_categories: int = 5
    probe_trees: int = 50
    probe_depth: int = 7
    probe_rounds: int = 20
    alpha: float = 0.05
    _grid: tuple = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "datasets", _names("datasets", self.datasets, DATASETS))
        object.__setattr__(self, "kinds", _names("kinds", self.kinds, KINDS))
        models = _names("models", self.models, MODELS)
        object.__setattr__(self, "models", tuple(m for m in MODELS if m in models))  # canonical order
        if self.multiples is not None and self.ks is not None:
            raise ValueError("k: give multiples of the feature count or absolute counts (ks), not both")
        if self.ks is not None:
            ks = tuple(self.ks)
            if not ks or any(isinstance(k, bool) or not isinstance(k, int) or k < 0 for k in ks):
                raise ValueError(f"ks: expected non-negative integers, got {list(ks)}")
            object.__setattr__(self, "ks", tuple(sorted(set(ks))))
        else:
            multiples = tuple(float(m) for m in (DEFAULT_MULTIPLES if self.multiples is None else self.multiples))
            if not multiples or any(not math.isfinite(m) or m < 0 for m in multiples):
                raise ValueError(f"multiples: expected non-negative numbers, got {list(multiples)}")
            object.__setattr__(self, "multiples", tuple(sorted(set(multiples))))
        _positive("seeds", self.seeds)
        if not isinstance(self.test_size, (int, float)) or not 0 < self.test_size < 1:
            raise ValueError(f"test_size: expected a share of the rows in (0, 1), got {self.test_size!r}")
        _positive("n_categories", self.n_categories, 2)
        _positive("probe_trees", self.probe_trees)
        _positive("probe_depth", self.probe_depth)
        _positive("probe_rounds", self.probe_rounds)
        if not isinstance(self.alpha, (int, float)) or not 0 < self.alpha <= 0.5:
            raise ValueError(f"alpha: expected a significance level in (0, 0.5], got {self.alpha!r}")

    def k_values(self, dataset: str) -> tuple[int, ...]:
        """The k of `dataset`: its multiples of d rounded (distinct, sorted), or the absolute ks."""
        if self.ks is not None:
            return self.ks
        d = _FEATURES[dataset]
        return tuple(sorted({round(m * d) for m in self.multiples or ()}))

    def params(self) -> dict[str, Any]:
        """The recipe, as hashed and stored."""
        return {
            "recipe": RECIPE,
            "models": list(self.models),
            "test_size": float(self.test_size),
            "n_categories": self.n_categories,
            "probe": {
                "estimator": "extra_trees",
                "n_estimators": self.probe_trees,
                "max_depth": self.probe_depth,
                "n_rounds": self.probe_rounds,
                "alpha": float(self.alpha),
            },
        }

    def spec(self) -> Recipe:
        return Recipe(EXPERIMENT, self.params())

    def cells(self) -> list[dict[str, Any]]:
        """Every (dataset, kind, k) cell, in the order shown (datasets, kinds, then k). k = 0 is one cell
        per dataset, of kind "none" (no random feature: the same for every kind)."""
        cells = []
        for dataset in self.datasets:
            ks = self.k_values(dataset)
            if 0 in ks:
                cells.append({"dataset": dataset, "kind": NONE, "k": 0})
            cells += [{"dataset": dataset, "kind": kind, "k": k} for kind in self.kinds for k in ks if k]
        return cells

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}


# One cell-seed ----------------------------------------------------------------------------------------


def _model(name: str, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    if name == "random_forest":
        return RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1)
    if name == "gradient_boosting":
        return HistGradientBoostingClassifier(random_state=seed)
    if name == "knn":
        return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5))
    raise ValueError(f"model: expected one of {', '.join(MODELS)}, got {name!r}")


def _accuracy(name: str, seed: int, X_train, y_train, X_test, y_test) -> float:
    if X_train.shape[1] == 0:  # nothing kept: the best a model can do is the majority class
        values, counts = np.unique(y_train, return_counts=True)
        return float(np.mean(y_test == values[np.argmax(counts)]))
    model = _model(name, seed)
    model.fit(X_train, y_train)
    return float(np.mean(model.predict(X_test) == y_test))


def _feature_seed(seed: int, dataset: str, kind: str) -> int:
    """The random features' seed: from the run's seed, the table and the kind, not from k (nested draws)."""
    sequence = np.random.SeedSequence([seed, zlib.crc32(dataset.encode()), zlib.crc32(kind.encode())])
    return int(sequence.generate_state(1)[0] & 0x7FFFFFFF)


def compute_cell(run: Run) -> dict[str, float]:
    """One cell-seed of the experiment (see the module's docstring); metrics:

    - `all/<model>`: test accuracy with all d + k features;
    - `probe/<model>`: test accuracy on the features `RandomProbeSelector` confirmed;
    - `kept_real`, `kept_random`: share of the real and of the random features confirmed (the latter only
      when k > 0); `kept`: how many features were confirmed; `probe_seconds`: the selector's fit time.
    """
    from sklearn.ensemble import ExtraTreesClassifier
    from sklearn.model_selection import train_test_split

    from ...tabular.random_probe import RandomProbeSelector

    params, cell, seed = run.params, run.cell, run.seed
    dataset, kind, k = cell["dataset"], cell["kind"], int(cell["k"])
    X, y = load_table(dataset)
    d = X.shape[1]
    if k:
        seed_of_features = _feature_seed(seed, dataset, kind)
        X = add_random_features(X, k, kind, n_categories=params["n_categories"], random_state=seed_of_features)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=params["test_size"], stratify=y, random_state=seed
    )
    metrics: dict[str, float] = {}
    for name in params["models"]:
        metrics[f"all/{name}"] = _accuracy(name, seed, X_train, y_train, X_test, y_test)
    probe = params["probe"]
    selector = RandomProbeSelector(
        ExtraTreesClassifier(n_estimators=probe["n_estimators"], max_depth=probe["max_depth"], n_jobs=1),
        n_rounds=probe["n_rounds"],
        alpha=probe["alpha"],
        random_state=seed,
    )
    tick = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"X: constant column", category=UserWarning)
        selector.fit(X_train, y_train)
    metrics["probe_seconds"] = time.perf_counter() - tick
    keep = np.asarray(selector.support_, dtype=bool)
    metrics["kept"] = float(keep.sum())
    metrics["kept_real"] = float(keep[:d].mean())
    if k:
        metrics["kept_random"] = float(keep[d:].mean())
    for name in params["models"]:
        metrics[f"probe/{name}"] = _accuracy(name, seed, X_train[:, keep], y_train, X_test[:, keep], y_test)
    return metrics


# Summary ----------------------------------------------------------------------------------------------


def _pct(estimate: Estimate) -> str:
    if estimate.mean is None or not math.isfinite(estimate.mean):
        return NOT_AVAILABLE
    half = "–" if estimate.half_width is None else f"{estimate.half_width * 100:.1f}"
    return f"{estimate.mean * 100:.1f} ± {half}"


def _share(estimate: Estimate) -> str:
    return NOT_AVAILABLE if estimate.mean is None else f"{estimate.mean * 100:.0f}"


def _multiple(dataset: str, k: int) -> str:
    return f"{k / _FEATURES[dataset]:.2g}x"


@dataclass(frozen=True)
class Finding:
    """At the largest k of a dataset, per model: accuracy with no random feature, with k of them (mean
    over the kinds run), and after the selector; `recovered` = (probe - all) / (none - all), the share of
    the loss the selector won back (None when the loss is under one point: nothing to recover)."""

    dataset: str
    model: str
    k: int
    none: float
    all: float
    probe: float
    probe_none: float

    @property
    def loss(self) -> float:
        return self.none - self.all

    @property
    def recovered(self) -> float | None:
        return None if self.loss < 0.01 else (self.probe - self.all) / self.loss

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "model": self.model,
            "k": self.k,
            "accuracy_no_random": self.none,
            "accuracy_all": self.all,
            "accuracy_probe": self.probe,
            "accuracy_probe_no_random": self.probe_none,
            "recovered": self.recovered,
        }


@dataclass(frozen=True)
class GarbageSummary:
    """The summaries of the cells (`CellSummary`, mean and 95% interval per metric) of one recipe."""

    spec: Recipe
    rows: list[CellSummary]
    records: list[Record]
    failures: list[Failure] = field(default_factory=list)

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.spec.params["models"])

    @property
    def datasets(self) -> list[str]:
        return list(dict.fromkeys(row.cell["dataset"] for row in self.rows))

    def cells(self, dataset: str, kind: str | None = None) -> list[CellSummary]:
        """The cells of `dataset` (of one kind, with the k = 0 cell first), in display order."""
        rows = [
            r for r in self.rows if r.cell["dataset"] == dataset and (kind is None or r.cell["kind"] in (kind, NONE))
        ]
        return sorted(rows, key=lambda r: (_KIND_ORDER.index(r.cell["kind"]), r.cell["k"]))

    def kinds(self, dataset: str) -> list[str]:
        """The kinds of random feature run on `dataset`."""
        return [kind for kind in KINDS if any(r.cell["kind"] == kind for r in self.cells(dataset))]

    def pooled(self, dataset: str, metric: str) -> list[tuple[int, Estimate]]:
        """Per k of `dataset` (sorted), `metric` pooled over the kinds run: per seed the mean over the kinds
        (at k = 0, the one kind-free cell), then the mean and 95% interval over the seeds that have every kind."""
        kinds = self.kinds(dataset)
        values: dict[int, dict[int, dict[str, float]]] = {}
        for record in self.records:
            cell = record.cell
            if cell["dataset"] == dataset and metric in record.metrics:
                values.setdefault(cell["k"], {}).setdefault(record.seed, {})[cell["kind"]] = record.metrics[metric]
        pooled = []
        for k in sorted(values):
            needed = {NONE} if k == 0 else set(kinds)
            per_seed = [
                math.fsum(by_kind[kind] for kind in needed) / len(needed)
                for _, by_kind in sorted(values[k].items())
                if needed <= set(by_kind) and not any(math.isnan(by_kind[kind]) for kind in needed)
            ]
            pooled.append((k, Estimate.of(per_seed)))
        return pooled

    def findings(self) -> list[Finding]:
        found = []
        for dataset in self.datasets:
            kinds = self.kinds(dataset)
            largest = max(r.cell["k"] for r in self.cells(dataset))
            at_zero = [r for r in self.cells(dataset) if r.cell["k"] == 0]
            at_max = [r for r in self.cells(dataset) if r.cell["k"] == largest]
            if largest == 0 or len(at_zero) != 1 or len(at_max) != len(kinds):
                continue
            for model in self.models:

                def mean(rows: list[CellSummary], metric: str) -> float | None:
                    values = [r[metric].mean for r in rows]
                    return None if any(v is None for v in values) else math.fsum(values) / len(values)

                values = [
                    mean(at_zero, f"all/{model}"),
                    mean(at_max, f"all/{model}"),
                    mean(at_max, f"probe/{model}"),
                    mean(at_zero, f"probe/{model}"),
                ]
                if all(v is not None for v in values):
                    found.append(Finding(dataset, model, largest, *values))
        return found

    def table(self, dataset: str) -> tuple[list[str], list[list[str]]]:
        """Header and rows of one dataset's table (accuracy % per model, all features and after the probe)."""
        header = ["kind", "k", "k/d"]
        for model in self.models:
            header += [model, "+probe"]
        header += ["kept real %", "kept random %", "seeds"]
        rows = []
        for row in self.cells(dataset):
            cells = [row.cell["kind"], str(row.cell["k"]), _multiple(dataset, row.cell["k"])]
            for model in self.models:
                cells += [_pct(row[f"all/{model}"]), _pct(row[f"probe/{model}"])]
            cells += [_share(row["kept_real"]), _share(row["kept_random"]), str(len(row.seeds))]
            rows.append(cells)
        return header, rows

    def format_table(self) -> str:
        blocks = []
        for dataset in self.datasets:
            d = _FEATURES[dataset]
            blocks.append(f"{dataset} (d = {d} real features): test accuracy %\n" + text_table(*self.table(dataset)))
        out = ["\n\n".join(blocks), ""]
        out.append(
            "Columns per model: accuracy with all d + k features, then '+probe': on the features "
            "RandomProbeSelector confirmed (fitted on the training split only). Kept: share of the real and "
            f"of the random features it confirmed. {INTERVAL_LEGEND}."
        )
        findings = self.findings()
        if findings:
            out.append("")
            out.append(
                "At the largest k (mean over the kinds): accuracy % with no random feature -> with k -> after the probe"
            )
            lines = []
            for f in findings:
                recovered = "no loss" if f.recovered is None else f"{f.recovered * 100:.0f} % of the loss"
                lines.append(
                    [
                        f.dataset,
                        f.model,
                        str(f.k),
                        f"{f.none * 100:.1f}",
                        f"{f.all * 100:.1f}",
                        f"{f.probe * 100:.1f}",
                        recovered,
                    ]
                )
            header = ["dataset", "model", "k", "k = 0", "all", "+probe", "recovered"]
            out.append(text_table(header, lines, left=(0, 1, 6)))
            out.append(
                "Recovered = (+probe - all) / (k = 0 - all); it can pass 100 %: the selector also drops real "
                "features that do not help. 'no loss': under one point lost."
            )
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": EXPERIMENT,
            "spec": self.spec.to_dict(),
            "interval": INTERVAL_LEGEND,
            "cells": [row.to_dict() for row in self.rows],
            "findings": [f.to_dict() for f in self.findings()],
            "runs": [record.to_dict() for record in self.records],
        }


# Figures ----------------------------------------------------------------------------------------------

_KIND_COLOURS = {"gaussian": "#1f6fb4", "uniform": "#2e7d32", "categorical": "#d9730d", "id": "#8e24aa"}
_PROBE = "#c62828"
_ALL = "#1f6fb4"


def _band(axes, xs, estimates: list[Estimate], colour: str, style: str, label: str | None, alpha=0.15) -> None:
    means = np.array([math.nan if e.mean is None else e.mean * 100 for e in estimates])
    low = np.array([math.nan if e.low is None else e.low * 100 for e in estimates])
    high = np.array([math.nan if e.high is None else e.high * 100 for e in estimates])
    axes.fill_between(xs, np.clip(low, 0, 100), np.clip(high, 0, 100), color=colour, alpha=alpha, linewidth=0)
    axes.plot(xs, means, style, color=colour, lw=1.6, ms=3.5, label=label)


def _x(dataset: str, rows: list[CellSummary]) -> np.ndarray:
    return np.array([r.cell["k"] / _FEATURES[dataset] for r in rows])


def overview_figure(summary: GarbageSummary):
    """Rows: datasets; columns: models (a shared accuracy axis per dataset). Test accuracy against k/d,
    pooled over the kinds of random feature (`GarbageSummary.pooled`): with all features (solid) and after
    the selector (dashed), with 95% intervals over seeds."""
    datasets, models = summary.datasets, summary.models
    figure, axes = new_figure_grid(
        len(datasets), len(models), 3.0 * len(models) + 0.6, 2.4 * len(datasets) + 0.9, sharey="row"
    )
    for i, dataset in enumerate(datasets):
        for j, model in enumerate(models):
            ax = axes[i, j]
            first = i == 0 and j == 0
            for which, colour, style, label in (
                ("all", _ALL, "-o", "all features"),
                ("probe", _PROBE, "--s", "after RandomProbeSelector (fitted on the training split)"),
            ):
                pooled = summary.pooled(dataset, f"{which}/{model}")
                xs = np.array([k / _FEATURES[dataset] for k, _ in pooled])
                _band(ax, xs, [e for _, e in pooled], colour, style, label if first else None)
            if i == 0:
                ax.set_title(MODEL_NAMES[model], fontsize=11)
            if j == 0:
                ax.set_ylabel(f"{dataset} (d={_FEATURES[dataset]})\ntest accuracy %")
            if i == len(datasets) - 1:
                ax.set_xlabel("random features k / d")
    figure.legend(loc="outside lower center", ncols=2, fontsize=9, frameon=False)
    kinds = sorted({kind for dataset in datasets for kind in summary.kinds(dataset)}, key=KINDS.index)
    figure.suptitle(
        f"Random features ({', '.join(kinds)}; pooled): test accuracy against k, mean and 95% interval over seeds",
        fontsize=12,
    )
    return figure


def dataset_figure(summary: GarbageSummary, dataset: str):
    """One table: rows are the kinds, columns the models (all features solid, after the selector dashed)
    and a last column with the share of real and random features the selector kept."""
    kinds, models = summary.kinds(dataset), summary.models
    figure, axes = new_figure_grid(len(kinds), len(models) + 1, 2.9 * (len(models) + 1), 2.3 * len(kinds) + 0.9)
    for i, kind in enumerate(kinds):
        rows = summary.cells(dataset, kind)
        xs = _x(dataset, rows)
        colour = _ALL
        for j, model in enumerate(models):
            ax = axes[i, j]
            first = i == 0 and j == 0
            _band(ax, xs, [r[f"all/{model}"] for r in rows], colour, "-o", "all features" if first else None)
            _band(ax, xs, [r[f"probe/{model}"] for r in rows], _PROBE, "--s", "after selector" if first else None)
            if i == 0:
                ax.set_title(MODEL_NAMES[model], fontsize=10.5)
            if j == 0:
                ax.set_ylabel(f"{kind}\ntest accuracy %")
        ax = axes[i, -1]
        real = [r["kept_real"] for r in rows]
        random = [r["kept_random"] for r in rows]
        _band(ax, xs, real, "#2e7d32", "-o", "real kept" if i == 0 else None)
        _band(ax, xs, random, "0.45", "-x", "random kept" if i == 0 else None)
        ax.set_ylim(-5, 105)
        if i == 0:
            ax.set_title("selector: features kept %", fontsize=10.5)
    for row in axes:  # one accuracy axis per kind, across the models
        low = min(ax.get_ylim()[0] for ax in row[:-1])
        high = max(ax.get_ylim()[1] for ax in row[:-1])
        for ax in row[:-1]:
            ax.set_ylim(low, high)
    for ax in axes[-1]:
        ax.set_xlabel("random features k / d")
    figure.legend(loc="outside lower center", ncols=4, fontsize=8.5, frameon=False)
    figure.suptitle(
        f"{dataset} (d = {_FEATURES[dataset]}): accuracy against random features k, per kind and model", fontsize=12
    )
    return figure


# Running ----------------------------------------------------------------------------------------------


def _cost(cell: dict[str, Any]) -> float:
    return (
        _FEATURES[cell["dataset"]]
        * (1 + cell["k"] / _FEATURES[cell["dataset"]])
        * (10 if cell["dataset"] == "digits" else 1)
    )


def _display_order(record: Record) -> tuple:
    cell = record.cell
    return DATASETS.index(cell["dataset"]), _KIND_ORDER.index(cell["kind"]), cell["k"], record.seed


def _summary(spec: Recipe, records: list[Record], failures: list[Failure] | None = None) -> GarbageSummary:
    return GarbageSummary(spec, summarize_grid(records), records, list(failures or []))


def write_garbage_report(out: Path, summary: GarbageSummary, config: GarbageConfig | None = None) -> Path:
    """Write the report of `summary` into `out`: the figures, results.json (with `config`, if given) and
    report.html (`templates/garbage.html.j2`); return the path of report.html."""
    figures = [
        GridFigure(
            "garbage.png",
            overview_figure(summary),
            "Test accuracy against the number of random features, per dataset and model",
            "Test accuracy against k/d (random features per real feature), one colour per kind of random "
            "feature; solid: all features, dashed: the features RandomProbeSelector confirmed. Bands: 95% "
            "intervals of the mean over seeds.",
        )
    ]
    for dataset in summary.datasets:
        figures.append(
            GridFigure(
                f"garbage_{dataset}.png",
                dataset_figure(summary, dataset),
                f"{dataset}: accuracy against k per kind and model",
                f"{dataset}: rows are the kinds of random feature, columns the models; solid: all features, "
                "dashed red: after the selector. The last column shows the share of real and of random features "
                "the selector kept.",
            )
        )
    sections = []
    for dataset in summary.datasets:
        header, rows = summary.table(dataset)
        sections.append(Section(f"{dataset} (d = {_FEATURES[dataset]}), test accuracy %", html_table(header, rows)))
    findings = summary.findings()
    if findings:
        rows = [
            [
                f.dataset,
                f.model,
                str(f.k),
                f"{f.none * 100:.1f}",
                f"{f.all * 100:.1f}",
                f"{f.probe * 100:.1f}",
                "no loss" if f.recovered is None else f"{f.recovered * 100:.0f} %",
            ]
            for f in findings
        ]
        header = ["dataset", "model", "largest k", "k = 0 %", "all %", "+probe %", "loss recovered"]
        legend = (
            "Loss recovered = (+probe − all) / (k = 0 − all); it can pass 100 %: the selector also drops real "
            "features that do not help. ‘no loss’: under one point lost."
        )
        sections.insert(
            0, Section("At the largest k (mean over the kinds)", html_table(header, rows, left=(0, 1)), legend)
        )
    params = summary.spec.params
    return write_grid_report(
        out,
        title="Garbage in, garbage out: random features",
        sections=sections,
        figures=figures,
        payload=summary.to_dict() | ({"config": config.to_dict()} if config else {}),
        run=run_section(summary.spec, summary.records),
        template="garbage.html.j2",
        context={
            "cells": len(summary.rows),
            "models": summary.models,
            "n_categories": params["n_categories"],
            "probe": params["probe"],
            "test_percent": f"{params['test_size'] * 100:.0f}",
            "interval": INTERVAL_LEGEND,
        },
    )


def run_garbage(
    config: GarbageConfig,
    out: Path = Path("runs/garbage"),
    *,
    jobs: int = 1,
    backend: Backend | None = None,
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> GarbageSummary:
    """Run (or resume) the experiment into `out`: store, results.json, report.html and the figures."""
    out = Path(out)
    spec = config.spec()
    cells = config.cells()
    order = sorted(range(len(cells)), key=lambda i: -_cost(cells[i]))  # slow cells first: a pool ends sooner
    tick = time.perf_counter()
    result = run_grid(
        spec, [cells[i] for i in order], range(config.seeds), compute_cell, out / STORE_FILE,
        backend=backend or Backend(jobs=jobs), progress=progress, desc=EXPERIMENT,
    )  # fmt: skip
    records = sorted(result.records, key=_display_order)
    echo(f"{len(records)} cell-seeds in {time.perf_counter() - tick:.1f} s")
    summary = _summary(spec, records, result.failures)
    write_garbage_report(out, summary, config)
    return summary


def show_garbage(out: Path) -> list[GarbageSummary]:
    """The summaries of every recipe stored in `out`, from the store alone (all cells and seeds stored)."""
    summaries = []
    for spec, records in load_grid(out, EXPERIMENT):
        records.sort(key=_display_order)
        summaries.append(_summary(spec, records))
    return summaries
