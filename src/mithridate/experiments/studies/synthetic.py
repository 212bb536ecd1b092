"""Synthetic data, measured like a dose: at what mix with real data does it help, and what does
randomisation add to it (`mithridate synthetic`).

Digits rendered from fonts (plain or domain-randomised, with or without augmentation) and SMOTE rows on
breast_cancer, in two mixes (a share of a fixed total; added on top of a small real set), tested on held-out
real rows only. The design of the experiment (data, mixes, composition, outputs) is described in
docs/garbage.md, "The design of `mithridate synthetic`".
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

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
from .garbage import load_table

__all__ = [
    "DIGIT_VARIANTS",
    "EXPERIMENT",
    "MODELS",
    "PARTS",
    "TABULAR_VARIANTS",
    "SyntheticConfig",
    "SyntheticSummary",
    "compute_cell",
    "run_synthetic",
    "show_synthetic",
    "synthetic_digits",
    "write_synthetic_report",
]

EXPERIMENT = "synthetic"
RECIPE = 1  # bump when the computation of a cell changes
PARTS = ("digits", "tabular")
MIXES = ("share", "on_top")
DIGIT_VARIANTS = ("plain", "plain+aug", "randomised", "randomised+aug")
TABULAR_VARIANTS = ("copies", "smote")
NONE = "none"  # the synthetic kind of the real-only cells (share 0, nothing added)
MODELS = ("logreg", "svm", "random_forest", "knn")
MODEL_NAMES = {
    "logreg": "logistic regression",
    "svm": "RBF support-vector machine",
    "random_forest": "random forest",
    "knn": "k-nearest neighbours",
}
DEFAULT_MODELS = ("logreg", "svm")
DEFAULT_SHARES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
DEFAULT_ADDED = {"digits": (0, 50, 100, 250, 500, 1000, 2500, 5000), "tabular": (0, 20, 40, 100, 200, 400, 1000)}
DATA_NAMES = {"digits": "digits (rendered synthetic digits)", "tabular": "breast_cancer (SMOTE rows)"}


def _positive(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return value


def _choices(name: str, values: Any, known: Sequence[str]) -> tuple[str, ...]:
    values = tuple(values)
    unknown = [v for v in values if v not in known]
    if not values or unknown:
        raise ValueError(f"{name}: expected some of {', '.join(known)}, got {', '.join(map(str, values)) or 'none'}")
    return tuple(v for v in known if v in values)  # canonical order, no repeats


def _counts(name: str, values: Any) -> tuple[int, ...]:
    values = tuple(values)
    if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in values):
        raise ValueError(f"{name}: expected non-negative integers, got {list(values)}")
    return tuple(sorted(set(values)))


@dataclass(frozen=True)
class SyntheticConfig:
    """The grid and the recipe of the synthetic-data experiment (see the module's docstring).

    `parts`: which data (digits, tabular). `digits_variants` / `tabular_variants`: which kinds of
    synthetic data. `shares`: synthetic shares at the fixed totals `digits_total` / `tabular_total`;
    `digits_added` / `tabular_added`: synthetic counts added on top of `digits_real` / `tabular_real` real
    examples (None: the defaults). The recipe that the store hashes: `models`, the test sizes, the augment
    policy, SMOTE's neighbours.
    """

    parts: tuple[str, ...] = PARTS
    digits_variants: tuple[str, ...] = DIGIT_VARIANTS
    tabular_variants: tuple[str, ...] = TABULAR_VARIANTS
    models: tuple[str, ...] = DEFAULT_MODELS
    seeds: int = 5
    shares: tuple[float, ...] = DEFAULT_SHARES
    digits_total: int = 500
    digits_real: int = 50
    digits_added: tuple[int, ...] | None = None
    tabular_total: int = 100
    tabular_real: int = 40
    tabular_added: tuple[int, ...] | None = None
    digits_test: int = 797
    tabular_test: float = 0.25
    augment: str = "ta_wide-s0.5"
    smote_neighbors: int = 5

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", _choices("parts", self.parts, PARTS))
        object.__setattr__(self, "digits_variants", _choices("digits variants", self.digits_variants, DIGIT_VARIANTS))
        object.__setattr__(
            self, "tabular_variants", _choices("tabular variants", self.tabular_variants, TABULAR_VARIANTS)
        )
        object.__setattr__(self, "models", _choices("models", self.models, MODELS))
        _positive("seeds", self.seeds)
        shares = tuple(float(s) for s in self.shares)
        if not shares or any(not 0 <= s <= 1 for s in shares):
            raise ValueError(f"shares: expected synthetic shares in [0, 1], got {list(shares)}")
        object.__setattr__(self, "shares", tuple(sorted(set(shares))))
        for name in ("digits_total", "digits_real", "tabular_total", "tabular_real", "digits_test"):
            _positive(name, getattr(self, name))
        _positive("smote_neighbors", self.smote_neighbors)
        for part in PARTS:
            added = getattr(self, f"{part}_added")
            object.__setattr__(
                self, f"{part}_added", _counts(f"{part} added", DEFAULT_ADDED[part] if added is None else added)
            )
        if self.digits_test >= 1797 - 10:
            raise ValueError(f"digits_test: expected fewer than 1787 test images (of 1,797), got {self.digits_test}")
        pool = 1797 - self.digits_test
        for name in ("digits_total", "digits_real"):
            if getattr(self, name) > pool:
                raise ValueError(f"{name}: expected at most the {pool} real training images, got {getattr(self, name)}")
        if not isinstance(self.tabular_test, (int, float)) or not 0 < self.tabular_test < 1:
            raise ValueError(f"tabular_test: expected a share of the rows in (0, 1), got {self.tabular_test!r}")
        pool = 569 - math.ceil(569 * self.tabular_test)
        for name in ("tabular_total", "tabular_real"):
            if getattr(self, name) > pool:
                raise ValueError(f"{name}: expected at most the {pool} real training rows, got {getattr(self, name)}")
        if self.tabular_real < 2 * (self.smote_neighbors + 1):
            raise ValueError(
                f"tabular_real: SMOTE needs more real rows of each of the 2 classes than neighbours "
                f"({self.smote_neighbors}): expected at least {2 * (self.smote_neighbors + 1)}, got {self.tabular_real}"
            )
        from ...image.policy_string import parse_policy

        parse_policy(self.augment)  # a bad policy string fails here, with the parser's message

    def params(self) -> dict[str, Any]:
        return {
            "recipe": RECIPE,
            "models": list(self.models),
            "digits_test": self.digits_test,
            "tabular_test": float(self.tabular_test),
            "augment": self.augment,
            "smote_neighbors": self.smote_neighbors,
        }

    def spec(self) -> Recipe:
        return Recipe(EXPERIMENT, self.params())

    def variants(self, part: str) -> tuple[str, ...]:
        return self.digits_variants if part == "digits" else self.tabular_variants

    def cells(self) -> list[dict[str, Any]]:
        """Every cell: per part, the share mix then the on-top mix; the real-only cell of each mix once
        (synthetic "none")."""
        cells = []
        for part in self.parts:
            total = getattr(self, f"{part}_total")
            if 0.0 in self.shares:
                cells.append({"part": part, "mix": "share", "synthetic": NONE, "total": total, "x": 0.0})
            for variant in self.variants(part):
                cells += [
                    {"part": part, "mix": "share", "synthetic": variant, "total": total, "x": share}
                    for share in self.shares
                    if share > 0
                ]
            real = getattr(self, f"{part}_real")
            added = getattr(self, f"{part}_added")
            if 0 in added:
                cells.append({"part": part, "mix": "on_top", "synthetic": NONE, "real": real, "x": 0})
            for variant in self.variants(part):
                cells += [
                    {"part": part, "mix": "on_top", "synthetic": variant, "real": real, "x": n} for n in added if n > 0
                ]
        return cells

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# Data ---------------------------------------------------------------------------------------------------

def synthetic_digits(n: int, variant: str, seed: int, augment: str = "ta_wide-s0.5") -> tuple[np.ndarray, np.ndarray]:
    """`n` synthetic digits of `variant` (see the module's docstring): images float64 (n, 64) of integers
    0..16 as scikit-learn's digits, labels cycling 0..9. A smaller `n` gives a prefix of a larger one."""
    if variant not in DIGIT_VARIANTS:
        raise ValueError(f"variant: expected one of {', '.join(DIGIT_VARIANTS)}, got {variant!r}")
    labels = np.arange(n, dtype=np.int64) % 10
    if n == 0:
        return np.zeros((0, 64)), labels
    # Renders nest (a smaller one is a prefix of a larger one), so one cached render of the next power of two
    # per class serves every n up to it: the cells of a grid, whose synthetic counts differ, share it.
    per_class = 1 << (math.ceil(n / 10) - 1).bit_length()
    return _rendered_digits(seed, variant, augment, per_class)[:n].copy(), labels


@functools.lru_cache(maxsize=40)  # a few MB each; cells of a seed and kind run close together
def _rendered_digits(seed: int, variant: str, augment: str, per_class: int) -> np.ndarray:
    """`per_class` synthetic digits of each class as `synthetic_digits` returns them (read-only, shared)."""
    from ...data import render_digits

    bitmaps, _ = render_digits(per_class, seed=seed, randomise=variant.startswith("randomised"), bitmaps=True)
    pixels = bitmaps.astype(np.uint8) * 255  # (N, 32, 32), 0 or 255
    if variant.endswith("+aug"):
        import torch

        from ...image.policy_string import parse_policy

        policy = parse_policy(augment, seed=seed)
        images = torch.from_numpy(pixels).unsqueeze(1)
        pixels = policy(images, index=torch.arange(len(images)), epoch=0).squeeze(1).numpy()
    count = len(pixels)
    blocks = pixels.reshape(count, 8, 4, 8, 4).astype(np.float64).mean(axis=(2, 4)) * (16 / 255)
    rendered = np.rint(blocks).reshape(count, 64)
    rendered.setflags(write=False)
    return rendered


def _interleaved_order(y: np.ndarray, seed: int) -> np.ndarray:
    """Positions of `y` in class-interleaved random order: every prefix is as class-balanced as the
    classes allow, and a shorter prefix is part of a longer one."""
    rng = np.random.default_rng([seed, 7])
    rank = np.empty(len(y), dtype=np.int64)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        rank[members] = rng.permutation(len(members))
    return np.lexsort((rng.random(len(y)), rank))


def _split(part: str, params: dict[str, Any], seed: int):
    from sklearn.model_selection import train_test_split

    X, y = load_table("digits" if part == "digits" else "breast_cancer")
    test_size = params["digits_test"] if part == "digits" else params["tabular_test"]
    pool, test = train_test_split(np.arange(len(y)), test_size=test_size, stratify=y, random_state=seed)
    pool = pool[_interleaved_order(y[pool], seed)]
    return X, y, pool, test


def _synthetic_rows(variant: str, X: np.ndarray, y: np.ndarray, n: int, params: dict[str, Any], seed: int):
    if n == 0:
        return np.zeros((0, X.shape[1])), np.zeros(0, dtype=np.int64)
    if variant == "copies":
        rows = np.random.default_rng([seed, 11]).integers(0, len(y), n)
        return X[rows], y[rows]
    from ...tabular.synthetic import smote_rows

    X_new, y_new = smote_rows(X, y, n, k_neighbors=params["smote_neighbors"], random_state=seed)
    return np.asarray(X_new, dtype=np.float64), np.asarray(y_new, dtype=np.int64)


def _model(name: str, seed: int):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if name == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    if name == "svm":
        return make_pipeline(StandardScaler(), SVC())
    if name == "random_forest":
        return RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1)
    if name == "knn":
        return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5))
    raise ValueError(f"model: expected one of {', '.join(MODELS)}, got {name!r}")


