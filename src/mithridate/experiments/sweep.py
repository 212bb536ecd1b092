"""The dose-response sweep: train a reference model at every dose and seed of a spec, store each finished
run at once, and summarise and report the curve.

A sweep is resumable and crash-safe: each finished run is one row of the SQLite store (one transaction);
re-running the same spec skips the runs already there, so an interrupted sweep loses no finished run and
repeats none. Dose-0 runs go first, because the other doses measure their affinity with the dose-0 model
of the same seed. With `jobs` > 1, runs go to that many single-threaded worker processes.
"""

from __future__ import annotations

import multiprocessing
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import torch
from tqdm import tqdm

from ..image.preview import preview_grid
from .records import RunRecord, SweepSpec
from .report import write_report, write_summary_json
from .store import ResultsStore
from .summary import Summary, summarize
from .sweep_data import corrupted_test_set, load_sweep_data, resolve_spec
from .training import RunTask, dose_policy, load_prepared, run_one, save_prepared

__all__ = ["default_out", "run_sweep", "show_sweep"]


def default_out(spec: SweepSpec) -> Path:
    """runs/<data>-<policy>-<axis>, with the data's folder name for paths."""
    data = Path(spec.data).name if spec.data != "digits" else "digits"
    name = re.sub(r"[^A-Za-z0-9_.]+", "-", f"{data}-{spec.policy}-{spec.axis}").strip("-")
    return Path("runs") / name


def _init_worker() -> None:
    torch.set_num_threads(1)


def _run_in_worker(task: RunTask) -> RunRecord:
    return run_one(task)


def _run_tasks(
    tasks: list[RunTask],
    waits_for: dict[int, set[int]],
    jobs: int,
    prepared: dict | None,
    on_start: Callable[[RunTask], None],
    on_done: Callable[[RunRecord], None],
) -> None:
    """Run tasks in order, in this process (jobs=1) or in a pool of worker processes, starting a task only
    once the tasks it waits for (by position: `waits_for[i]`) are done; report each record as it lands."""
    done: set[int] = set()
    queue = list(range(len(tasks)))

    def next_ready() -> int | None:
        for position in queue:
            if waits_for.get(position, set()) <= done:
                queue.remove(position)
                return position
        return None

    if jobs == 1:
        while (position := next_ready()) is not None:
            on_start(tasks[position])
            on_done(run_one(tasks[position], prepared))
            done.add(position)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker) as pool:
        pending: dict = {}
        while queue or pending:
            while len(pending) < jobs and (position := next_ready()) is not None:
                on_start(tasks[position])
                pending[pool.submit(_run_in_worker, tasks[position])] = position
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                position = pending.pop(future)
                on_done(future.result())
                done.add(position)


