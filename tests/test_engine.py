"""The experiment engine on local processes: results stored once and resumed without recomputing, widening,
recipes kept apart, the worker pool, the shared data (`prepare`), dependencies between runs (`after`),
failures recorded and retried, the summary over seeds, and crash safety (kill -9 of the driver) and two
drivers writing one store."""

from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from mithridate.experiments.engine import (
    Backend,
    CellSummary,
    GridResult,
    Outcome,
    Recipe,
    Record,
    Run,
    cell_key,
    load_grid,
    run_grid,
    summarize_grid,
)
from mithridate.experiments.engine import executors as executors_module
from mithridate.experiments.store import STORE_FILE, ExperimentStore, StoreError
from mithridate.experiments.summary import Estimate

CELLS = [{"a": a, "b": b} for a in (1, 2, 3) for b in ("x", "y")]


def compute(run: Run) -> Outcome:
    """Deterministic metrics of a cell and seed (module level: it travels to worker processes)."""
    value = run.params["scale"] * run.cell["a"] + (0.5 if run.cell["b"] == "y" else 0.0) + 0.1 * run.seed
    return Outcome(
        {"value": value, "square": value**2, "nan": math.nan, "even": math.nan if run.seed % 2 else float(run.seed)},
        {"pid": os.getpid()},
    )


def plain(run: Run) -> dict[str, float]:
    """The same metrics as a plain mapping (the other form `compute` may return)."""
    return dict(compute(run).metrics)


def refuse(run: Run) -> dict[str, float]:
    raise AssertionError(f"cell {run.cell} seed {run.seed} was computed again")


def rows(path: Path) -> list[tuple]:
    """The results table as it is on disk (empty while the store is being created)."""
    if not path.is_file():
        return []
    with sqlite3.connect(path) as connection:
        try:
            return connection.execute(
                "SELECT spec_hash, cell, seed, metrics_json, finished_at FROM results ORDER BY 1, 2, 3"
            ).fetchall()
        except sqlite3.OperationalError:  # being created
            return []


def values(result: GridResult) -> dict[tuple, float]:
    return {(cell_key(r.cell), r.seed): r.metrics["value"] for r in result.records}


# -- run, resume, widen -----------------------------------------------------------------------------------------


def test_run_stores_each_cell_seed_once_and_resumes_without_computing(tmp_path):
    recipe = Recipe("demo", {"scale": 2.0})
    store = tmp_path / "out" / STORE_FILE
    result = run_grid(recipe, CELLS, range(3), compute, store, progress=False)
    assert result.failures == []
    assert len(result.records) == 18 == len(rows(store))
    assert [(r.cell, r.seed) for r in result.records] == [(c, s) for c in CELLS for s in range(3)]
    first, last = result.records[0], result.records[-1]
    assert first.metrics["value"] == 2.0 and first.metrics["square"] == 4.0 and math.isnan(first.metrics["nan"])
    assert last.metrics["value"] == pytest.approx(6.7) and last.cell == {"a": 3, "b": "y"} and last.seed == 2
    assert first.experiment == "demo" and first.spec_hash == recipe.spec_hash()
    assert first.info == {"pid": os.getpid()} and first.host  # jobs=1: in this process
    assert first.versions["mithridate"] and first.versions["python"] and first.seconds >= 0
    assert first.started_at <= first.finished_at

    before = rows(store)
    again = run_grid(recipe, CELLS, range(3), refuse, store, progress=False)  # nothing left to compute
    assert again.failures == []  # `refuse` would have been recorded as a failure had it run
    assert rows(store) == before
    assert again.records == result.records
    # a subset of the grid is read back, in the order asked for
    subset = run_grid(recipe, CELLS[:2][::-1], [1], refuse, store, progress=False)
    assert [(r.cell, r.seed) for r in subset.records] == [(CELLS[1], 1), (CELLS[0], 1)] and subset.failures == []
    with ExperimentStore(store) as grid:
        assert grid.failures(unresolved=False) == [] and len(grid.records()) == 18