def compute_cell(run: Run) -> dict[str, float]:
    """One cell-seed: build the training set of the cell's mix, fit every model, test on real rows.
    Metrics: `accuracy/<model>`, `n_real`, `n_synthetic`."""
    from ...data import Mix

    params, cell, seed = run.params, run.cell, run.seed
    part, mix, variant = cell["part"], cell["mix"], cell["synthetic"]
    X, y, pool, test = _split(part, params, seed)
    if mix == "share":
        n_synthetic = math.floor(cell["total"] * cell["x"] + 0.5)  # as Mix rounds: halves up
        real = pool  # Mix draws the real items from the whole pool
    else:
        n_synthetic = int(cell["x"])
        real = pool[: cell["real"]]  # the fixed real set: the first of the class-interleaved order
    if variant == NONE or n_synthetic == 0:
        X_syn, y_syn = np.zeros((0, X.shape[1])), np.zeros(0, dtype=np.int64)
    elif part == "digits":
        X_syn, y_syn = synthetic_digits(n_synthetic, variant, seed, params["augment"])
    else:
        source = pool if mix == "share" else real  # share: made from the whole pool; on top: from the real set
        X_syn, y_syn = _synthetic_rows(variant, X[source], y[source], n_synthetic, params, seed)
    if mix == "share":
        mixed = Mix(np.arange(len(real)), np.arange(len(y_syn)), cell["x"], length=cell["total"], seed=seed)
    else:
        mixed = Mix.on_top(np.arange(len(real)), np.arange(len(y_syn)), extra=len(y_syn), seed=seed)
    if mixed.n_synthetic != len(y_syn):
        raise RuntimeError(f"cell {cell}: the mix holds {mixed.n_synthetic} synthetic items, expected {len(y_syn)}")
    X_train = mixed.take(X[real], X_syn)
    y_train = mixed.take(y[real], y_syn)
    metrics: dict[str, float] = {"n_real": float(mixed.n_real), "n_synthetic": float(mixed.n_synthetic)}
    for name in params["models"]:
        if len(np.unique(y_train)) < 2:
            metrics[f"accuracy/{name}"] = float(np.mean(y[test] == y_train[0]))
            continue
        model = _model(name, seed)
        model.fit(X_train, y_train)
        metrics[f"accuracy/{name}"] = float(np.mean(model.predict(X[test]) == y[test]))
    return metrics