def run_sweep(
    spec: SweepSpec,
    out: Path | None = None,
    *,
    device: str = "cpu",
    jobs: int = 1,
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> Summary:
    """Run (or resume) a sweep into `out` (default `default_out(spec)`); returns its summary and writes the
    table, summary.json, report.html and the figures into `out`."""
    spec = resolve_spec(spec)
    out = Path(out) if out is not None else default_out(spec)
    if jobs < 1:
        raise ValueError(f"jobs: expected a positive number of worker processes, got {jobs}")
    out.mkdir(parents=True, exist_ok=True)
    spec_hash = spec.spec_hash()
    sweep_id = f"{out.name}-{spec_hash}"
    with ResultsStore(out / "results.sqlite") as store:
        store.add_sweep(sweep_id, spec)
        finished = store.finished(spec_hash)
        planned = [(dose, seed) for dose in spec.doses for seed in range(spec.seeds)]
        missing = [(dose, seed) for dose, seed in planned if not _is_finished(finished, dose, seed)]
        if missing:
            prepared, prepared_path = _prepare(spec, out, jobs, echo)
            tasks = [
                RunTask(spec, sweep_id, dose, seed, device, prepared_path, out / "models") for dose, seed in missing
            ]
            # Dose-0 runs first; another dose of a seed waits for that seed's dose-0 run, whose model its
            # affinity is measured with.
            zero = [dose_policy(spec, t.dose, t.seed).dose.is_zero for t in tasks]
            order = sorted(range(len(tasks)), key=lambda i: (not zero[i], tasks[i].dose, tasks[i].seed))
            tasks, zero = [tasks[i] for i in order], [zero[i] for i in order]
            zero_run = {t.seed: i for i, t in enumerate(tasks) if zero[i]}
            waits_for = {i: {zero_run[t.seed]} for i, t in enumerate(tasks) if not zero[i] and t.seed in zero_run}
            bar = tqdm(
                total=len(planned),
                initial=len(planned) - len(missing),
                disable=not progress,
                unit="run",
                desc="sweep",
                file=sys.stderr,
                dynamic_ncols=True,
            )
            running: list[str] = []

            def on_start(task: RunTask) -> None:
                running.append(task.label)
                bar.set_postfix_str(f"running {', '.join(running)}")

            def on_done(record: RunRecord) -> None:
                store.add_run(record)
                label = f"{spec.axis}={record.dose:g} seed={record.seed}"
                if label in running:
                    running.remove(label)
                bar.set_postfix_str(f"done {label}: clean {record.clean_accuracy:.1%}")
                bar.update(1)

            try:
                _run_tasks(tasks, waits_for, jobs, prepared, on_start, on_done)
            finally:
                bar.close()
        records = store.runs(spec_hash)
    summary = summarize(records, spec)
    _write_outputs(out, spec, summary, records)
    return summary


def _is_finished(finished: set[tuple[float, int]], dose: float, seed: int) -> bool:
    return any(abs(d - dose) <= 1e-9 * max(1.0, abs(dose)) and s == seed for d, s in finished)


def _prepare(spec: SweepSpec, out: Path, jobs: int, echo: Callable[[str], None]) -> tuple[dict | None, Path]:
    """Load the data and corrupt the test set once; workers read it from a memory-mapped cache file."""
    tick = time.perf_counter()
    data = load_sweep_data(spec)
    corrupted = corrupted_test_set(data, spec)
    path = out / "cache" / f"{spec.spec_hash()}.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_prepared(path, data, corrupted)
    echo(
        f"data: {len(data.train)} training and {len(data.test)} test images, {len(corrupted)} corrupted copies "
        f"of {len(data.corruption_index)} test images, ready in {time.perf_counter() - tick:.1f} s"
    )
    return (load_prepared(path) if jobs == 1 else None), path


def _write_outputs(out: Path, spec: SweepSpec, summary: Summary, records: list[RunRecord]) -> None:
    write_summary_json(out, summary)
    preview = None
    if records:
        data = load_sweep_data(spec)
        rows = torch.linspace(0, len(data.train) - 1, 4).round().long()
        preview = preview_grid(dose_policy(spec, summary.best_dose, 0), data.train.images[rows], cols=6)
    write_report(out, summary, records, preview=preview, title=f"{spec.policy} on {spec.data}")


def show_sweep(out: Path, spec_hash: str | None = None) -> list[Summary]:
    """Summaries of the sweeps stored in `out` (all spec hashes, or one), from the store alone."""
    path = Path(out) / "results.sqlite"
    if not path.is_file():
        raise FileNotFoundError(f"{out}: no results.sqlite here; expected a sweep folder written by 'mithridate sweep'")
    with ResultsStore(path) as store:
        hashes = [spec_hash] if spec_hash else sorted({sweep["spec_hash"] for sweep in store.sweeps()})
        summaries = [summarize(runs, store.spec(h)) for h in hashes if (runs := store.runs(h))]
    if not summaries:
        raise ValueError(f"{out}: the store holds no finished run yet")
    return summaries
