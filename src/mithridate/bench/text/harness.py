"""The text benchmark's run: the inputs written once, then for each thread count every library in its own
process on them, mithridate first (the peers match their rates to its measured edits)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ..harness import machine_info
from .cases import TEXT_GROUPS, build_text_cases
from .inputs import load_sentences, write_inputs
from .libraries import TEXT_LIBRARIES, load, package_version

__all__ = ["TextBenchSettings", "run_text_bench", "text_machine_info"]


@dataclass(frozen=True)
class TextBenchSettings:
    """What to run: the sentences (`data`: a TSV file or None for the default, `n` of them), the token batch
    size, thread counts, libraries, case groups, repetitions and their length."""

    data: str | None = None
    n: int = 2000
    batch: int = 256
    threads: tuple[int, ...] = (1,)
    libraries: tuple[str, ...] = TEXT_LIBRARIES
    groups: tuple[str, ...] = TEXT_GROUPS
    repeats: int = 5
    target_seconds: float = 0.2
    timeout_seconds: float = 1800.0

    def __post_init__(self) -> None:
        if self.n < 1 or self.batch < 1:
            raise ValueError(f"n and batch: expected positive numbers of sentences, got {self.n}, {self.batch}")
        if not self.threads or min(self.threads) < 1:
            raise ValueError(f"threads: expected positive thread counts, got {self.threads}")
        unknown = [name for name in self.libraries if name not in TEXT_LIBRARIES]
        if unknown:
            raise ValueError(f"libraries: expected some of {', '.join(TEXT_LIBRARIES)}, got {', '.join(unknown)}")
        if "mithridate" not in self.libraries:
            raise ValueError("libraries: mithridate must be among them (every ratio is against it)")
        build_text_cases(self.groups)
        if self.repeats < 1 or self.target_seconds <= 0:
            raise ValueError(
                f"repeats and target_seconds: expected >= 1 and > 0, got {self.repeats}, {self.target_seconds}"
            )


def _lscpu_model() -> str | None:
    """`lscpu`'s model name, or None where lscpu is missing or says nothing."""
    if shutil.which("lscpu") is None:
        return None
    try:
        done = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10, env={**os.environ, "LC_ALL": "C"})
    except (OSError, subprocess.SubprocessError):
        return None
    for line in done.stdout.splitlines():
        if line.strip().lower().startswith("model name"):
            return line.split(":", 1)[1].strip() or None
    return None


def text_machine_info() -> dict:
    """The machine: lscpu's model name, cores, OS, Python, torch, and the text libraries' versions."""
    info = machine_info("cpu")
    info["cpu"] = _lscpu_model() or info["cpu"]
    for name in ("nlpaug", "transformers", "tokenizers"):
        info[name] = package_version(name)
    return info


def _run_worker(library: str, folder: Path, cases: str, threads: int, settings: TextBenchSettings,
                targets: Path | None, out: Path) -> dict:  # fmt: skip
    env = dict(os.environ, TOKENIZERS_PARALLELISM="false", RAYON_NUM_THREADS=str(threads))
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[variable] = str(threads)
    command = [
        sys.executable, "-m", "mithridate.bench.text.worker",
        "--library", library, "--inputs", str(folder), "--cases", cases, "--threads", str(threads),
        "--batch", str(settings.batch), "--repeats", str(settings.repeats),
        "--target-seconds", str(settings.target_seconds), "--out", str(out),
    ]  # fmt: skip
    if targets is not None:
        command += ["--targets", str(targets)]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=settings.timeout_seconds)
    except subprocess.TimeoutExpired:
        return {"library": library, "error": f"timed out after {settings.timeout_seconds:.0f} s"}
    if done.returncode != 0 or not out.exists():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"library": library, "error": f"worker exited with {done.returncode}: {last}"}
    return json.loads(out.read_text())


def run_text_bench(settings: TextBenchSettings, echo: Callable[[str], None] = print) -> dict:
    """Run every thread count and library; returns the whole result (machine, inputs, libraries, tables)."""
    cases = build_text_cases(settings.groups)
    case_keys = json.dumps([case.key for case in cases])
    libraries: dict[str, dict] = {}
    for name in settings.libraries:
        module = load(name)
        reason = module.unavailable()
        libraries[name] = {"mode": module.MODE, "skipped": reason}
        if reason:
            echo(f"skipping {name}: {reason}")
    sentences, source = load_sentences(Path(settings.data) if settings.data else None, settings.n)
    if source.startswith("built-in"):
        echo(f"inputs: {source}")
    tables = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mithridate-bench-text-") as scratch:
        folder = Path(scratch) / "inputs"
        inputs = write_inputs(folder, sentences, source)
        inputs["batch"] = settings.batch
        inputs["batches"] = -(-len(sentences) // settings.batch)
        for threads in settings.threads:
            table: dict = {"threads": threads, "libraries": {}}
            targets: Path | None = None
            for name, library in libraries.items():
                if library["skipped"]:
                    continue
                echo(f"text, N={len(sentences)}, {threads} thread(s): {name} ...")
                out = Path(scratch) / f"{name}_{threads}.json"
                result = _run_worker(name, folder, case_keys, threads, settings, targets, out)
                if "error" in result:
                    if name == "mithridate":
                        raise RuntimeError(f"mithridate's benchmark process failed: {result['error']}")
                    echo(f"  {name} failed: {result['error']}")
                library["version"] = result.get("version", library.get("version"))
                table["libraries"][name] = result.get("results", {"error": result.get("error")})
                if name == "mithridate":
                    measured = {key: entry["edits_per_sentence"] for key, entry in result["results"].items()
                                if "edits_per_sentence" in entry}  # fmt: skip
                    targets = Path(scratch) / f"targets_{threads}.json"
                    targets.write_text(json.dumps(measured))
            tables.append(table)
    return {
        "benchmark": "mithridate bench --modality text",
        "settings": asdict(settings),
        "method": "one process per library; median of the repetitions; gc.freeze() before each case is timed",
        "machine": text_machine_info(),
        "inputs": inputs,
        "seconds": round(time.perf_counter() - started, 1),
        "libraries": libraries,
        "cases": [{"group": c.group, "name": c.name, "label": c.label, "unit": c.unit} for c in cases],
        "tables": tables,
    }
