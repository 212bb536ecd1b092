"""Converting the stores of mithridate 0.x into the experiment store (`convert_folder`, `mithridate convert`):
every run of a sweep's results.sqlite and of a garbage/synthetic grid.sqlite, with its metrics, info,
versions and the dose-0 models; the old files kept; idempotent; old stores of another schema version refused;
and `mithridate show` pointing an unconverted folder at `mithridate convert`."""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mithridate.cli import main
from mithridate.experiments.records import SweepSpec
from mithridate.experiments.store import STORE_FILE, ExperimentStore, StoreError, folder_store
from mithridate.experiments.store.legacy import convert_folder
from mithridate.experiments.store.records import Recipe

# -- the formats of mithridate 0.x ------------------------------------------------------------------------------
# Copied from mithridate 0.x (src/mithridate/experiments/store.py and grid.py): the files these tests convert
# are written here with exactly that SQL, so that the converter is tested against the old format itself and
# not against whatever the current code would write.

SWEEP_SCHEMA_0X = """
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
SWEEP_VERSION_KEY_0X = "schema_version"

GRID_SCHEMA_0X = """
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
GRID_VERSION_KEY_0X = "grid_schema_version"

# A sweep spec as 0.x stored it (resolved, `SweepSpec.to_dict()`), and the hash 0.x gave it (it hashed the doses
# and the seed count too); computed with mithridate 0.x.
OLD_SPEC = {
    "axis": "strength",
    "batch_size": 64,
    "corruption_test_size": 50,
    "corruptions": ["gaussian_noise", "contrast"],
    "data": "digits",
    "doses": [0.0, 1.0],
    "epochs": 3,
    "learning_rate": 0.05,
    "model": "cnn",
    "policy": "ta_wide",
    "seeds": 2,
    "severities": [1, 3],
    "train_size": 30,
    "weight_decay": 0.0005,
}
OLD_SWEEP_HASH = "a46842bdfc504476"
# The recipe of that sweep now: the spec without its extent (doses, seeds), hashed with the experiment's name.
NEW_PARAMS = {k: v for k, v in OLD_SPEC.items() if k not in ("doses", "seeds")}
NEW_SWEEP_HASH = hashlib.sha256(
    json.dumps({"experiment": "sweep", "params": NEW_PARAMS}, sort_keys=True, separators=(",", ":")).encode()
).hexdigest()[:16]

VERSIONS = {"mithridate": "0.1.0", "python": "3.11.7", "torch": "2.3.0"}
MODEL_SEED0 = b"PK\x03\x04 the dose-0 model of seed 0 \x00\xff" * 50
MODEL_SEED1 = b"PK\x03\x04 the dose-0 model of seed 1 \x00\xff" * 50


def _run(dose: float, seed: int, affinity: float | None, loss: float | None = 0.25) -> dict:
    """One row of the 0.x runs table; every value a function of (dose, seed)."""
    return {
        "dose": dose,
        "seed": seed,
        "clean_accuracy": 0.9 + dose / 50 + seed / 100,
        "corrupted_accuracy": 0.7 + dose / 100,
        "corruption": {
            "gaussian_noise/1": 0.75 + seed / 100,
            "gaussian_noise/3": 0.625,
            "contrast/1": 0.8,
            "contrast/3": 0.5,
        },
        "affinity": affinity,
        "final_train_loss": loss,
        "train_seconds": 10.0 + seed,
        "eval_seconds": 0.5,
        "augment_images_per_second": 12345.5,
        "peak_memory_mb": 512.0,
        "started_at": f"2025-01-0{seed + 1}T10:00:00+00:00",
        "finished_at": f"2025-01-0{seed + 1}T10:05:{int(dose * 10):02d}+00:00",
        "extra": {"device": "cpu", "epochs": 3, "train_images": 300, "history": [1.5, 0.5]},
    }


