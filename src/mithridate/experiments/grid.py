"""A grid experiment: one function computed at every cell (a dict of factor values, such as
`{"dataset": "wine", "kind": "gaussian", "k": 26}`) and every seed, each result stored at once, then
summarised as the mean and 95% interval over seeds per cell and metric. `mithridate garbage` and
`mithridate synthetic` are grid experiments; the dose-response sweep has its own store (`store.py`).

The store (`GridStore`, by convention `runs/NAME/grid.sqlite`) keeps the sweep store's guarantees, with the
same settings (see `store.py`): a write-ahead log, `synchronous=FULL`, and one short `BEGIN IMMEDIATE`
transaction per finished cell-seed. So:

- killing a run at any moment loses no finished cell-seed (it is on disk when `add` returns) and leaves no
  half row; re-running asks the store what is left, so nothing finished is computed again;
- a result is keyed by `(experiment, spec hash, cell, seed)`: never duplicated, never overwritten; two
  processes writing one store take turns and both land.

What the spec hashes is the *recipe* (`GridSpec.params`: test share, model settings, sizes): everything
that changes a cell-seed's result besides the cell and the seed. The grid's extent (which cells, how many
seeds) is not hashed, so widening a grid, or adding seeds, reuses every cell-seed already computed.

`compute(params, cell, seed) -> {metric: number}` runs in this process (`jobs=1`) or in `jobs` worker
processes started with spawn (it must then be a module-level function); each worker is limited to one
thread (torch, and OpenMP/BLAS through threadpoolctl) so that workers do not oversubscribe the cores.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import operator
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .store.jsonable import finite_or_none as _finite_or_none
from .store.jsonable import json_default as _json_default
from .store.sqlite_file import SQLiteFile, StoreError
from .summary import Estimate

__all__ = [
    "GRID_FILE",
    "CellSummary",
    "GridRecord",
    "GridSpec",
    "GridStore",
    "StoreError",
    "cell_key",
    "load_grid",
    "run_grid",
    "summarize_grid",
]

GRID_FILE = "grid.sqlite"
GRID_SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE specs (
    experiment TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    params_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    mithridate_version TEXT NOT NULL,
    PRIMARY KEY (experiment, spec_hash)
);
CREATE TABLE results (
    id INTEGER PRIMARY KEY,
    experiment TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    cell TEXT NOT NULL,
    seed INTEGER NOT NULL,
    metrics_json TEXT NOT NULL,
    seconds REAL,
    versions_json TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    UNIQUE (experiment, spec_hash, cell, seed)
);
"""
_COLUMNS = (
    "experiment",
    "spec_hash",
    "cell",
    "seed",
    "metrics_json",
    "seconds",
    "versions_json",
    "started_at",
    "finished_at",
)
_INSERT = (
    f"INSERT INTO results ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (experiment, spec_hash, cell, seed) DO NOTHING"
)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM results"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_json_default)


def cell_key(cell: Mapping[str, Any]) -> str:
    """The canonical JSON text of a cell (sorted keys, no spaces): how the store names it."""
    if not isinstance(cell, Mapping) or not cell:
        raise ValueError(f"cell: expected a non-empty dict of factor values, got {cell!r}")
    for name, value in cell.items():
        if not isinstance(name, str):
            raise ValueError(f"cell {dict(cell)!r}: factor names must be strings, got {name!r}")
        if not (value is None or isinstance(value, (str, int, float, bool))):
            raise ValueError(f"cell {dict(cell)!r}: factor {name!r} must be a string, number or bool, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"cell {dict(cell)!r}: factor {name!r} must be finite, got {value!r}")
    return _canonical(dict(cell))


@dataclass(frozen=True)
class GridSpec:
    """An experiment's name and recipe. `params` must be JSON-able; it is hashed (`spec_hash`) and stored,
    and passed to `compute` with every cell and seed."""

    experiment: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.experiment, str) or not self.experiment:
            raise ValueError(f"experiment: expected a non-empty name, got {self.experiment!r}")
        try:
            canonical = _canonical(dict(self.params))
        except (TypeError, ValueError) as error:
            raise ValueError(f"params: expected JSON-able values: {error}") from None
        object.__setattr__(self, "params", json.loads(canonical))  # plain lists and dicts, as stored

    def spec_hash(self) -> str:
        text = _canonical({"experiment": self.experiment, "params": self.params})
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {"experiment": self.experiment, "params": dict(self.params), "spec_hash": self.spec_hash()}


