"""Where runs execute: in this process, in local worker processes, or as Ray tasks on a cluster.

Every executor runs `attempt` (one run, its exception caught and returned as a failed `Attempt`) and hands
finished attempts back to the driver, which alone writes the store: workers need no shared file system.
The experiment's shared data (its prepared data set) travels once per executor: as the object itself in
this process, as a memory-mapped torch file for local workers, through Ray's object store on a cluster.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from .cells import Outcome, Run

__all__ = [
    "Attempt",
    "Backend",
    "Executor",
    "LocalExecutor",
    "RayExecutor",
    "SharedFile",
    "attempt",
    "make_executor",
]

BACKENDS = ("local", "ray")
RAY_EXTRA = "pip install 'mithridate[ray]'"


@dataclass(frozen=True)
class Backend:
    """How runs execute: `local` (`jobs` worker processes; 1 runs them in this process) or `ray` (Ray tasks
    on the cluster at `address`, `auto` for a running one, None to start a local one; each task asks for
    `cpus` CPUs and `gpus` GPUs, a task whose worker dies is retried `max_retries` times, and at most
    `max_in_flight` tasks are submitted at once, default twice the cluster's slots)."""

    kind: str = "local"
    jobs: int = 1
    address: str | None = None
    cpus: float = 1.0
    gpus: float = 0.0
    max_retries: int = 3
    max_in_flight: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in BACKENDS:
            raise ValueError(f"backend: expected one of {', '.join(BACKENDS)}, got {self.kind!r}")
        if isinstance(self.jobs, bool) or not isinstance(self.jobs, int) or self.jobs < 1:
            raise ValueError(f"jobs: expected a positive number of worker processes, got {self.jobs!r}")
        if self.address is not None and self.kind != "ray":
            raise ValueError(f"address: a Ray cluster address is for the ray backend, not {self.kind!r}")
        if not self.cpus > 0 or self.gpus < 0:
            raise ValueError(f"cpus, gpus: expected cpus > 0 and gpus >= 0 per run, got {self.cpus}, {self.gpus}")
        if self.max_retries < 0 or (self.max_in_flight is not None and self.max_in_flight < 1):
            raise ValueError("max_retries must be >= 0 and max_in_flight >= 1")


@dataclass(frozen=True)
class SharedFile:
    """Shared data saved as a torch file; each worker process loads it once, memory-mapped."""

    path: str


@dataclass(frozen=True)
class Attempt:
    """One executed run: its outcome, or the error that stopped it; timings and the host it ran on."""

    outcome: Outcome | None
    seconds: float
    started_at: str
    finished_at: str
    host: str
    error: str = ""
    traceback: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is not None


_LOADED: dict[str, Any] = {}


def _load_shared(shared: Any) -> Any:
    if not isinstance(shared, SharedFile):
        return shared
    if shared.path not in _LOADED:
        import torch

        _LOADED.clear()  # one experiment's data at a time per worker
        _LOADED[shared.path] = torch.load(shared.path, mmap=True, weights_only=True)
    return _LOADED[shared.path]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def attempt(
    compute: Callable[[Run], Outcome | Mapping[str, float]],
    params: dict[str, Any],
    cell: dict[str, Any],
    seed: int,
    shared: Any,
    inputs: dict[str, bytes],
    threads: int | None = None,
) -> Attempt:
    """Run `compute` once; an exception becomes a failed Attempt with its traceback (never raised)."""
    if threads is not None:
        _limit_threads(threads)
    host = socket.gethostname()
    started, tick = _now(), time.perf_counter()
    try:
        result = compute(Run(dict(params), dict(cell), seed, _load_shared(shared), dict(inputs)))
        outcome = result if isinstance(result, Outcome) else Outcome(dict(result))
    except Exception as error:  # recorded as a failure by the driver, never dropped
        return Attempt(
            None,
            time.perf_counter() - tick,
            started,
            _now(),
            host,
            f"{type(error).__name__}: {error}",
            traceback.format_exc(),
        )
    return Attempt(outcome, time.perf_counter() - tick, started, _now(), host)


def _limit_threads(threads: int) -> None:
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)


def _init_worker() -> None:
    _limit_threads(1)