RUNS = [
    _run(0.0, 0, 1.0),
    _run(1.0, 0, 0.8, loss=None),  # a diverged loss: NULL in 0.x
    _run(0.0, 1, 1.0),
    _run(1.0, 1, 0.85),
]


def write_sweep_0x(folder: Path, *, version: str = "1", runs: list[dict] = RUNS) -> Path:
    """A 0.x sweep folder: results.sqlite (WAL, as 0.x left it) and the dose-0 models of both seeds."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(SWEEP_SCHEMA_0X)
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (SWEEP_VERSION_KEY_0X, version))
    conn.execute(
        "INSERT INTO sweeps VALUES (?, ?, ?, ?, ?)",
        (
            f"{folder.name}-{OLD_SWEEP_HASH}",
            OLD_SWEEP_HASH,
            json.dumps(OLD_SPEC, sort_keys=True),
            "2025-01-01T09:00:00+00:00",
            "0.1.0",
        ),
    )
    for run in runs:
        conn.execute(
            "INSERT INTO runs (sweep_id, spec_hash, data, policy, axis, dose, seed, clean_accuracy, "
            "corrupted_accuracy, corruption_accuracy_json, affinity, final_train_loss, train_seconds, eval_seconds, "
            "augment_images_per_second, peak_memory_mb, versions_json, started_at, finished_at, extra_json) "
            "VALUES (?, ?, 'digits', 'ta_wide', 'strength', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                f"{folder.name}-{OLD_SWEEP_HASH}",
                OLD_SWEEP_HASH,
                run["dose"],
                run["seed"],
                run["clean_accuracy"],
                run["corrupted_accuracy"],
                json.dumps(run["corruption"], sort_keys=True),
                run["affinity"],
                run["final_train_loss"],
                run["train_seconds"],
                run["eval_seconds"],
                run["augment_images_per_second"],
                run["peak_memory_mb"],
                json.dumps(VERSIONS, sort_keys=True),
                run["started_at"],
                run["finished_at"],
                json.dumps(run["extra"], sort_keys=True),
            ),
        )
    conn.commit()
    conn.close()
    models = folder / "models"
    models.mkdir(exist_ok=True)
    (models / f"{OLD_SWEEP_HASH}-seed0-dose0.pt").write_bytes(MODEL_SEED0)
    (models / f"{OLD_SWEEP_HASH}-seed1-dose0.pt").write_bytes(MODEL_SEED1)
    (models / "0123456789abcdef-seed0-dose0.pt").write_bytes(b"a model of another sweep")
    return path


GARBAGE_PARAMS = {"model": {"C": 1.0, "name": "logistic"}, "test_share": 0.25}
GARBAGE_HASH = "a4e5fdc19d9b3d90"  # computed by mithridate 0.x (GridSpec.spec_hash)
SYNTHETIC_PARAMS = {"rows": 200}
SYNTHETIC_HASH = "d2420577fc731013"
GRID_ROWS = [
    # experiment, hash, cell (canonical, as 0.x stored it), seed, metrics_json, seconds
    ("garbage", GARBAGE_HASH, '{"dataset":"wine","k":0}', 0, '{"accuracy": 0.9, "auc": 0.95}', 1.5),
    ("garbage", GARBAGE_HASH, '{"dataset":"wine","k":0}', 1, '{"accuracy": 0.875, "auc": 0.9375}', 1.25),
    ("garbage", GARBAGE_HASH, '{"dataset":"wine","k":26}', 0, '{"accuracy": 0.5, "auc": null}', None),
    ("synthetic", SYNTHETIC_HASH, '{"ratio":0.5}', 0, '{"accuracy": 0.625}', 0.25),
]


def write_grid_0x(folder: Path, *, version: str = "1") -> Path:
    """A 0.x garbage/synthetic folder: grid.sqlite with two recipes."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "grid.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(GRID_SCHEMA_0X)
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (GRID_VERSION_KEY_0X, version))
    for experiment, spec_hash, params, created in (
        ("garbage", GARBAGE_HASH, GARBAGE_PARAMS, "2025-02-01T00:00:00+00:00"),
        ("synthetic", SYNTHETIC_HASH, SYNTHETIC_PARAMS, "2025-02-02T00:00:00+00:00"),
    ):
        conn.execute(
            "INSERT INTO specs VALUES (?, ?, ?, ?, '0.1.0')",
            (experiment, spec_hash, json.dumps(params, sort_keys=True, separators=(",", ":")), created),
        )
    for experiment, spec_hash, cell, seed, metrics, seconds in GRID_ROWS:
        conn.execute(
            "INSERT INTO results (experiment, spec_hash, cell, seed, metrics_json, seconds, versions_json, "
            "started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (experiment, spec_hash, cell, seed, metrics, seconds, json.dumps(VERSIONS), f"s{seed}", f"f{seed}"),
        )
    conn.commit()
    conn.close()
    return path


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _old_files(folder: Path) -> dict[str, bytes]:
    """The files of the old store: everything but store.sqlite and SQLite's -shm index (and an empty -wal), which
    any reader of a WAL-mode file, even a read-only one, creates or updates."""
    return {
        name: data
        for name, data in _files(folder).items()
        if not name.startswith(STORE_FILE) and not name.endswith("-shm") and not (name.endswith("-wal") and not data)
    }


