"""Run by test_native.py in a subprocess: a policy call on a CUDA batch never waits for the GPU.

Without a GPU, the call runs on fake CUDA tensors (torch's FakeTensorMode: shapes and devices, no data).
Anything that would read the device's memory back to the host (`.item()`, `bool(tensor)`, `nonzero`,
boolean indexing, `.tolist()`...) raises there, and a dispatch mode records every copy between the host
and the device. The Triton launches are replaced by a recorder (fake tensors hold no memory), so the check
covers what the host does around them. The self-checks that a real device runs once (`rng_triton.verified`,
`gpu.verified`: one sync per device or configuration) compare bytes, which fake tensors do not hold;
here they pass. The first call of each policy fills the per-device caches (its copies to the device are
allowed); the second must make no blocking copy. Asynchronous copies from pinned memory (host indices, a
plan drawn on the host) queue on the stream without waiting.

Two paths are checked. The fused path (uint8, the default on CUDA), with indices on the device, on the
host and none: the plan is drawn on the device. The torch path (float images, or MITHRIDATE_TRITON=0),
with host indices and none, uint8 and float32: the plan is drawn on the host, which counts its groups by
op (`executor.draws_on_host`), and copied over asynchronously. Host-only ops run for real
(`DeviceFakeMode`): they do not wait for the device.

Prints one JSON line: per path, policy and case, the torch ops that run a device kernel (views and
allocations left out), the Triton launches (draws, grids, tables, steps), the blocking copies between host
and device of the second call and its asynchronous ones (with how many host tensors it pinned); and for
the torch path the device read that raised, if any.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
import traceback
from collections import Counter

os.environ["MITHRIDATE_TRITON"] = "1"  # the fused path is the one checked (the default, made explicit)

import torch
from torch._subclasses.fake_tensor import FakeTensor, FakeTensorMode, unset_fake_temporarily
from torch.utils import _pytree as pytree
from torch.utils._python_dispatch import TorchDispatchMode

import mithridate as mt
from mithridate._backend import rng_triton
from mithridate.image import gpu
from mithridate.image.gpu import _kernels as gpu_kernels

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


class DeviceFakeMode(FakeTensorMode):
    """Fake tensors for the device only: an op on host tensors alone (building a table, checking indices on
    the host, reading a host value) runs for real, as it would; one that touches the device is faked."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        leaves = pytree.tree_leaves((args, kwargs or {}))
        on_device = any(
            isinstance(leaf, FakeTensor)
            or (isinstance(leaf, torch.Tensor) and leaf.device.type != "cpu")
            or (isinstance(leaf, torch.device) and leaf.type != "cpu")
            for leaf in leaves
        )
        if not on_device:
            with unset_fake_temporarily():
                return func(*args, **(kwargs or {}))
        return super().__torch_dispatch__(func, types, args, kwargs)