def test_widening_the_grid_computes_only_what_is_new_and_recipes_are_kept_apart(tmp_path):
    store = tmp_path / STORE_FILE
    recipe = Recipe("demo", {"scale": 1.0})
    run_grid(recipe, CELLS[:2], [0], compute, store, progress=False)
    seen = []

    def counting(run: Run) -> Outcome:
        seen.append((cell_key(run.cell), run.seed))
        return compute(run)

    widened = run_grid(recipe, CELLS, [0, 1], counting, store, progress=False)
    assert len(widened.records) == 12 and len(seen) == 10 == len(set(seen))
    assert (cell_key(CELLS[0]), 0) not in seen and (cell_key(CELLS[1]), 0) not in seen
    other = Recipe("demo", {"scale": 3.0})
    assert other.spec_hash() != recipe.spec_hash()
    (only,) = run_grid(other, CELLS[:1], [0], plain, store, progress=False).records
    assert only.metrics["value"] == 3.0 and only.info == {}  # a plain mapping: metrics, no info
    elsewhere = Recipe("other-experiment", {"scale": 1.0})  # the same params under another name
    assert run_grid(elsewhere, CELLS[:1], [0], compute, store, progress=False).records[0].spec_hash != (
        recipe.spec_hash()
    )
    with ExperimentStore(store) as grid:
        assert [r.params for r in grid.recipes("demo")] == [{"scale": 1.0}, {"scale": 3.0}]
        assert grid.experiments() == ["demo", "other-experiment"]
        assert len(grid.records(recipe)) == 12 and len(grid.records(other)) == 1 and len(grid.records()) == 14
    loaded = load_grid(tmp_path, "demo")  # read back from the folder, oldest recipe first
    assert [(r, len(records)) for r, records in loaded] == [(recipe, 12), (other, 1)]
    with pytest.raises(ValueError, match="no finished absent result"):
        load_grid(tmp_path, "absent")


def test_spec_hash_is_stable_and_cells_are_canonical():
    text = '{"experiment":"e","params":{"a":1,"b":[1,2]}}'  # sorted keys, no spaces
    expected = hashlib.sha256(text.encode()).hexdigest()[:16]
    assert Recipe("e", {"a": 1, "b": [1, 2]}).spec_hash() == expected
    assert Recipe("e", {"b": (1, 2), "a": 1}).spec_hash() == expected
    assert Recipe("e", {"a": 1}).spec_hash() != Recipe("f", {"a": 1}).spec_hash()
    assert Recipe("e", {"a": 1}).spec_hash() != Recipe("e", {"a": 1.5}).spec_hash()
    assert Recipe("e", {"a": 1}).to_dict() == {
        "experiment": "e",
        "params": {"a": 1},
        "spec_hash": Recipe("e", {"a": 1}).spec_hash(),
    }
    assert cell_key({"b": "x", "a": 1}) == cell_key({"a": 1, "b": "x"}) == '{"a":1,"b":"x"}'
    assert cell_key({"dose": 0.5, "on": True, "none": None}) == '{"dose":0.5,"none":null,"on":true}'
    for bad in ({}, {"a": [1]}, {"a": math.nan}, {"a": math.inf}, {1: "x"}, [("a", 1)]):
        with pytest.raises(ValueError, match="cell"):
            cell_key(bad)
    with pytest.raises(ValueError, match="JSON"):
        Recipe("e", {"a": object()})
    with pytest.raises(ValueError, match="JSON"):
        Recipe("e", {"a": math.nan})
    with pytest.raises(ValueError, match="experiment"):
        Recipe("", {})


