"""Count the host synchronisations of one augmentation call on the GPU (torch's sync debug mode).

    PYTHONPATH=src python3 benchmarks/gpu_syncs.py

A synchronisation makes the host wait for the GPU's queue to drain; a hot loop should have as few as its
algorithm needs. Prints, per call, how many synchronising operations torch reported.
"""

from __future__ import annotations

import warnings

import torch

import mithridate as mt


def count_syncs(run) -> int:
    run()  # warm-up outside the count
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught)


def main() -> None:
    images = torch.randint(0, 256, (1024, 3, 32, 32), dtype=torch.uint8, device="cuda")
    index = torch.arange(1024, device="cuda")
    for text in ("ta_wide", "rand-n2-m9", "augmix", "auto-imagenet"):
        policy = mt.image.policy(text)
        print(f"{text:14s} {count_syncs(lambda p=policy: p(images, index=index)):3d} syncs per call")
    for name in ("gaussian_noise", "glass_blur", "frost", "jpeg_compression"):
        calls = count_syncs(lambda n=name: mt.image.corruptions.corrupt(images, n, 3, index=index))
        print(f"{name:14s} {calls:3d} syncs per call")


if __name__ == "__main__":
    main()
