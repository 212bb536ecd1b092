"""The results store: round trips, resumption, float doses, schema versions, and the two promises a sweep
relies on: a process killed at any moment leaves whole rows or nothing, and several processes writing one
store at once all land, without duplicates."""

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

import mithridate
from mithridate.experiments import store as store_module
from mithridate.experiments.records import RunRecord, SweepSpec
from mithridate.experiments.store import SCHEMA_VERSION, ResultsStore, StoreError

TESTS = Path(__file__).resolve().parent

# The spec the subprocess tests write: 8 doses x 60 seeds = 480 runs.
PROCESS_SPEC = SweepSpec(doses=(0.0, 0.1, 0.3, 0.5, 1.0, 1.5, 2.0, 3.0), seeds=60)


def make_record(spec: SweepSpec, dose: float, seed: int, sweep_id: str = "demo", **changes) -> RunRecord:
    """A full record whose every value is a function of (spec, dose, seed), so any stored row can be checked."""
    record = RunRecord(
        sweep_id=sweep_id,
        spec_hash=spec.spec_hash(),
        data=spec.data,
        policy=spec.policy,
        axis=spec.axis,
        dose=dose,
        seed=seed,
        clean_accuracy=0.9 - dose / 10 + seed / 1000,
        corrupted_accuracy=0.7 - dose / 20,
        corruption_accuracy={f"gaussian_noise/{s}": 0.8 - s / 10 + seed / 1e4 for s in (1, 3, 5)}
        | {"contrast/2": 1 / 3},
        affinity=None if dose == 0 else 1 - dose / 7,
        final_train_loss=0.25 + dose,
        train_seconds=12.5 + seed,
        eval_seconds=0.125,
        augment_images_per_second=123456.75,
        peak_memory_mb=512.5,
        versions={"mithridate": "0.1.0", "torch": "2.3.0", "python": "3.11.7"},
        started_at=f"2025-01-01T00:00:{seed % 60:02d}+00:00",
        finished_at="2025-01-01T00:10:00+00:00",
        extra={"history": [1.5, 0.75, 0.25 + dose], "model": {"name": "cnn", "layers": [8, 16]}, "note": None},
    )
    return dataclasses.replace(record, **changes)


def all_pairs(spec: SweepSpec) -> set[tuple[float, int]]:
    return {(dose, seed) for dose in spec.doses for seed in range(spec.seeds)}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "runs" / "demo" / "results.sqlite"


# -- round trips ----------------------------------------------------------------------------------------------


def test_spec_round_trip_and_sweeps(path: Path) -> None:
    spec = SweepSpec(
        data="digits",
        policy="rand-m9-n2",
        axis="p",
        doses=(1.0, 0.0, 0.25),
        seeds=2,
        epochs=3,
        train_size=30,
        model="cnn",
        corruptions=("gaussian_noise", "contrast"),
        severities=(1, 5),
    )
    other = SweepSpec(doses=(0.0, 1.0), seeds=1)
    with ResultsStore(path) as store:
        assert store.add_sweep("first", spec) is True
        assert store.add_sweep("first", spec) is False  # idempotent
        assert store.add_sweep("second", other) is True
        store.add_run(make_record(other, 1.0, 0, sweep_id="second"))
    with ResultsStore(path) as store:  # a fresh connection, no cache
        assert store.spec(spec.spec_hash()) == spec
        assert store.spec(other.spec_hash()) == other
        sweeps = {s["sweep_id"]: s for s in store.sweeps()}
    assert set(sweeps) == {"first", "second"}
    first = sweeps["first"]
    assert first["spec_hash"] == spec.spec_hash()
    assert SweepSpec.from_dict(first["spec"]) == spec
    assert first["finished_runs"] == 0 and first["planned_runs"] == 6
    assert sweeps["second"]["finished_runs"] == 1 and sweeps["second"]["planned_runs"] == 2
    assert first["mithridate_version"] and first["created_at"].startswith("20")


def test_same_sweep_id_with_another_spec_is_an_error(path: Path) -> None:
    spec = SweepSpec(doses=(0.0, 1.0), seeds=1)
    changed = SweepSpec(doses=(0.0, 1.0), seeds=2)
    with ResultsStore(path) as store:
        store.add_sweep("demo", spec)
        with pytest.raises(StoreError, match=rf"'demo'.*{spec.spec_hash()}.*{changed.spec_hash()}"):
            store.add_sweep("demo", changed)
        assert [s["spec_hash"] for s in store.sweeps()] == [spec.spec_hash()]
        with pytest.raises(KeyError, match="no sweep with spec hash"):
            store.spec(changed.spec_hash())


