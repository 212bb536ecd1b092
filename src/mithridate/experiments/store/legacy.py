"""Converting the stores of older mithridate versions into the experiment store: the sweep's
`results.sqlite` (schema version 1: tables `sweeps` and `runs`) and the grid's `grid.sqlite` (grid schema
version 1: tables `specs` and `results`, written by `garbage` and `synthetic`).

The old files are read only and kept. A sweep's runs are re-keyed by the recipe (the old key hashed the
dose list and seed count too), and its dose-0 models (`models/*.pt`) become the runs' artifacts, so a
converted sweep can be widened. A grid's recipes keep their hashes (the grid store already hashed the
recipe alone).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from pathlib import Path

from ..records import RUN_METRICS, SweepSpec
from .experiment_store import STORE_FILE, ExperimentStore
from .records import Recipe, Record
from .sqlite_file import StoreError

__all__ = ["ConversionReport", "convert_folder"]

_SCHEMAS = {
    "results.sqlite": ("schema_version", {"meta", "sweeps", "runs"}),
    "grid.sqlite": ("grid_schema_version", {"meta", "specs", "results"}),
}


class ConversionReport(dict):
    """How many recipes and runs were converted, by source file, and how many were there already."""


def _open_read_only(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.execute("SELECT name FROM sqlite_master").fetchall()
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{path}: not a readable SQLite store ({error})") from error
    return conn


def _schema(conn: sqlite3.Connection, path: Path, key: str, tables: set[str]) -> None:
    found = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables <= found:
        raise StoreError(
            f"{path}: expected the tables {sorted(tables)} of an older mithridate store, found {sorted(found)}"
        )
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is None or row[0] != "1":
        raise StoreError(f"{path}: {key} {row and row[0]!r}; this mithridate converts version 1 only")


def _sweep(path: Path, store: ExperimentStore) -> tuple[int, int]:
    conn = _open_read_only(path)
    try:
        _schema(conn, path, "schema_version", {"meta", "sweeps", "runs"})
        stored = conn.execute("SELECT spec_hash, spec_json FROM sweeps").fetchall()
        specs = {old_hash: SweepSpec.from_dict(json.loads(text)) for old_hash, text in stored}
        rows = conn.execute(
            "SELECT spec_hash, dose, seed, clean_accuracy, corrupted_accuracy, corruption_accuracy_json, affinity, "
            "final_train_loss, train_seconds, eval_seconds, augment_images_per_second, peak_memory_mb, "
            "versions_json, started_at, finished_at, extra_json FROM runs ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    recipes = {old: Recipe("sweep", spec.recipe_params()) for old, spec in specs.items()}
    for recipe in recipes.values():
        store.add_recipe(recipe)
    added = 0
    for old_hash, dose, seed, *values in rows:
        clean, corrupted, per_corruption, affinity, loss, train_s, eval_s, speed, memory = values[:9]
        versions, started, finished, extra = values[9:]
        numbers = (clean, corrupted, affinity, loss, train_s, eval_s, speed, memory)
        metrics = dict(zip(RUN_METRICS, numbers, strict=True))
        metrics = {name: math.nan if value is None else float(value) for name, value in metrics.items()}
        metrics.update({f"corruption/{k}": v for k, v in json.loads(per_corruption).items()})
        recipe = recipes[old_hash]
        record = Record(
            "sweep",
            recipe.spec_hash(),
            {"dose": float(dose)},
            int(seed),
            metrics,
            (train_s or 0.0) + (eval_s or 0.0),
            json.loads(versions),
            started,
            finished,
            json.loads(extra),
            "",
        )
        model = path.parent / "models" / f"{old_hash}-seed{seed}-dose0.pt"
        artifacts = {"dose0_model": model.read_bytes()} if float(dose) == 0.0 and model.is_file() else {}
        added += store.add(record, artifacts)
    return len(recipes), added


def _grid(path: Path, store: ExperimentStore) -> tuple[int, int]:
    conn = _open_read_only(path)
    try:
        _schema(conn, path, "grid_schema_version", {"meta", "specs", "results"})
        specs = conn.execute("SELECT experiment, params_json FROM specs ORDER BY created_at, rowid").fetchall()
        rows = conn.execute(
            "SELECT experiment, spec_hash, cell, seed, metrics_json, seconds, versions_json, started_at, finished_at "
            "FROM results ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    for experiment, params in specs:
        store.add_recipe(Recipe(experiment, json.loads(params)))
    added = 0
    for experiment, spec_hash, cell, seed, metrics, seconds, versions, started, finished in rows:
        values = {k: math.nan if v is None else float(v) for k, v in json.loads(metrics).items()}
        seconds = math.nan if seconds is None else float(seconds)
        record = Record(
            experiment, spec_hash, json.loads(cell), int(seed), values, seconds, json.loads(versions), started, finished
        )
        added += store.add(record)
    return len(specs), added


def convert_folder(folder: str | os.PathLike[str]) -> ConversionReport:
    """Read the older stores of `folder` (results.sqlite, grid.sqlite) into its store.sqlite (created or
    added to; runs already there are kept). Idempotent. FileNotFoundError if the folder has neither."""
    folder = Path(folder)
    sources = [(name, convert) for name, convert in (("results.sqlite", _sweep), ("grid.sqlite", _grid))]
    present = [(name, convert) for name, convert in sources if (folder / name).is_file()]
    if not present:
        raise FileNotFoundError(f"{folder}: no results.sqlite or grid.sqlite here; nothing to convert")
    for name, _ in present:  # refuse an unreadable or other-version old store before writing anything
        conn = _open_read_only(folder / name)
        try:
            _schema(conn, folder / name, *_SCHEMAS[name])
        finally:
            conn.close()
    report = ConversionReport()
    with ExperimentStore(folder / STORE_FILE) as store:
        for name, convert in present:
            recipes, runs = convert(folder / name, store)
            report[name] = {"recipes": recipes, "runs": runs}
    return report
