"""The results store of the dose-response sweep: one SQLite file (by convention `runs/NAME/results.sqlite`)
that holds the sweeps' specs and one row per finished run.

The store is what makes a sweep resumable and safe to run in several processes at once:

- Each run is written in one short transaction (`BEGIN IMMEDIATE` ... `COMMIT`), so a process killed at any
  moment leaves either the whole row or nothing, and a re-run asks `finished(spec_hash)` for what is left.
- A run is keyed by `(spec_hash, dose, seed)`: `add_run` never duplicates and never overwrites a row; the
  second writer of the same run is told so (`False`) and its record is dropped.
- The journal is a write-ahead log (WAL): readers never block the writer, and writers from several
  processes take turns (each waits up to `timeout` seconds for the lock instead of failing).
- `synchronous=FULL`: a commit is on disk when `add_run` returns, even across a power cut, not only across a
  crash of the process. A run costs seconds to minutes of training and is committed once, so the fsync per
  commit (milliseconds) costs nothing that matters, while losing finished runs would cost retraining them.
  (`NORMAL` in WAL mode is also crash-safe for the process, but may lose the last commits on power loss.)

Doses are matched to the spec's doses: a run's dose is snapped to the registered spec's dose within a
relative tolerance of 1e-9 before it is stored, so a dose computed as `0.1 * 3` lands on the spec's `0.3`
and `finished()` returns doses that compare equal to `spec.doses`. A run can therefore only be added for a
spec registered with `add_sweep`, at one of its doses.

Non-finite metrics: SQLite stores NaN as NULL; a NULL metric reads back as NaN (a diverged run's loss is a
result worth keeping), except `affinity`, where NULL reads back as None (not measured). `export_json`
replaces every non-finite number with None so that its output is strict JSON.

Open one `ResultsStore` per process (and per thread): an SQLite connection must not cross a fork. A store
used in a process other than the one that opened it raises `StoreError`.
"""

from __future__ import annotations

import json
import math
import operator
import os
import sqlite3
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from .records import RunRecord, SweepSpec
from .sqlite_file import SQLiteFile, StoreError

__all__ = ["SCHEMA_VERSION", "ResultsStore", "StoreError"]

SCHEMA_VERSION = 1
"""The version of the store's tables that this code writes (kept in the `meta` table)."""

# Migrations from schema version v to v + 1, each run inside the transaction that bumps the version.
_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {}

_DOSE_REL_TOL = 1e-9
_DOSE_ABS_TOL = 1e-12

