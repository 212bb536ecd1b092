"""GPU check, one prepared script: CPU/CUDA agreement of draws, plans and images, and GPU throughput.

    PYTHONPATH=src python3 benchmarks/gpu_check.py --json benchmarks/results/gpu_check.json

1. Counter-based draws: bits and uniforms must be identical on CPU and CUDA; normal/gamma/Dirichlet draws
   agree to float rounding.
2. Plans of every policy: ops identical, magnitudes identical, AugMix weights to float rounding.
3. Images: the same plan applied on CPU and on CUDA, per op and per policy: share of identical pixels and
   largest difference (uint8 levels, float units).
4. Throughput of per-sample TrivialAugmentWide on the GPU (uint8, batches of 32x32 and 224x224), beside
   torchvision v2 applied image by image on the same GPU.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

import mithridate as mt
from mithridate.image import Plan
from mithridate.image.executor import apply_plan
from mithridate.image.ops import OP_IDS, OPS
from mithridate.rng import Key

POLICIES = ["ta_wide", "ta_wide-s2", "rand-n2-m9", "auto-imagenet", "auto-cifar10", "augmix", "ta_wide-ibilinear-f128"]


def photos(n: int, size: int) -> torch.Tensor:
    """Real photos from scikit-image, resized, as a uint8 batch (random pixels if it is missing)."""
    try:
        from skimage import data
        from skimage.transform import resize
    except ImportError:
        return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    names = ["astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "colorwheel"]
    pictures = []
    for i in range(n):
        picture = getattr(data, names[i % len(names)])()[..., :3]
        shift = (i // len(names)) * 7
        crop = picture[shift : shift + min(picture.shape[:2]) - 20, shift : shift + min(picture.shape[:2]) - 20]
        pictures.append((resize(crop, (size, size), anti_aliasing=True) * 255).round().astype("uint8"))
    return torch.from_numpy(__import__("numpy").stack(pictures)).permute(0, 3, 1, 2).contiguous()


def compare(a: torch.Tensor, b: torch.Tensor) -> dict:
    a, b = a.cpu().double(), b.cpu().double()
    diff = (a - b).abs()
    return {
        "identical_share": float((diff == 0).double().mean()),
        "max_abs_diff": float(diff.max()) if diff.numel() else 0.0,
    }


def check_draws(device: torch.device) -> dict:
    index = torch.arange(0, 2_000_000, 7)
    key = Key(seed=123456789, epoch=3)
    out = {}
    for name, draw in {
        "bits": lambda k, i: k.bits(i, 5, 4),
        "uniform": lambda k, i: k.uniform(i, 5, 4),
        "integers": lambda k, i: k.integers(i, 6, 31, 2),
        "normal": lambda k, i: k.normal(i, 7, 2),
        "gamma_0.5": lambda k, i: k.gamma(i, 8, 0.5, 2),
        "dirichlet_1": lambda k, i: k.dirichlet(i, 9, 1.0, 3),
    }.items():
        out[name] = compare(draw(key, index), draw(key, index.to(device)))
    return out


def check_plans(device: torch.device) -> dict:
    out = {}
    for text in POLICIES:
        policy = mt.image.policy(text, seed=7)
        index = torch.arange(4096)
        cpu = policy.sample(4096, (32, 32), index=index)
        gpu = policy.sample(4096, (32, 32), index=index.to(device))
        out[text] = {
            "ops_identical": bool(torch.equal(cpu.ops, gpu.ops.cpu())),
            "magnitudes": compare(cpu.magnitudes, gpu.magnitudes),
            "weights": None if cpu.weights is None else compare(cpu.weights, gpu.weights),
        }
    return out


def check_images(device: torch.device) -> dict:
    images = photos(48, 64)
    out: dict = {"ops": {}, "policies": {}}
    for spec in OPS:
        if spec.name == "Identity":
            continue
        values = {
            "Posterize": torch.tensor([4.0, 2.0, 6.0]),
            "Solarize": torch.tensor([0.5, 0.25, 0.8]),
            "Rotate": torch.tensor([30.0, -45.0, 90.0]),
            "TranslateX": torch.tensor([5.0, -9.0, 20.0]),
            "TranslateY": torch.tensor([5.0, -9.0, 20.0]),
        }.get(spec.name, torch.tensor([0.3, -0.6, 0.9]))
        if spec.name in ("AutoContrast", "Equalize", "Invert"):
            values = torch.tensor([1.0, 1.0, 0.5])
        magnitudes = values.repeat(16)[: len(images)].view(-1, 1, 1)
        plan = Plan(torch.full_like(magnitudes, OP_IDS[spec.name], dtype=torch.int64), magnitudes)
        result = {}
        for interpolation in ("nearest", "bilinear") if spec.geometric else ("nearest",):
            for dtype in ("uint8", "float32"):
                batch = images if dtype == "uint8" else images.float() / 255
                cpu = apply_plan(batch, plan, interpolation=interpolation)
                gpu = apply_plan(batch.to(device), plan.to(device), interpolation=interpolation)
                result[f"{interpolation}/{dtype}"] = compare(cpu, gpu)
        out["ops"][spec.name] = result
    for text in POLICIES:
        policy = mt.image.policy(text, seed=3)
        plan = policy.sample(len(images), (64, 64), index=range(len(images)))
        cpu = policy.apply(images, plan)
        gpu = policy.apply(images.to(device), plan.to(device))
        assert gpu.device.type == device.type, "outputs must stay on the input's device"
        out["policies"][text] = compare(cpu, gpu)
    return out


def rate(run, n: int, device: torch.device, repeats: int = 10) -> float:
    run()
    torch.cuda.synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    times.sort()
    return n / times[len(times) // 2]


def throughput(device: torch.device) -> list[dict]:
    from torchvision.transforms import v2

    rows = []
    policy = mt.image.TrivialAugmentWide(seed=0)
    theirs = v2.TrivialAugmentWide()
    base32 = photos(64, 32)
    base224 = photos(16, 224)
    for size, n in ((32, 1024), (32, 16384), (32, 131072), (224, 256), (224, 1024)):
        base = base32 if size == 32 else base224
        images = base.repeat((n + len(base) - 1) // len(base), 1, 1, 1)[:n].to(device)
        index = torch.arange(n, device=device)
        ours = rate(lambda: policy(images, index=index), n, device)  # noqa: B023
        row = {"size": size, "batch": n, "mithridate_img_per_s": round(ours)}
        if n <= 1024:
            few = images[:256]
            per_image = rate(lambda: [theirs(im) for im in few], len(few), device, 3)  # noqa: B023
            row["torchvision_per_image_img_per_s"] = round(per_image)
            row["ratio"] = round(ours / row["torchvision_per_image_img_per_s"], 1)
        rows.append(row)
        print(row, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    device = torch.device(args.device)
    report = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else str(device),
        "torch": torch.__version__,
        "mithridate": mt.__version__,
    }
    for name, step in (("draws", check_draws), ("plans", check_plans), ("images", check_images)):
        start = time.perf_counter()
        report[name] = step(device)
        print(f"--- {name} ({time.perf_counter() - start:.1f} s)")
        print(json.dumps(report[name], indent=1)[:6000], flush=True)
    if device.type == "cuda":
        report["throughput"] = throughput(device)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
