"""Run by test_corruptions.py in a subprocess: a corruption of a CUDA batch does not wait for the GPU.

As `_sync_check.py` for the policies: the corruptions run on fake CUDA tensors (torch's FakeTensorMode),
where reading the device's memory back raises and a dispatch mode records every copy between host and
device. Host-side tables (kernels, CDFs) are computed once per parameter set: a float CPU batch of the same
size fills those caches first, outside the fake mode. The first CUDA call fills the per-device caches; the
second must make no copy.

Prints one JSON line: per corruption and size, the read of the device that raised (or null) and the copies
of the second call.
"""

from __future__ import annotations

import contextlib
import json
import sys

import torch

from _sync_check import DeviceFakeMode, FakeLaunch, Recorder
from mithridate._backend import rng_triton
from mithridate.image.corruptions import CORRUPTIONS, corrupt

SEVERITY = 3


def main() -> None:
    rng_triton._draw_kernel = FakeLaunch()
    rng_triton.verified = lambda *args: True  # compares bytes: a real device runs it once
    torch.cuda.device = lambda device: contextlib.nullcontext()
    torch.cuda.current_device = lambda: 0
    torch.backends.cudnn.enabled = False  # cuDNN's grid sampler has no fake kernel; torch's has, and neither syncs
    results = {}
    for size in (32, 224):
        corrupt_all(torch.rand(2, 3, size, size))  # host-side caches, computed on real tensors
        with DeviceFakeMode(allow_non_fake_inputs=True):
            images = torch.empty(4, 3, size, size, dtype=torch.uint8, device="cuda")
            for name in CORRUPTIONS:
                key = f"{name} {size}"
                try:
                    corrupt(images, name, SEVERITY)
                    with Recorder() as recorder:
                        out = corrupt(images, name, SEVERITY, seed=1)
                    assert out.device.type == "cuda" and out.shape == images.shape and out.dtype == torch.uint8
                    results[key] = {"read": None, "copies": recorder.copies, "async_copies": len(recorder.async_copies)}
                except Exception as error:  # a read of the device's memory: report where
                    frames = [
                        f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
                        for frame in __import__("traceback").extract_tb(error.__traceback__)
                        if "mithridate" in frame.filename
                    ]
                    results[key] = {"read": f"{type(error).__name__} at {frames[-2:]}", "copies": [], "async_copies": 0}
    print(json.dumps(results))


def corrupt_all(images: torch.Tensor) -> None:
    for name in CORRUPTIONS:
        corrupt(images, name, SEVERITY)


if __name__ == "__main__":
    sys.exit(main())