# -- the sweep --------------------------------------------------------------------------------------------------


def test_a_sweep_folder_is_converted_run_by_run(tmp_path):
    folder = tmp_path / "runs" / "old-sweep"
    write_sweep_0x(folder)
    before = _old_files(folder)
    report = convert_folder(folder)
    assert report == {"results.sqlite": {"recipes": 1, "runs": 4}}
    assert _old_files(folder) == before  # kept as they were, models included
    with ExperimentStore(folder / STORE_FILE) as store:
        (recipe,) = store.recipes()
        records = store.records()
        artifacts = {(r.cell["dose"], r.seed): store.artifacts(recipe, r.cell, r.seed) for r in records}
    assert recipe == Recipe("sweep", NEW_PARAMS) and recipe.spec_hash() == NEW_SWEEP_HASH
    # the sweep of the same spec today finds these runs: the same recipe
    spec = SweepSpec.from_dict({k: tuple(v) if isinstance(v, list) else v for k, v in OLD_SPEC.items()})
    assert Recipe("sweep", spec.recipe_params()).spec_hash() == NEW_SWEEP_HASH
    assert [(r.cell, r.seed) for r in records] == [({"dose": run["dose"]}, run["seed"]) for run in RUNS]
    for record, run in zip(records, RUNS, strict=True):
        assert (record.experiment, record.spec_hash, record.host) == ("sweep", NEW_SWEEP_HASH, "")
        assert type(record.cell["dose"]) is float and record.key == (f'{{"dose":{run["dose"]}}}', run["seed"])
        expected = {
            name: run[name]
            for name in (
                "clean_accuracy",
                "corrupted_accuracy",
                "affinity",
                "final_train_loss",
                "train_seconds",
                "eval_seconds",
                "augment_images_per_second",
                "peak_memory_mb",
            )
        } | {f"corruption/{name}": value for name, value in run["corruption"].items()}
        assert set(record.metrics) == set(expected)
        for name, value in expected.items():
            if value is None:
                assert math.isnan(record.metrics[name]), name
            else:
                assert record.metrics[name] == value, name
        assert record.seconds == run["train_seconds"] + run["eval_seconds"]
        assert record.info == run["extra"] and record.versions == VERSIONS
        assert (record.started_at, record.finished_at) == (run["started_at"], run["finished_at"])
    assert records[2].metrics["corruption/gaussian_noise/1"] == 0.76
    # the dose-0 models become the dose-0 runs' artifacts, byte for byte; the other runs have none
    assert artifacts == {
        (0.0, 0): {"dose0_model": MODEL_SEED0},
        (1.0, 0): {},
        (0.0, 1): {"dose0_model": MODEL_SEED1},
        (1.0, 1): {},
    }
    assert folder_store(folder, "sweep") == folder / STORE_FILE