# Summary ------------------------------------------------------------------------------------------------


def _pct(estimate: Estimate) -> str:
    if estimate.mean is None or not math.isfinite(estimate.mean):
        return NOT_AVAILABLE
    half = "–" if estimate.half_width is None else f"{estimate.half_width * 100:.1f}"
    return f"{estimate.mean * 100:.1f} ± {half}"


def _points(estimate: Estimate) -> str:
    """A difference of accuracies in percentage points, signed: "+1.2 ± 0.8"."""
    if estimate.mean is None:
        return NOT_AVAILABLE
    half = "–" if estimate.half_width is None else f"{estimate.half_width * 100:.1f}"
    return f"{estimate.mean * 100:+.1f} ± {half}"


def _x_label(mix: str, x: float) -> str:
    return f"{x * 100:g}" if mix == "share" else f"{int(x)}"


@dataclass(frozen=True)
class Best:
    """Per part, mix and model: the real-only accuracy and the best synthetic mix (highest mean accuracy of
    `candidates` mixes), and its gain over real only, paired by seed: each seed tests both on the same real
    test split with the same real pool, so the per-seed differences are averaged (mean and 95% t interval).
    `beats`: the gain's interval lies above 0 (None: a single seed, no interval). The best of several mixes,
    picked on the test accuracy, is an optimistic estimate: read `beats` with that in mind."""

    part: str
    mix: str
    model: str
    real_only: Estimate
    variant: str
    x: float
    best: Estimate
    gain: Estimate
    candidates: int

    @property
    def beats(self) -> bool | None:
        return None if self.gain.low is None else self.gain.low > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "part": self.part,
            "mix": self.mix,
            "model": self.model,
            "real_only": self.real_only.to_dict(),
            "best_synthetic": self.variant,
            "best_x": self.x,
            "best": self.best.to_dict(),
            "paired_gain": self.gain.to_dict(),
            "candidates": self.candidates,
            "beats_real_only": self.beats,
        }


