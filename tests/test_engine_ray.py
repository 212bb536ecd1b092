"""The engine on a local Ray cluster: the same results as local processes, a killed worker retried without
loss, a run that raises recorded as failed, a killed driver resumed, and a sweep on Ray equal to the same
sweep on local processes row for row."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the ray backend needs Ray: pip install 'mithridate[ray]'")

from mithridate.experiments.engine import Backend, Outcome, Recipe, Run, run_grid  # noqa: E402
from mithridate.experiments.store import STORE_FILE, ExperimentStore  # noqa: E402

CELLS = [{"a": a} for a in range(4)]


@pytest.fixture(scope="module")
def cluster():
    """A local Ray with two CPUs (module-scoped: starting Ray takes seconds)."""
    os.environ["RAY_AUTH_MODE"] = "disabled"
    owned = not ray.is_initialized()
    if owned:  # workers import this module's compute functions by name, as they would a user's module
        tests = str(Path(__file__).parent)
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (tests, os.environ.get("PYTHONPATH")) if p)
        ray.init(num_cpus=2, include_dashboard=False, object_store_memory=150 * 2**20, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    if owned:
        ray.shutdown()


def compute(run: Run) -> Outcome:
    """Deterministic metrics of a cell and seed, with an artifact (module level: it travels to workers)."""
    value = run.params["scale"] * run.cell["a"] + 0.1 * run.seed + (run.shared or {}).get("offset", 0)
    return Outcome({"value": value}, {"pid": os.getpid()}, {"bytes": str(value).encode()})


def die_once(run: Run) -> Outcome:
    """Kills its worker process the first time cell a=1 seed 0 runs (a marker file remembers)."""
    marker = Path(run.params["marker"])
    if run.cell["a"] == 1 and run.seed == 0 and not marker.exists():
        marker.write_text("died")
        os.kill(os.getpid(), signal.SIGKILL)
    return Outcome({"value": float(run.cell["a"])})


def raise_for_two(run: Run) -> dict[str, float]:
    if run.cell["a"] == 2:
        raise ValueError("cell two is broken")
    return {"value": float(run.cell["a"])}


def values(records) -> dict:
    return {(r.cell["a"], r.seed): r.metrics["value"] for r in records}


def test_ray_gives_the_local_results_and_only_the_driver_writes(cluster, tmp_path):
    recipe = Recipe("demo", {"scale": 2.0})
    shared = {"offset": 100}
    local = run_grid(
        recipe, CELLS, range(2), compute, tmp_path / "l" / STORE_FILE, prepare=lambda: shared, progress=False
    )
    on_ray = run_grid(
        recipe,
        CELLS,
        range(2),
        compute,
        tmp_path / "r" / STORE_FILE,
        backend=Backend("ray"),
        prepare=lambda: shared,
        progress=False,
    )
    assert (
        values(on_ray.records)
        == values(local.records)
        == {(a, s): 100 + 2.0 * a + 0.1 * s for a in range(4) for s in range(2)}
    )
    assert {r.info["pid"] for r in on_ray.records}.isdisjoint({os.getpid()})  # ran in Ray workers
    with ExperimentStore(tmp_path / "r" / STORE_FILE) as store:
        assert store.artifacts(recipe, {"a": 3}, 1) == {"bytes": str(100 + 6.0 + 0.1).encode()}
    assert ray.is_initialized()  # the executor leaves a Ray it did not start running


def test_a_killed_worker_is_retried_and_loses_nothing(cluster, tmp_path):
    marker = tmp_path / "marker"
    recipe = Recipe("dies", {"marker": str(marker)})
    result = run_grid(
        recipe, CELLS, range(2), die_once, tmp_path / STORE_FILE, backend=Backend("ray", max_retries=2), progress=False
    )
    assert marker.read_text() == "died"  # the worker did die once
    assert result.failures == [] and values(result.records) == {(a, s): float(a) for a in range(4) for s in range(2)}


def test_a_worker_that_dies_more_than_retried_is_a_failure(cluster, tmp_path):
    recipe = Recipe("dies", {"marker": str(tmp_path / "marker")})
    result = run_grid(
        recipe, CELLS, [0], die_once, tmp_path / STORE_FILE, backend=Backend("ray", max_retries=0), progress=False
    )
    assert [(f.cell, f.seed) for f in result.failures] == [({"a": 1}, 0)]
    assert "died" in result.failures[0].error.lower() or "worker" in result.failures[0].error.lower()
    assert sorted(values(result.records)) == [(0, 0), (2, 0), (3, 0)]


def test_a_run_that_raises_is_recorded_as_failed(cluster, tmp_path):
    recipe = Recipe("raises", {})
    result = run_grid(
        recipe, CELLS, [0, 1], raise_for_two, tmp_path / STORE_FILE, backend=Backend("ray"), progress=False
    )
    assert sorted(values(result.records)) == [(a, s) for a in (0, 1, 3) for s in (0, 1)]
    assert [(f.cell["a"], f.seed) for f in result.failures] == [(2, 0), (2, 1)]
    assert all("ValueError: cell two is broken" in f.error and "raise_for_two" in f.traceback for f in result.failures)


DRIVER = """
import sys, time
from mithridate.experiments.engine import Backend, Recipe, run_grid

