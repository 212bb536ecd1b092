"""The one store of every experiment: a SQLite file (by convention `runs/NAME/store.sqlite`) with the
recipes, the finished runs, the failed attempts and the runs' artifacts of the sweep, `garbage`,
`synthetic`, and any experiment the engine runs.

Guarantees (see `sqlite_file` for the settings: WAL, `synchronous=FULL`, `BEGIN IMMEDIATE`):

- a finished run is one transaction (its row and its artifacts together): a process killed at any moment
  leaves the whole run or nothing, and it is on disk when `add` returns;
- a run is keyed by `(experiment, spec hash, cell, seed)`: never duplicated, never overwritten; the second
  writer of a run is told so (`False`); several processes writing one store take turns and all land;
- a failure is appended to its own table and never hides or replaces a result.
"""

from __future__ import annotations

import json
import math
import operator
import os
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from .jsonable import canonical_json, json_default
from .records import Failure, Recipe, Record, cell_key
from .sqlite_file import SQLiteFile, StoreError

__all__ = ["LEGACY_FILES", "STORE_FILE", "STORE_SCHEMA_VERSION", "ExperimentStore", "folder_store"]

STORE_FILE = "store.sqlite"
STORE_SCHEMA_VERSION = 1
LEGACY_FILES = ("results.sqlite", "grid.sqlite")
"""The files of the two stores older versions wrote (the sweep's and the grid's); `mithridate convert`
reads them."""

