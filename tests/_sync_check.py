"""Run by test_native.py in a subprocess: a policy call on a CUDA batch never waits for the GPU.

Without a GPU, the call runs on fake CUDA tensors (torch's FakeTensorMode: shapes and devices, no data).
Anything that would read the device's memory back to the host (`.item()`, `bool(tensor)`, `nonzero`,
boolean indexing, `.tolist()`...) raises there, and a dispatch mode records every copy between the host
and the device. The Triton launches are replaced by a recorder (fake tensors hold no memory), so the check
covers what the host does around them. The self-checks that a real device runs once (`_rng_triton.verified`,
`_gpu_check.verified`: one sync per device or configuration) compare bytes, which fake tensors do not hold;
here they pass. The first call of each policy fills the per-device caches (its copies to the device are
allowed); the second must make no copy at all.

Prints one JSON line: per policy, the torch ops that run a kernel (views and allocations left out),
the Triton launches (draws, grids, tables, steps) and the copies of the second call; exits non-zero if a
call would synchronise.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections import Counter

os.environ["MITHRIDATE_TRITON"] = "1"  # the fused path is the one checked (the default, made explicit)

import torch
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.utils._python_dispatch import TorchDispatchMode

import mithridate as mt
from mithridate import _rng_triton
from mithridate.image import _gpu_check
from mithridate.image.native import _gpu

POLICIES = ["ta_wide", "ta_wide-s2", "rand-n2-m9", "auto-imagenet", "augmix", "ta_wide-ibilinear-f128"]


# Ops that only make views, allocate or ask for metadata: no kernel runs on the device for them.
NO_KERNEL = {
    "aten.alias", "aten.as_strided", "aten.detach", "aten.empty", "aten.empty_like", "aten.empty_strided",
    "aten.expand", "aten.permute", "aten.select", "aten.slice", "aten.squeeze", "aten.t", "aten.transpose",
    "aten.unsqueeze", "aten.view", "aten._unsafe_view", "aten.unbind", "aten.split",
}  # fmt: skip


def launches(func) -> bool:
    """Whether an op runs a kernel on the device (prim ops are the fake mode's own queries)."""
    name = str(func).rsplit(".", 1)[0]
    return not name.startswith("prim.") and name not in NO_KERNEL


class Recorder(TorchDispatchMode):
    """Counts the dispatched ops that launch a kernel, and records copies between devices."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: Counter = Counter()
        self.copies: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if launches(func):
            self.ops[str(func)] += 1
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        # A 0-dim CPU tensor beside device tensors is a scalar operand (as `x[:, 0] = 1.0` passes it).
        operands = [t for t in tensors if not (t.device.type == "cpu" and t.ndim == 0)] or tensors
        sources = {t.device.type for t in operands}
        outputs = out if isinstance(out, (tuple, list)) else [out]
        targets = {o.device.type for o in outputs if isinstance(o, torch.Tensor)}
        if len(sources | targets) > 1:
            self.copies.append(f"{func}: {sorted(sources)} -> {sorted(targets)}")
        return out


class FakeLaunch:
    """Stands for a Triton kernel: `kernel[grid](...)` only counts the launch."""

    def __init__(self) -> None:
        self.count = 0

    def __getitem__(self, grid):
        def launch(*args, **kwargs):
            self.count += 1

        return launch


def main() -> None:
    grids, tables, step, draws = FakeLaunch(), FakeLaunch(), FakeLaunch(), FakeLaunch()
    _gpu._grids_kernel, _gpu._tables_kernel, _gpu._step_kernel, _rng_triton._draw_kernel = grids, tables, step, draws
    torch.cuda.device = lambda device: contextlib.nullcontext()  # no CUDA runtime to switch devices in
    torch.cuda.current_device = lambda: 0  # the fake tensors' device
    _rng_triton.verified = lambda device: True  # the self-checks compare bytes: a real device runs them once
    _gpu_check.verified = lambda *args: True
    results = {}
    with FakeTensorMode(allow_non_fake_inputs=True):
        images = torch.empty(256, 3, 32, 32, dtype=torch.uint8, device="cuda")
        index = torch.arange(256, device="cuda")
        for text in POLICIES:
            policy = mt.image.policy(text, seed=0)
            policy(images, index=index)  # fills the per-device caches
            grids.count = tables.count = step.count = draws.count = 0
            with Recorder() as recorder:
                out = policy(images, index=index, epoch=1)
            assert out.device.type == "cuda" and out.shape == images.shape and out.dtype == torch.uint8
            results[text] = {
                "torch_kernels": sum(recorder.ops.values()),
                "draw_launches": draws.count,
                "grid_launches": grids.count,
                "table_launches": tables.count,
                "step_launches": step.count,
                "copies": recorder.copies,
            }
    print(json.dumps(results))


if __name__ == "__main__":
    sys.exit(main())