def slow(run):
    time.sleep(0.4)
    return {{"value": run.cell["i"] * 10 + run.seed}}

if __name__ == "__main__":
    run_grid(Recipe("slow", {{}}), [{{"i": i}} for i in range(8)], range(2), slow, sys.argv[1],
             backend=Backend("ray", address="{address}"), progress=False)
"""


def _rows(path: Path) -> list[tuple]:
    if not path.is_file():
        return []
    with sqlite3.connect(path) as connection:
        try:
            return connection.execute(
                "SELECT cell, seed, metrics_json, finished_at FROM results ORDER BY 1, 2"
            ).fetchall()
        except sqlite3.OperationalError:
            return []


def test_a_killed_driver_resumes_without_losing_or_repeating(cluster, tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent(DRIVER.format(address=cluster)))
    store = tmp_path / "out" / STORE_FILE
    environment = {**os.environ, "RAY_AUTH_MODE": "disabled", "PYTHONPATH": str(tmp_path)}
    process = subprocess.Popen([sys.executable, str(script), str(store)], env=environment, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and len(_rows(store)) < 3:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    landed = _rows(store)
    assert 3 <= len(landed) < 16, "the driver should have been killed part-way"
    resumed = subprocess.run(
        [sys.executable, str(script), str(store)], env=environment, capture_output=True, timeout=180
    )
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    final = _rows(store)
    assert len(final) == 16 and set(landed) <= set(final)
    assert sorted(json.loads(row[2])["value"] for row in final) == sorted(i * 10 + s for i in range(8) for s in (0, 1))


def test_a_sweep_on_ray_equals_the_local_sweep_row_for_row(cluster, tmp_path):
    from mithridate.experiments.records import SweepSpec
    from mithridate.experiments.studies.sweep import run_sweep

    spec = SweepSpec(
        doses=(0.0, 2.0),
        seeds=2,
        epochs=1,
        train_size=3,
        corruptions=("contrast",),
        severities=(2,),
        corruption_test_size=20,
    )
    quiet = {"progress": False, "echo": lambda line: None}
    local = run_sweep(spec, tmp_path / "local", backend=Backend(jobs=1), **quiet)
    on_ray = run_sweep(spec, tmp_path / "ray", backend=Backend("ray"), **quiet)
    fields = (
        "dose",
        "seed",
        "clean_accuracy",
        "corrupted_accuracy",
        "corruption_accuracy",
        "affinity",
        "final_train_loss",
    )
    assert [[getattr(r, f) for f in fields] for r in on_ray.runs] == [
        [getattr(r, f) for f in fields] for r in local.runs
    ]
    assert on_ray.failures == [] and on_ray.summary.format_table() == local.summary.format_table()


def test_garbage_on_ray_equals_garbage_on_local_processes(cluster, tmp_path):
    from mithridate.experiments.studies.garbage import GarbageConfig, run_garbage

    config = GarbageConfig(datasets=("wine",), kinds=("gaussian",), ks=(0, 13), models=("knn",), seeds=2)
    quiet = {"progress": False, "echo": lambda line: None}
    local = run_garbage(config, tmp_path / "local", backend=Backend(jobs=1), **quiet)
    on_ray = run_garbage(config, tmp_path / "ray", backend=Backend("ray"), **quiet)
    assert [(r.cell, r.seed, r.metrics["all/knn"]) for r in on_ray.records] == [
        (r.cell, r.seed, r.metrics["all/knn"]) for r in local.records
    ]
    assert on_ray.format_table() == local.format_table() and on_ray.failures == []
