"""Random-probe selection side by side: mithridate's RandomProbeSelector, BorutaPy and SelectFromModel.

All three wrap the same base estimator (ExtraTreesClassifier, 100 trees of depth at most 7, n_jobs=2:
random forests cost about 5 times more per fit at 20,000 x 1,000 columns, too much for BorutaPy's tree
count on two cores) and run on `make_classification` data with `shuffle=False`, so the informative
columns are the first `k` and every other column is pure noise. For each size it reports the precision and
recall of the selected set against the informative set (confirmed features only for the probes), the
rounds run, wall and CPU time, and the speed ratio against BorutaPy. BorutaPy runs twice: with its default
`n_estimators='auto'` (as its users run it: about 450 trees at 500 features) and with the base
estimator's own 100 trees. BorutaPy is optional: without the `boruta` package its rows are skipped.

Usage, from the repository root (no `benchmarks/__init__.py` is needed, either form works):

    python -m benchmarks.feature_selection [--quick] [--out benchmarks/results]
    python benchmarks/feature_selection.py [--quick] [--out benchmarks/results]

Writes `feature_selection.md` and `feature_selection.json` (machine, versions, load) under `--out`; with
`--quick`, one tiny size in seconds and `feature_selection_quick.*`, a smoke test of the harness.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.feature_selection import SelectFromModel

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT / "src"))

from mithridate.tabular import RandomProbeSelector  # noqa: E402

# (rows, columns, informative columns)
FULL_SIZES = [(1_000, 50, 5), (5_000, 100, 10), (10_000, 200, 10), (20_000, 500, 20)]
QUICK_SIZES = [(300, 20, 3)]
ROUNDS = 100  # RandomProbeSelector's n_rounds and BorutaPy's max_iter: both defaults
QUICK_ROUNDS = 12
TARGET_QUALITY = 0.95
TARGET_SPEEDUP = 3.0


@dataclass
class Row:
    rows: int
    columns: int
    informative: int
    method: str
    precision: float
    recall: float
    selected: int
    tentative: int | None
    rounds: int | None
    wall_s: float
    cpu_s: float
    speedup_vs_boruta_auto: float | None = None
    speedup_vs_boruta_same_trees: float | None = None


def base_estimator(quick: bool, n_jobs: int = 2) -> ExtraTreesClassifier:
    return ExtraTreesClassifier(n_estimators=20 if quick else 100, max_depth=7, n_jobs=n_jobs, random_state=0)


def methods(quick: bool) -> dict[str, Callable[[], object]]:
    """Name -> a fresh selector. Every one wraps the same base estimator on the same two cores; the
    second probe run gives the cores to its rounds instead of to the trees (BorutaPy cannot)."""
    trees = base_estimator(quick).n_estimators
    rounds = QUICK_ROUNDS if quick else ROUNDS
    found: dict[str, Callable[[], object]] = {
        "RandomProbeSelector": lambda: RandomProbeSelector(base_estimator(quick), n_rounds=rounds, random_state=0),
        "RandomProbeSelector (2 rounds at once)": lambda: RandomProbeSelector(
            base_estimator(quick, n_jobs=1), n_rounds=rounds, n_jobs=2, random_state=0
        ),
    }
    try:
        from boruta import BorutaPy
    except ImportError:
        print("boruta is not installed: BorutaPy rows skipped (pip install Boruta==0.4.3)")
    else:
        found["BorutaPy (auto trees)"] = lambda: BorutaPy(
            base_estimator(quick), n_estimators="auto", max_iter=rounds, random_state=0
        )
        found[f"BorutaPy ({trees} trees)"] = lambda: BorutaPy(
            base_estimator(quick), n_estimators=trees, max_iter=rounds, random_state=0
        )
    found["SelectFromModel (mean)"] = lambda: SelectFromModel(base_estimator(quick))
    return found


def run_one(name: str, make: Callable[[], object], X: np.ndarray, y: np.ndarray, k: int) -> Row:
    selector = make()
    wall, cpu = time.perf_counter(), time.process_time()  # all work runs in this process (threads)
    selector.fit(X, y)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    selected = np.asarray(selector.support_ if hasattr(selector, "support_") else selector.get_support())
    truth = np.arange(X.shape[1]) < k
    hits = int((selected & truth).sum())
    weak = getattr(selector, "support_weak_", None)
    if isinstance(selector, RandomProbeSelector):
        rounds = selector.n_rounds_
    elif hasattr(selector, "importance_history_"):
        rounds = selector.importance_history_.shape[0] - 1  # BorutaPy keeps a first row of zeros
    else:
        rounds = None
    return Row(
        rows=X.shape[0],
        columns=X.shape[1],
        informative=k,
        method=name,
        precision=hits / max(int(selected.sum()), 1),
        recall=hits / k,
        selected=int(selected.sum()),
        tentative=None if weak is None else int(np.asarray(weak).sum()),
        rounds=rounds,
        wall_s=wall,
        cpu_s=cpu,
    )


def add_ratios(rows: list[Row]) -> None:
    """Speed of each RandomProbeSelector run relative to each BorutaPy run on the same data (their time / ours)."""
    by_size: dict[tuple[int, int], list[Row]] = {}
    for row in rows:
        by_size.setdefault((row.rows, row.columns), []).append(row)
    for runs in by_size.values():
        for ours in (r for r in runs if r.method.startswith("RandomProbeSelector")):
            for other in (r for r in runs if r.method.startswith("BorutaPy")):
                ratio = other.wall_s / ours.wall_s
                if "auto" in other.method:
                    ours.speedup_vs_boruta_auto = ratio
                else:
                    ours.speedup_vs_boruta_same_trees = ratio


def verdicts(rows: list[Row]) -> list[str]:
    """Per size and pair: the quality target (where BorutaPy meets it) and the speed target at equal quality."""

    def good(r: Row) -> bool:
        return r.precision >= TARGET_QUALITY and r.recall >= TARGET_QUALITY

    lines = []
    for size in sorted({(r.rows, r.columns) for r in rows}):
        runs = [r for r in rows if (r.rows, r.columns) == size]
        for ours in (r for r in runs if r.method.startswith("RandomProbeSelector")):
            for other in (r for r in runs if r.method.startswith("BorutaPy")):
                ratio = other.wall_s / ours.wall_s
                quality = ("met" if good(ours) else "NOT met") if good(other) else "n/a (BorutaPy below 0.95)"
                equal = ours.precision >= other.precision and ours.recall >= other.recall
                speed = f"{ratio:.1f}x" + (
                    f" ({'met' if ratio >= TARGET_SPEEDUP else 'NOT met'} at equal or better quality)"
                    if equal
                    else " (quality differs)"
                )
                pair = f"{size[0]:,} x {size[1]}, {ours.method} vs {other.method}"
                lines.append(f"{pair}: quality {quality}; speed {speed}")
    return lines


def machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("numpy", "scipy", "scikit-learn", "pandas", "joblib", "Boruta", "mithridate"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def markdown(rows: list[Row], info: dict[str, object]) -> str:
    def fmt(x: float | None, spec: str = ".2f") -> str:
        return "" if x is None else format(x, spec)

    out = [
        "# Feature selection: RandomProbeSelector vs BorutaPy vs SelectFromModel",
        "",
        "Written by `python -m benchmarks.feature_selection`. Data: `make_classification(n_redundant=0, "
        "n_repeated=0, shuffle=False, random_state=0)`: the first `k` columns informative, the rest noise. "
        f"Base estimator for all: `{info['estimator']}` (with `n_jobs=1` where the probe runs 2 rounds at once). "
        "Probes: confirmed features only (tentative ones "
        "are counted apart); SelectFromModel: default threshold (mean importance). Speedup: BorutaPy wall "
        "time / RandomProbeSelector wall time on the same data.",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['platform']}, Python {info['python']}; "
        f"load average before {info['load_before']}, after {info['load_after']} (a shared machine: wall "
        "times carry noise; CPU time is the work done). Versions: "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
        + ".",
        "",
        "| rows x cols (informative) | method | precision | recall | selected | tentative | rounds | wall s "
        "| CPU s | speedup vs BorutaPy auto | speedup vs BorutaPy same trees |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.rows:,} x {r.columns} ({r.informative}) | {r.method} | {r.precision:.3f} | {r.recall:.3f} "
            f"| {r.selected} | {'' if r.tentative is None else r.tentative} | {'' if r.rounds is None else r.rounds} "
            f"| {r.wall_s:.1f} | {r.cpu_s:.1f} | {fmt(r.speedup_vs_boruta_auto, '.1f')} "
            f"| {fmt(r.speedup_vs_boruta_same_trees, '.1f')} |"
        )
    out += ["", "Targets: precision and recall >= 0.95 where BorutaPy reaches them; >= 3x faster at equal quality.", ""]
    out += [f"- {line}" for line in info["verdicts"]]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one tiny size, seconds: a smoke test of the harness")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results", help="folder for .md and .json")
    args = parser.parse_args(argv)

    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    info = machine()
    params = base_estimator(args.quick).get_params()
    shown = ", ".join(f"{key}={params[key]}" for key in ("n_estimators", "max_depth", "n_jobs", "random_state"))
    info["estimator"] = f"ExtraTreesClassifier({shown})"
    info["load_before"] = load_average()
    rows: list[Row] = []
    for n, p, k in sizes:
        X, y = make_classification(
            n_samples=n, n_features=p, n_informative=k, n_redundant=0, n_repeated=0, shuffle=False, random_state=0
        )
        for name, make in methods(args.quick).items():
            row = run_one(name, make, X, y, k)
            rows.append(row)
            print(
                f"{n:>6} x {p:<4} {name:<38} precision {row.precision:.3f} recall {row.recall:.3f} "
                f"rounds {row.rounds} wall {row.wall_s:6.1f}s cpu {row.cpu_s:6.1f}s",
                flush=True,
            )
    add_ratios(rows)
    info["load_after"] = load_average()
    info["verdicts"] = verdicts(rows)
    for line in info["verdicts"]:
        print(line)

    args.out.mkdir(parents=True, exist_ok=True)
    stem = "feature_selection_quick" if args.quick else "feature_selection"
    (args.out / f"{stem}.json").write_text(json.dumps({"machine": info, "rows": [asdict(r) for r in rows]}, indent=2))
    (args.out / f"{stem}.md").write_text(markdown(rows, info))
    print(f"wrote {args.out / (stem + '.md')} and .json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
