"""The README's smaller timings, in one process on one thread: the compiled path against the torch path,
a policy called on one image against torchvision's, and the whole corruption table on 1,000 images.

    PYTHONPATH=src python3 benchmarks/timings.py [--quick]

Ratios within the run are what to read; absolute times on a shared machine are noise.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch

from mithridate.bench.inputs import default_cifar_folder, make_batch
from mithridate.image import corruptions
from mithridate.image import policy as parse_policy
from mithridate.image.executor import apply_plan


def best_seconds(run: Callable[[], object], repeats: int) -> float:
    """The fastest of `repeats` calls after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def backends(repeats: int) -> None:
    """Policy images/s on the torch path and on the compiled path (plan drawn in each call)."""
    for side, n in ((32, 1024), (224, 128)):
        images, _ = make_batch(side, n, default_cifar_folder())
        index = torch.arange(n)
        for text in ("ta_wide", "augmix"):
            policy = parse_policy(text)
            policy.seed = 0
            rates = {}
            for backend in ("torch", "native"):

                def run(policy=policy, backend=backend, images=images, index=index):
                    plan = policy.sample(len(images), tuple(images.shape[-2:]), index=index)
                    return apply_plan(images, plan, interpolation=policy.interpolation, backend=backend)

                rates[backend] = n / best_seconds(run, repeats)
            ratio = rates["native"] / rates["torch"]
            print(f"{text:8} {side}x{side} N={n}: torch {rates['torch']:9,.0f}  compiled {rates['native']:9,.0f} img/s"
                  f"  ({ratio:.1f}x)")  # fmt: skip


def per_image(calls: int) -> None:
    """Milliseconds per call of TrivialAugmentWide on one 32x32 image: ours and torchvision's."""
    from torchvision.transforms import v2

    image = make_batch(32, 1, default_cifar_folder())[0][0]
    ours, theirs = parse_policy("ta_wide"), v2.TrivialAugmentWide()
    for name, run in (("mithridate", lambda i: ours(image, index=i)), ("torchvision", lambda i: theirs(image))):
        run(0)
        start = time.perf_counter()
        for i in range(calls):
            run(i)
        print(f"one 32x32 image per call, {name:11}: {(time.perf_counter() - start) / calls * 1e3:.3f} ms")


def corruption_table(n: int) -> None:
    """Seconds for n CIFAR-size images through all 19 corruptions at severities 1 to 5."""
    images, source = make_batch(32, n, default_cifar_folder())
    corruptions.corrupt(images[:2], "frost", 1)  # compile or load the kernels first
    start = time.perf_counter()
    for name in corruptions.CORRUPTIONS:
        for severity in range(1, 6):
            corruptions.corrupt(images, name, severity)
    print(f"{n} images ({source}) x 19 corruptions x 5 severities: {time.perf_counter() - start:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and images (a smoke run)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    backends(1 if args.quick else 5)
    per_image(50 if args.quick else 2000)
    corruption_table(50 if args.quick else 1000)


if __name__ == "__main__":
    main()
