"""The grid-experiment runner and its store: results, resume, widening, crash safety (kill -9), concurrent
writers, the worker pool, the summary and the report page."""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mithridate.experiments.grid import (
    GridRecord,
    GridSpec,
    GridStore,
    StoreError,
    cell_key,
    run_grid,
    summarize_grid,
)
from mithridate.experiments.report import GridFigure, html_table, write_grid_report
from mithridate.experiments.summary import Estimate

CELLS = [{"a": a, "b": b} for a in (1, 2, 3) for b in ("x", "y")]


def compute(params: dict, cell: dict, seed: int) -> dict[str, float]:
    """Deterministic metrics of a cell and seed (module level: picklable for the worker pool)."""
    value = params["scale"] * cell["a"] + (0.5 if cell["b"] == "y" else 0.0) + 0.1 * seed
    return {"value": value, "square": value**2, "nan": math.nan}


def refuse(params: dict, cell: dict, seed: int) -> dict[str, float]:
    raise AssertionError(f"cell {cell} seed {seed} was computed again")


def rows(path: Path) -> list[tuple]:
    if not path.is_file():
        return []
    with sqlite3.connect(path) as connection:
        try:
            return connection.execute(
                "SELECT spec_hash, cell, seed, metrics_json, finished_at FROM results ORDER BY 1, 2, 3"
            ).fetchall()
        except sqlite3.OperationalError:  # being created
            return []


def test_run_stores_each_cell_seed_once_and_resumes_without_computing(tmp_path):
    spec = GridSpec("demo", {"scale": 2.0})
    store = tmp_path / "grid.sqlite"
    records = run_grid(spec, CELLS, range(3), compute, store, progress=False)
    assert len(records) == 18 == len(rows(store))
    assert [(r.cell, r.seed) for r in records] == [(c, s) for c in CELLS for s in range(3)]
    first = records[0]
    assert first.metrics["value"] == 2.0 and math.isnan(first.metrics["nan"]) and first.seconds >= 0
    assert first.versions["mithridate"] and first.started_at <= first.finished_at
    before = rows(store)
    again = run_grid(spec, CELLS, range(3), refuse, store, progress=False)  # nothing left to compute
    assert rows(store) == before
    assert [r.metrics["value"] for r in again] == [r.metrics["value"] for r in records]
    # a subset of the grid is read back, in the order asked for
    subset = run_grid(spec, CELLS[:2][::-1], [1], refuse, store, progress=False)
    assert [(r.cell, r.seed) for r in subset] == [(CELLS[1], 1), (CELLS[0], 1)]


def test_widening_the_grid_computes_only_what_is_new_and_recipes_are_kept_apart(tmp_path):
    store = tmp_path / "grid.sqlite"
    spec = GridSpec("demo", {"scale": 1.0})
    run_grid(spec, CELLS[:2], [0], compute, store, progress=False)
    seen = []

    def counting(params, cell, seed):
        seen.append((cell_key(cell), seed))
        return compute(params, cell, seed)

    records = run_grid(spec, CELLS, [0, 1], counting, store, progress=False)
    assert len(records) == 12 and len(seen) == 10
    assert (cell_key(CELLS[0]), 0) not in seen
    other = GridSpec("demo", {"scale": 3.0})
    assert other.spec_hash() != spec.spec_hash()
    assert run_grid(other, CELLS[:1], [0], compute, store, progress=False)[0].metrics["value"] == 3.0
    with GridStore(store) as grid:
        assert [s.params for s in grid.specs("demo")] == [{"scale": 1.0}, {"scale": 3.0}]
        assert len(grid.records(spec)) == 12 and len(grid.records(other)) == 1 and len(grid.records()) == 13


def test_spec_hash_is_stable_and_cells_are_canonical():
    assert GridSpec("e", {"a": 1, "b": [1, 2]}).spec_hash() == GridSpec("e", {"b": [1, 2], "a": 1}).spec_hash()
    assert GridSpec("e", {"a": 1}).spec_hash() != GridSpec("f", {"a": 1}).spec_hash()
    assert cell_key({"b": "x", "a": 1}) == cell_key({"a": 1, "b": "x"}) == '{"a":1,"b":"x"}'
    for bad in ({}, {"a": [1]}, {"a": math.nan}, {1: "x"}):
        with pytest.raises(ValueError, match="cell"):
            cell_key(bad)
    with pytest.raises(ValueError, match="JSON"):
        GridSpec("e", {"a": object()})
    with pytest.raises(ValueError, match="experiment"):
        GridSpec("", {})


