"""The grid runner: every cell at every seed that the store lacks, run on an executor, each result stored by
this process (the driver) the moment it lands.

- Resumable: a re-run asks the store what is finished and dispatches only the rest, so an interrupted run
  loses no finished run and repeats none, and widening a grid (new cells or seeds) runs only what is new.
- Dependencies: `after(cell, seed)` names the run whose artifacts this one needs (the sweep's dose-0 model,
  for affinity); a run waits until that one has landed, then gets its artifacts from the store.
- Failures: a run that raises, or whose worker dies more often than retried, is stored as a failure with its
  error and traceback and returned; the others go on.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from ..store import ExperimentStore
from ..store.records import Failure, Recipe, Record, cell_key, run_label
from .cells import Outcome, Run
from .executors import Attempt, Backend, make_executor

__all__ = ["Compute", "GridResult", "run_grid", "versions"]

Compute = Callable[[Run], Outcome | Mapping[str, float]]


def versions() -> dict[str, str]:
    """The versions of mithridate, Python and the main libraries in this process."""
    from importlib import metadata

    from ... import __version__

    found = {"mithridate": __version__, "python": platform.python_version()}
    for package in ("numpy", "scikit-learn", "torch"):
        with suppress(metadata.PackageNotFoundError):
            found[package] = metadata.version(package)
    return found


@dataclass(frozen=True)
class GridResult:
    """The stored records of the grid's cells and seeds (in cell order, then seed order) and the runs of the
    grid that failed and have no result (latest failure each)."""

    records: list[Record]
    failures: list[Failure]


def run_grid(
    recipe: Recipe,
    cells: Sequence[Mapping[str, Any]],
    seeds: Sequence[int],
    compute: Compute,
    store: str | os.PathLike[str],
    *,
    backend: Backend | None = None,
    prepare: Callable[[], Any] | None = None,
    after: Callable[[dict[str, Any], int], tuple[dict[str, Any], int] | None] | None = None,
    progress: bool = True,
    desc: str | None = None,
    describe: Callable[[Record], str] | None = None,
) -> GridResult:
    """Run every (cell, seed) of the grid that `store` (an ExperimentStore file path) lacks with `compute`,
    storing each result as it lands; return the stored records and the failures of the grid.

    Runs start in the order given (cells, then seeds; put slow cells first for the best use of workers),
    except that a run waits for the run `after` names. `prepare()` is called once, only if there is work,
    and what it returns reaches every run as `run.shared`. `describe(record)` adds to the progress bar.
    """
    backend = backend or Backend()
    seeds = [_seed(seed) for seed in seeds]
    if not seeds or any(seed < 0 for seed in seeds) or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds: expected distinct non-negative integers, got {seeds}")
    cells = [dict(cell) for cell in cells]
    keys = [cell_key(cell) for cell in cells]
    if not cells or len(set(keys)) != len(keys):
        raise ValueError("cells: expected at least one cell and no cell twice")
    planned = [(cell, seed) for cell in cells for seed in seeds]
    with ExperimentStore(store) as grid:
        grid.add_recipe(recipe)
        done = grid.finished(recipe)
        todo = [(cell, seed) for cell, seed in planned if (cell_key(cell), seed) not in done]
        if todo:
            _dispatch(grid, recipe, todo, compute, backend, prepare, after, progress, desc, describe, len(planned))
        wanted = {(key, seed): (position, seed) for position, key in enumerate(keys) for seed in seeds}
        records = sorted(
            (record for record in grid.records(recipe) if record.key in wanted), key=lambda r: wanted[r.key]
        )
        failures = [failure for failure in grid.failures(recipe) if failure.key in wanted]
    return GridResult(records, sorted(failures, key=lambda f: wanted[f.key]))


def _seed(seed: Any) -> int:
    import operator

    try:
        return operator.index(seed)
    except TypeError:
        raise ValueError(f"seeds: expected integers, got {seed!r}") from None


def _dispatch(grid, recipe, todo, compute, backend, prepare, after, progress, desc, describe, total) -> None:
    from tqdm import tqdm

    spec_hash = recipe.spec_hash()
    todo_keys = {(cell_key(cell), seed) for cell, seed in todo}
    waits_for: dict[tuple[str, int], tuple[dict[str, Any], int]] = {}
    if after is not None:
        for cell, seed in todo:
            dependency = after(dict(cell), seed)
            if dependency is not None and (cell_key(dependency[0]), dependency[1]) in todo_keys:
                waits_for[(cell_key(cell), seed)] = dependency
    # Runs others wait for go first; otherwise the order given.
    needed = {(cell_key(c), s) for c, s in waits_for.values()}
    queue = sorted(todo, key=lambda run: (cell_key(run[0]), run[1]) not in needed)
    unsettled = set(todo_keys)  # neither stored nor failed yet
    versions_here = versions()
    bar = tqdm(
        total=total,
        initial=total - len(todo),
        disable=not progress,
        unit="run",
        desc=desc or recipe.experiment,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    executor = make_executor(backend)
    running: dict[tuple[str, int], str] = {}
    try:
        executor.share(prepare() if prepare is not None else None)
        while queue or running:
            while len(running) < executor.capacity:
                position = next(
                    (
                        i
                        for i, (cell, seed) in enumerate(queue)
                        if (key := waits_for.get((cell_key(cell), seed))) is None
                        or (cell_key(key[0]), key[1]) not in unsettled
                    ),
                    None,
                )
                if position is None:
                    break
                cell, seed = queue.pop(position)
                dependency = after(dict(cell), seed) if after is not None else None
                inputs = grid.artifacts(recipe, *dependency) if dependency is not None else {}
                key = (cell_key(cell), seed)
                running[key] = run_label(cell, seed)
                bar.set_postfix_str(f"running {', '.join(running.values())}")
                executor.submit((cell, seed), compute, Run(dict(recipe.params), dict(cell), seed, None, inputs))
            landed = executor.wait()
            if not landed and not running:
                break
            for (cell, seed), result in landed:
                key = (cell_key(cell), seed)
                label = running.pop(key, run_label(cell, seed))
                unsettled.discard(key)
                _store(grid, recipe, spec_hash, cell, seed, result, versions_here)
                if result.ok:
                    extra = f": {describe(grid_record(recipe, cell, seed, result, versions_here))}" if describe else ""
                    bar.set_postfix_str(f"done {label} ({result.seconds:.1f} s){extra}")
                else:
                    bar.write(f"{recipe.experiment}: {label} failed: {result.error}", file=sys.stderr)
                bar.update(1)
    finally:
        executor.close()
        bar.close()


def grid_record(recipe: Recipe, cell: dict[str, Any], seed: int, result: Attempt, found: dict[str, str]) -> Record:
    """The record of a successful attempt."""
    assert result.outcome is not None
    return Record(
        recipe.experiment,
        recipe.spec_hash(),
        dict(cell),
        seed,
        dict(result.outcome.metrics),
        result.seconds,
        found,
        result.started_at,
        result.finished_at,
        dict(result.outcome.info),
        result.host,
    )


def _store(grid, recipe, spec_hash, cell, seed, result: Attempt, found: dict[str, str]) -> None:
    if result.ok:
        grid.add(grid_record(recipe, cell, seed, result, found), result.outcome.artifacts)
    else:
        grid.add_failure(
            Failure(recipe.experiment, spec_hash, dict(cell), seed, result.error, result.traceback, result.host, "")
        )