@dataclass(frozen=True)
class GridRecord:
    """One finished cell-seed: the metrics `compute` returned (numbers; NaN for non-finite) and when and
    with what it ran."""

    experiment: str
    spec_hash: str
    cell: dict[str, Any]
    seed: int
    metrics: dict[str, float]
    seconds: float
    versions: dict[str, str]
    started_at: str
    finished_at: str

    @property
    def key(self) -> tuple[str, int]:
        return cell_key(self.cell), self.seed

    def to_dict(self) -> dict[str, Any]:
        return _finite_or_none(
            {
                "experiment": self.experiment,
                "spec_hash": self.spec_hash,
                "cell": dict(self.cell),
                "seed": self.seed,
                "metrics": dict(self.metrics),
                "seconds": self.seconds,
                "versions": dict(self.versions),
                "started_at": self.started_at,
                "finished_at": self.finished_at,
            }
        )


class GridStore(SQLiteFile):
    """The specs and finished cell-seeds of grid experiments, in one SQLite file (created with its folder).

    Open one per process: an SQLite connection must not cross a fork. `timeout` is how many seconds a writer
    waits for another process's transaction.
    """

    KIND = "grid store"

    def _version(self, conn: sqlite3.Connection) -> int | None:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return None
        if not {"meta", "specs", "results"} <= tables:
            raise StoreError(
                f"{self.path}: an SQLite database but not a mithridate grid store (its tables are {sorted(tables)})"
            )
        row = conn.execute("SELECT value FROM meta WHERE key = 'grid_schema_version'").fetchone()
        try:
            return int(row[0])
        except (TypeError, ValueError):
            raise StoreError(f"{self.path}: grid store without a valid schema version (found {row!r})") from None

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        version = self._version(conn)
        if version is None:
            with self._transaction(conn):
                if self._version(conn) is None:  # re-read under the write lock: another process may have won
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(
                        "INSERT INTO meta (key, value) VALUES ('grid_schema_version', ?)", (str(GRID_SCHEMA_VERSION),)
                    )
            version = self._version(conn)
        if version != GRID_SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: grid store schema version {version}, this mithridate reads version "
                f"{GRID_SCHEMA_VERSION}; use a matching mithridate or a new folder"
            )

    # -- specs ------------------------------------------------------------------------------------------

    def add_spec(self, spec: GridSpec) -> bool:
        """Register a spec (idempotent): True if it was added, False if it was there already."""
        if not isinstance(spec, GridSpec):
            raise StoreError(f"spec: expected a GridSpec, got {type(spec).__name__}")
        from .. import __version__

        conn = self._connection()
        with self._transaction(conn):
            cursor = conn.execute(
                "INSERT INTO specs (experiment, spec_hash, params_json, created_at, mithridate_version) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (experiment, spec_hash) DO NOTHING",
                (
                    spec.experiment,
                    spec.spec_hash(),
                    _canonical(dict(spec.params)),
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    __version__,
                ),
            )
        return cursor.rowcount == 1

    def specs(self, experiment: str | None = None) -> list[GridSpec]:
        """The registered specs (of one experiment, or all), oldest first."""
        conn = self._connection()
        query = "SELECT experiment, params_json FROM specs"
        rows = (
            conn.execute(f"{query} ORDER BY created_at, rowid")
            if experiment is None
            else conn.execute(f"{query} WHERE experiment = ? ORDER BY created_at, rowid", (experiment,))
        )
        return [GridSpec(name, json.loads(params)) for name, params in rows]

    # -- results ----------------------------------------------------------------------------------------

    def finished(self, spec: GridSpec) -> set[tuple[str, int]]:
        """The (cell key, seed) pairs stored for `spec`."""
        rows = self._connection().execute(
            "SELECT cell, seed FROM results WHERE experiment = ? AND spec_hash = ?", (spec.experiment, spec.spec_hash())
        )
        return {(cell, int(seed)) for cell, seed in rows}

    def add(self, record: GridRecord) -> bool:
        """Store one finished cell-seed in one transaction: True if stored, False if it was there already
        (the stored row is kept). Its spec must be registered."""
        if not isinstance(record, GridRecord):
            raise StoreError(f"add: expected a GridRecord, got {type(record).__name__}")
        conn = self._connection()
        known = conn.execute(
            "SELECT 1 FROM specs WHERE experiment = ? AND spec_hash = ?", (record.experiment, record.spec_hash)
        ).fetchone()
        if known is None:
            raise StoreError(
                f"{self.path}: result for {record.experiment!r} spec hash {record.spec_hash!r}, which is not "
                "registered; call add_spec(spec) first"
            )
        try:
            seed = operator.index(record.seed)
        except TypeError:
            raise StoreError(f"add: seed: expected an integer, got {record.seed!r}") from None
        metrics = {}
        for name, value in record.metrics.items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise StoreError(f"add: metric {name!r}: expected a number, got {value!r}") from None
            metrics[str(name)] = number if math.isfinite(number) else None
        values = (
            record.experiment,
            record.spec_hash,
            cell_key(record.cell),
            seed,
            json.dumps(metrics, sort_keys=True, allow_nan=False),
            float(record.seconds),
            json.dumps(record.versions, sort_keys=True),
            record.started_at,
            record.finished_at,
        )
        with self._transaction(conn):
            cursor = conn.execute(_INSERT, values)
        return cursor.rowcount == 1

    def records(self, spec: GridSpec | None = None) -> list[GridRecord]:
        """The stored results of `spec` (or all), in the order they were stored."""
        conn = self._connection()
        if spec is None:
            rows = conn.execute(f"{_SELECT} ORDER BY id")
        else:
            rows = conn.execute(
                f"{_SELECT} WHERE experiment = ? AND spec_hash = ? ORDER BY id", (spec.experiment, spec.spec_hash())
            )
        return [
            GridRecord(
                experiment=experiment,
                spec_hash=spec_hash,
                cell=json.loads(cell),
                seed=int(seed),
                metrics={k: math.nan if v is None else float(v) for k, v in json.loads(metrics).items()},
                seconds=math.nan if seconds is None else float(seconds),
                versions=json.loads(versions),
                started_at=started,
                finished_at=finished,
            )
            for experiment, spec_hash, cell, seed, metrics, seconds, versions, started, finished in rows
        ]


