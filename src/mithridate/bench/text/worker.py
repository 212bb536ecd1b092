"""One library's process of the text benchmark: read the shared inputs, time every case it has, write JSON.

    python -m mithridate.bench.text.worker --library NAME --inputs DIR --cases '["string:typo", ...]' \
        --threads 1 --batch 256 --repeats 5 --target-seconds 0.2 [--targets targets.json] --out result.json

Run by the harness; each library gets a fresh process (its imports, thread pools and caches stay its own).
A case that fails is recorded with its error and the others still run. Before a case is timed, the objects
alive in the process (the imports, the inputs) are frozen out of the garbage collector (`gc.freeze`), the
same for every library: a full collection's cost grows with everything else the process holds, which is
the benchmark's baggage, not the op's; collections of what the op itself allocates still count.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import traceback
import warnings
from pathlib import Path
from typing import Any

import torch

from ..measure import measure
from .cases import TextCase
from .inputs import TextInputs, load_inputs
from .libraries import load

__all__ = ["run_library"]


def _rates(calls_per_s: float, case: TextCase, inputs: TextInputs) -> dict[str, float]:
    """Sentences, characters or tokens per second from calls per second (one call = every input once); for
    token noise also the padded positions per second (the batches' N x L, padding included)."""
    rates = {"sentences_per_s": calls_per_s * len(inputs.sentences)}
    if case.group == "string":
        rates["characters_per_s"] = calls_per_s * inputs.characters
    else:
        rates["tokens_per_s"] = calls_per_s * inputs.tokens
        rates["padded_tokens_per_s"] = calls_per_s * sum(b.input_ids.numel() for b in inputs.batches())
    return rates


def run_library(
    library: str, inputs: TextInputs, cases: list[TextCase], repeats: int, target_seconds: float, targets: dict
) -> dict:
    """Results of one library on every case: {case key: rates and what it did, or {"error": ...}}; absent = no
    counterpart."""
    module = load(library)
    results: dict[str, dict] = {}
    for case in cases:
        try:
            prepared = module.prepare(case, inputs, targets)
            if prepared is None:
                continue
            run = prepared.run
            gc.collect()
            gc.freeze()
            try:
                timing = measure(lambda count, run=run: run(), 1, per_image=False, repeats=repeats,
                                 target_seconds=target_seconds)  # fmt: skip
            finally:
                gc.unfreeze()
        except Exception as error:  # a peer failing on one case must not lose the others
            results[case.key] = {"error": f"{type(error).__name__}: {error}".splitlines()[0][:300]}
            if os.environ.get("MITHRIDATE_BENCH_DEBUG"):
                traceback.print_exc()
            continue
        result: dict[str, Any] = {"unit": case.unit}
        for suffix in ("", "min_", "max_"):
            for name, rate in _rates(timing[f"{suffix}img_per_s"], case, inputs).items():
                result[f"{suffix}{name}"] = rate
        result["calls_per_repetition"] = timing["calls_per_repetition"]
        result["repeats"] = timing["repeats"]
        result.update(prepared.info)
        if prepared.note:
            result["note"] = prepared.note
        results[case.key] = result
    return {"library": library, "version": module.version(), "mode": module.MODE, "results": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one library's text benchmark cases (used by the harness).")
    parser.add_argument("--library", required=True)
    parser.add_argument("--inputs", type=Path, required=True)
    parser.add_argument("--cases", required=True, help="a JSON list of case keys, group:name")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--target-seconds", type=float, default=0.2)
    parser.add_argument("--targets", type=Path, default=None, help="JSON: mithridate's figures the peers match")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    torch.set_num_threads(args.threads)
    inputs = load_inputs(args.inputs, args.batch)
    cases = [TextCase(*key.split(":", 1)) for key in json.loads(args.cases)]
    targets = json.loads(args.targets.read_text()) if args.targets else {}
    result = run_library(args.library, inputs, cases, args.repeats, args.target_seconds, targets)
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