class Recorder(TorchDispatchMode):
    """Counts the dispatched ops that launch a kernel, and records copies between devices."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: Counter = Counter()
        self.copies: list[str] = []
        self.async_copies: list[str] = []
        self.pinned_before = PINNED[0]

    @property
    def pinned(self) -> int:
        """Host tensors pinned since the recorder started."""
        return PINNED[0] - self.pinned_before

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        outputs = out if isinstance(out, (tuple, list)) else [out]
        device_op = any(t.device.type != "cpu" for t in [*tensors, *outputs] if isinstance(t, torch.Tensor))
        if launches(func) and device_op:  # host ops launch nothing on the device
            self.ops[str(func)] += 1
        # A 0-dim CPU tensor beside device tensors is a scalar operand (as `x[:, 0] = 1.0` passes it).
        operands = [t for t in tensors if not (t.device.type == "cpu" and t.ndim == 0)] or tensors
        sources = {t.device.type for t in operands}
        outputs = out if isinstance(out, (tuple, list)) else [out]
        targets = {o.device.type for o in outputs if isinstance(o, torch.Tensor)}
        if len(sources | targets) > 1:
            copy = f"{func}: {sorted(sources)} -> {sorted(targets)}"
            queued = "_to_copy" in str(func) and (kwargs or {}).get("non_blocking") and sources == {"cpu"}
            (self.async_copies if queued else self.copies).append(copy)
        return out


PINNED = [0]
"""How many host tensors were pinned: fake tensors cannot be, so `pin_memory` only counts here (a real run
pins them); a test checks that every asynchronous copy to the device had its pinned source."""


def _count_pin(tensor: torch.Tensor) -> torch.Tensor:
    PINNED[0] += 1
    return tensor


torch.Tensor.pin_memory = _count_pin


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
    gpu_kernels._grids_kernel, gpu_kernels._tables_kernel, gpu_kernels._step_kernel = grids, tables, step
    rng_triton._draw_kernel = draws
    torch.cuda.device = lambda device: contextlib.nullcontext()  # no CUDA runtime to switch devices in
    torch.cuda.current_device = lambda: 0  # the fake tensors' device
    torch.backends.cudnn.enabled = False  # cuDNN's grid sampler has no fake kernel; torch's has, and neither syncs
    rng_triton.verified = lambda *args: True  # the self-checks compare bytes: a real device runs them once
    gpu.verified = lambda *args: True
    results: dict = {"fused": {}, "torch": {}}
    with DeviceFakeMode(allow_non_fake_inputs=True):
        batches = {
            "uint8": torch.empty(256, 3, 32, 32, dtype=torch.uint8, device="cuda"),
            "float32": torch.empty(256, 3, 32, 32, dtype=torch.float32, device="cuda"),
        }
        indices = {"device index": torch.arange(256, device="cuda"), "host index": torch.arange(256), "no index": None}
        for (kind, images), text, (name, index) in itertools.product(batches.items(), POLICIES, indices.items()):
            policy = mt.image.policy(text, seed=0)
            policy(images, index=index)  # fills the per-device caches
            grids.count = tables.count = step.count = draws.count = 0
            with Recorder() as recorder:
                out = policy(images, index=index, epoch=1)
            assert out.device.type == "cuda" and out.shape == images.shape and out.dtype == images.dtype
            results["fused"][f"{text} {kind} {name}"] = {
                "torch_kernels": sum(recorder.ops.values()),
                "draw_launches": draws.count,
                "grid_launches": grids.count,
                "table_launches": tables.count,
                "step_launches": step.count,
                "copies": recorder.copies,
                "async_copies": len(recorder.async_copies),
                "pinned": recorder.pinned,
            }
        # The torch path (the Triton paths off, or batches the fused path does not take): with host indices,
        # or none, the plan is drawn on the host and its groups counted there.
        os.environ["MITHRIDATE_TRITON"] = "0"
        for dtype in (torch.uint8, torch.float32):
            images = torch.empty(64, 3, 32, 32, dtype=dtype, device="cuda")
            for text in POLICIES:
                for name in ("host index", "no index"):
                    index = None if name == "no index" else torch.arange(64)
                    policy = mt.image.policy(text, seed=0)
                    key = f"{text} {str(dtype).removeprefix('torch.')} {name}"
                    try:
                        policy(images, index=index)
                        with Recorder() as recorder:
                            out = policy(images, index=index, epoch=1)
                        assert out.device.type == "cuda" and out.shape == images.shape and out.dtype == dtype
                        results["torch"][key] = {
                            "read": None,
                            "torch_kernels": sum(recorder.ops.values()),
                            "copies": recorder.copies,
                            "async_copies": len(recorder.async_copies),
                            "pinned": recorder.pinned,
                        }
                    except Exception as error:  # a read of the device's memory: say where
                        frames = [
                            f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
                            for frame in traceback.extract_tb(error.__traceback__)
                            if "mithridate" in frame.filename
                        ]
                        results["torch"][key] = {"read": f"{type(error).__name__} at {frames[-3:]}"}
    print(json.dumps(results))


if __name__ == "__main__":
    sys.exit(main())