@dataclass(frozen=True)
class SyntheticSummary:
    """The cells of one recipe, with the mean and 95% interval of each metric over seeds."""

    spec: Recipe
    rows: list[CellSummary]
    records: list[Record]
    failures: list[Failure] = field(default_factory=list)

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.spec.params["models"])

    def blocks(self) -> list[tuple[str, str, Any]]:
        """(part, mix, size) of each mix experiment run, in display order (size: the total or the real count)."""
        seen: dict[tuple[str, str, Any], None] = {}
        for row in self.rows:
            c = row.cell
            seen[(c["part"], c["mix"], c["total"] if c["mix"] == "share" else c["real"])] = None
        return sorted(seen, key=lambda b: (PARTS.index(b[0]), MIXES.index(b[1]), b[2]))

    def cells(self, part: str, mix: str, size: Any, variant: str | None = None) -> list[CellSummary]:
        size_key = "total" if mix == "share" else "real"
        rows = [
            r
            for r in self.rows
            if r.cell["part"] == part
            and r.cell["mix"] == mix
            and r.cell[size_key] == size
            and (variant is None or r.cell["synthetic"] in (variant, NONE))
        ]
        return sorted(rows, key=lambda r: r.cell["x"])

    def variants(self, part: str, mix: str, size: Any) -> list[str]:
        known = DIGIT_VARIANTS if part == "digits" else TABULAR_VARIANTS
        present = {r.cell["synthetic"] for r in self.cells(part, mix, size)}
        return [v for v in known if v in present]

    def best(self) -> list[Best]:
        found = []
        for part, mix, size in self.blocks():
            rows = self.cells(part, mix, size)
            zero = next((r for r in rows if r.cell["synthetic"] == NONE), None)
            if zero is None:
                continue
            for model in self.models:
                metric = f"accuracy/{model}"
                others = [r for r in rows if r.cell["synthetic"] != NONE and r[metric].mean is not None]
                if not others:
                    continue
                top = max(others, key=lambda r: (r[metric].mean, -r.cell["x"]))
                gain = self._paired_gain(zero.cell, top.cell, metric)
                found.append(
                    Best(
                        part, mix, model, zero[metric], top.cell["synthetic"], top.cell["x"], top[metric], gain,
                        len(others),
                    )
                )  # fmt: skip
        return found

    def _paired_gain(self, base: dict[str, Any], other: dict[str, Any], metric: str) -> Estimate:
        """Per seed run at both cells: metric at `other` minus at `base`; their mean and 95% interval."""
        values: dict[int, dict[str, float]] = {}
        for record in self.records:
            for name, cell in (("base", base), ("other", other)):
                if record.cell == cell and metric in record.metrics:
                    values.setdefault(record.seed, {})[name] = record.metrics[metric]
        return Estimate.of([v["other"] - v["base"] for _, v in sorted(values.items()) if len(v) == 2])

    def _title(self, part: str, mix: str, size: Any) -> str:
        if mix == "share":
            return f"{DATA_NAMES[part]}: share of synthetic at a fixed total of {size}; test accuracy %"
        return f"{DATA_NAMES[part]}: synthetic added on top of {size} real; test accuracy %"

    def _table(self, part: str, mix: str, size: Any) -> tuple[list[str], list[list[str]]]:
        """Rows: model then mix value; columns: the kinds of synthetic data (real-only rows repeat the
        real-only accuracy in every column)."""
        variants = self.variants(part, mix, size)
        header = ["model", "synthetic %" if mix == "share" else "added", *variants]
        rows = self.cells(part, mix, size)
        xs = sorted({r.cell["x"] for r in rows})
        lines = []
        for model in self.models:
            for x in xs:
                at = {r.cell["synthetic"]: r for r in rows if r.cell["x"] == x}
                line = [model, _x_label(mix, x)]
                for variant in variants:
                    row = at.get(variant) or at.get(NONE)
                    line.append(NOT_AVAILABLE if row is None else _pct(row[f"accuracy/{model}"]))
                lines.append(line)
        return header, lines

    @staticmethod
    def _best_table(best: Sequence[Best]) -> tuple[list[str], list[list[str]]]:
        """Header and rows of the best synthetic mix per model against real only."""
        header = ["data", "mix", "model", "real only %", "best synthetic", "accuracy %", "gain (points)", "beats"]
        rows = [
            [
                b.part,
                b.mix,
                b.model,
                _pct(b.real_only),
                f"{b.variant} at {_x_label(b.mix, b.x)}{' %' if b.mix == 'share' else ''}",
                _pct(b.best),
                _points(b.gain),
                {True: "yes", False: "no", None: "cannot tell (one seed)"}[b.beats],
            ]
            for b in best
        ]
        return header, rows

    def format_table(self) -> str:
        out = []
        for part, mix, size in self.blocks():
            header, lines = self._table(part, mix, size)
            out.append(self._title(part, mix, size))
            out.append(text_table(header, lines))
            out.append("")
        out.append(f"Tested on held-out real data only. {INTERVAL_LEGEND}.")
        best = self.best()
        if best:
            out.append("")
            out.append("Best synthetic mix per model against real only (accuracy %):")
            out.append(text_table(*self._best_table(best), left=(0, 1, 2, 4, 7)))
            out.append(
                "Best synthetic: the mix with the highest mean accuracy; gain: its accuracy minus real only's, "
                "paired by seed (mean ± 95% interval); beats: the gain's interval lies above 0. The best of many "
                "mixes is an optimistic pick."
            )
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": EXPERIMENT,
            "spec": self.spec.to_dict(),
            "interval": INTERVAL_LEGEND,
            "cells": [row.to_dict() for row in self.rows],
            "best": [b.to_dict() for b in self.best()],
            "runs": [record.to_dict() for record in self.records],
        }


