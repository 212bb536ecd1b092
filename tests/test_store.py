"""The experiment store: round trips of recipes, results, artifacts and failures; the file's settings and the
files it refuses; and the two promises every experiment relies on: a process killed at any moment leaves
whole runs (row and artifacts) or nothing, and several processes writing one store at once all land, without
duplicates."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mithridate.experiments.store as store_package
from mithridate.experiments.store import (
    STORE_FILE,
    STORE_SCHEMA_VERSION,
    ExperimentStore,
    StoreError,
    folder_store,
)
from mithridate.experiments.store.records import Failure, Recipe, Record

TESTS = Path(__file__).resolve().parent

RECIPE = Recipe("demo", {"scale": 2.0, "model": {"name": "cnn", "layers": (8, 16)}})
OTHER = Recipe("demo", {"scale": 3.0, "model": {"name": "cnn", "layers": (8, 16)}})

# The grid the subprocess tests write: 8 doses x 60 seeds = 480 runs.
PROCESS_RECIPE = Recipe("processes", {"epochs": 3})
PROCESS_DOSES = (0.0, 0.1, 0.3, 0.5, 1.0, 1.5, 2.0, 3.0)
PROCESS_SEEDS = 60


def make_record(cell: dict, seed: int, recipe: Recipe = RECIPE, **changes) -> Record:
    """A full record whose every value is a function of (recipe, cell, seed), so any stored row can be checked."""
    dose = float(cell["dose"])
    record = Record(
        experiment=recipe.experiment,
        spec_hash=recipe.spec_hash(),
        cell=dict(cell),
        seed=seed,
        metrics={
            "clean_accuracy": 0.9 - dose / 10 + seed / 1000,
            "corrupted_accuracy": 0.7 - dose / 20,
            "contrast/2": 1 / 3,
            **{f"corruption/gaussian_noise/{s}": 0.8 - s / 10 + seed / 1e4 for s in (1, 3, 5)},
        },
        seconds=12.5 + seed,
        versions={"mithridate": "0.1.0", "torch": "2.3.0", "python": "3.11.7"},
        started_at=f"2025-01-01T00:00:{seed % 60:02d}+00:00",
        finished_at="2025-01-01T00:10:00+00:00",
        info={"history": [1.5, 0.75, 0.25 + dose], "model": {"name": "cnn", "layers": [8, 16]}, "note": None},
        host=f"node-{seed % 3}",
    )
    return dataclasses.replace(record, **changes)


def blob(cell: dict, seed: int, writer: str = "") -> bytes:
    """An artifact whose bytes name its run (and writer), a few kilobytes long."""
    return f"{cell['dose']}/{seed}/{writer};".encode() * 200 + bytes(range(256))


def all_pairs() -> set[tuple[float, int]]:
    return {(dose, seed) for dose in PROCESS_DOSES for seed in range(PROCESS_SEEDS)}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "runs" / "demo" / STORE_FILE


# -- recipes ----------------------------------------------------------------------------------------------------


def test_recipe_round_trip_recipes_and_experiments(path: Path) -> None:
    later = Recipe("garbage", {"test_share": 0.25})
    with ExperimentStore(path) as store:
        assert store.recipes() == [] and store.experiments() == []
        assert store.add_recipe(RECIPE) is True
        assert store.add_recipe(RECIPE) is False  # idempotent
        assert store.add_recipe(later) is True
        assert store.add_recipe(Recipe("demo", {"model": {"layers": [8, 16], "name": "cnn"}, "scale": 2.0})) is False
        assert store.add_recipe(OTHER) is True
        with pytest.raises(StoreError, match="expected a Recipe"):
            store.add_recipe(RECIPE.to_dict())
    with ExperimentStore(path) as store:  # a fresh connection, no cache
        assert store.recipes() == [RECIPE, later, OTHER]  # oldest first
        assert store.recipes("demo") == [RECIPE, OTHER]
        assert store.recipes("garbage") == [later]
        assert store.recipes("absent") == []
        assert store.experiments() == ["demo", "garbage"]  # first-registered order, once each
        (first, *_) = store.recipes()
    assert first.params == {"scale": 2.0, "model": {"name": "cnn", "layers": [8, 16]}}  # plain JSON values
    assert first.spec_hash() == RECIPE.spec_hash() != OTHER.spec_hash()
    raw = sqlite3.connect(path)
    rows = raw.execute(
        "SELECT experiment, spec_hash, params_json, created_at, mithridate_version FROM recipes"
    ).fetchall()
    raw.close()
    assert rows[0][:3] == (
        "demo",
        RECIPE.spec_hash(),
        '{"model":{"layers":[8,16],"name":"cnn"},"scale":2.0}',
    )
    assert all(row[3].startswith("20") and row[4] for row in rows)


# -- results ----------------------------------------------------------------------------------------------------


def test_record_round_trip_every_field(path: Path) -> None:
    zero = make_record({"dose": 0.0}, 0)
    half = make_record({"vary": "init", "dose": 0.5}, 3)
    with ExperimentStore(path) as store:
        store.add_recipe(RECIPE)
        assert store.add(half) is True
        assert store.add(zero) is True
    with ExperimentStore(path) as store:
        records = store.records(RECIPE)
        assert store.records() == records
    assert records == [half, zero]  # every field, in the order stored
    for record in records:
        assert type(record.seed) is int and type(record.cell["dose"]) is float
    assert records[0].cell == {"dose": 0.5, "vary": "init"}
    assert records[0].metrics["contrast/2"] == 1 / 3  # floats in JSON round trip exactly
    assert records[0].info["model"] == {"name": "cnn", "layers": [8, 16]} and records[0].info["note"] is None
    assert records[0].seconds == 15.5 and records[0].host == "node-0"
    assert records[0].key == ('{"dose":0.5,"vary":"init"}', 3)


def test_numpy_values_are_stored_as_plain_numbers(path: Path) -> None:
    np = pytest.importorskip("numpy")
    record = make_record(
        {"dose": np.float64(0.5)},
        np.int64(1),
        metrics={"clean_accuracy": np.float32(0.75), "count": np.int64(7)},
        seconds=np.float32(2.5),
        info={"confusion": np.eye(2, dtype=np.int64), "rate": np.float64(0.125), "n": np.int32(3)},
    )
    with ExperimentStore(path) as store:
        store.add_recipe(RECIPE)
        assert store.add(record)
        (run,) = store.records()
    assert (run.cell, run.seed, run.seconds) == ({"dose": 0.5}, 1, 2.5)
    assert type(run.seed) is int and type(run.seconds) is float
    assert run.metrics == {"clean_accuracy": 0.75, "count": 7.0}
    assert all(type(value) is float for value in run.metrics.values())
    assert run.info == {"confusion": [[1, 0], [0, 1]], "rate": 0.125, "n": 3}
    raw = sqlite3.connect(path)
    stored = raw.execute("SELECT cell, seed, metrics_json, info_json FROM results").fetchone()
    raw.close()
    assert stored == (
        '{"dose":0.5}',
        1,
        '{"clean_accuracy": 0.75, "count": 7.0}',
        '{"confusion": [[1, 0], [0, 1]], "n": 3, "rate": 0.125}',
    )


def test_non_finite_metrics_are_stored_as_null_and_read_back_as_nan(path: Path) -> None:
    diverged = make_record(
        {"dose": 3.0},
        0,
        metrics={"loss": math.nan, "speed": math.inf, "low": -math.inf, "clean_accuracy": 0.5},
        seconds=math.nan,
    )
    with ExperimentStore(path) as store:
        store.add_recipe(RECIPE)
        store.add(diverged)
    raw = sqlite3.connect(path)
    metrics_json, seconds = raw.execute("SELECT metrics_json, seconds FROM results").fetchone()
    raw.close()
    assert json.loads(metrics_json) == {"loss": None, "speed": None, "low": None, "clean_accuracy": 0.5}
    assert "NaN" not in metrics_json and "Infinity" not in metrics_json  # strict JSON in the file
    assert seconds is None
    with ExperimentStore(path) as store:
        (run,) = store.records()
    assert [math.isnan(run.metrics[name]) for name in ("loss", "speed", "low")] == [True, True, True]
    assert run.metrics["clean_accuracy"] == 0.5 and math.isnan(run.seconds)
    exported = run.to_dict()
    assert exported["metrics"]["loss"] is None and exported["seconds"] is None
    json.dumps(exported, allow_nan=False)  # strict JSON


def test_ordering_finished_and_recipes_kept_apart(path: Path) -> None:
    cells = [{"dose": d} for d in (0.0, 0.1, 0.3, 1.0, 3.0)]
    pairs_a = [(c["dose"], s) for c in cells for s in range(3)]
    pairs_b = [(0.3, 2), (0.0, 1), (3.0, 0)]
    shuffled = [(RECIPE, p) for p in pairs_a] + [(OTHER, p) for p in pairs_b]
    random.Random(0).shuffle(shuffled)
    with ExperimentStore(path) as store:
        store.add_recipe(RECIPE)
        store.add_recipe(OTHER)
        assert store.finished(RECIPE) == set()
        for recipe, (dose, seed) in shuffled:
            assert store.add(make_record({"dose": dose}, seed, recipe))
        records_a, records_b, everything = store.records(RECIPE), store.records(OTHER), store.records()
        assert store.finished(RECIPE) == {(f'{{"dose":{d}}}', s) for d, s in pairs_a}
        assert store.finished(OTHER) == {('{"dose":0.3}', 2), ('{"dose":0.0}', 1), ('{"dose":3.0}', 0)}
        unknown = Recipe("demo", {"scale": 4.0})
        assert store.finished(unknown) == set() and store.records(unknown) == []
        assert store.finished(Recipe("elsewhere", RECIPE.params)) == set()
    # in the order stored
    assert [(r.cell["dose"], r.seed) for r in everything] == [(d, s) for _, (d, s) in shuffled]
    assert [(r.cell["dose"], r.seed) for r in records_a] == [p for r, p in shuffled if r is RECIPE]
    assert [(r.cell["dose"], r.seed) for r in records_b] == [p for r, p in shuffled if r is OTHER]
    assert all(r.spec_hash == RECIPE.spec_hash() for r in records_a)
    assert all(r.spec_hash == OTHER.spec_hash() for r in records_b)


def test_add_twice_keeps_the_first_row_and_its_artifacts(path: Path) -> None:
    first = make_record({"dose": 1.0}, 1)
    second = make_record({"dose": 1.0}, 1, metrics={"clean_accuracy": 0.125}, info={"attempt": 2}, finished_at="later")
    with ExperimentStore(path) as store:
        store.add_recipe(RECIPE)
        assert store.add(first, {"model": b"first"}) is True
        assert store.add(second, {"model": b"second", "log": b"x"}) is False
        assert store.add(first) is False
    with ExperimentStore(path) as store:
        assert store.add(second, {"model": b"third"}) is False
        assert store.records() == [first]
        assert store.artifacts(RECIPE, {"dose": 1.0}, 1) == {"model": b"first"}


def test_artifacts_are_stored_with_their_run_in_one_transaction(path: Path) -> None:
    model = bytes(range(256)) * 400  # 100 KiB, every byte value
    with ExperimentStore(path) as store:
        store.add_recipe(RECIPE)
        store.add_recipe(OTHER)
        assert store.add(
            make_record({"dose": 0.0, "vary": "init"}, 0),
            {"model": model, "empty": b"", "view": memoryview(b"mv"), "array": bytearray(b"ba")},
        )
        assert store.add(make_record({"dose": 0.5}, 0))  # a run without artifacts
        assert store.add(make_record({"dose": 0.0, "vary": "init"}, 0, OTHER), {"model": b"other recipe"})
    with ExperimentStore(path) as store:
        stored = store.artifacts(RECIPE, {"vary": "init", "dose": 0.0}, 0)  # any key order names the cell
        assert stored == {"model": model, "empty": b"", "view": b"mv", "array": b"ba"}
        assert all(type(data) is bytes for data in stored.values())
        assert store.artifacts(RECIPE, {"dose": 0.5}, 0) == {}
        assert store.artifacts(RECIPE, {"dose": 0.0, "vary": "init"}, 1) == {}  # not stored
        assert store.artifacts(OTHER, {"dose": 0.0, "vary": "init"}, 0) == {"model": b"other recipe"}

    # An artifact that cannot be written takes its row with it: one transaction for both.
    raw = sqlite3.connect(path)
    raw.execute("CREATE TRIGGER refuse BEFORE INSERT ON artifacts BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    raw.commit()
    raw.close()
    with ExperimentStore(path) as store:
        with pytest.raises(sqlite3.DatabaseError, match="disk full"):
            store.add(make_record({"dose": 2.0}, 0), {"model": b"lost"})
        assert store.finished(RECIPE) == {('{"dose":0.0,"vary":"init"}', 0), ('{"dose":0.5}', 0)}
        assert store.add(make_record({"dose": 2.0}, 1))  # the store is usable after the rollback
        assert len(store.records(RECIPE)) == 3


def test_add_needs_a_registered_recipe_and_valid_values(path: Path) -> None:
    record = make_record({"dose": 0.5}, 0)
    failure = Failure("demo", RECIPE.spec_hash(), {"dose": 0.5}, 0, "E", "tb", "host", "")
    with ExperimentStore(path) as store:
        with pytest.raises(StoreError, match=rf"'demo' spec hash '{RECIPE.spec_hash()}'.*add_recipe"):
            store.add(record)
        with pytest.raises(StoreError, match="add_recipe"):
            store.add_failure(failure)
        store.add_recipe(OTHER)  # the same experiment with another recipe does not register this one
        with pytest.raises(StoreError, match="add_recipe"):
            store.add(record)
        store.add_recipe(RECIPE)
        with pytest.raises(StoreError, match="seed: expected an integer"):
            store.add(dataclasses.replace(record, seed=0.0))
        with pytest.raises(StoreError, match="metric 'clean_accuracy': expected a number"):
            store.add(dataclasses.replace(record, metrics={"clean_accuracy": "high"}))
        with pytest.raises(StoreError, match="info: cannot be stored as JSON"):
            store.add(dataclasses.replace(record, info={"path": Path("x")}))
        with pytest.raises(StoreError, match="info: cannot be stored as JSON"):
            store.add(dataclasses.replace(record, info={"loss": math.nan}))
        with pytest.raises(StoreError, match="artifact 'model'"):
            store.add(record, {"model": "not bytes"})
        with pytest.raises(ValueError, match="cell"):
            store.add(dataclasses.replace(record, cell={"dose": [0.5]}))
        with pytest.raises(StoreError, match="expected a Record"):
            store.add(record.to_dict())
        with pytest.raises(StoreError, match="expected a Failure"):
            store.add_failure(failure.to_dict())
        assert store.records() == [] and store.failures(unresolved=False) == []
    raw = sqlite3.connect(path)  # the file itself: no artifact left behind by the refused runs
    assert raw.execute("SELECT COUNT(*) FROM artifacts").fetchone()[0] == 0
    raw.close()


# -- failures ---------------------------------------------------------------------------------------------------


def test_failures_are_appended_and_unresolved_keeps_the_latest_of_each_unfinished_run(path: Path) -> None:
    def failure(recipe: Recipe, dose: float, seed: int, error: str, at: str = "") -> Failure:
        return Failure(
            recipe.experiment, recipe.spec_hash(), {"dose": dose}, seed, error, f"Traceback: {error}", "h1", at
        )

    attempts = [
        failure(RECIPE, 0.5, 0, "first", "2025-01-01T00:00:00+00:00"),
        failure(RECIPE, 1.0, 0, "boom", "2025-01-01T00:00:01+00:00"),
        failure(RECIPE, 0.5, 1, "finished later", "2025-01-01T00:00:02+00:00"),
        failure(OTHER, 0.5, 0, "other recipe", "2025-01-01T00:00:03+00:00"),
        failure(RECIPE, 0.5, 0, "second", "2025-01-01T00:00:04+00:00"),
    ]
    with ExperimentStore(path) as store:
        store.add_recipe(RECIPE)
        store.add_recipe(OTHER)
        for attempt in attempts:
            store.add_failure(attempt)
        assert store.add(make_record({"dose": 0.5}, 1))  # the third run then finished
        store.add_failure(failure(RECIPE, 2.0, 0, "no time given"))
    with ExperimentStore(path) as store:
        everything = store.failures(unresolved=False)
        of_recipe = store.failures(RECIPE, unresolved=False)
        unresolved = store.failures(RECIPE)
        unresolved_all = store.failures(unresolved=True)
        assert len(store.records()) == 1  # a failure never hides a result
    assert everything[:5] == attempts  # every attempt kept, oldest first, every field
    assert [f.error for f in of_recipe] == ["first", "boom", "finished later", "second", "no time given"]
    # the latest failure of each run without a result; the run that finished later is resolved
    assert [(f.cell, f.seed, f.error) for f in unresolved] == [
        ({"dose": 1.0}, 0, "boom"),
        ({"dose": 0.5}, 0, "second"),
        ({"dose": 2.0}, 0, "no time given"),
    ]
    assert [f.error for f in unresolved_all] == ["boom", "other recipe", "second", "no time given"]
    stamped = unresolved[-1]
    assert stamped.at.startswith("20") and stamped.traceback == "Traceback: no time given" and stamped.host == "h1"
    assert unresolved[0].key == ('{"dose":1.0}', 0)


# -- the file and its settings ----------------------------------------------------------------------------------


def test_durability_settings(path: Path) -> None:
    with ExperimentStore(path, timeout=12.5) as store:
        assert store.settings() == {"journal_mode": "wal", "synchronous": 2, "busy_timeout": 12500}  # FULL
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT value FROM meta WHERE key = 'store_schema_version'").fetchone() == ("1",)
    assert STORE_SCHEMA_VERSION == 1
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent in the file
    tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    raw.close()
    assert tables == {"meta", "recipes", "results", "artifacts", "failures"}


def test_closed_store_and_foreign_process_are_errors(path: Path) -> None:
    store = ExperimentStore(path)
    store._pid = store._pid + 1  # as if this object had crossed a fork
    with pytest.raises(StoreError, match=r"opened in process \d+ .* open a ExperimentStore in each process"):
        store.finished(RECIPE)
    with pytest.raises(StoreError, match="open a ExperimentStore in each process"):
        store.add_recipe(RECIPE)
    store._pid = os.getpid()
    with store:
        assert store.finished(RECIPE) == set()
        assert "open" in repr(store)
    for use in (store.records, store.recipes, lambda: store.add_recipe(RECIPE), lambda: store.finished(RECIPE)):
        with pytest.raises(StoreError, match="closed"):
            use()
    assert "closed" in repr(store)
    store.close()  # idempotent


def _set_schema_version(path: Path, version: str) -> None:
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("UPDATE meta SET value = ? WHERE key = 'store_schema_version'", (version,))
    raw.close()


def test_newer_older_and_missing_schema_versions_are_refused(path: Path) -> None:
    with ExperimentStore(path) as store:
        store.add_recipe(RECIPE)
    _set_schema_version(path, "99")
    with pytest.raises(
        StoreError, match=r"schema version 99, this mithridate reads version 1; upgrade mithridate"
    ) as info:
        ExperimentStore(path)
    assert str(path) in str(info.value)
    _set_schema_version(path, "0")
    with pytest.raises(StoreError, match=r"schema version 0, .*version 1; use a new folder"):
        ExperimentStore(path)
    _set_schema_version(path, "one")
    with pytest.raises(StoreError, match="without a valid schema version"):
        ExperimentStore(path)
    _set_schema_version(path, "1")
    with ExperimentStore(path) as store:  # the refusals changed nothing
        assert store.recipes() == [RECIPE]


def test_a_file_that_is_not_sqlite_is_refused(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text("dose,seed,accuracy\n0.1,0,0.9\n")
    with pytest.raises(StoreError, match="not an SQLite database") as info:
        ExperimentStore(path)
    assert str(path) in str(info.value)
    assert path.read_text() == "dose,seed,accuracy\n0.1,0,0.9\n"  # left as it was


@pytest.mark.parametrize(
    ("tables", "convert"),
    [
        (["CREATE TABLE t (x)"], False),
        (["CREATE TABLE results (x)", "CREATE TABLE meta (key, value)"], False),
        (["CREATE TABLE meta (key, value)", "CREATE TABLE sweeps (x)", "CREATE TABLE runs (x)"], True),
        (["CREATE TABLE meta (key, value)", "CREATE TABLE specs (x)", "CREATE TABLE results (x)"], True),
    ],
    ids=["foreign", "partial", "old-sweep-store", "old-grid-store"],
)
def test_a_sqlite_file_of_something_else_is_refused(path: Path, tables: list[str], convert: bool) -> None:
    path.parent.mkdir(parents=True)
    raw = sqlite3.connect(path)
    for statement in tables:
        raw.execute(statement)
    raw.close()
    names = sorted(statement.split()[2] for statement in tables)
    with pytest.raises(StoreError, match="an SQLite database but not a mithridate experiment store") as info:
        ExperimentStore(path)
    message = str(info.value)
    assert str(path) in message and str(names) in message
    assert ("mithridate convert" in message) is convert
    raw = sqlite3.connect(path)
    assert sorted(row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")) == names
    raw.close()


def test_a_refused_sqlite_database_keeps_its_journal_mode(path: Path) -> None:
    path.parent.mkdir(parents=True)
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE t (x)")
    raw.close()
    with pytest.raises(StoreError, match="not a mithridate experiment store"):
        ExperimentStore(path)
    raw = sqlite3.connect(path)
    mode = raw.execute("PRAGMA journal_mode").fetchone()[0]
    raw.close()
    assert mode == "delete"  # SQLite's default, as the file was written


def test_a_directory_is_refused(path: Path) -> None:
    path.mkdir(parents=True)
    with pytest.raises(StoreError, match=r"experiment store file .*found a directory") as info:
        ExperimentStore(path)
    assert str(path) in str(info.value)


def test_folder_store_finds_the_store_or_says_what_to_do(tmp_path: Path) -> None:
    folder = tmp_path / "runs" / "demo"
    with pytest.raises(FileNotFoundError, match=r"no store\.sqlite here; .*'mithridate sweep'"):
        folder_store(folder, "sweep")  # no folder
    folder.mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"no store\.sqlite here; .*'mithridate garbage'"):
        folder_store(folder, "garbage")  # an empty folder
    for legacy in ("results.sqlite", "grid.sqlite"):
        (folder / legacy).write_bytes(b"old")
        with pytest.raises(StoreError, match=rf"{legacy} is the store of an older mithridate") as info:
            folder_store(folder, "sweep")
        message = str(info.value)
        assert f"'mithridate convert {folder}'" in message and "\n" not in message
        (folder / legacy).unlink()
    (folder / "results.sqlite").write_bytes(b"old")
    ExperimentStore(folder / STORE_FILE).close()
    assert folder_store(folder, "sweep") == folder / STORE_FILE  # converted: the new store is read
    assert folder_store(str(folder), "sweep") == folder / STORE_FILE


# -- processes --------------------------------------------------------------------------------------------------

# A writer process: waits for the go-file (if any), opens the store, writes the given (dose, seed) runs with an
# artifact each, in a shuffled order, printing each one it inserted; at the end prints "done" and the JSON list
# it inserted. With a limit, it stops after inserting that many runs and waits to be killed (so that a slow
# parent cannot let it run to the end).
# The store needs only the standard library, so the writer loads the package's modules without running
# `mithridate/__init__` (which imports torch: seconds per process, several times that for processes started
# together on 2 cores). The code under test is the same store package.
_STORE = Path(store_package.__file__).resolve().parent
_BOOT = f"""
import sys, types
for name, folder in (("mithridate", {str(_STORE.parents[1])!r}), ("mithridate.experiments", {str(_STORE.parent)!r})):
    module = types.ModuleType(name)
    module.__path__ = [folder]
    sys.modules[name] = module
