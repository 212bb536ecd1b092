"""The dose-response sweep on the engine: one cell per dose (and per seed series of `--vary`), one run per
cell and seed, trained by the spec's task (`tasks.task_for`), each finished run one row of the folder's
store (`store.sqlite`), then the summary, table and report.

A run's randomness comes from named sources, each seeded apart (`records.source_seeds`): the weights'
initialisation, the batch order, the augmentation's draws and the data's draws. A run at dose d waits for
the dose-0 run of its seed series and seed, whose model (stored with that run) measures its affinity; so
affinity needs no shared file system, on local processes or on Ray.
"""

from __future__ import annotations

import dataclasses
import io
import re
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..engine import Backend, Outcome, Recipe, Record, Run, run_grid
from ..records import RUN_METRICS, VARY_ALL, RunRecord, SweepSpec, source_seeds
from ..store import STORE_FILE, ExperimentStore, folder_store
from ..store.records import Failure
from ..summary import Summary, summarize
from ..tasks import task_for
from ..variance import spread_by_source

__all__ = ["EXPERIMENT", "SweepResult", "SweepRun", "default_out", "run_record", "run_sweep", "show_sweep"]

EXPERIMENT = "sweep"
MODEL_ARTIFACT = "dose0_model"


def default_out(spec: SweepSpec) -> Path:
    """runs/<data>-<policy>-<axis>, with the data's folder name for paths."""
    data = Path(spec.data).name if spec.data != "digits" else "digits"
    name = re.sub(r"[^A-Za-z0-9_.]+", "-", f"{data}-{spec.policy}-{spec.axis}").strip("-")
    return Path("runs") / name


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep, as the engine calls it (picklable: it travels to worker processes and Ray)."""

    device: str = "cpu"

    def __call__(self, run: Run) -> Outcome:
        spec = SweepSpec.from_recipe(run.params)
        task, device, shared = task_for(spec), torch.device(self.device), run.shared
        dose = float(run.cell["dose"])
        seeds = source_seeds(run.cell.get("vary", VARY_ALL), run.seed)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        torch.manual_seed(seeds["init"])
        model = task.build_model(spec, shared, device)
        policy = task.policy(spec, dose, seeds["augment"])
        active = None if policy.dose.is_zero else policy
        inputs, labels, facts = task.training_set(spec, shared, dose, seeds["data"])
        trainer = task.trainer(model, inputs, labels, spec, seeds["order"], device)
        for epoch in range(spec.epochs):
            trainer.train_epoch(active, epoch)
        stats = trainer.stats

        tick = time.perf_counter()
        metrics = task.evaluate(model, shared, device)
        per_corruption = [value for name, value in metrics.items() if name.startswith("corruption/")]
        artifacts: dict[str, bytes] = {}
        affinity: float | None = None
        if spec.axis != "synthetic-ratio":  # there the dose is the data; affinity measures a policy's dose
            if active is None:
                affinity, artifacts[MODEL_ARTIFACT] = 1.0, _state_bytes(model)
            elif MODEL_ARTIFACT in run.inputs:
                reference = task.build_model(spec, shared, device)
                reference.load_state_dict(torch.load(io.BytesIO(run.inputs[MODEL_ARTIFACT]), map_location=device))
                affinity = task.affinity(reference, policy, shared, device)
        eval_seconds = time.perf_counter() - tick
        metrics.update(
            corrupted_accuracy=sum(per_corruption) / max(len(per_corruption), 1),
            affinity=float("nan") if affinity is None else affinity,
            final_train_loss=stats.final_loss,
            train_seconds=stats.seconds,
            eval_seconds=eval_seconds,
            augment_images_per_second=stats.images_augmented / stats.augment_seconds if stats.augment_seconds else 0.0,
            peak_memory_mb=_peak_memory_mb(device),
        )
        info = {"device": self.device, "epochs": spec.epochs, "train_images": len(inputs), **facts}
        return Outcome(metrics, info, artifacts)


def _state_bytes(model: torch.nn.Module) -> bytes:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()


def run_record(record: Record, spec: SweepSpec, sweep_id: str = "") -> RunRecord:
    """The sweep's view of a stored run (what the summary and the report read)."""
    metrics = record.metrics
    affinity = metrics.get("affinity", float("nan"))
    return RunRecord(
        sweep_id=sweep_id,
        spec_hash=record.spec_hash,
        data=spec.data,
        policy=spec.policy,
        axis=spec.axis,
        dose=float(record.cell["dose"]),
        seed=record.seed,
        clean_accuracy=metrics.get("clean_accuracy", float("nan")),
        corrupted_accuracy=metrics.get("corrupted_accuracy", float("nan")),
        corruption_accuracy={
            name.removeprefix("corruption/"): value for name, value in metrics.items() if name.startswith("corruption/")
        },
        affinity=None if affinity != affinity else affinity,
        final_train_loss=metrics.get("final_train_loss", float("nan")),
        train_seconds=metrics.get("train_seconds", float("nan")),
        eval_seconds=metrics.get("eval_seconds", float("nan")),
        augment_images_per_second=metrics.get("augment_images_per_second", float("nan")),
        peak_memory_mb=metrics.get("peak_memory_mb", float("nan")),
        versions=dict(record.versions),
        started_at=record.started_at,
        finished_at=record.finished_at,
        extra=dict(record.info),
        vary=record.cell.get("vary", VARY_ALL),
        measures={
            name: value
            for name, value in metrics.items()
            if name not in RUN_METRICS and not name.startswith("corruption/") and isinstance(value, (int, float))
        },
    )