def test_conversion_is_idempotent_and_keeps_runs_already_in_the_store(tmp_path):
    folder = tmp_path / "old-sweep"
    write_sweep_0x(folder)
    assert convert_folder(folder)["results.sqlite"]["runs"] == 4
    with ExperimentStore(folder / STORE_FILE) as store:
        first = store.records()
    assert convert_folder(folder) == {"results.sqlite": {"recipes": 1, "runs": 0}}
    with ExperimentStore(folder / STORE_FILE) as store:
        assert store.records() == first  # nothing added twice, nothing replaced
        assert len(store.recipes()) == 1
    raw = sqlite3.connect(folder / STORE_FILE)  # the file itself: one artifact per run of dose 0, none repeated
    assert raw.execute("SELECT COUNT(*) FROM artifacts").fetchone()[0] == 2
    raw.close()


def test_runs_left_in_the_write_ahead_log_of_a_killed_0x_sweep_are_converted(tmp_path):
    """0.x used WAL: a sweep killed at the end leaves its last commits in results.sqlite-wal, not yet in the
    file. The converter reads them (read only: the old files stay as they were)."""
    folder = tmp_path / "killed-sweep"
    path = write_sweep_0x(folder, runs=RUNS[:3])
    last = RUNS[3]
    writer = f"""
import json, os, sqlite3
conn = sqlite3.connect({str(path)!r})
conn.execute("PRAGMA wal_autocheckpoint = 0")
conn.execute(
    "INSERT INTO runs (sweep_id, spec_hash, data, policy, axis, dose, seed, clean_accuracy, corrupted_accuracy, "
    "corruption_accuracy_json, affinity, final_train_loss, train_seconds, eval_seconds, augment_images_per_second, "
    "peak_memory_mb, versions_json, started_at, finished_at, extra_json) "
    "VALUES ('x', ?, 'digits', 'ta_wide', 'strength', 1.0, 1, 0.93, 0.71, ?, 0.85, 0.25, 11.0, 0.5, 1.0, 1.0, "
    "?, ?, ?, ?)",
    ({OLD_SWEEP_HASH!r}, json.dumps({last["corruption"]!r}), json.dumps({VERSIONS!r}), "s", "f", "{{}}"),
)
conn.commit()
os._exit(0)  # killed: no checkpoint, the run is only in the log
"""
    subprocess.run([sys.executable, "-c", writer], check=True, timeout=60)
    assert (folder / "results.sqlite-wal").stat().st_size > 0
    before = _old_files(folder)
    assert convert_folder(folder)["results.sqlite"]["runs"] == 4
    with ExperimentStore(folder / STORE_FILE) as store:
        assert [(r.cell["dose"], r.seed) for r in store.records()][-1] == (1.0, 1)
    assert _old_files(folder) == before  # the log is not folded into the old file: it is read only


def test_only_the_dose_0_run_gets_the_dose_0_model(tmp_path):
    """A run at a dose > 0 can measure an affinity of exactly 1.0 (the augmentation changed no prediction of
    the dose-0 model); the model file still belongs to the dose-0 run of its seed alone."""
    folder = tmp_path / "old-sweep"
    write_sweep_0x(folder, runs=[_run(0.0, 0, 1.0), _run(1.0, 0, 1.0)])
    convert_folder(folder)
    recipe = Recipe("sweep", NEW_PARAMS)
    with ExperimentStore(folder / STORE_FILE) as store:
        assert store.artifacts(recipe, {"dose": 0.0}, 0) == {"dose0_model": MODEL_SEED0}
        assert store.artifacts(recipe, {"dose": 1.0}, 0) == {}


# -- the grid ---------------------------------------------------------------------------------------------------