def test_run_round_trip_every_field(path: Path) -> None:
    spec = SweepSpec(doses=(0.0, 0.5), seeds=1)
    zero = make_record(spec, 0.0, 0)
    half = make_record(spec, 0.5, 0)
    assert zero.affinity is None and half.affinity is not None
    with ResultsStore(path) as store:
        store.add_sweep("demo", spec)
        assert store.add_run(half) is True
        assert store.add_run(zero) is True
    with ResultsStore(path) as store:
        runs = store.runs(spec.spec_hash())
    assert runs == [zero, half]
    for run in runs:
        assert type(run.dose) is float and type(run.seed) is int
    assert runs[1].extra["model"] == {"name": "cnn", "layers": [8, 16]}
    assert runs[1].corruption_accuracy["contrast/2"] == 1 / 3  # floats in JSON round trip exactly


def test_numpy_values_are_stored_as_plain_numbers(path: Path) -> None:
    np = pytest.importorskip("numpy")
    spec = SweepSpec(doses=(0.0, 0.5), seeds=2)
    record = make_record(
        spec,
        np.float64(0.5),
        np.int64(1),
        clean_accuracy=np.float32(0.75),
        corruption_accuracy={"contrast/1": np.float32(0.5)},
        extra={"confusion": np.eye(2, dtype=np.int64)},
    )
    with ResultsStore(path) as store:
        store.add_sweep("demo", spec)
        assert store.add_run(record)
        (run,) = store.runs()
    assert (run.dose, run.seed, run.clean_accuracy) == (0.5, 1, 0.75)
    assert run.corruption_accuracy == {"contrast/1": 0.5}
    assert run.extra["confusion"] == [[1, 0], [0, 1]]


def test_non_finite_metrics(path: Path) -> None:
    spec = SweepSpec(doses=(0.0, 3.0), seeds=1)
    diverged = make_record(spec, 3.0, 0, final_train_loss=math.nan, train_seconds=math.inf, affinity=math.nan)
    with ResultsStore(path) as store:
        store.add_sweep("demo", spec)
        store.add_run(diverged)
        (run,) = store.runs()
        exported = store.export_json()
    assert math.isnan(run.final_train_loss)  # SQLite keeps NaN as NULL; it reads back as NaN
    assert run.train_seconds == math.inf
    assert run.affinity is None  # an unmeasurable affinity reads back as "not measured"
    assert exported[0]["final_train_loss"] is None and exported[0]["train_seconds"] is None
    json.dumps(exported, allow_nan=False)  # strict JSON


def test_ordering_finished_and_spec_hashes_kept_apart(path: Path) -> None:
    spec_a = SweepSpec(doses=(0.0, 0.1, 0.3, 1.0, 3.0), seeds=3)
    spec_b = SweepSpec(doses=(0.0, 0.1, 0.3, 1.0, 3.0), seeds=3, epochs=7)
    assert spec_a.spec_hash() != spec_b.spec_hash()
    pairs_a = sorted(all_pairs(spec_a))
    pairs_b = [(0.3, 2), (0.0, 1), (3.0, 0)]
    shuffled = [(spec_a, p) for p in pairs_a] + [(spec_b, p) for p in pairs_b]
    random.Random(0).shuffle(shuffled)
    with ResultsStore(path) as store:
        store.add_sweep("a", spec_a)
        store.add_sweep("b", spec_b)
        assert store.finished(spec_a.spec_hash()) == set()
        for spec, (dose, seed) in shuffled:
            assert store.add_run(make_record(spec, dose, seed, sweep_id="ab"[spec is spec_b]))
        runs_a = store.runs(spec_a.spec_hash())
        runs_b = store.runs(spec_b.spec_hash())
        everything = store.runs()
        assert store.finished(spec_a.spec_hash()) == set(pairs_a)
        assert store.finished(spec_b.spec_hash()) == set(pairs_b)
        assert store.finished("0123456789abcdef") == set()
        assert store.runs("0123456789abcdef") == []
    assert [(r.dose, r.seed) for r in runs_a] == pairs_a  # sorted by dose, then seed
    assert [(r.dose, r.seed) for r in runs_b] == sorted(pairs_b)
    assert all(r.spec_hash == spec_a.spec_hash() and r.sweep_id == "a" for r in runs_a)
    assert all(r.spec_hash == spec_b.spec_hash() and r.sweep_id == "b" for r in runs_b)
    assert len(everything) == len(pairs_a) + len(pairs_b)
    keys = [(r.spec_hash, r.dose, r.seed) for r in everything]
    assert keys == sorted(keys)


def test_add_run_twice_keeps_the_first_row(path: Path) -> None:
    spec = SweepSpec(doses=(0.0, 1.0), seeds=2)
    first = make_record(spec, 1.0, 1)
    second = make_record(spec, 1.0, 1, clean_accuracy=0.125, extra={"attempt": 2}, finished_at="later")
    with ResultsStore(path) as store:
        store.add_sweep("demo", spec)
        assert store.add_run(first) is True
        assert store.add_run(second) is False
        assert store.add_run(first) is False
    with ResultsStore(path) as store:
        assert store.add_run(second) is False
        assert store.runs() == [first]
        assert store.export_json() == [first.to_dict()]


