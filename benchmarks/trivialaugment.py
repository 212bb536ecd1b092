"""Per-sample TrivialAugmentWide throughput: mithridate on batches vs torchvision v2 image by image.

Both run in this one process, on the same uint8 real photos, one thread by default; the figure that
matters is the ratio. Usage:

    python benchmarks/trivialaugment.py [--threads 1] [--repeats 5] [--device cpu] [--json out.json]

Inputs: the CIFAR-10 subset in ../shared/data at 32x32 (N=1024), scikit-image's bundled photos cropped
and resized to 224x224 (N=64). Falls back to random pixels if the CIFAR subset is absent (and says so).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import PIL.Image
import torch

import mithridate as mt

ROOT = Path(__file__).resolve().parents[1]
CIFAR = ROOT.parent / "shared" / "data" / "cifar10-small" / "train"
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "colorwheel", "hubble_deep_field", "cat")


def cifar_batch(n: int) -> tuple[torch.Tensor, str]:
    files = sorted(CIFAR.glob("*/*.jpg"))
    if not files:
        generator = torch.Generator().manual_seed(0)
        return torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=generator), "random pixels"
    step = max(len(files) // n, 1)
    arrays = [np.asarray(PIL.Image.open(path).convert("RGB")) for path in files[::step][:n]]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous(), "CIFAR-10 subset"


def photo_batch(n: int, size: int) -> tuple[torch.Tensor, str]:
    from skimage import data

    crops = []
    for i in range(n):
        picture = PIL.Image.fromarray(getattr(data, PHOTOS[i % len(PHOTOS)])()).convert("RGB")
        width, height = picture.size
        side = min(width, height) * (0.6 + 0.4 * ((i * 7) % 5) / 4)
        left = (width - side) * ((i * 3) % 4) / 3
        top = (height - side) * ((i * 5) % 3) / 2
        box = (round(left), round(top), round(left + side), round(top + side))
        crops.append(np.asarray(picture.resize((size, size), PIL.Image.BILINEAR, box=box)))
    return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).contiguous(), "scikit-image photos"


def measure(run: Callable[[], object], repeats: int, synchronize: Callable[[], None]) -> list[float]:
    """Seconds per run, after one warm-up run."""
    run()
    synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        synchronize()
        times.append(time.perf_counter() - start)
    return times


def bench_size(pair: str, repeats: int, device: torch.device, synchronize: Callable[[], None]) -> dict:
    """One row of the table: ours and torchvision's on the same batch of one size."""
    from torchvision.transforms import v2

    size, n = (int(v) for v in pair.split(":"))
    images, source = cifar_batch(n) if size == 32 else photo_batch(n, size)
    images = images.to(device)
    ours = mt.image.TrivialAugmentWide(seed=0)
    theirs = v2.TrivialAugmentWide()
    index = torch.arange(n, device=device)
    ours_times = measure(lambda: ours(images, index=index), repeats, synchronize)
    theirs_times = measure(lambda: [theirs(image) for image in images], repeats, synchronize)
    ours_rate = n / statistics.median(ours_times)
    theirs_rate = n / statistics.median(theirs_times)
    return {
        "size": size,
        "batch": n,
        "inputs": source,
        "mithridate_img_per_s": round(ours_rate),
        "mithridate_spread": [round(n / t) for t in (max(ours_times), min(ours_times))],
        "torchvision_per_image_img_per_s": round(theirs_rate),
        "ratio": round(ours_rate / theirs_rate, 2),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", default="32:1024,224:64", help="size:batch pairs")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    rows = [bench_size(pair, args.repeats, device, synchronize) for pair in args.sizes.split(",")]
    report = {
        "benchmark": "per-sample TrivialAugmentWide, uint8",
        "threads": args.threads,
        "device": str(device) if device.type != "cuda" else torch.cuda.get_device_name(device),
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "mithridate": mt.__version__,
        "rows": rows,
    }
    print(
        f"per-sample TrivialAugmentWide, uint8, {args.threads} thread(s), {report['device']}, torch {torch.__version__}"
    )
    print(f"{'size':>9} {'batch':>6} {'mithridate img/s':>17} {'torchvision/img img/s':>22} {'ratio':>6}  inputs")
    for row in rows:
        print(
            f"{row['size']:>4}x{row['size']:<4} {row['batch']:>6} {row['mithridate_img_per_s']:>17,} "
            f"{row['torchvision_per_image_img_per_s']:>22,} {row['ratio']:>5}x  {row['inputs']}"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