_SCHEMA = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE recipes (
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
    info_json TEXT NOT NULL,
    seconds REAL,
    host TEXT NOT NULL,
    versions_json TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    UNIQUE (experiment, spec_hash, cell, seed)
);
CREATE TABLE artifacts (
    experiment TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    cell TEXT NOT NULL,
    seed INTEGER NOT NULL,
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (experiment, spec_hash, cell, seed, name)
);
CREATE TABLE failures (
    id INTEGER PRIMARY KEY,
    experiment TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    cell TEXT NOT NULL,
    seed INTEGER NOT NULL,
    error TEXT NOT NULL,
    traceback TEXT NOT NULL,
    host TEXT NOT NULL,
    at TEXT NOT NULL
);
"""
_COLUMNS = (
    "experiment",
    "spec_hash",
    "cell",
    "seed",
    "metrics_json",
    "info_json",
    "seconds",
    "host",
    "versions_json",
    "started_at",
    "finished_at",
)
_INSERT = (
    f"INSERT INTO results ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (experiment, spec_hash, cell, seed) DO NOTHING"
)
_INSERT_ARTIFACT = "INSERT INTO artifacts (experiment, spec_hash, cell, seed, name, data) VALUES (?, ?, ?, ?, ?, ?)"
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM results"
_TABLES = {"meta", "recipes", "results", "artifacts", "failures"}


def folder_store(folder: str | os.PathLike[str], command: str) -> Path:
    """The store file of a run folder, for reading it: FileNotFoundError if the folder has none, StoreError
    (one line, with the command that converts it) if it holds a store of an older version instead."""
    folder = Path(folder)
    path = folder / STORE_FILE
    if path.is_file():
        return path
    for legacy in LEGACY_FILES:
        if (folder / legacy).is_file():
            raise StoreError(
                f"{folder}: {legacy} is the store of an older mithridate; convert it with "
                f"'mithridate convert {folder}' (it writes {STORE_FILE} beside it and keeps {legacy})"
            )
    raise FileNotFoundError(f"{folder}: no {STORE_FILE} here; expected a folder written by 'mithridate {command}'")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class ExperimentStore(SQLiteFile):
    """Recipes, finished runs, failures and artifacts of experiments, in one SQLite file (created with its
    folder if missing).

    >>> with ExperimentStore("runs/demo/store.sqlite") as store:  # doctest: +SKIP
    ...     store.add_recipe(recipe)
    ...     todo = [(c, s) for c in cells for s in seeds if (cell_key(c), s) not in store.finished(recipe)]

    Open one per process (and thread): an SQLite connection must not cross a fork. `timeout` is how many
    seconds a writer waits for another process's transaction.
    """

    KIND = "experiment store"

    def _version(self, conn: sqlite3.Connection) -> int | None:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return None
        if not tables >= _TABLES:
            hint = ""
            if {"sweeps", "runs"} <= tables or {"specs", "results"} <= tables:
                hint = "; it is a store of an older mithridate: convert its folder with 'mithridate convert FOLDER'"
            raise StoreError(
                f"{self.path}: an SQLite database but not a mithridate experiment store "
                f"(its tables are {sorted(tables)}){hint}"
            )
        row = conn.execute("SELECT value FROM meta WHERE key = 'store_schema_version'").fetchone()
        try:
            return int(row[0])
        except (TypeError, ValueError):
            raise StoreError(f"{self.path}: experiment store without a valid schema version (found {row!r})") from None

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        self._version(conn)

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        version = self._version(conn)
        if version is None:
            with self._transaction(conn):
                if self._version(conn) is None:  # re-read under the write lock: another process may have won
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(
                        "INSERT INTO meta (key, value) VALUES ('store_schema_version', ?)",
                        (str(STORE_SCHEMA_VERSION),),
                    )
            version = self._version(conn)
        if version != STORE_SCHEMA_VERSION:
            newer = version is not None and version > STORE_SCHEMA_VERSION
            raise StoreError(
                f"{self.path}: experiment store schema version {version}, this mithridate reads version "
                f"{STORE_SCHEMA_VERSION}; " + ("upgrade mithridate to read it" if newer else "use a new folder")
            )

    # -- recipes ----------------------------------------------------------------------------------------

    def add_recipe(self, recipe: Recipe) -> bool:
        """Register a recipe (idempotent): True if it was added, False if it was there already."""
        if not isinstance(recipe, Recipe):
            raise StoreError(f"recipe: expected a Recipe, got {type(recipe).__name__}")
        from ... import __version__

        conn = self._connection()
        with self._transaction(conn):
            cursor = conn.execute(
                "INSERT INTO recipes (experiment, spec_hash, params_json, created_at, mithridate_version) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (experiment, spec_hash) DO NOTHING",
                (
                    recipe.experiment,
                    recipe.spec_hash(),
                    canonical_json(dict(recipe.params)),
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    __version__,
                ),
            )
        return cursor.rowcount == 1

    def recipes(self, experiment: str | None = None) -> list[Recipe]:
        """The registered recipes (of one experiment, or all), oldest first."""
        conn = self._connection()
        query = "SELECT experiment, params_json FROM recipes"
        rows = (
            conn.execute(f"{query} ORDER BY created_at, rowid")
            if experiment is None
            else conn.execute(f"{query} WHERE experiment = ? ORDER BY created_at, rowid", (experiment,))
        )
        return [Recipe(name, json.loads(params)) for name, params in rows]

    def experiments(self) -> list[str]:
        """The experiments with a registered recipe, in first-registered order."""
        return list(dict.fromkeys(recipe.experiment for recipe in self.recipes()))

    # -- results ----------------------------------------------------------------------------------------

    def finished(self, recipe: Recipe) -> set[tuple[str, int]]:
        """The (cell key, seed) pairs stored for `recipe`."""
        rows = self._connection().execute(
            "SELECT cell, seed FROM results WHERE experiment = ? AND spec_hash = ?",
            (recipe.experiment, recipe.spec_hash()),
        )
        return {(cell, int(seed)) for cell, seed in rows}

    def add(self, record: Record, artifacts: Mapping[str, bytes] | None = None) -> bool:
        """Store one finished run and its artifacts in one transaction: True if stored, False if the run was
        there already (the stored row and artifacts are kept). Its recipe must be registered."""
        if not isinstance(record, Record):
            raise StoreError(f"add: expected a Record, got {type(record).__name__}")
        conn = self._connection()
        self._check_registered(conn, record.experiment, record.spec_hash)
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
        try:
            info = json.dumps(dict(record.info), sort_keys=True, allow_nan=False, default=json_default)
        except (TypeError, ValueError) as error:
            raise StoreError(f"add: info: cannot be stored as JSON: {error}") from None
        blobs = dict(artifacts or {})
        for name, data in blobs.items():
            if not isinstance(name, str) or not isinstance(data, (bytes, bytearray, memoryview)):
                raise StoreError(f"add: artifact {name!r}: expected a name and bytes, got {type(data).__name__}")
        key = cell_key(record.cell)
        values = (
            record.experiment,
            record.spec_hash,
            key,
            seed,
            json.dumps(metrics, sort_keys=True, allow_nan=False),
            info,
            float(record.seconds),
            str(record.host),
            json.dumps(record.versions, sort_keys=True),
            record.started_at,
            record.finished_at,
        )
        with self._transaction(conn):
            cursor = conn.execute(_INSERT, values)
            added = cursor.rowcount == 1
            if added:
                owner = (record.experiment, record.spec_hash, key, seed)
                conn.executemany(_INSERT_ARTIFACT, [(*owner, name, bytes(data)) for name, data in blobs.items()])
        return added

    def records(self, recipe: Recipe | None = None) -> list[Record]:
        """The stored results of `recipe` (or all), in the order they were stored."""
        conn = self._connection()
        if recipe is None:
            rows = conn.execute(f"{_SELECT} ORDER BY id")
        else:
            rows = conn.execute(
                f"{_SELECT} WHERE experiment = ? AND spec_hash = ? ORDER BY id",
                (recipe.experiment, recipe.spec_hash()),
            )
        return [
            Record(
                experiment=experiment,
                spec_hash=spec_hash,
                cell=json.loads(cell),
                seed=int(seed),
                metrics={k: math.nan if v is None else float(v) for k, v in json.loads(metrics).items()},
                seconds=math.nan if seconds is None else float(seconds),
                versions=json.loads(versions),
                started_at=started,
                finished_at=finished,
                info=json.loads(info),
                host=host,
            )
            for experiment, spec_hash, cell, seed, metrics, info, seconds, host, versions, started, finished in rows
        ]

    def artifacts(self, recipe: Recipe, cell: Mapping[str, object], seed: int) -> dict[str, bytes]:
        """The artifacts stored with one finished run (empty if none, or if the run is not stored)."""
        rows = self._connection().execute(
            "SELECT name, data FROM artifacts WHERE experiment = ? AND spec_hash = ? AND cell = ? AND seed = ?",
            (recipe.experiment, recipe.spec_hash(), cell_key(cell), int(seed)),
        )
        return {name: bytes(data) for name, data in rows}

    # -- failures ---------------------------------------------------------------------------------------

    def add_failure(self, failure: Failure) -> None:
        """Append a failed attempt (its recipe must be registered)."""
        if not isinstance(failure, Failure):
            raise StoreError(f"add_failure: expected a Failure, got {type(failure).__name__}")
        conn = self._connection()
        self._check_registered(conn, failure.experiment, failure.spec_hash)
        with self._transaction(conn):
            conn.execute(
                "INSERT INTO failures (experiment, spec_hash, cell, seed, error, traceback, host, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    failure.experiment,
                    failure.spec_hash,
                    cell_key(failure.cell),
                    int(failure.seed),
                    failure.error,
                    failure.traceback,
                    failure.host,
                    failure.at or _now(),
                ),
            )

    def failures(self, recipe: Recipe | None = None, *, unresolved: bool = True) -> list[Failure]:
        """Failed attempts of `recipe` (or all), oldest first; with `unresolved`, only the latest failure of
        each run that has no result (a run that later finished is resolved)."""
        conn = self._connection()
        query = (
            "SELECT f.experiment, f.spec_hash, f.cell, f.seed, f.error, f.traceback, f.host, f.at FROM failures f"
        )
        where, args = [], []
        if recipe is not None:
            where.append("f.experiment = ? AND f.spec_hash = ?")
            args += [recipe.experiment, recipe.spec_hash()]
        if unresolved:
            where.append(
                "NOT EXISTS (SELECT 1 FROM results r WHERE r.experiment = f.experiment AND r.spec_hash = f.spec_hash "
                "AND r.cell = f.cell AND r.seed = f.seed)"
            )
            where.append(
                "f.id = (SELECT MAX(g.id) FROM failures g WHERE g.experiment = f.experiment AND "
                "g.spec_hash = f.spec_hash AND g.cell = f.cell AND g.seed = f.seed)"
            )
        if where:
            query += " WHERE " + " AND ".join(where)
        rows = conn.execute(query + " ORDER BY f.id", args)
        return [
            Failure(experiment, spec_hash, json.loads(cell), int(seed), error, trace, host, at)
            for experiment, spec_hash, cell, seed, error, trace, host, at in rows
        ]

    def _check_registered(self, conn: sqlite3.Connection, experiment: str, spec_hash: str) -> None:
        known = conn.execute(
            "SELECT 1 FROM recipes WHERE experiment = ? AND spec_hash = ?", (experiment, spec_hash)
        ).fetchone()
        if known is None:
            raise StoreError(
                f"{self.path}: a run of {experiment!r} spec hash {spec_hash!r}, which is not registered; "
                "call add_recipe(recipe) first"
            )