sys.modules["mithridate"].__version__ = "0.0.test"
"""
WRITER = (
    _BOOT
    + f"""
import json, os, random, time
sys.path.insert(0, {str(TESTS)!r})
from test_store import PROCESS_RECIPE, blob, make_record
from mithridate.experiments.store import ExperimentStore
assert "torch" not in sys.modules

path, writer, order, go, limit = sys.argv[1:6]
pairs = [tuple(p) for p in json.loads(sys.argv[6])]
random.Random(int(order)).shuffle(pairs)
print("ready", flush=True)
while go and not os.path.exists(go):
    time.sleep(0.005)
inserted = []
with ExperimentStore(path) as store:
    store.add_recipe(PROCESS_RECIPE)
    for dose, seed in pairs:
        record = make_record({{"dose": dose}}, seed, PROCESS_RECIPE, info={{"writer": writer}})
        if store.add(record, {{"blob": blob({{"dose": dose}}, seed, writer)}}):
            inserted.append([dose, seed])
            print("inserted", dose, seed, flush=True)
            if len(inserted) == int(limit):
                time.sleep(600)
print("done", json.dumps(inserted), flush=True)
"""
)


def _writer(path: Path, writer: str, order: int, pairs, go: Path | None = None, limit: int = -1) -> subprocess.Popen:
    arguments = [str(path), writer, str(order), str(go or ""), str(limit), json.dumps(sorted(pairs))]
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check_rows(path: Path) -> dict[tuple[float, int], str]:
    """Open the store after writers died or finished: the file is sound and every run is whole (row and
    artifact) and unique. Returns the writer of each stored run."""
    with ExperimentStore(path) as store:
        conn = sqlite3.connect(path)  # a reader of the file beside the store's own connection (WAL)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        records = store.records(PROCESS_RECIPE)
        assert store.finished(PROCESS_RECIPE) == {r.key for r in records}
        count = conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        artifacts = conn.execute("SELECT COUNT(*) FROM artifacts").fetchone()[0]
        writers = {}
        for record in records:
            writer = record.info.get("writer")
            dose, seed = record.cell["dose"], record.seed
            assert record == make_record({"dose": dose}, seed, PROCESS_RECIPE, info={"writer": writer})  # whole
            assert store.artifacts(PROCESS_RECIPE, {"dose": dose}, seed) == {"blob": blob({"dose": dose}, seed, writer)}
            writers[(dose, seed)] = writer
    conn.close()
    assert len(writers) == len(records) == count == artifacts  # no duplicates, no orphan artifacts
    assert set(writers) <= all_pairs()
    return writers


@pytest.mark.slow
def test_killed_writers_leave_whole_rows_and_resume(path: Path) -> None:
    """SIGKILL a writer at random moments, five times; then resume to exactly the full set."""
    rng = random.Random(1234)
    full = all_pairs()
    path.parent.mkdir(parents=True)
    # Each killed writer is killed at a random moment after its first `wait` new runs, and before its `limit`.
    waits = [rng.randint(1, 40) for _ in range(5)]
    limits = [wait + 40 for wait in waits]
    assert sum(limits) < len(full)
    # Start all six processes at once so that their imports overlap; each waits for its go-file to begin.
    gos = [path.parent / f"go{attempt}" for attempt in range(6)]
    processes = [_writer(path, "killed", i, full, gos[i], limits[i]) for i in range(5)]
    resumed = _writer(path, "resumed", 99, full, gos[5])
    try:
        stored_before = 0
        for process, go, wait in zip(processes, gos[:5], waits, strict=True):
            assert process.stdout.readline() == "ready\n", process.stderr.read()
            go.touch()
            for _ in range(wait):
                line = process.stdout.readline()
                assert line.startswith("inserted"), line + process.stderr.read()
            time.sleep(rng.uniform(0, 0.002))
            process.send_signal(signal.SIGKILL)
            process.wait()
            assert process.returncode == -signal.SIGKILL
            stored = _check_rows(path)
            assert len(stored) >= stored_before + wait  # it did write before it died
            stored_before = len(stored)

        assert resumed.stdout.readline() == "ready\n", resumed.stderr.read()
        gos[5].touch()
        out, err = resumed.communicate(timeout=60)
    finally:
        for process in [*processes, resumed]:
            process.kill()
            process.communicate()
    assert resumed.returncode == 0, err
    inserted = {tuple(p) for p in json.loads(out.splitlines()[-1].removeprefix("done "))}
    stored = _check_rows(path)
    assert set(stored) == full
    assert inserted == full - {k for k, w in stored.items() if w == "killed"}  # exactly the missing runs
    assert {k for k, w in stored.items() if w == "resumed"} == inserted


@pytest.mark.slow
def test_concurrent_writers_all_land(path: Path) -> None:
    """Three processes create the store and write disjoint and overlapping runs into it at the same moment."""
    full = all_pairs()
    low, middle, high = PROCESS_DOSES[:3], PROCESS_DOSES[3:5], PROCESS_DOSES[5:]
    even = [(d, s) for d, s in sorted(full) if s % 2 == 0]
    parts = {
        "low": {p for p in even if p[0] in low + middle},
        "high": {p for p in even if p[0] in middle + high},  # overlaps "low" on the middle doses
        "odd": {p for p in full if p[1] % 2} | {p for p in even if p[0] == middle[-1]},  # overlaps both
    }
    others = {name: set().union(*(v for k, v in parts.items() if k != name)) for name in parts}
    exclusive = {name: pairs - others[name] for name, pairs in parts.items()}
    assert set().union(*parts.values()) == full and all(exclusive.values())
    go = path.parent / "go"
    path.parent.mkdir(parents=True)
    processes = {name: _writer(path, name, i, pairs, go) for i, (name, pairs) in enumerate(parts.items())}
    try:
        for process in processes.values():
            assert process.stdout.readline() == "ready\n", process.stderr.read()
        go.touch()  # all three create (open) the new store and write at once
        results = {name: process.communicate(timeout=60) for name, process in processes.items()}
    finally:
        for process in processes.values():
            process.kill()
            process.communicate()
    inserted = {}
    for name, (out, err) in results.items():
        assert processes[name].returncode == 0, err
        assert "locked" not in err and "Error" not in err, err
        inserted[name] = {tuple(p) for p in json.loads(out.splitlines()[-1].removeprefix("done "))}
        assert exclusive[name] <= inserted[name] <= parts[name]
    stored = _check_rows(path)
    assert set(stored) == full
    assert sum(len(v) for v in inserted.values()) == len(full)  # each run inserted by exactly one writer
    for name, pairs in inserted.items():
        assert all(stored[p] == name for p in pairs)  # and stored as that writer wrote it, never overwritten
    with ExperimentStore(path) as store:
        assert store.recipes() == [PROCESS_RECIPE]  # registered once, by whichever writer came first