def test_bad_arguments_and_bad_files_are_clear_errors(tmp_path):
    recipe = Recipe("demo", {"scale": 1.0})
    store = tmp_path / "out" / STORE_FILE
    for arguments, message in [
        ({"jobs": 0}, "jobs"),
        ({"jobs": True}, "jobs"),
        ({"kind": "slurm"}, "backend: expected one of local, ray"),
        ({"address": "auto"}, "address"),
        ({"kind": "ray", "cpus": 0}, "cpus"),
        ({"kind": "ray", "max_retries": -1}, "max_retries"),
    ]:
        with pytest.raises(ValueError, match=message):
            Backend(**arguments)
    for seeds, message in [
        ([0, 0], "distinct"),
        ([], "seeds"),
        ([-1], "non-negative"),
        ([0.5], "seeds: expected integers"),
    ]:
        with pytest.raises(ValueError, match=message):
            run_grid(recipe, CELLS, seeds, compute, store, progress=False)
    with pytest.raises(ValueError, match="no cell twice"):
        run_grid(recipe, [CELLS[0], dict(reversed(CELLS[0].items()))], [0], compute, store, progress=False)
    with pytest.raises(ValueError, match="at least one cell"):
        run_grid(recipe, [], [0], compute, store, progress=False)
    with pytest.raises(ValueError, match="cell"):
        run_grid(recipe, [{"a": [1]}], [0], compute, store, progress=False)
    assert not store.parent.exists()  # refused before the store was opened
    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    with pytest.raises(StoreError, match="not an SQLite database"):
        run_grid(recipe, CELLS, [0], compute, text, progress=False)
    assert text.read_text() == "not a database"


# -- processes, shared data, dependencies -----------------------------------------------------------------------


def with_inputs(run: Run) -> Outcome:
    """A run that reads the shared tensors and, for a > 0, the artifact of the a = 0 run of its seed, which it
    reports in its info (module level: it travels to worker processes)."""
    if run.cell["a"] == 0:  # the dependency of seed 1 lands late: a runner that did not wait would be caught
        time.sleep(run.params.get("slow_zero", 0.0) * run.seed)
    offset = float(run.shared["offset"].sum()) + float(run.shared["scale"][0])
    value = run.params["scale"] * run.cell["a"] + 0.1 * run.seed + offset
    artifacts = {"model": f"model of seed {run.seed}".encode(), "log": b"\x00\xff"} if run.cell["a"] == 0 else {}
    info = {
        "pid": os.getpid(),
        "shared_id": id(run.shared),
        "shared_types": sorted({type(v).__name__ for v in run.shared.values()}),
        "loaded": sorted(executors_module._LOADED),  # shared data a worker loaded from its file
        "inputs": {name: data.decode("latin-1") for name, data in run.inputs.items()},
    }
    return Outcome({"value": value}, info, artifacts)


def after_zero(cell: dict, seed: int) -> tuple[dict, int] | None:
    """Every run waits for the a = 0 run of its seed."""
    return None if cell["a"] == 0 else ({"a": 0}, seed)


def _check_dependencies(result: GridResult, dependents) -> None:
    by_key = {(r.cell["a"], r.seed): r for r in result.records}
    for seed in (0, 1):
        zero = by_key[(0, seed)]
        assert zero.info["inputs"] == {}
        for a in dependents:
            dependent = by_key[(a, seed)]
            assert dependent.info["inputs"] == {"model": f"model of seed {seed}", "log": "\x00\xff"}
            assert dependent.started_at >= zero.finished_at  # it ran after its dependency