@dataclass(frozen=True)
class SweepResult:
    """A sweep's summary (of its headline series), every stored run of its grid, and its failed runs."""

    summary: Summary
    runs: list[RunRecord]
    failures: list[Failure]


def run_sweep(
    spec: SweepSpec,
    out: Path | None = None,
    *,
    device: str = "cpu",
    jobs: int = 1,
    backend: Backend | None = None,
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> SweepResult:
    """Run (or resume) a sweep into `out` (default `default_out(spec)`) on `backend` (default: `jobs` local
    processes); returns its result and writes the table, summary.json, report.html and the figures."""
    task = task_for(spec)
    spec = task.resolve(spec)
    out = Path(out) if out is not None else default_out(spec)
    backend = backend or Backend(jobs=jobs)
    out.mkdir(parents=True, exist_ok=True)
    if not (out / STORE_FILE).exists():
        with suppress(FileNotFoundError):  # a store of an older version here: StoreError, convert it first
            folder_store(out, "sweep")
    recipe = Recipe(EXPERIMENT, spec.recipe_params())
    zero = {float(d) for d in spec.doses if task.policy(spec, float(d), 0).dose.is_zero}

    def after(cell: dict[str, Any], seed: int) -> tuple[dict[str, Any], int] | None:
        if spec.axis == "synthetic-ratio" or float(cell["dose"]) in zero or not zero:
            return None
        return {**cell, "dose": min(zero)}, seed

    def prepare() -> dict[str, Any]:
        tick = time.perf_counter()
        shared = task.prepare(spec)
        echo(f"data: {task.describe(shared)}, ready in {time.perf_counter() - tick:.1f} s")
        return shared

    def describe(record: Record) -> str:
        return f"clean {record.metrics.get('clean_accuracy', float('nan')):.1%}"

    # Dose-0 cells first: the other doses of a seed wait for its dose-0 model.
    cells = sorted(spec.cells(), key=lambda cell: float(cell["dose"]) not in zero)
    result = run_grid(
        recipe,
        cells,
        range(spec.seeds),
        SweepRun(device),
        out / STORE_FILE,
        backend=backend,
        prepare=prepare,
        after=after,
        progress=progress,
        desc="sweep",
        describe=describe,
    )
    sweep_id = f"{out.name}-{recipe.spec_hash()}"
    runs = sorted((run_record(r, spec, sweep_id) for r in result.records), key=_order(spec))
    summary = summarize([run for run in runs if run.vary == spec.vary[0]], spec)
    summary = dataclasses.replace(summary, spread=tuple(spread_by_source(runs, spec)))
    _write_outputs(out, spec, summary, runs, result.failures)
    return SweepResult(summary, runs, result.failures)


def _order(spec: SweepSpec) -> Callable[[RunRecord], tuple]:
    return lambda run: (spec.vary.index(run.vary) if run.vary in spec.vary else len(spec.vary), run.dose, run.seed)


def _write_outputs(
    out: Path, spec: SweepSpec, summary: Summary, runs: list[RunRecord], failures: list[Failure]
) -> None:
    from ...image.preview import preview_grid
    from ..report import write_report, write_summary_json
    from ..tasks.image.data import load_sweep_data

    write_summary_json(out, summary)
    preview = None
    if runs and task_for(spec).name == "image":  # a preview grid of images; none for text
        data = load_sweep_data(spec)
        rows = torch.linspace(0, len(data.train) - 1, 4).round().long()
        policy = task_for(spec).policy(spec, summary.best_dose, 0)
        preview = preview_grid(policy, data.train.images[rows], cols=6)
    headline = [run for run in runs if run.vary == spec.vary[0]]
    write_report(out, summary, headline, preview=preview, title=f"{spec.policy} on {spec.data}")


def show_sweep(out: Path, spec_hash: str | None = None) -> list[Summary]:
    """Summaries of the sweeps stored in `out` (every recipe, or one spec hash), from the store alone."""
    path = folder_store(out, "sweep")
    with ExperimentStore(path) as store:
        recipes = [r for r in store.recipes(EXPERIMENT) if spec_hash in (None, r.spec_hash())]
        summaries = []
        for recipe in recipes:
            records = store.records(recipe)
            if not records:
                continue
            series = list(dict.fromkeys(r.cell.get("vary", VARY_ALL) for r in records))
            headline = VARY_ALL if VARY_ALL in series else series[0]
            spec = SweepSpec.from_recipe(
                recipe.params,
                doses=sorted({float(r.cell["dose"]) for r in records}),
                seeds=max(r.seed for r in records) + 1,
                vary=[headline, *(s for s in series if s != headline)],
            )
            runs = sorted((run_record(r, spec) for r in records), key=_order(spec))
            summary = summarize([run for run in runs if run.vary == headline], spec)
            summaries.append(dataclasses.replace(summary, spread=tuple(spread_by_source(runs, spec))))
    if not summaries:
        raise ValueError(f"{out}: the store holds no finished sweep run yet")
    return summaries