class Executor(Protocol):
    """Runs attempts and hands them back as they finish. `capacity` is how many runs to keep submitted."""

    capacity: int

    def share(self, shared: Any) -> None: ...

    def submit(self, key: Any, compute: Callable, run: Run) -> None: ...

    def wait(self) -> list[tuple[Any, Attempt]]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """`jobs` = 1: each run in this process, at submit. More: a pool of spawned worker processes, one thread
    each (torch, OpenMP and BLAS), so that workers do not oversubscribe the cores."""

    def __init__(self, jobs: int = 1) -> None:
        self.capacity = jobs
        self._jobs = jobs
        self._shared: Any = None
        self._done: list[tuple[Any, Attempt]] = []
        self._pool: ProcessPoolExecutor | None = None
        self._pending: dict[Future, Any] = {}
        self._folder: tempfile.TemporaryDirectory | None = None

    def share(self, shared: Any) -> None:
        if self._jobs == 1 or shared is None:
            self._shared = shared
            return
        import torch

        self._folder = tempfile.TemporaryDirectory(prefix="mithridate-shared-")
        path = Path(self._folder.name) / "shared.pt"
        torch.save(shared, path)
        self._shared = SharedFile(str(path))

    def submit(self, key: Any, compute: Callable, run: Run) -> None:
        if self._jobs == 1:
            self._done.append((key, attempt(compute, run.params, run.cell, run.seed, self._shared, run.inputs)))
            return
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self._jobs, mp_context=context, initializer=_init_worker)
        future = self._pool.submit(attempt, compute, run.params, run.cell, run.seed, self._shared, run.inputs)
        self._pending[future] = key

    def wait(self) -> list[tuple[Any, Attempt]]:
        if self._done:
            done, self._done = self._done, []
            return done
        if not self._pending:
            return []
        finished, _ = wait(self._pending, return_when=FIRST_COMPLETED)
        return [(self._pending.pop(future), future.result()) for future in finished]

    def close(self) -> None:
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None


class RayExecutor:
    """Runs as Ray tasks (`@ray.remote(num_cpus=..., num_gpus=..., max_retries=...)`), collected with
    `ray.wait` in completion order. Connects to the cluster at `address` (or uses the Ray this process
    already initialised; without either, starts a local one). A task whose worker dies is retried by Ray; one
    that dies more often than that comes back as a failed attempt."""

    def __init__(self, backend: Backend) -> None:
        try:
            import ray
        except ImportError:
            raise ImportError(f"the ray backend needs Ray: {RAY_EXTRA}") from None
        self._ray = ray
        self._owns = False
        if not ray.is_initialized():
            ray.init(address=backend.address, include_dashboard=False, log_to_driver=False)
            self._owns = True
        threads = max(1, int(backend.cpus))
        options: dict[str, Any] = {"num_cpus": backend.cpus, "max_retries": backend.max_retries}
        if backend.gpus:
            options["num_gpus"] = backend.gpus
        self._remote = ray.remote(**options)(attempt)
        self._threads = threads
        slots = int(ray.cluster_resources().get("CPU", 1) // backend.cpus)
        if backend.gpus:
            slots = min(slots, int(ray.cluster_resources().get("GPU", 0) // backend.gpus))
        self.capacity = backend.max_in_flight or max(1, 2 * slots)
        self._shared: Any = None
        self._pending: dict[Any, Any] = {}

    def share(self, shared: Any) -> None:
        self._shared = None if shared is None else self._ray.put(shared)

    def submit(self, key: Any, compute: Callable, run: Run) -> None:
        ref = self._remote.remote(compute, run.params, run.cell, run.seed, self._shared, run.inputs, self._threads)
        self._pending[ref] = key

    def wait(self) -> list[tuple[Any, Attempt]]:
        if not self._pending:
            return []
        ready, _ = self._ray.wait(list(self._pending), num_returns=1)
        done = []
        for ref in ready:
            key = self._pending.pop(ref)
            try:
                result = self._ray.get(ref)
            except Exception as error:  # the worker died more often than max_retries, or Ray failed it
                now = _now()
                result = Attempt(None, 0.0, now, now, "", f"{type(error).__name__}: {error}", traceback.format_exc())
            done.append((key, result))
        return done

    def close(self) -> None:
        for ref in self._pending:
            self._ray.cancel(ref, force=True)
        self._pending.clear()
        self._shared = None
        if self._owns:
            self._ray.shutdown()


def make_executor(backend: Backend) -> LocalExecutor | RayExecutor:
    """The executor for `backend` (Ray is imported only here, and only for the ray backend)."""
    return RayExecutor(backend) if backend.kind == "ray" else LocalExecutor(backend.jobs)