def test_pool_gives_the_same_results_with_shared_data_and_dependencies(tmp_path):
    """jobs=2 against one process: the same values; the shared tensors reach the workers through one torch file
    (loaded once per worker, removed afterwards) instead of with every run; dependent runs get their
    dependency's artifacts and start after it landed."""
    recipe = Recipe("demo", {"scale": 1.5, "slow_zero": 0.5})
    shared = {"offset": torch.tensor([1.0, 2.0]), "scale": torch.tensor([0.25])}
    calls = []

    def prepare():
        calls.append(1)
        return shared

    cells = [{"a": a} for a in (3, 2, 1, 0)]  # the dependency last: the runner puts it first
    options = {"prepare": prepare, "after": after_zero, "progress": False}
    alone = run_grid(recipe, cells, range(2), with_inputs, tmp_path / "one" / STORE_FILE, **options)
    assert len(calls) == 1
    pooled = run_grid(
        recipe, cells, range(2), with_inputs, tmp_path / "two" / STORE_FILE, backend=Backend(jobs=2), **options
    )
    assert len(calls) == 2  # once per invocation with work
    assert alone.failures == [] == pooled.failures
    expected = {(cell_key({"a": a}), s): 1.5 * a + 0.1 * s + 3.25 for a in (3, 2, 1, 0) for s in range(2)}
    assert values(alone) == pytest.approx(expected) and values(pooled) == values(alone)
    assert [(r.cell, r.seed) for r in pooled.records] == [(c, s) for c in cells for s in range(2)]
    # in this process: the object itself; in the pool: tensors loaded in other processes from one file
    assert {r.info["pid"] for r in alone.records} == {os.getpid()}
    assert {r.info["shared_id"] for r in alone.records} == {id(shared)}
    assert all(r.info["loaded"] == [] for r in alone.records)
    assert os.getpid() not in {r.info["pid"] for r in pooled.records}
    files = {path for r in pooled.records for path in r.info["loaded"]}
    assert len(files) == 1 and all(len(r.info["loaded"]) == 1 for r in pooled.records)
    (file,) = files
    assert file.endswith(".pt") and not Path(file).exists()  # the temporary file is cleaned up
    assert {tuple(r.info["shared_types"]) for r in pooled.records} == {("Tensor",)}
    per_worker: dict[int, set[int]] = {}
    for record in pooled.records:
        per_worker.setdefault(record.info["pid"], set()).add(record.info["shared_id"])
    assert all(len(ids) == 1 for ids in per_worker.values())  # each worker loaded it once, for all its runs
    _check_dependencies(alone, (1, 2, 3))
    _check_dependencies(pooled, (1, 2, 3))
    with ExperimentStore(tmp_path / "two" / STORE_FILE) as store:
        assert store.artifacts(recipe, {"a": 0}, 1) == {"model": b"model of seed 1", "log": b"\x00\xff"}
        assert store.artifacts(recipe, {"a": 1}, 1) == {}


def test_prepare_is_called_once_and_only_when_there_is_work(tmp_path):
    recipe = Recipe("demo", {"scale": 1.0})
    store = tmp_path / STORE_FILE
    calls = []

    def prepare():
        calls.append(1)
        return {"offset": torch.tensor([0.5]), "scale": torch.tensor([0.0])}

    cells = [{"a": a} for a in range(3)]
    first = run_grid(recipe, cells, [0, 1], with_inputs, store, prepare=prepare, progress=False)
    assert len(calls) == 1 and first.failures == []
    assert len({r.info["shared_id"] for r in first.records}) == 1  # one object for every run
    again = run_grid(recipe, cells, [0, 1], refuse, store, prepare=prepare, progress=False)
    assert len(calls) == 1 and again.failures == []  # nothing to do: not prepared
    widened = run_grid(recipe, cells, [0, 1, 2], with_inputs, store, prepare=prepare, progress=False)
    assert len(calls) == 2 and len(widened.records) == 9
    assert [r.metrics["value"] for r in widened.records if r.seed == 2] == pytest.approx([0.7, 1.7, 2.7])
    # without prepare, runs get None
    (record,) = run_grid(Recipe("none"), [{"a": 1}], [0], shared_is_none, store, progress=False).records
    assert record.metrics == {"none": 1.0}


def shared_is_none(run: Run) -> dict[str, float]:
    return {"none": float(run.shared is None and run.inputs == {})}


def test_a_dependency_stored_by_an_earlier_invocation_reaches_its_dependents(tmp_path):
    recipe = Recipe("demo", {"scale": 1.0})
    store = tmp_path / STORE_FILE
    shared = {"offset": torch.tensor([0.0]), "scale": torch.tensor([0.0])}
    earlier = run_grid(recipe, [{"a": 0}], [0, 1], with_inputs, store, prepare=lambda: shared, progress=False)
    cells = [{"a": a} for a in (2, 1, 0)]
    resumed = run_grid(
        recipe, cells, [0, 1], with_inputs, store, prepare=lambda: shared, after=after_zero, progress=False
    )
    assert resumed.failures == [] and len(resumed.records) == 6
    by_key = {(r.cell["a"], r.seed): r for r in resumed.records}
    assert [by_key[(0, s)] for s in (0, 1)] == earlier.records  # not run again
    _check_dependencies(resumed, (1, 2))


def broken_zero(run: Run) -> Outcome:
    """a = 0 fails while the marker file exists; the others report the inputs they got."""
    if run.cell["a"] == 0 and Path(run.params["marker"]).exists():
        raise ValueError(f"cell zero is broken (seed {run.seed})")
    return with_inputs(run)