def test_float_doses_match_the_spec(path: Path) -> None:
    spec = SweepSpec(doses=(0.1, 0.3, 1, 3), seeds=2)
    # Doses as a caller may compute them: 0.1, 0.30000000000000004, 1.0, 3.0000000000000004.
    computed = {0.1: 0.1, 0.3: 0.1 * 3, 1.0: 0.1 * 10, 3.0: 0.1 * 3 * 10}
    assert computed[0.3] != 0.3 and computed[3.0] != 3.0
    with ResultsStore(path) as store:
        store.add_sweep("demo", spec)
        for dose in spec.doses:
            assert store.add_run(make_record(spec, computed[dose], 0))
            assert store.add_run(make_record(spec, dose, 1))
        # The same run again, its dose computed either way, is not a new run.
        assert not store.add_run(make_record(spec, 0.3, 0))
        assert not store.add_run(make_record(spec, 0.1 * 3, 1))
    with ResultsStore(path) as store:
        finished = store.finished(spec.spec_hash())
        runs = store.runs(spec.spec_hash())
    assert finished == {(dose, seed) for dose in spec.doses for seed in range(2)}
    assert all((dose, seed) in finished for dose in (0.1, 0.3, 1, 3) for seed in range(2))
    assert [r.dose for r in runs] == [0.1, 0.1, 0.3, 0.3, 1.0, 1.0, 3.0, 3.0]


def test_run_must_belong_to_a_stored_spec(path: Path) -> None:
    spec = SweepSpec(doses=(0.0, 0.5), seeds=1)
    with ResultsStore(path) as store:
        with pytest.raises(StoreError, match="add_sweep"):
            store.add_run(make_record(spec, 0.5, 0))
        store.add_sweep("demo", spec)
        with pytest.raises(StoreError, match=r"dose 0\.25 is not one of its spec's doses \[0\.0, 0\.5\]"):
            store.add_run(make_record(spec, 0.25, 0))
        with pytest.raises(StoreError, match="policy 'other' differs"):
            store.add_run(make_record(spec, 0.5, 0, policy="other"))
        with pytest.raises(StoreError, match="seed: expected an integer"):
            store.add_run(dataclasses.replace(make_record(spec, 0.5, 0), seed=0.0))
        with pytest.raises(StoreError, match="extra: cannot be stored as JSON"):
            store.add_run(make_record(spec, 0.5, 0, extra={"path": Path("x")}))
        with pytest.raises(StoreError, match="expected a RunRecord"):
            store.add_run(make_record(spec, 0.5, 0).to_dict())
        assert store.runs() == []


# -- the file and its settings --------------------------------------------------------------------------------


def test_durability_settings(path: Path) -> None:
    with ResultsStore(path, timeout=12.5) as store:
        conn = store._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 12500
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent in the file
    raw.close()


def test_closed_store_and_foreign_process_are_errors(path: Path) -> None:
    store = ResultsStore(path)
    store._pid = store._pid + 1  # as if this object had crossed a fork
    with pytest.raises(StoreError, match="open a ResultsStore in each process"):
        store.finished("x")
    store._pid = os.getpid()
    with store:
        assert store.finished("x") == set()
    with pytest.raises(StoreError, match="closed"):
        store.runs()
    store.close()  # idempotent


def _set_schema_version(path: Path, version: str) -> None:
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (version,))
    raw.close()


def test_newer_schema_version_is_refused(path: Path) -> None:
    ResultsStore(path).close()
    _set_schema_version(path, "99")
    with pytest.raises(StoreError, match=r"schema version 99 is newer .*version 1\); upgrade mithridate") as info:
        ResultsStore(path)
    assert str(path) in str(info.value)


