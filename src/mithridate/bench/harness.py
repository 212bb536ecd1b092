"""The benchmark run: for each input size and thread count, every library in its own process, same inputs."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from .cases import GROUPS, build_cases
from .inputs import make_batch
from .libraries import LIBRARIES, load

__all__ = ["BenchSettings", "machine_info", "run_bench"]


@dataclass(frozen=True)
class BenchSettings:
    """What to run: `sizes` as (side, batch) pairs, thread counts, device, libraries, case groups, repetitions."""

    sizes: tuple[tuple[int, int], ...] = ((32, 1024), (224, 128))
    threads: tuple[int, ...] = (1, os.cpu_count() or 1)
    device: str = "cpu"
    libraries: tuple[str, ...] = LIBRARIES
    groups: tuple[str, ...] = GROUPS
    repeats: int = 5
    target_seconds: float = 0.25
    timeout_seconds: float = 1800.0
    cifar: str | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"device: expected cpu or cuda, got {self.device!r}")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device: cuda was asked for, but torch sees no CUDA device here")
        for side, batch in self.sizes:
            if side < 8 or batch < 1:
                raise ValueError(f"sizes: expected side >= 8 and batch >= 1, got {side}:{batch}")
        if not self.threads or min(self.threads) < 1:
            raise ValueError(f"threads: expected positive thread counts, got {self.threads}")
        unknown = [name for name in self.libraries if name not in LIBRARIES]
        if unknown:
            raise ValueError(f"libraries: expected some of {', '.join(LIBRARIES)}, got {', '.join(unknown)}")
        if "mithridate" not in self.libraries:
            raise ValueError("libraries: mithridate must be among them (every ratio is against it)")
        build_cases(self.groups)
        if self.repeats < 1 or self.target_seconds <= 0:
            raise ValueError(
                f"repeats and target_seconds: expected >= 1 and > 0, got {self.repeats}, {self.target_seconds}"
            )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(device: str) -> dict:
    """The machine the numbers come from: CPU model, cores, OS, Python, torch, GPU."""
    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "mithridate": __version__,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _run_worker(library: str, inputs: Path, cases: str, threads: int, settings: BenchSettings, out: Path) -> dict:
    env = dict(os.environ)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[variable] = str(threads)
    command = [
        sys.executable, "-m", "mithridate.bench.worker",
        "--library", library, "--inputs", str(inputs), "--cases", cases, "--threads", str(threads),
        "--device", settings.device, "--repeats", str(settings.repeats),
        "--target-seconds", str(settings.target_seconds), "--out", str(out),
    ]  # fmt: skip
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=settings.timeout_seconds)
    except subprocess.TimeoutExpired:
        return {"library": library, "error": f"timed out after {settings.timeout_seconds:.0f} s"}
    if done.returncode != 0 or not out.exists():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"library": library, "error": f"worker exited with {done.returncode}: {last}"}
    return json.loads(out.read_text())


def run_bench(settings: BenchSettings, echo: Callable[[str], None] = print) -> dict:
    """Run every setting and library; returns the whole result (machine, libraries, one table per setting)."""
    cases = build_cases(settings.groups)
    case_keys = json.dumps([case.key for case in cases])
    libraries: dict[str, dict] = {}
    for name in settings.libraries:
        module = load(name)
        reason = module.unavailable()
        if reason is None and settings.device not in module.DEVICES:
            reason = f"does not run on {settings.device}"
        libraries[name] = {"mode": module.MODE, "skipped": reason}
        if reason:
            echo(f"skipping {name}: {reason}")
    tables = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mithridate-bench-") as scratch:
        for side, batch in settings.sizes:
            images, source = make_batch(side, batch, Path(settings.cifar) if settings.cifar else None)
            inputs = Path(scratch) / f"inputs_{side}_{batch}.npy"
            np.save(inputs, images.numpy())
            for threads in settings.threads:
                table = {"size": side, "batch": batch, "threads": threads, "inputs": source, "libraries": {}}
                for name, library in libraries.items():
                    if library["skipped"]:
                        continue
                    echo(f"{side}x{side} N={batch}, {threads} thread(s): {name} ...")
                    out = Path(scratch) / f"{name}_{side}_{threads}.json"
                    result = _run_worker(name, inputs, case_keys, threads, settings, out)
                    if "error" in result:
                        if name == "mithridate":
                            raise RuntimeError(f"mithridate's benchmark process failed: {result['error']}")
                        echo(f"  {name} failed: {result['error']}")
                    library["version"] = result.get("version", library.get("version"))
                    table["libraries"][name] = result.get("results", {"error": result.get("error")})
                tables.append(table)
    return {
        "benchmark": "mithridate bench",
        "settings": {key: value for key, value in asdict(settings).items() if key != "extra"},
        "machine": machine_info(settings.device),
        "seconds": round(time.perf_counter() - started, 1),
        "libraries": libraries,
        "cases": [{"group": case.group, "name": case.name, "label": case.label} for case in cases],
        "tables": tables,
    }