def test_a_grid_folder_is_converted_and_its_recipes_keep_their_hashes(tmp_path):
    folder = tmp_path / "runs" / "old-grid"
    write_grid_0x(folder)
    before = _old_files(folder)
    assert convert_folder(folder) == {"grid.sqlite": {"recipes": 2, "runs": 4}}
    assert _old_files(folder) == before
    with ExperimentStore(folder / STORE_FILE) as store:
        recipes = store.recipes()
        records = store.records()
        assert store.experiments() == ["garbage", "synthetic"]
    assert recipes == [Recipe("garbage", GARBAGE_PARAMS), Recipe("synthetic", SYNTHETIC_PARAMS)]
    assert [r.spec_hash() for r in recipes] == [GARBAGE_HASH, SYNTHETIC_HASH]  # the hashes 0.x gave them
    assert [(r.experiment, r.spec_hash, r.cell, r.seed) for r in records] == [
        ("garbage", GARBAGE_HASH, {"dataset": "wine", "k": 0}, 0),
        ("garbage", GARBAGE_HASH, {"dataset": "wine", "k": 0}, 1),
        ("garbage", GARBAGE_HASH, {"dataset": "wine", "k": 26}, 0),
        ("synthetic", SYNTHETIC_HASH, {"ratio": 0.5}, 0),
    ]
    assert records[0].metrics == {"accuracy": 0.9, "auc": 0.95} and records[1].seconds == 1.25
    assert records[2].metrics["accuracy"] == 0.5 and math.isnan(records[2].metrics["auc"])
    assert math.isnan(records[2].seconds)
    assert all(r.versions == VERSIONS and r.info == {} and r.host == "" for r in records)
    assert [(r.started_at, r.finished_at) for r in records] == [("s0", "f0"), ("s1", "f1"), ("s0", "f0"), ("s0", "f0")]
    assert convert_folder(folder) == {"grid.sqlite": {"recipes": 2, "runs": 0}}  # idempotent


# -- refused ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sweep", "grid"])
@pytest.mark.parametrize("version", ["2", "0"])
def test_an_old_store_of_another_schema_version_is_refused(tmp_path, kind, version):
    folder = tmp_path / kind
    path = write_sweep_0x(folder, version=version) if kind == "sweep" else write_grid_0x(folder, version=version)
    key = SWEEP_VERSION_KEY_0X if kind == "sweep" else GRID_VERSION_KEY_0X
    with pytest.raises(StoreError, match=rf"{key} '{version}'; this mithridate converts version 1 only") as info:
        convert_folder(folder)
    assert str(path) in str(info.value)


def test_a_refused_conversion_leaves_the_folder_as_it_was(tmp_path):
    folder = tmp_path / "sweep"
    write_sweep_0x(folder, version="2")
    before = _old_files(folder)
    with pytest.raises(StoreError):
        convert_folder(folder)
    assert _old_files(folder) == before
    assert not (folder / STORE_FILE).exists()
    with pytest.raises(StoreError, match="mithridate convert"):
        folder_store(folder, "sweep")  # still pointed at the conversion