# Running ----------------------------------------------------------------------------------------------

Compute = Callable[[dict[str, Any], dict[str, Any], int], Mapping[str, float]]


def _versions() -> dict[str, str]:
    from importlib import metadata

    from .. import __version__

    versions = {"mithridate": __version__, "python": platform.python_version()}
    for package in ("numpy", "scikit-learn", "torch"):
        with suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return versions


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class _Task:
    compute: Compute
    spec: GridSpec
    cell: dict[str, Any]
    seed: int


def _execute(task: _Task) -> tuple[dict[str, float], float, str, str]:
    started = _now()
    tick = time.perf_counter()
    metrics = dict(task.compute(dict(task.spec.params), dict(task.cell), task.seed))
    return metrics, time.perf_counter() - tick, started, _now()


def _init_worker() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def _label(cell: Mapping[str, Any], seed: int) -> str:
    return " ".join(f"{name}={value}" for name, value in cell.items()) + f" seed={seed}"


def run_grid(
    spec: GridSpec,
    cells: Sequence[Mapping[str, Any]],
    seeds: Sequence[int],
    compute: Compute,
    store: str | os.PathLike[str],
    *,
    jobs: int = 1,
    progress: bool = True,
    desc: str | None = None,
) -> list[GridRecord]:
    """Compute every cell at every seed that `store` (a GridStore file path) does not hold yet, storing each
    result as it lands; return the stored records of these cells and seeds, in cell order then seed order.

    Cells are started in the order given (put the slow ones first for the best use of a pool); with `jobs`
    > 1 they run in worker processes (spawn). A cell-seed that raises stops the run with that error; what
    finished before it stays stored.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs: expected a positive number of worker processes, got {jobs!r}")
    seeds = [operator.index(seed) for seed in seeds]
    if not seeds or any(seed < 0 for seed in seeds) or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds: expected distinct non-negative integers, got {seeds}")
    cells = [dict(cell) for cell in cells]
    keys = [cell_key(cell) for cell in cells]
    if not cells or len(set(keys)) != len(keys):
        raise ValueError("cells: expected at least one cell and no cell twice")
    from tqdm import tqdm

    versions = _versions()
    with GridStore(store) as grid:
        grid.add_spec(spec)
        done = grid.finished(spec)
        todo = [_Task(compute, spec, cell, seed) for cell, key in zip(cells, keys, strict=True) for seed in seeds]
        todo = [task for task in todo if (cell_key(task.cell), task.seed) not in done]
        total = len(cells) * len(seeds)
        bar = tqdm(
            total=total,
            initial=total - len(todo),
            disable=not progress or not todo,
            unit="cell",
            desc=desc or spec.experiment,
            file=sys.stderr,
            dynamic_ncols=True,
        )

        def landed(task: _Task, result: tuple[dict[str, float], float, str, str]) -> None:
            metrics, seconds, started, finished = result
            record = GridRecord(
                spec.experiment, spec.spec_hash(), task.cell, task.seed, metrics, seconds, versions, started, finished
            )
            grid.add(record)
            bar.set_postfix_str(f"done {_label(task.cell, task.seed)} ({seconds:.1f} s)")
            bar.update(1)

        try:
            if jobs == 1 or len(todo) <= 1:
                for task in todo:
                    bar.set_postfix_str(f"running {_label(task.cell, task.seed)}")
                    landed(task, _execute(task))
            else:
                _run_pool(todo, jobs, landed)
        finally:
            bar.close()
        wanted = {(key, seed): (position, seed) for position, key in enumerate(keys) for seed in seeds}
        records = [record for record in grid.records(spec) if record.key in wanted]
    return sorted(records, key=lambda record: wanted[record.key])


def _run_pool(todo: list[_Task], jobs: int, landed: Callable[[_Task, Any], None]) -> None:
    context = multiprocessing.get_context("spawn")
    queue = list(reversed(todo))
    with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=context, initializer=_init_worker) as pool:
        pending: dict[Any, _Task] = {}
        try:
            while queue or pending:
                while queue and len(pending) < jobs:  # a short queue: a stop or a crash strands few tasks
                    task = queue.pop()
                    pending[pool.submit(_execute, task)] = task
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    landed(pending.pop(future), future.result())
        except BaseException:
            for future in pending:
                future.cancel()
            raise


# Summary and show -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellSummary:
    """One cell over its seeds: per metric, the mean and 95% t interval (`Estimate`)."""

    cell: dict[str, Any]
    seeds: tuple[int, ...]
    metrics: dict[str, Estimate]

    def __getitem__(self, metric: str) -> Estimate:
        return self.metrics.get(metric, Estimate.of([]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "cell": dict(self.cell),
            "seeds": list(self.seeds),
            "metrics": {name: estimate.to_dict() for name, estimate in self.metrics.items()},
        }


def summarize_grid(records: Sequence[GridRecord]) -> list[CellSummary]:
    """Per cell (in first-seen order), every metric's mean and 95% interval over the seeds that measured
    it (NaN values are left out). Records must not repeat a cell-seed."""
    groups: dict[str, list[GridRecord]] = {}
    seen: set[tuple[str, str, int]] = set()
    for record in records:
        key = cell_key(record.cell)
        if (record.spec_hash, key, record.seed) in seen:
            raise ValueError(f"records: cell {key} seed {record.seed} appears twice; expected one result per seed")
        seen.add((record.spec_hash, key, record.seed))
        groups.setdefault(key, []).append(record)
    summaries = []
    for group in groups.values():
        group = sorted(group, key=lambda record: record.seed)
        names = list(dict.fromkeys(name for record in group for name in record.metrics))
        metrics = {
            name: Estimate.of([r.metrics[name] for r in group if name in r.metrics and not math.isnan(r.metrics[name])])
            for name in names
        }
        summaries.append(CellSummary(dict(group[0].cell), tuple(r.seed for r in group), metrics))
    return summaries


def load_grid(folder: str | os.PathLike[str], experiment: str) -> list[tuple[GridSpec, list[GridRecord]]]:
    """The specs of `experiment` stored in `folder`/grid.sqlite with their results (specs without any
    result left out), oldest first; for showing a finished or interrupted run again."""
    path = Path(folder) / GRID_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{folder}: no {GRID_FILE} here; expected a folder written by 'mithridate {experiment}'"
        )
    with GridStore(path) as store:
        found = [(spec, records) for spec in store.specs(experiment) if (records := store.records(spec))]
    if not found:
        raise ValueError(f"{folder}: the store holds no finished {experiment} result yet")
    return found