# Figures ------------------------------------------------------------------------------------------------

_COLOURS = {
    "plain": "#9aa0a6",
    "plain+aug": "#d9730d",
    "randomised": "#1f6fb4",
    "randomised+aug": "#2e7d32",
    "copies": "#9aa0a6",
    "smote": "#1f6fb4",
}


def mix_figure(summary: SyntheticSummary, part: str):
    """Rows: models; columns: the mix experiments of `part`. Test accuracy on real data against the mix,
    one line per kind of synthetic data (mean, 95% band), the real-only accuracy as a dotted line."""
    blocks = [b for b in summary.blocks() if b[0] == part]
    models = summary.models
    figure, axes = new_figure_grid(len(models), len(blocks), 5.2 * len(blocks), 3.0 * len(models) + 0.8)
    for j, (_, mix, size) in enumerate(blocks):
        rows = summary.cells(part, mix, size)
        xs_all = sorted({r.cell["x"] for r in rows})
        position = {x: (x * 100 if mix == "share" else i) for i, x in enumerate(xs_all)}
        for i, model in enumerate(models):
            ax = axes[i, j]
            metric = f"accuracy/{model}"
            zero = next((r for r in rows if r.cell["synthetic"] == NONE), None)
            if zero is not None and zero[metric].mean is not None:
                ax.axhline(
                    zero[metric].mean * 100, color="0.35", ls=":", lw=1.2, label="real only" if i == j == 0 else None
                )
            for variant in summary.variants(part, mix, size):
                series = summary.cells(part, mix, size, variant)
                xs = np.array([position[r.cell["x"]] for r in series])
                est = [r[metric] for r in series]
                means = np.array([math.nan if e.mean is None else e.mean * 100 for e in est])
                low = np.array([math.nan if e.low is None else max(e.low * 100, 0) for e in est])
                high = np.array([math.nan if e.high is None else min(e.high * 100, 100) for e in est])
                colour = _COLOURS[variant]
                ax.fill_between(xs, low, high, color=colour, alpha=0.15, linewidth=0)
                ax.plot(xs, means, "-o", color=colour, lw=1.8, ms=3.5, label=variant if i == 0 and j == 0 else None)
            if mix == "on_top":
                ax.set_xticks([position[x] for x in xs_all], [_x_label(mix, x) for x in xs_all])
                ax.set_xlabel(f"synthetic examples added to {size} real" if i == len(models) - 1 else "")
            else:
                ax.set_xlabel(f"synthetic share % of {size} training examples" if i == len(models) - 1 else "")
            if i == 0:
                ax.set_title(
                    "fixed total, share of synthetic" if mix == "share" else "synthetic on top of real", fontsize=11
                )
            if j == 0:
                ax.set_ylabel(f"{MODEL_NAMES[model]}\ntest accuracy % (real)")
    figure.legend(loc="outside lower center", ncols=6, fontsize=8.5, frameon=False)
    figure.suptitle(f"Synthetic data: {DATA_NAMES[part]}, tested on real data (mean and 95% interval)", fontsize=12)
    return figure