_SCHEMA = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE sweeps (
    sweep_id TEXT PRIMARY KEY,
    spec_hash TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    mithridate_version TEXT NOT NULL
);
CREATE INDEX sweeps_spec_hash ON sweeps (spec_hash);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    sweep_id TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    data TEXT NOT NULL,
    policy TEXT NOT NULL,
    axis TEXT NOT NULL,
    dose REAL NOT NULL,
    seed INTEGER NOT NULL,
    clean_accuracy REAL,
    corrupted_accuracy REAL,
    corruption_accuracy_json TEXT NOT NULL,
    affinity REAL,
    final_train_loss REAL,
    train_seconds REAL,
    eval_seconds REAL,
    augment_images_per_second REAL,
    peak_memory_mb REAL,
    versions_json TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    extra_json TEXT NOT NULL,
    UNIQUE (spec_hash, dose, seed)
);
"""

# RunRecord fields stored as REAL columns; NULL (SQLite's NaN) reads back as NaN, affinity's as None.
_FLOAT_FIELDS = (
    "clean_accuracy",
    "corrupted_accuracy",
    "final_train_loss",
    "train_seconds",
    "eval_seconds",
    "augment_images_per_second",
    "peak_memory_mb",
)
_TEXT_FIELDS = ("sweep_id", "spec_hash", "data", "policy", "axis", "started_at", "finished_at")
_JSON_FIELDS = {"corruption_accuracy": "corruption_accuracy_json", "versions": "versions_json", "extra": "extra_json"}

# Column order of the runs table (without id), in RunRecord field order.
_RUN_COLUMNS = tuple(_JSON_FIELDS.get(f.name, f.name) for f in fields(RunRecord))
_INSERT_RUN = (
    f"INSERT INTO runs ({', '.join(_RUN_COLUMNS)}) VALUES ({', '.join('?' * len(_RUN_COLUMNS))}) "
    "ON CONFLICT (spec_hash, dose, seed) DO NOTHING"
)
_SELECT_RUNS = f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs"


class ResultsStore(SQLiteFile):
    """The sweeps and finished runs in one SQLite file (created with its parent folder if missing).

    >>> with ResultsStore("runs/demo/results.sqlite") as store:  # doctest: +SKIP
    ...     store.add_sweep("demo", spec)
    ...     todo = [(d, s) for d in spec.doses for s in range(spec.seeds)
    ...             if (d, s) not in store.finished(spec.spec_hash())]

    `timeout` is how many seconds a writer waits for another process's transaction before giving up.
    """

    KIND = "results store"

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self._spec_cache: dict[str, SweepSpec] = {}
        super().__init__(path, timeout=timeout)

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        version = self._schema_version(conn)
        if version == SCHEMA_VERSION:
            return
        if version is not None and version > SCHEMA_VERSION:
            raise StoreError(self._newer_message(version))
        with self._transaction(conn):
            # Re-read under the write lock: another process may have created or migrated the store meanwhile.
            version = self._schema_version(conn)
            if version is None:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                return
            if version > SCHEMA_VERSION:
                raise StoreError(self._newer_message(version))
            for step in range(version, SCHEMA_VERSION):
                migrate = _MIGRATIONS.get(step)
                if migrate is None:
                    raise StoreError(
                        f"{self.path}: results store schema version {version} is older than this mithridate's "
                        f"({SCHEMA_VERSION}) and there is no migration from version {step}; "
                        "re-run the sweep into a new store"
                    )
                migrate(conn)
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))

    def _schema_version(self, conn: sqlite3.Connection) -> int | None:
        """The stored schema version, or None for an empty database; errors for any other database."""
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return None
        if "meta" not in tables:
            raise StoreError(
                f"{self.path}: an SQLite database but not a mithridate results store "
                f"(no 'meta' table; its tables are {sorted(tables)})"
            )
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        try:
            return int(row[0])
        except (TypeError, ValueError):
            raise StoreError(
                f"{self.path}: results store without a valid schema version in its meta table (found {row!r})"
            ) from None

    def _newer_message(self, version: int) -> str:
        return (
            f"{self.path}: results store schema version {version} is newer than this mithridate supports "
            f"(version {SCHEMA_VERSION}); upgrade mithridate to read it"
        )

    # -- sweeps -------------------------------------------------------------------------------------------

    def add_sweep(self, sweep_id: str, spec: SweepSpec) -> bool:
        """Register a sweep under `sweep_id`. Idempotent: returns True if it was added, False if the same
        `sweep_id` was already there with the same spec. The same `sweep_id` with a different spec (hash) is a
        `StoreError`. Several sweep ids may share one spec; runs are kept per spec hash."""
        if not isinstance(sweep_id, str) or not sweep_id:
            raise StoreError(f"sweep_id: expected a non-empty string, got {sweep_id!r}")
        if not isinstance(spec, SweepSpec):
            raise StoreError(f"spec: expected a SweepSpec, got {type(spec).__name__}")
        from .. import __version__

        spec_hash = spec.spec_hash()
        spec_json = json.dumps(spec.to_dict(), sort_keys=True)
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        conn = self._connection()
        with self._transaction(conn):
            row = conn.execute("SELECT spec_hash FROM sweeps WHERE sweep_id = ?", (sweep_id,)).fetchone()
            if row is not None:
                if row[0] != spec_hash:
                    raise StoreError(
                        f"{self.path}: sweep {sweep_id!r} is already stored with spec hash {row[0]}, and this spec's "
                        f"hash is {spec_hash}; choose another sweep name for a changed spec"
                    )
                return False
            conn.execute(
                "INSERT INTO sweeps (sweep_id, spec_hash, spec_json, created_at, mithridate_version) "
                "VALUES (?, ?, ?, ?, ?)",
                (sweep_id, spec_hash, spec_json, created_at, __version__),
            )
        self._spec_cache[spec_hash] = spec
        return True

    def sweeps(self) -> list[dict[str, Any]]:
        """The registered sweeps, oldest first: `sweep_id`, `spec_hash`, `spec` (as a dict), `created_at`,
        `mithridate_version`, `finished_runs` (runs stored for the spec hash) and `planned_runs`."""
        conn = self._connection()
        rows = conn.execute(
            "SELECT s.sweep_id, s.spec_hash, s.spec_json, s.created_at, s.mithridate_version, "
            "(SELECT COUNT(*) FROM runs r WHERE r.spec_hash = s.spec_hash) "
            "FROM sweeps s ORDER BY s.created_at, s.sweep_id"
        ).fetchall()
        result = []
        for sweep_id, spec_hash, spec_json, created_at, version, finished in rows:
            spec = json.loads(spec_json)
            result.append(
                {
                    "sweep_id": sweep_id,
                    "spec_hash": spec_hash,
                    "spec": spec,
                    "created_at": created_at,
                    "mithridate_version": version,
                    "finished_runs": finished,
                    "planned_runs": len(spec.get("doses", ())) * int(spec.get("seeds", 0)),
                }
            )
        return result

    def spec(self, spec_hash: str) -> SweepSpec:
        """The spec stored under `spec_hash`; KeyError if no sweep has it."""
        cached = self._spec_cache.get(spec_hash)
        if cached is not None:
            return cached
        row = (
            self._connection()
            .execute("SELECT spec_json FROM sweeps WHERE spec_hash = ? LIMIT 1", (spec_hash,))
            .fetchone()
        )
        if row is None:
            raise KeyError(f"{self.path}: no sweep with spec hash {spec_hash!r}")
        spec = SweepSpec.from_dict(json.loads(row[0]))
        self._spec_cache[spec_hash] = spec
        return spec

    # -- runs ---------------------------------------------------------------------------------------------

    def finished(self, spec_hash: str) -> set[tuple[float, int]]:
        """The (dose, seed) pairs stored for `spec_hash`; the doses compare equal to the spec's doses."""
        rows = self._connection().execute("SELECT dose, seed FROM runs WHERE spec_hash = ?", (spec_hash,))
        return {(float(dose), int(seed)) for dose, seed in rows}

    def add_run(self, record: RunRecord) -> bool:
        """Store one finished run in one transaction. Returns True if it was stored, False if a run with the
        same (spec_hash, dose, seed) is already there (that row is kept as it is).

        The record's spec must be registered (`add_sweep`), its data, policy and axis must be the spec's, and
        its dose one of the spec's doses (within a relative 1e-9; it is stored as the spec's dose exactly).
        """
        values = self._encode(record)
        conn = self._connection()
        with self._transaction(conn):
            cursor = conn.execute(_INSERT_RUN, values)
        return cursor.rowcount == 1

    def runs(self, spec_hash: str | None = None) -> list[RunRecord]:
        """The stored runs of `spec_hash` sorted by dose then seed; with None, all runs sorted by spec hash,
        dose and seed."""
        conn = self._connection()
        if spec_hash is None:
            rows = conn.execute(f"{_SELECT_RUNS} ORDER BY spec_hash, dose, seed")
        else:
            rows = conn.execute(f"{_SELECT_RUNS} WHERE spec_hash = ? ORDER BY dose, seed", (spec_hash,))
        return [self._decode(row) for row in rows]

    def export_json(self, spec_hash: str | None = None) -> list[dict[str, Any]]:
        """`runs(spec_hash)` as plain dicts ready for `json.dumps` (strict JSON: NaN and infinities -> None)."""
        return [_finite_or_none(record.to_dict()) for record in self.runs(spec_hash)]

    # -- encoding -----------------------------------------------------------------------------------------

    def _encode(self, record: RunRecord) -> tuple[Any, ...]:
        if not isinstance(record, RunRecord):
            raise StoreError(f"add_run: expected a RunRecord, got {type(record).__name__}")
        try:
            spec = self.spec(record.spec_hash)
        except KeyError:
            raise StoreError(
                f"{self.path}: run for spec hash {record.spec_hash!r}, which no stored sweep has; "
                "call add_sweep(sweep_id, spec) first"
            ) from None
        for name in ("data", "policy", "axis"):
            if getattr(record, name) != getattr(spec, name):
                raise StoreError(
                    f"{self.path}: run {name} {getattr(record, name)!r} differs from its spec's "
                    f"{getattr(spec, name)!r} (spec hash {record.spec_hash})"
                )
        values: dict[str, Any] = {}
        for name in _TEXT_FIELDS:
            value = getattr(record, name)
            if not isinstance(value, str):
                raise StoreError(f"add_run: {name}: expected a string, got {value!r}")
            values[name] = value
        values["dose"] = self._spec_dose(spec, record)
        try:
            values["seed"] = operator.index(record.seed)
        except TypeError:
            raise StoreError(f"add_run: seed: expected an integer, got {record.seed!r}") from None
        for name in (*_FLOAT_FIELDS, "affinity"):
            value = getattr(record, name)
            if value is None and name == "affinity":
                values[name] = None
                continue
            try:
                values[name] = float(value)
            except (TypeError, ValueError):
                raise StoreError(f"add_run: {name}: expected a number, got {value!r}") from None
        for name in _JSON_FIELDS:
            value = getattr(record, name)
            if not isinstance(value, dict):
                raise StoreError(f"add_run: {name}: expected a dict, got {type(value).__name__}")
            try:
                values[name] = json.dumps(value, sort_keys=True, default=_json_default)
            except (TypeError, ValueError) as error:
                raise StoreError(f"add_run: {name}: cannot be stored as JSON: {error}") from None
        return tuple(values[f.name] for f in fields(RunRecord))

    def _spec_dose(self, spec: SweepSpec, record: RunRecord) -> float:
        try:
            dose = float(record.dose)
        except (TypeError, ValueError):
            raise StoreError(f"add_run: dose: expected a number, got {record.dose!r}") from None
        close = [d for d in spec.doses if math.isclose(dose, d, rel_tol=_DOSE_REL_TOL, abs_tol=_DOSE_ABS_TOL)]
        if not close:
            raise StoreError(
                f"{self.path}: run dose {dose!r} is not one of its spec's doses {list(spec.doses)} "
                f"(spec hash {record.spec_hash})"
            )
        return min(close, key=lambda d: abs(d - dose))

    @staticmethod
    def _decode(row: tuple[Any, ...]) -> RunRecord:
        values: dict[str, Any] = {}
        for f, value in zip(fields(RunRecord), row, strict=True):
            if f.name in _JSON_FIELDS:
                value = json.loads(value)
            elif f.name in _FLOAT_FIELDS:
                value = math.nan if value is None else float(value)
            elif f.name in ("dose", "affinity"):
                value = None if value is None else float(value)
            elif f.name == "seed":
                value = int(value)
            values[f.name] = value
        return RunRecord(**values)


def _json_default(value: Any) -> Any:
    """numpy scalars and arrays (and anything with .tolist()/.item()) as plain Python values."""
    for method in ("tolist", "item"):
        if callable(getattr(value, method, None)):
            return getattr(value, method)()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    return value