def test_a_run_whose_dependency_failed_runs_after_it_without_inputs(tmp_path):
    marker = tmp_path / "broken"
    marker.touch()
    recipe = Recipe("demo", {"scale": 1.0, "marker": str(marker)})
    shared = {"offset": torch.tensor([0.0]), "scale": torch.tensor([0.0])}
    cells = [{"a": a} for a in (1, 0)]
    result = run_grid(
        recipe, cells, [0], broken_zero, tmp_path / STORE_FILE, prepare=lambda: shared, after=after_zero, progress=False
    )
    (failure,) = result.failures
    (dependent,) = result.records
    assert (failure.cell, failure.seed, dependent.cell) == ({"a": 0}, 0, {"a": 1})
    assert dependent.info["inputs"] == {} and dependent.started_at >= failure.at


# -- failures ---------------------------------------------------------------------------------------------------


def flaky(run: Run) -> dict[str, float]:
    """Cell a = 2 raises while the marker file exists."""
    if run.cell["a"] == 2 and Path(run.params["marker"]).exists():
        raise ValueError(f"cell two is broken (seed {run.seed})")
    return {"value": float(run.cell["a"])}


def test_a_run_that_raises_is_recorded_the_others_land_and_a_rerun_retries_it(tmp_path, capsys):
    marker = tmp_path / "broken"
    marker.touch()
    recipe = Recipe("flaky", {"marker": str(marker)})  # the same recipe (hash) in every invocation
    store = tmp_path / STORE_FILE
    cells = [{"a": a} for a in (1, 2, 3)]
    computed = []

    def counting(run: Run) -> dict[str, float]:
        computed.append((run.cell["a"], run.seed))
        return flaky(run)

    result = run_grid(recipe, cells, [0, 1], counting, store, progress=False)
    assert sorted(computed) == [(a, s) for a in (1, 2, 3) for s in (0, 1)]
    assert [(r.cell["a"], r.seed) for r in result.records] == [(1, 0), (1, 1), (3, 0), (3, 1)]
    assert [(f.cell, f.seed, f.error) for f in result.failures] == [
        ({"a": 2}, 0, "ValueError: cell two is broken (seed 0)"),
        ({"a": 2}, 1, "ValueError: cell two is broken (seed 1)"),
    ]
    for failure in result.failures:
        assert failure.traceback.startswith("Traceback (most recent call last)")
        assert "in flaky" in failure.traceback and 'raise ValueError(f"cell two is broken' in failure.traceback
        assert failure.experiment == "flaky" and failure.spec_hash == recipe.spec_hash()
        assert failure.host and failure.at.startswith("20")
    assert "flaky: a=2 seed=0 failed: ValueError: cell two is broken (seed 0)" in capsys.readouterr().err
    with ExperimentStore(store) as grid:
        assert grid.failures(recipe) == result.failures

    computed.clear()
    still = run_grid(recipe, cells, [0, 1], counting, store, progress=False)  # only the failed runs again
    assert sorted(computed) == [(2, 0), (2, 1)]
    assert [(f.cell["a"], f.seed) for f in still.failures] == [(2, 0), (2, 1)]
    with ExperimentStore(store) as grid:
        assert len(grid.failures(recipe, unresolved=False)) == 4  # every attempt on record
        assert grid.failures(recipe) == still.failures  # the latest of each
        assert grid.failures(recipe, unresolved=False)[2:] == still.failures

    marker.unlink()
    computed.clear()
    fixed = run_grid(recipe, cells, [0, 1], counting, store, progress=False)
    assert sorted(computed) == [(2, 0), (2, 1)]
    assert fixed.failures == []
    assert [(r.cell["a"], r.seed, r.metrics["value"]) for r in fixed.records] == [
        (a, s, float(a)) for a in (1, 2, 3) for s in (0, 1)
    ]
    with ExperimentStore(store) as grid:
        assert grid.failures() == []  # resolved
        assert len(grid.failures(unresolved=False)) == 4  # and still on record


# -- summary ----------------------------------------------------------------------------------------------------


