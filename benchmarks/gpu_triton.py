"""GPU check of the fused Triton path, one prepared script: agreement with the CPU, syncs, speed.

    PYTHONPATH=src python3 benchmarks/gpu_triton.py --json benchmarks/results/gpu_triton.json

Draws and policies take the Triton path on CUDA by default (MITHRIDATE_TRITON=0 turns it off).

1. Draws: `rng.Key` words and uniforms on the GPU (one Triton launch each) against the CPU's.
2. Grids: the plan's sampling-grid rows (`gpu_kernels.plan_grids`, float64 trigonometry from libdevice) against the
   torch path's on the CPU (numpy's libm): share of identical float32 values, largest difference.
3. Images: every op (both interpolations, a fill) and every policy through `backend="triton"` on the GPU,
   against `backend="torch"` on the same GPU and the compiled CPU path: share of identical values and the
   largest difference (uint8 levels); every policy on float32 images against the torch path on the CPU.
   In Triton's interpreter the fused path gives the CPU bytes (float32: within a few ulps); compiled
   without fp fusion it should on the GPU too, while the torch CUDA kernels may differ at rounding ties.
4. Host synchronisations of one whole TrivialAugmentWide call (draws and apply) on each path (torch's sync
   debug mode), and the CUDA kernels it launches (torch profiler).
5. Per-sample TrivialAugmentWide images/s at 32x32 (N = 1,024 / 16,384 / 131,072) and 224x224 (N = 128):
   triton (uint8 and float32), torch, and kornia's one-op-per-batch TrivialAugment (float32) where kornia
   is installed.
6. The fused apply of a fixed plan, eager and replayed from a CUDA graph: the share of host overhead.
7. The first policy call of a fresh process, with an empty and with a filled Triton cache: compilation and
   the self-checks (`rng_triton.verified`, `image.gpu.verified`), and whether they passed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

import torch

import mithridate as mt
from mithridate.image import Plan
from mithridate.image.executor import apply_plan
from mithridate.image.ops import OP_IDS, OPS

sys.path.insert(0, str(Path(__file__).parent))
from gpu_check import photos, rate  # the same photos and timing as the GPU check

POLICIES = ["ta_wide", "ta_wide-s2", "rand-n2-m9", "auto-imagenet", "augmix", "ta_wide-ibilinear-f128"]


def compare(a: torch.Tensor, b: torch.Tensor) -> dict:
    diff = (a.cpu().double() - b.cpu().double()).abs()
    return {"identical_share": float((diff == 0).double().mean()), "max_abs_diff": float(diff.max())}


def check_images(device: torch.device) -> dict:
    images = photos(60, 64)
    gpu_images = images.to(device)
    out: dict = {"ops": {}, "policies": {}}
    generator = torch.Generator().manual_seed(0)
    for spec in OPS:
        u = torch.rand(len(images), 1, 1, generator=generator, dtype=torch.float64)
        lower, upper = max(spec.lower, -1.0), min(spec.upper, 2.0)
        if spec.name in ("TranslateX", "TranslateY"):
            lower, upper = -20.0, 20.0
        if spec.name == "Rotate":
            lower, upper = -90.0, 90.0
        magnitudes = lower + (upper - lower) * u
        magnitudes = magnitudes.floor() if spec.integer else magnitudes
        plan = Plan(torch.full_like(magnitudes, OP_IDS[spec.name], dtype=torch.int64), magnitudes)
        for interpolation, fill in (("nearest", None), ("bilinear", None), ("bilinear", 128)):
            if not spec.geometric and interpolation == "bilinear":
                continue
            options = {"interpolation": interpolation, "fill": fill}
            fused = apply_plan(gpu_images, plan.to(device), backend="triton", **options)
            torch_gpu = apply_plan(gpu_images, plan.to(device), backend="torch", **options)
            cpu = apply_plan(images, plan, **options)
            out["ops"][f"{spec.name} {interpolation} fill={fill}"] = {
                "vs_torch_gpu": compare(fused, torch_gpu),
                "vs_cpu": compare(fused, cpu),
            }
    for text in POLICIES:
        policy = mt.image.policy(text, seed=3)
        plan = policy.sample(len(images), (64, 64), index=range(len(images)))
        fused = apply_plan(gpu_images, plan.to(device), backend="triton", interpolation=policy.interpolation,
                           fill=policy.fill)  # fmt: skip
        cpu = policy.apply(images, plan)
        out["policies"][text] = compare(fused, cpu)
        # float32 in [0, 1]: within a few ulps of the torch path on the CPU
        floats = images.float() / 255
        fused = apply_plan(floats.to(device), plan.to(device), backend="triton", interpolation=policy.interpolation,
                           fill=None if policy.fill is None else 0.5)  # fmt: skip
        reference = apply_plan(floats, plan, backend="torch", interpolation=policy.interpolation,
                               fill=None if policy.fill is None else 0.5)  # fmt: skip
        out["policies"][f"{text} float32"] = compare(fused, reference)
    return out


def check_draws_and_grids(device: torch.device) -> dict:
    from mithridate.image.gpu import _kernels as gpu_kernels
    from mithridate.image.ops import geometric_matrices
    from mithridate.rng import Key

    out: dict = {}
    index = torch.cat([torch.arange(5000), torch.tensor([2**32 + 5, 2**62, 2**63 - 1])])
    for name, key in (("key_a", Key(7, 0, None)), ("key_b", Key(2**63 - 1, 3, 11))):
        for count in (1, 3, 300):
            cpu = (key.bits(index, 2, count), key.uniform(index, 4, count))
            gpu = (key.bits(index.to(device), 2, count), key.uniform(index.to(device), 4, count))
            out[f"draws {name} count={count}"] = [compare(g, c) for g, c in zip(gpu, cpu, strict=True)]
    generator = torch.Generator().manual_seed(0)
    n = 100_000
    ops = torch.randint(0, len(OPS), (n, 1, 1), generator=generator)
    magnitudes = torch.randn(n, 1, 1, generator=generator, dtype=torch.float64)
    magnitudes *= torch.tensor([0.01, 1.0, 100.0, 1e4])[torch.randint(0, 4, (n, 1, 1), generator=generator)]
    for height, width in ((32, 32), (224, 224), (27, 40)):
        fused = gpu_kernels.plan_grids(ops.to(device), magnitudes.to(device), height, width).cpu()
        matrices = geometric_matrices(ops.flatten(), magnitudes.flatten(), height, width)
        scale = torch.tensor([0.5 * width, 0.5 * height], dtype=torch.float32)
        reference = matrices.to(torch.float32).transpose(-1, -2).div(scale).reshape(n, 1, 1, 6)
        out[f"grids {height}x{width}"] = {
            "identical_share": float((fused == reference).double().mean()),
            "max_abs_diff": float((fused - reference).abs().max()),
        }
    return out


def count_syncs(device: torch.device) -> dict:
    """Host syncs and CUDA kernels of one whole policy call (draws and apply), per backend."""
    import warnings

    from torch.profiler import ProfilerActivity, profile

    images = photos(8, 32).to(device).repeat(128, 1, 1, 1)
    policy = mt.image.TrivialAugmentWide(seed=0)
    index = torch.arange(images.shape[0], device=device)
    out = {}
    for backend in ("torch", "triton"):
        call = partial(_augment, policy, images, index, backend)
        call()
        torch.cuda.synchronize(device)
        torch.cuda.set_sync_debug_mode("warn")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        torch.cuda.set_sync_debug_mode(0)
        with profile(activities=[ProfilerActivity.CUDA]) as profiler:
            call()
            torch.cuda.synchronize(device)
        kernels = sum(event.count for event in profiler.key_averages() if event.device_type.name == "CUDA")
        out[backend] = {"syncs": len(caught), "cuda_kernels": kernels}
    return out


def _augment(policy, images: torch.Tensor, index: torch.Tensor, backend: str) -> torch.Tensor:
    """A policy call on one path: the torch path gets its plan drawn on the host, as `Policy.__call__` does."""
    if backend == "torch":  # the indices are arange(n): made on the host rather than read back
        index = torch.arange(images.shape[0])
    plan = policy.sample(images.shape[0], tuple(images.shape[-2:]), index=index, device=index.device)
    return apply_plan(images, plan, backend=backend)


def throughput(device: torch.device) -> list[dict]:
    rows = []
    policy = mt.image.TrivialAugmentWide(seed=0)
    try:
        from kornia.augmentation.auto import TrivialAugment
    except ImportError:
        TrivialAugment = None
    for side, n in ((32, 1024), (32, 16384), (32, 131072), (224, 128)):
        images = photos(16, side).repeat(n // 16, 1, 1, 1).to(device)
        index = torch.arange(n, device=device)
        row = {"size": side, "n": n}
        for backend in ("triton", "torch"):
            row[backend] = rate(partial(_augment, policy, images, index, backend), n, device)
        floats = images.float() / 255
        row["triton float32"] = rate(partial(_augment, policy, floats, index, "triton"), n, device)
        if TrivialAugment is not None:
            try:
                row["kornia"] = rate(partial(TrivialAugment(), images.float() / 255), n, device)
            except RuntimeError as error:
                row["kornia"] = f"fails: {str(error)[:80]}"
        rows.append(row)
        print(row, flush=True)
    return rows


def graph_replay(device: torch.device) -> list[dict]:
    """The fused apply of a fixed TrivialAugmentWide plan, eager and captured in a CUDA graph: how much of a
    call is host overhead (launches, Python), to decide whether graph capture is worth building."""
    rows = []
    policy = mt.image.TrivialAugmentWide(seed=0)
    for side, n in ((32, 1024), (32, 16384), (224, 128)):
        try:
            images = photos(16, side).repeat(n // 16, 1, 1, 1).to(device)
            plan = policy.sample(n, (side, side), index=torch.arange(n, device=device), device=device)

            def apply(images=images, plan=plan):
                return apply_plan(images, plan, backend="triton")

            side_stream = torch.cuda.Stream(device)
            side_stream.wait_stream(torch.cuda.current_stream(device))
            with torch.cuda.stream(side_stream):
                for _ in range(3):
                    apply()
            torch.cuda.current_stream(device).wait_stream(side_stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                captured = apply()
            graph.replay()
            same = bool(torch.equal(captured, apply()))
            rows.append({"size": side, "n": n, "eager": rate(apply, n, device), "graph": rate(graph.replay, n, device),
                         "graph_output_identical": same})  # fmt: skip
        except Exception as error:  # a measurement aid: report and go on
            rows.append({"size": side, "n": n, "error": f"{type(error).__name__}: {str(error)[:200]}"})
        print(rows[-1], flush=True)
    return rows


_FIRST_CALL = """
import json, time, torch, mithridate as mt
from mithridate._backend import rng_triton
from mithridate.image import gpu
images = torch.randint(0, 256, (1024, 3, 32, 32), dtype=torch.uint8, device="cuda")
start = time.perf_counter()
mt.image.TrivialAugmentWide(seed=0)(images)
torch.cuda.synchronize()
seconds = time.perf_counter() - start
print(json.dumps({"seconds": round(seconds, 2), "draws_verified": {str(k): v for k, v in rng_triton._verdicts.items()},
                  "fused_verified": {str(k): v for k, v in gpu._check._verdicts.items()}}))
"""


def first_call() -> list[dict]:
    """The first TrivialAugmentWide call of a fresh process (compilation, self-checks), cold and warm cache."""
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        for label in ("empty Triton cache", "filled Triton cache"):
            env = {**os.environ, "TRITON_CACHE_DIR": cache}
            run = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True)
            row = {"case": label, "returncode": run.returncode, "stderr": run.stderr[-500:]}
            if run.returncode == 0:
                row.update(json.loads(run.stdout.strip().splitlines()[-1]))
            rows.append(row)
            print(row, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/gpu_triton.json"))
    args = parser.parse_args()
    device = torch.device("cuda")
    if os.environ.get("MITHRIDATE_TRITON") == "0":
        print("note: MITHRIDATE_TRITON=0: the draws stay in torch", flush=True)
    result = {
        "first_call": first_call(),
        "device": torch.cuda.get_device_name(device),
        "torch": torch.__version__,
        "draws_and_grids": check_draws_and_grids(device),
        "images": check_images(device),
        "syncs_per_call": count_syncs(device),
    }
    print(json.dumps(result["syncs_per_call"]), flush=True)
    result["throughput"] = throughput(device)
    result["graph_replay"] = graph_replay(device)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