def test_older_schema_version_migrates_or_is_refused(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = SweepSpec(doses=(0.0,), seeds=1)
    with ResultsStore(path) as store:
        store.add_sweep("demo", spec)
        store.add_run(make_record(spec, 0.0, 0))
    _set_schema_version(path, "0")
    with pytest.raises(StoreError, match=r"schema version 0 is older .* no migration from version 0"):
        ResultsStore(path)

    # With a migration from 0 to 1 the store is migrated in place, and its rows kept.
    def migrate(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO meta (key, value) VALUES ('migrated', 'yes')")

    monkeypatch.setitem(store_module._MIGRATIONS, 0, migrate)
    with ResultsStore(path) as store:
        assert store.runs() == [make_record(spec, 0.0, 0)]
    raw = sqlite3.connect(path)
    assert dict(raw.execute("SELECT key, value FROM meta")) == {"schema_version": "1", "migrated": "yes"}
    raw.close()


def test_a_file_that_is_not_sqlite_is_refused(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text("dose,seed,accuracy\n0.1,0,0.9\n")
    with pytest.raises(StoreError, match="not an SQLite database") as info:
        ResultsStore(path)
    assert str(path) in str(info.value)
    assert path.read_text().startswith("dose,seed")  # left as it was


def test_a_sqlite_file_of_something_else_is_refused(path: Path) -> None:
    path.parent.mkdir(parents=True)
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE results (x)")
    raw.close()
    with pytest.raises(StoreError, match=r"not a mithridate results store .*\['results'\]") as info:
        ResultsStore(path)
    assert str(path) in str(info.value)


def test_a_directory_is_refused(path: Path) -> None:
    path.mkdir(parents=True)
    with pytest.raises(StoreError, match="expected a results store file"):
        ResultsStore(path)


# -- processes ------------------------------------------------------------------------------------------------

# A writer process: waits for the go-file (if any), opens the store, writes the given (dose, seed) runs in a
# shuffled order, printing each one it inserted; at the end prints "done" and the JSON list it inserted.
# With a limit, it stops after inserting that many runs and waits to be killed (so that a slow parent cannot
# let it run to the end).
# The store needs only the standard library and records.py, so the writer loads the package's modules without
# running `mithridate/__init__` (which imports torch: 1.5 s per process, several times that for processes
# started together on 2 cores). The code under test is the same store.py.
_EXPERIMENTS = Path(store_module.__file__).resolve().parent
WRITER = f"""
import json, os, random, sys, time, types
for name, folder in (("mithridate", {str(_EXPERIMENTS.parent)!r}), ("mithridate.experiments", {str(_EXPERIMENTS)!r})):
    module = types.ModuleType(name)
    module.__path__ = [folder]
    sys.modules[name] = module
sys.modules["mithridate"].__version__ = {mithridate.__version__!r}
sys.path.insert(0, {str(TESTS)!r})
from test_store import PROCESS_SPEC, make_record
from mithridate.experiments.store import ResultsStore
assert "torch" not in sys.modules

path, writer, order, go, limit = sys.argv[1:6]
pairs = [tuple(p) for p in json.loads(sys.argv[6])]
random.Random(int(order)).shuffle(pairs)
print("ready", flush=True)
while go and not os.path.exists(go):
    time.sleep(0.005)
inserted = []
with ResultsStore(path) as store:
    store.add_sweep("processes", PROCESS_SPEC)
    for dose, seed in pairs:
        record = make_record(PROCESS_SPEC, dose, seed, sweep_id="processes", extra={{"writer": writer}})
        if store.add_run(record):
            inserted.append([dose, seed])
            print("inserted", dose, seed, flush=True)
            if len(inserted) == int(limit):
                time.sleep(600)
print("done", json.dumps(inserted), flush=True)
"""


def _writer(path: Path, writer: str, order: int, pairs, go: Path | None = None, limit: int = -1) -> subprocess.Popen:
    arguments = [str(path), writer, str(order), str(go or ""), str(limit), json.dumps(sorted(pairs))]
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check_rows(path: Path) -> dict[tuple[float, int], str]:
    """Open the store after writers died or finished: the file is sound and every row is whole and unique.
    Returns the writer of each stored run."""
    with ResultsStore(path) as store:
        assert store._conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert store._conn.execute("PRAGMA foreign_key_check").fetchall() == []
        runs = store.runs(PROCESS_SPEC.spec_hash())
        assert store.finished(PROCESS_SPEC.spec_hash()) == {(r.dose, r.seed) for r in runs}
        count = store._conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    keys = [(r.dose, r.seed) for r in runs]
    assert len(keys) == len(set(keys)) == count  # no duplicates, nothing under another hash
    assert set(keys) <= all_pairs(PROCESS_SPEC)
    writers = {}
    for run in runs:
        writer = run.extra.get("writer")
        expected = make_record(PROCESS_SPEC, run.dose, run.seed, sweep_id="processes", extra={"writer": writer})
        assert run == expected  # every field whole
        writers[(run.dose, run.seed)] = writer
    return writers


@pytest.mark.slow
def test_killed_writers_leave_whole_rows_and_resume(path: Path) -> None:
    """SIGKILL a writer at random moments, five times; then resume to exactly the full set."""
    rng = random.Random(1234)
    full = all_pairs(PROCESS_SPEC)
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
        for process, go, wait in zip(processes, gos, waits, strict=False):
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
    full = all_pairs(PROCESS_SPEC)
    low, middle, high = PROCESS_SPEC.doses[:3], PROCESS_SPEC.doses[3:5], PROCESS_SPEC.doses[5:]
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