def test_summary_is_the_mean_and_t_interval_over_seeds(tmp_path):
    recipe = Recipe("demo", {"scale": 1.0})
    records = run_grid(recipe, CELLS[:2], range(4), compute, tmp_path / STORE_FILE, progress=False).records
    summaries = summarize_grid(records[::-1])  # any order of records
    assert [s.cell for s in summaries] == CELLS[:2][::-1]  # cells in first-seen order
    summary = summaries[1]
    assert isinstance(summary, CellSummary) and summary.cell == CELLS[0] and summary.seeds == (0, 1, 2, 3)
    # 1.0, 1.1, 1.2, 1.3: mean 1.15, sd sqrt(0.05 / 3), t(0.975, 3) = 3.18245
    assert summary["value"].mean == pytest.approx(1.15)
    assert summary["value"].half_width == pytest.approx(3.182446 * math.sqrt(0.05 / 3) / 2, rel=1e-5)
    expected = Estimate.of([1.0, 1.1, 1.2, 1.3])
    assert summary["value"].values == pytest.approx(expected.values)
    assert summary["value"].half_width == pytest.approx(expected.half_width)
    assert summary["square"].mean == pytest.approx((1.0 + 1.21 + 1.44 + 1.69) / 4)
    assert summary["even"].values == (0.0, 2.0) and summary["even"].mean == 1.0  # NaN seeds left out
    assert summary["nan"].mean is None and summary["nan"].n == 0  # NaN values are left out
    assert summary["absent"].mean is None
    exported = summary.to_dict()
    assert exported["cell"] == CELLS[0] and exported["seeds"] == [0, 1, 2, 3]
    assert set(exported["metrics"]) == {"value", "square", "nan", "even"}
    with pytest.raises(ValueError, match="twice"):
        summarize_grid(records + records[:1])
    one = Record("demo", "h", {"a": 1}, 0, {"value": 2.0}, 0.0, {}, "t0", "t1")
    (single,) = summarize_grid([one])
    assert single["value"].mean == 2.0 and single["value"].half_width is None  # one seed: no interval


# -- separate processes -----------------------------------------------------------------------------------------

# A driver script: it logs every run it starts to LOG before computing it (cell, seed, and how many results the
# store holds at that moment). It loads the engine's
# modules without running `mithridate/__init__` and `engine/__init__` (which import torch: seconds per process,
# several times that for processes started together on 2 cores); the runner and the store are the same code.
_ENGINE = Path(executors_module.__file__).resolve().parent
BOOT = f"""
import sys, types
for name, folder in (
    ("mithridate", {str(_ENGINE.parents[1])!r}),
    ("mithridate.experiments", {str(_ENGINE.parent)!r}),
    ("mithridate.experiments.engine", {str(_ENGINE)!r}),
):
    module = types.ModuleType(name)
    module.__path__ = [folder]
    sys.modules[name] = module
sys.modules["mithridate"].__version__ = "0.0.test"
"""
SCRIPT = (
    BOOT
    + """
import sqlite3, time
from mithridate.experiments.engine.cells import Run
from mithridate.experiments.engine.runner import run_grid
from mithridate.experiments.store.records import Recipe
assert "torch" not in sys.modules

STORE, TAG, LOG = sys.argv[1:4]


def slow(run: Run) -> dict:
    with sqlite3.connect(STORE) as connection:  # how many results are on disk as this run starts
        stored = connection.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    with open(LOG, "a") as log:
        log.write("%d %d %d\\n" % (run.cell["i"], run.seed, stored))
    time.sleep(run.params["sleep"])
    return {"value": run.cell["i"] * 10 + run.seed}


recipe = Recipe("slow", {"sleep": SLEEP, "tag": TAG})
result = run_grid(recipe, [{"i": i} for i in range(CELLS)], range(2), slow, STORE, progress=False)
assert result.failures == [], result.failures
assert len(result.records) == 2 * CELLS
"""
)


def _script(tmp_path: Path, sleep: float, cells: int) -> Path:
    path = tmp_path / "grid_script.py"
    path.write_text(SCRIPT.replace("SLEEP", repr(sleep)).replace("CELLS", str(cells)))
    return path


def _start(script: Path, store: Path, tag: str, log: Path) -> subprocess.Popen:
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, str(script), str(store), tag, str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
    )