def samples_figure(variants: Sequence[str], augment: str, seed: int = 0, per_row: int = 10):
    """Real digits and each kind of synthetic digit, one row each (digits 0..9)."""
    X, y = load_table("digits")
    figure, axes = new_figure_grid(1 + len(variants), per_row, 0.75 * per_row + 1.2, 0.8 * (1 + len(variants)) + 0.4)
    rows = [("real", np.stack([X[np.flatnonzero(y == d)[0]] for d in range(per_row)]))]
    rows += [(v, synthetic_digits(per_row, v, seed, augment)[0]) for v in variants]
    for i, (name, images) in enumerate(rows):
        for j in range(per_row):
            ax = axes[i, j]
            ax.imshow(images[j].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for spine in ax.spines.values():
                spine.set_visible(False)
        axes[i, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    figure.suptitle(f"Real digits and synthetic digits (augment: {augment})", fontsize=11)
    return figure


# Running ------------------------------------------------------------------------------------------------


def _display_order(record: Record) -> tuple:
    c = record.cell
    size = c["total"] if c["mix"] == "share" else c["real"]
    variants = (NONE, *DIGIT_VARIANTS, *TABULAR_VARIANTS)
    return PARTS.index(c["part"]), MIXES.index(c["mix"]), size, variants.index(c["synthetic"]), c["x"], record.seed


def _cost(cell: dict[str, Any]) -> tuple:
    """Slow cells first (digits, large training sets); cells of one synthetic kind together (one render)."""
    n = cell["total"] if cell["mix"] == "share" else cell["real"] + cell["x"]
    return (cell["part"] != "digits", cell["synthetic"], -n)


def write_synthetic_report(out: Path, summary: SyntheticSummary, config: SyntheticConfig | None = None) -> Path:
    """Write the report of `summary` into `out`: the figures, results.json (with `config`, if given) and
    report.html (`templates/synthetic.html.j2`); return the path of report.html."""
    parts = [p for p in PARTS if any(b[0] == p for b in summary.blocks())]
    figures = [
        GridFigure(
            f"synthetic_{part}.png",
            mix_figure(summary, part),
            f"{DATA_NAMES[part]}: test accuracy on real data against the mix",
            f"{DATA_NAMES[part]}: test accuracy on held-out real data against the mix, one line per kind of "
            "synthetic data (mean over seeds, 95% band); dotted: real data only.",
        )
        for part in parts
    ]
    augment = summary.spec.params["augment"]
    if "digits" in parts:
        variants = [v for v in DIGIT_VARIANTS if any(r.cell["synthetic"] == v for r in summary.rows)]
        figures.append(
            GridFigure(
                "synthetic_samples.png",
                samples_figure(variants, augment),
                "Real and synthetic digits",
                "The first real digit of each class, then the first ten synthetic digits of each kind (seed 0).",
            )
        )
    sections = []
    for part, mix, size in summary.blocks():
        header, lines = summary._table(part, mix, size)
        sections.append(Section(summary._title(part, mix, size), html_table(header, lines)))
    best = summary.best()
    if best:
        header, lines = summary._best_table(best)
        legend = (
            "Best synthetic: the mix with the highest mean accuracy; gain: its accuracy minus real only’s, paired "
            "by seed (same test split and real pool), mean ± 95% interval; beats: the gain’s interval lies above 0. "
            "The best of many mixes is an optimistic pick."
        )
        table = html_table(header, lines, left=(0, 1, 2, 4))
        sections.insert(0, Section("Best synthetic mix against real only", table, legend))
    params = summary.spec.params
    return write_grid_report(
        out,
        title="Synthetic data: at what mix does it help?",
        sections=sections,
        figures=figures,
        payload=summary.to_dict() | ({"config": config.to_dict()} if config else {}),
        run=run_section(summary.spec, summary.records),
        template="synthetic.html.j2",
        context={
            "augment": augment,
            "tabular_test_percent": f"{params['tabular_test'] * 100:.0f}",
            "smote_neighbors": params["smote_neighbors"],
            "models": [MODEL_NAMES[m] for m in summary.models],
            "interval": INTERVAL_LEGEND,
        },
    )


def run_synthetic(
    config: SyntheticConfig,
    out: Path = Path("runs/synthetic"),
    *,
    jobs: int = 1,
    backend: Backend | None = None,
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> SyntheticSummary:
    """Run (or resume) the experiment into `out`: store, results.json, report.html and the figures."""
    out = Path(out)
    spec = config.spec()
    cells = sorted(config.cells(), key=_cost)
    tick = time.perf_counter()
    result = run_grid(
        spec, cells, range(config.seeds), compute_cell, out / STORE_FILE, backend=backend or Backend(jobs=jobs),
        progress=progress, desc=EXPERIMENT,
    )  # fmt: skip
    records = sorted(result.records, key=_display_order)
    echo(f"{len(records)} cell-seeds in {time.perf_counter() - tick:.1f} s")
    summary = SyntheticSummary(spec, summarize_grid(records), records, result.failures)
    write_synthetic_report(out, summary, config)
    return summary


def show_synthetic(out: Path) -> list[SyntheticSummary]:
    """The summaries of every recipe stored in `out`, from the store alone."""
    summaries = []
    for spec, records in load_grid(out, EXPERIMENT):
        records.sort(key=_display_order)
        summaries.append(SyntheticSummary(spec, summarize_grid(records), records))
    return summaries