def test_bad_arguments_and_bad_files_are_clear_errors(tmp_path):
    spec = GridSpec("demo", {"scale": 1.0})
    store = tmp_path / "grid.sqlite"
    with pytest.raises(ValueError, match="jobs"):
        run_grid(spec, CELLS, [0], compute, store, jobs=0, progress=False)
    with pytest.raises(ValueError, match="seeds"):
        run_grid(spec, CELLS, [0, 0], compute, store, progress=False)
    with pytest.raises(ValueError, match="no cell twice"):
        run_grid(spec, [CELLS[0], CELLS[0]], [0], compute, store, progress=False)
    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    with pytest.raises(StoreError, match="not an SQLite database"):
        GridStore(text)
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreError, match="not a mithridate grid store"):
        GridStore(foreign)
    with GridStore(store) as grid:
        record = GridRecord("demo", spec.spec_hash(), CELLS[0], 0, {"v": 1.0}, 0.1, {}, "t0", "t1")
        with pytest.raises(StoreError, match="add_spec"):
            grid.add(record)
        grid.add_spec(spec)
        assert grid.add(record) is True
        assert grid.add(record) is False  # never duplicated
        with pytest.raises(StoreError, match="metric 'v'"):
            grid.add(GridRecord("demo", spec.spec_hash(), CELLS[1], 0, {"v": "high"}, 0.1, {}, "t0", "t1"))
        assert len(grid.records(spec)) == 1


def test_pool_gives_the_same_results_as_one_process(tmp_path):
    spec = GridSpec("demo", {"scale": 1.5})
    alone = run_grid(spec, CELLS, range(2), compute, tmp_path / "one.sqlite", progress=False)
    pooled = run_grid(spec, CELLS, range(2), compute, tmp_path / "two.sqlite", jobs=2, progress=False)
    assert [(r.cell, r.seed, r.metrics["value"]) for r in pooled] == [
        (r.cell, r.seed, r.metrics["value"]) for r in alone
    ]


def test_summary_is_the_mean_and_t_interval_over_seeds(tmp_path):
    spec = GridSpec("demo", {"scale": 1.0})
    records = run_grid(spec, CELLS[:2], range(4), compute, tmp_path / "grid.sqlite", progress=False)
    summaries = summarize_grid(records)
    assert [s.cell for s in summaries] == CELLS[:2] and summaries[0].seeds == (0, 1, 2, 3)
    expected = Estimate.of([1.0, 1.1, 1.2, 1.3])
    assert summaries[0]["value"].mean == pytest.approx(expected.mean)
    assert summaries[0]["value"].half_width == pytest.approx(expected.half_width)
    assert summaries[0]["nan"].mean is None  # NaN values are left out
    assert summaries[0]["absent"].mean is None
    with pytest.raises(ValueError, match="twice"):
        summarize_grid(records + records[:1])


SCRIPT = """
import sys, time
from mithridate.experiments.grid import GridSpec, run_grid

def slow(params, cell, seed):
    time.sleep(params["sleep"])
    return {{"value": cell["i"] * 10 + seed}}

run_grid(GridSpec("slow", {{"sleep": {sleep}, "tag": sys.argv[2]}}), [{{"i": i}} for i in range({cells})], range(2),
         slow, sys.argv[1], progress=False)
"""


def _script(tmp_path: Path, sleep: float, cells: int) -> Path:
    path = tmp_path / "grid_script.py"
    path.write_text(textwrap.dedent(SCRIPT.format(sleep=sleep, cells=cells)))
    return path


def _start(script: Path, store: Path, tag: str) -> subprocess.Popen:
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, str(script), str(store), tag], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment
    )


def test_kill_minus_nine_loses_nothing_and_repeats_nothing(tmp_path):
    script, store = _script(tmp_path, 0.15, 8), tmp_path / "killed" / "grid.sqlite"
    process = _start(script, store, "a")
    deadline = time.time() + 60
    while time.time() < deadline and len(rows(store)) < 3:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    landed = rows(store)
    assert 3 <= len(landed) < 16, "the run should have been killed part-way"
    with sqlite3.connect(store) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    resumed = _start(script, store, "a")
    assert resumed.wait(timeout=60) == 0, resumed.stderr.read().decode()
    final = rows(store)
    assert len(final) == 16 and len({row[:3] for row in final}) == 16
    assert set(landed) <= set(final)  # the rows that landed are untouched (same finish time): not recomputed
    assert sorted(json.loads(row[3])["value"] for row in final) == sorted(i * 10 + s for i in range(8) for s in (0, 1))


def test_two_processes_writing_one_store_both_land(tmp_path):
    script, store = _script(tmp_path, 0.02, 6), tmp_path / "shared" / "grid.sqlite"
    first, second = _start(script, store, "first"), _start(script, store, "second")
    assert first.wait(timeout=60) == 0, first.stderr.read().decode()
    assert second.wait(timeout=60) == 0, second.stderr.read().decode()
    landed = rows(store)
    assert len(landed) == 24 and len({row[0] for row in landed}) == 2


def test_report_page_is_self_contained_with_embedded_figures(tmp_path):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 2))
    figure.add_subplot().plot([0, 1], [1, 0])
    path = write_grid_report(
        tmp_path / "out",
        title="A <title>",
        subtitle="sub",
        sections=[("Table", html_table(["a", "b"], [["1", "<2>"]]))],
        figures=[GridFigure("line.png", figure, "a line", "caption")],
        payload={"x": math.nan, "y": [1.0, math.inf]},
    )
    page = path.read_text()
    assert page.count("data:image/png;base64,") == 1 and "A &lt;title&gt;" in page and "&lt;2&gt;" in page
    assert "http://" not in page and "https://" not in page
    assert (tmp_path / "out" / "line.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == {"x": None, "y": [1.0, None]}
    assert not list((tmp_path / "out").glob(".report-*"))