def _log(path: Path) -> list[tuple[int, int, int]]:
    """(cell, seed, results stored when it started) of each run the driver started, in order."""
    return [tuple(int(x) for x in line.split()) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.slow
def test_kill_minus_nine_of_the_driver_loses_nothing_and_repeats_nothing(tmp_path):
    script, store = _script(tmp_path, 0.15, 8), tmp_path / "killed" / STORE_FILE
    full = {(i, s) for i in range(8) for s in (0, 1)}
    process = _start(script, store, "a", tmp_path / "first.log")
    try:
        deadline = time.time() + 60
        while time.time() < deadline and len(rows(store)) < 3 and process.poll() is None:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        _, err = process.communicate()
    assert process.returncode == -signal.SIGKILL, f"the driver should have been killed part-way: {err.decode()}"
    landed = rows(store)
    assert 3 <= len(landed) < 16, "the driver should have been killed part-way"
    with sqlite3.connect(store) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {(json.loads(row[1])["i"], row[2]) for row in landed}
    first = _log(tmp_path / "first.log")
    assert stored <= {(i, s) for i, s, _ in first}
    # each result was on disk before the next run started: the kill lost at most the run in progress
    assert [count for _, _, count in first] == list(range(len(first))) and len(first) <= len(landed) + 1
    resumed = _start(script, store, "a", tmp_path / "second.log")
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()
    final = rows(store)
    assert len(final) == 16 and len({row[:3] for row in final}) == 16
    assert set(landed) <= set(final)  # the rows that landed are untouched (same finish time)
    second = _log(tmp_path / "second.log")
    assert sorted((i, s) for i, s, _ in second) == sorted(full - stored)  # exactly the missing runs, each once
    assert [count for _, _, count in second] == list(range(len(landed), 16))
    assert sorted(json.loads(row[3])["value"] for row in final) == sorted(i * 10 + s for i, s in full)
    with ExperimentStore(store) as grid:
        assert grid.failures(unresolved=False) == []  # a killed run is no failure: it is simply run again


@pytest.mark.slow
def test_drivers_writing_one_store_at_once_all_land(tmp_path):
    """Three drivers start together on one new store: two with one recipe (they share its runs), one with
    another."""
    script, store = _script(tmp_path, 0.02, 6), tmp_path / "shared" / STORE_FILE
    logs = [tmp_path / f"{n}.log" for n in range(3)]
    processes = [_start(script, store, tag, log) for tag, log in zip(("first", "second", "first"), logs, strict=True)]
    try:
        outcomes = [process.communicate(timeout=120) for process in processes]
    finally:
        for process in processes:
            process.kill()
            process.communicate()
    for process, (_, err) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, err.decode()
    landed = rows(store)
    assert len(landed) == 24 == len({row[:3] for row in landed})  # every run once
    first, second = Recipe("slow", {"sleep": 0.02, "tag": "first"}), Recipe("slow", {"sleep": 0.02, "tag": "second"})
    assert {row[0] for row in landed} == {first.spec_hash(), second.spec_hash()}
    assert len(_log(logs[1])) == 12  # alone on its recipe: all of its runs
    assert len(_log(logs[0]) + _log(logs[2])) >= 12  # the two on one recipe computed every run between them
    with ExperimentStore(store) as grid:
        assert grid.recipes() == [first, second] or grid.recipes() == [second, first]
        assert len(grid.records(first)) == 12 == len(grid.records(second))


def test_the_local_backend_never_imports_ray(tmp_path):
    """Ray is an extra: a grid on local processes (and the CLI's parser) runs without importing it."""
    code = (
        "import sys\n"
        "from mithridate.cli import build_parser\n"
        "from mithridate.experiments.engine import Recipe, run_grid\n"
        "build_parser()\n"
        f"store = {str(tmp_path / 'store.sqlite')!r}\n"
        "result = run_grid(Recipe('x', {}), [{'a': 1}], [0], lambda run: {'v': 1.0}, store, progress=False)\n"
        "assert result.records[0].metrics == {'v': 1.0}\n"
        "assert 'ray' not in sys.modules, 'ray was imported'\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