def test_a_folder_without_an_old_store_or_with_a_broken_one_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no results\.sqlite or grid\.sqlite here"):
        convert_folder(tmp_path)
    (tmp_path / "results.sqlite").write_text("dose,seed\n")
    with pytest.raises(StoreError, match="not a readable SQLite store"):
        convert_folder(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    conn = sqlite3.connect(other / "grid.sqlite")
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(StoreError, match=r"expected the tables \['meta', 'results', 'specs'\].*found \['t'\]"):
        convert_folder(other)


# -- the command line -------------------------------------------------------------------------------------------


def test_convert_command_prints_what_it_converted(tmp_path, capsys):
    folder = tmp_path / "both"
    write_sweep_0x(folder)
    write_grid_0x(folder)
    assert main(["convert", str(folder)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{folder / 'results.sqlite'}: 1 recipes, 4 runs added",
        f"{folder / 'grid.sqlite'}: 2 recipes, 4 runs added",
        f"store: {folder / STORE_FILE}",
    ]
    assert main(["convert", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "1 recipes, 0 runs added" in out and "2 recipes, 0 runs added" in out
    with ExperimentStore(folder / STORE_FILE) as store:
        assert store.experiments() == ["sweep", "garbage", "synthetic"] and len(store.records()) == 8
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["convert", str(empty)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mithridate: error: ") and "nothing to convert" in err and err.count("\n") == 1


def test_convert_command_refuses_another_schema_version_in_one_line(tmp_path, capsys):
    folder = tmp_path / "future"
    write_sweep_0x(folder, version="2")
    assert main(["convert", str(folder)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "converts version 1 only" in captured.err


def test_show_points_an_unconverted_folder_at_convert_and_reads_it_once_converted(tmp_path, capsys):
    folder = tmp_path / "runs" / "old-sweep"
    write_sweep_0x(folder)
    assert main(["show", str(folder)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("mithridate: error: ") and captured.err.count("\n") == 1
    assert f"'mithridate convert {folder}'" in captured.err
    assert not (folder / STORE_FILE).exists()  # show wrote nothing

    assert main(["convert", str(folder)]) == 0
    capsys.readouterr()
    assert main(["show", str(folder)]) == 0
    table = capsys.readouterr().out
    # clean accuracy: dose 0 0.90 and 0.91, dose 1 0.92 and 0.93; t(0.975, 1) * sd / sqrt(2) = 6.35 pp
    assert "90.50 ± 6.35" in table and "92.50 ± 6.35" in table
    assert "0.825 ± " in table  # affinity at dose 1: 0.8 and 0.85
    assert main(["show", str(folder), "--json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out)
    assert summary["best_dose"] == 1.0 and summary["spec"]["doses"] == [0.0, 1.0] and summary["spec"]["seeds"] == 2
    assert summary["paired_vs_dose0"]["pairs"] == 2


def test_show_reads_a_converted_grid_folder(tmp_path, capsys):
    """A garbage grid as 0.x stored it (its grid.sqlite rows, taken from a run of today's code) converts and
    shows the same tables as the run itself."""
    from mithridate.experiments.studies.garbage import GarbageConfig, run_garbage

    fresh = tmp_path / "fresh"
    config = GarbageConfig(datasets=("wine",), kinds=("gaussian",), ks=(0, 26), models=("knn",), seeds=2)
    run_garbage(config, fresh, jobs=1, progress=False, echo=lambda line: None)
    assert main(["show", str(fresh)]) == 0
    expected = capsys.readouterr().out
    folder = tmp_path / "runs" / "old-grid"
    folder.mkdir(parents=True)
    conn = sqlite3.connect(folder / "grid.sqlite")
    conn.executescript(GRID_SCHEMA_0X)
    conn.execute("INSERT INTO meta (key, value) VALUES (?, '1')", (GRID_VERSION_KEY_0X,))
    with sqlite3.connect(fresh / STORE_FILE) as source:
        for row in source.execute("SELECT experiment, spec_hash, params_json, created_at FROM recipes"):
            conn.execute("INSERT INTO specs VALUES (?, ?, ?, ?, '0.1.0')", row)
        query = (
            "SELECT experiment, spec_hash, cell, seed, metrics_json, seconds, versions_json, started_at, finished_at "
            "FROM results ORDER BY id"
        )
        for row in source.execute(query):
            conn.execute(
                "INSERT INTO results (experiment, spec_hash, cell, seed, metrics_json, seconds, versions_json, "
                "started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
    conn.commit()
    conn.close()
    assert main(["show", str(folder)]) == 2 and "mithridate convert" in capsys.readouterr().err
    assert main(["convert", str(folder)]) == 0
    capsys.readouterr()
    assert main(["show", str(folder)]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out == expected

