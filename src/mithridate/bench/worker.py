"""One library's process: load the shared batch, run every case the library has, write the results as JSON.

    python -m mithridate.bench.worker --library NAME --inputs batch.npy --cases policy:AugMix,... \
        --threads 1 --device cpu --repeats 5 --target-seconds 0.25 --out result.json

Run by the harness; each library gets a fresh process so that its imports, thread pools and caches do not
touch the others'. A case that fails is recorded with its error and the others still run.
"""

from __future__ import annotations

import argparse
import json
import os
import traceback
import warnings
from pathlib import Path

import numpy as np
import torch

from .cases import Case
from .libraries import load
from .measure import measure


def _set_threads(threads: int) -> None:
    torch.set_num_threads(threads)
    try:
        import cv2
    except ImportError:
        return
    cv2.setNumThreads(threads)


def run_library(
    library: str, images: torch.Tensor, cases: list[Case], device: torch.device, repeats: int, target_seconds: float
) -> dict:
    """Results of one library on every case: {case key: measurement, or {"error": ...}}; absent = no equivalent."""
    module = load(library)
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    images = images.to(device)
    results: dict[str, dict] = {}
    for case in cases:
        try:
            runner = module.prepare(case, images, device)
            if runner is None:
                continue
            result = measure(
                runner,
                images.shape[0],
                per_image=module.MODE == "per image",
                repeats=repeats,
                target_seconds=target_seconds,
                min_calls=getattr(module, "min_calls", lambda case: 1)(case),
                synchronize=synchronize,
            )
        except Exception as error:  # a peer failing on one case must not lose the others
            results[case.key] = {"error": f"{type(error).__name__}: {error}".splitlines()[0][:300]}
            if os.environ.get("MITHRIDATE_BENCH_DEBUG"):
                traceback.print_exc()
            continue
        note = module.note(case)
        if note:
            result["note"] = note
        results[case.key] = result
    return {"library": library, "version": module.version(), "mode": module.MODE, "results": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one library's benchmark cases (used by the harness).")
    parser.add_argument("--library", required=True)
    parser.add_argument("--inputs", type=Path, required=True)
    parser.add_argument("--cases", required=True, help="a JSON list of case keys, group:name")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--target-seconds", type=float, default=0.25)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    _set_threads(args.threads)
    images = torch.from_numpy(np.load(args.inputs))
    cases = [Case(*key.split(":", 1)) for key in json.loads(args.cases)]
    result = run_library(args.library, images, cases, torch.device(args.device), args.repeats, args.target_seconds)
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
