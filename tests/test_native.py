"""The compiled CPU path (`image.native`) against the torch path: the same bytes for any plan, image and option
wherever torch's kernels fuse multiply-adds (AVX2, AVX-512), within `_exactness.DEFAULT_BOUND` elsewhere."""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mithridate as mt
from _exactness import TORCH_FUSES, assert_paths_agree
from mithridate.image import Plan, apply_plan, native
from mithridate.image.ops import OP_IDS, OPS

pytestmark = [
    pytest.mark.skipif(not native.available(), reason="numba is not installed or MITHRIDATE_NATIVE=0"),
    pytest.mark.exactness,
]

_RANGES = {  # magnitudes across each op's hard limits and past the published ranges (overdoses)
    "ShearX": (-1.5, 1.5),
    "ShearY": (-1.5, 1.5),
    "TranslateX": (-60.0, 60.0),
    "TranslateY": (-60.0, 60.0),
    "Rotate": (-400.0, 400.0),
}


def random_plan(generator: torch.Generator, n: int, chains: int, depth: int) -> Plan:
    """Ops drawn uniformly from the whole table; magnitudes over each op's range, with round and edge values."""
    ops = torch.randint(0, len(OPS), (n, chains, depth), generator=generator)
    u = torch.rand(n, chains, depth, generator=generator, dtype=torch.float64)
    magnitudes = torch.zeros(n, chains, depth, dtype=torch.float64)
    for op, spec in enumerate(OPS):
        lower, upper = _RANGES.get(spec.name, (max(spec.lower, -1.0), min(spec.upper, 3.0)))
        values = lower + (upper - lower) * u
        if spec.integer:
            values = values.floor()
        if spec.name in ("Solarize", "AutoContrast", "Equalize", "Invert"):
            values = torch.where(u < 0.3, torch.ones_like(u), values)  # the op in full, often
        if spec.name in ("ShearX", "Rotate", "Brightness"):
            values = torch.where(u > 0.9, (values * 4).round() / 4, values)  # exact quarters: rounding ties
        magnitudes = torch.where(ops == op, values, magnitudes)
    weights = None
    if chains > 1:
        weights = torch.rand(n, chains + 1, generator=generator)
        weights = weights / weights.sum(dim=1, keepdim=True)
    return Plan(ops, magnitudes, weights)


def random_images(generator: torch.Generator, n: int, channels: int, height: int, width: int) -> torch.Tensor:
    images = torch.randint(0, 256, (n, channels, height, width), dtype=torch.uint8, generator=generator)
    # Low-contrast and flat images exercise AutoContrast's and Equalize's special cases.
    images[: n // 4] //= 16
    images[n // 4 : n // 3] = images[n // 4 : n // 3, :, :1, :1]
    return images


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(1, 24),
    channels=st.sampled_from([1, 3]),
    height=st.integers(1, 40),
    width=st.integers(1, 40),
    chains=st.sampled_from([1, 1, 3]),
    depth=st.integers(0, 3),
    fill=st.sampled_from([None, 0, 128, (10, 200, 255)]),
    interpolation=st.sampled_from(["nearest", "bilinear"]),
)
def test_native_equals_torch_for_any_plan(seed, n, channels, height, width, chains, depth, fill, interpolation):
    if not TORCH_FUSES:
        pytest.skip("torch rounds products apart here: the share of differing values is bounded on large batches")
    generator = torch.Generator().manual_seed(seed)
    images = random_images(generator, n, channels, height, width)
    plan = random_plan(generator, n, chains, depth)
    if isinstance(fill, tuple) and channels == 1:
        fill = fill[:1]
    before = images.clone()
    ours = apply_plan(images, plan, fill=fill, interpolation=interpolation, backend="native")
    reference = apply_plan(images, plan, fill=fill, interpolation=interpolation, backend="torch")
    assert ours.dtype == torch.uint8 and ours.shape == images.shape
    assert torch.equal(ours, reference)
    assert torch.equal(images, before)  # the input is never modified


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("size", [(224, 224), (160, 213)])
def test_native_equals_torch_on_large_photos(size, interpolation):
    from skimage import data

    photo = torch.from_numpy(data.astronaut()).permute(2, 0, 1)
    images = torch.nn.functional.interpolate(photo[None].float(), size=size, mode="bilinear")
    images = images.round().clamp(0, 255).to(torch.uint8).expand(len(OPS) * 2, -1, -1, -1).contiguous()
    generator = torch.Generator().manual_seed(1)
    plan = random_plan(generator, images.shape[0], 1, 1)
    ops = torch.arange(len(OPS)).repeat(2).view(-1, 1, 1)  # every op of the table, twice
    plan = Plan(ops, torch.where(ops == plan.ops, plan.magnitudes, torch.ones_like(plan.magnitudes)))
    native_result = apply_plan(images, plan, interpolation=interpolation, backend="native")
    reference = apply_plan(images, plan, interpolation=interpolation, backend="torch")
    # one op per image: one level at most, or a neighbour's value under nearest-neighbour resampling
    assert_paths_agree(native_result, reference, levels=1 if interpolation == "bilinear" else None)


@pytest.mark.parametrize(
    "policy",
    ["ta_wide", "rand-n2-m9", "rand-n3-m15-s2", "auto-imagenet", "augmix", "augmix-inearest", "ta_wide-f128-ibilinear"],
)
def test_policies_give_the_same_images_on_both_paths(policy, photos, monkeypatch):
    augment = mt.image.policy(policy)
    augment.seed = 11
    images = photos.repeat(4, 1, 1, 1)
    index = torch.arange(images.shape[0])
    compiled = augment(images, index=index)
    monkeypatch.setenv("MITHRIDATE_NATIVE", "0")
    assert not native.available()
    assert_paths_agree(compiled, augment(images, index=index))


def test_results_do_not_depend_on_threads_or_layout(photos):
    generator = torch.Generator().manual_seed(3)
    images = photos.repeat(8, 1, 1, 1)
    plan = random_plan(generator, images.shape[0], 1, 2)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = apply_plan(images, plan, backend="native")
        torch.set_num_threads(2)
        two = apply_plan(images, plan, backend="native")
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(one, two)
    channels_last = images.to(memory_format=torch.channels_last)
    assert torch.equal(apply_plan(channels_last, plan, backend="native"), one)
    assert torch.equal(apply_plan(images[::2], Plan(plan.ops[::2], plan.magnitudes[::2]), backend="native"), one[::2])


def _seeded_ta_wide() -> mt.image.Policy:
    policy = mt.image.policy("ta_wide")
    policy.seed = 7
    return policy


def _augment_and_corrupt(images: torch.Tensor) -> np.ndarray:
    augmented = _seeded_ta_wide()(images, index=torch.arange(8))
    corrupted = mt.image.corruptions.corrupt(images, "motion_blur", 3, seed=1)
    return torch.cat([augmented, corrupted]).numpy()


def _augment_in_child(queue) -> None:
    images = torch.arange(8 * 3 * 16 * 16, dtype=torch.int64).remainder(251).to(torch.uint8).view(8, 3, 16, 16)
    queue.put(_augment_and_corrupt(images))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method")
def test_a_forked_process_gets_a_working_thread_pool():
    """Policies and corruptions share one pool; a DataLoader worker forked after it started must not hang."""
    images = torch.arange(8 * 3 * 16 * 16, dtype=torch.int64).remainder(251).to(torch.uint8).view(8, 3, 16, 16)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        expected = _augment_and_corrupt(images)  # the pool exists now
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_augment_in_child, args=(queue,))
        child.start()
        try:
            result = queue.get(timeout=60)
            child.join(timeout=60)
        finally:
            if child.is_alive():
                child.kill()
    finally:
        torch.set_num_threads(threads)
    assert child.exitcode == 0
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize(
    ("images", "options", "what"),
    [
        (torch.rand(2, 3, 8, 8), {}, "uint8"),
        (torch.zeros(2, 3, 8, 8, dtype=torch.uint8), {"interpolation": "bicubic"}, "nearest or bilinear"),
        (torch.zeros(2, 3, 8, 8, dtype=torch.uint8), {"fill": 0.5}, "integer fill"),
        (torch.zeros(2, 3, 8, 8, dtype=torch.uint8), {"fill": 300}, "integer fill"),
        (torch.zeros(1, 3, 257, 257, dtype=torch.uint8), {}, "pixels"),
    ],
)
def test_native_backend_says_what_it_needs(images, options, what):
    plan = Plan(torch.full((images.shape[0], 1, 1), 6), torch.zeros(images.shape[0], 1, 1, dtype=torch.float64))
    assert not native.supports(images, options.get("interpolation", "nearest"), options.get("fill"))
    with pytest.raises(ValueError, match=what):
        apply_plan(images, plan, backend="native", **options)
    auto = apply_plan(images, plan, **options)  # "auto" falls back to torch
    assert torch.equal(auto, apply_plan(images, plan, backend="torch", **options))


def test_unknown_backend_is_refused():
    images = torch.zeros(1, 3, 4, 4, dtype=torch.uint8)
    plan = Plan(torch.zeros(1, 1, 1, dtype=torch.int64), torch.zeros(1, 1, 1, dtype=torch.float64))
    with pytest.raises(ValueError, match="backend: expected one of"):
        apply_plan(images, plan, backend="numba")


def test_switch_off_by_environment(monkeypatch):
    monkeypatch.setenv("MITHRIDATE_NATIVE", "0")
    assert not native.available()
    assert not native.supports(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), "nearest", None)
    monkeypatch.setenv("MITHRIDATE_NATIVE", "1")
    assert native.available()


@pytest.mark.parametrize("op", ["Color", "Contrast"])
def test_every_rgb_colour_gives_the_same_luma_blend(op):
    """All 2**24 colours (256 images of 256x256: red by image, green by row, blue by column), so that
    every rounding of the luma and of the blend is met, not only those random images happen to hit."""
    values = torch.arange(256, dtype=torch.uint8)
    red, green, blue = torch.broadcast_tensors(values.view(-1, 1, 1), values.view(1, -1, 1), values.view(1, 1, -1))
    images = torch.stack([red, green, blue], dim=1)
    magnitudes = torch.tensor([-0.8, -0.3, 0.37, 0.9], dtype=torch.float64).repeat(64).view(-1, 1, 1)
    plan = Plan(torch.full((256, 1, 1), OP_IDS[op]), magnitudes)
    compiled, reference = apply_plan(images, plan, backend="native"), apply_plan(images, plan, backend="torch")
    assert_paths_agree(compiled, reference, share=1e-2, levels=1)  # Color without fusing: 3.7e-3 of the values


@pytest.mark.skipif(
    importlib.util.find_spec("triton") is None, reason="Triton is not installed (CUDA builds of torch have it)"
)
def test_fused_triton_path_equals_torch_in_the_interpreter():
    """The fused GPU kernels, run by Triton's interpreter on the CPU (its fma made a true fma, as on a GPU),
    give the compiled CPU path's bytes: every op, both interpolations, fills, gray images, chains and mixing;
    on float32 images the torch path's values to within a few ulps (torch's CPU kernels sum Contrast's mean
    and, on narrow images, the bilinear weights in orders of their own; 1e-5 where they round products
    apart, under ATEN_CPU_CAPABILITY=default)."""
    script = Path(__file__).with_name("_triton_check.py")
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    for seed in (0, 1):
        run = subprocess.run([sys.executable, str(script), str(seed)], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-2000:]
        results = json.loads(run.stdout.strip().splitlines()[-1])
        assert len(results) == 27
        for case, result in results.items():
            if case.startswith("float32 policy") and not TORCH_FUSES:  # stepped ops anywhere in the chains
                assert result["identical"] > 0.8, case  # an ulp may cross a Posterize or Equalize level
            elif case.startswith("float32"):  # torch's CPU kernels round their last bits in ways of their own
                assert result["identical"] > 0.8 and result["max"] <= (1e-6 if TORCH_FUSES else 1e-5), case
            else:
                assert result == {"identical": 1.0, "max": 0}, case


def test_triton_backend_refuses_what_it_cannot_run():
    images = torch.zeros(2, 3, 8, 8, dtype=torch.uint8)  # a CPU tensor, without the interpreter
    plan = Plan(torch.zeros(2, 1, 1, dtype=torch.int64), torch.zeros(2, 1, 1, dtype=torch.float64))
    if os.environ.get("TRITON_INTERPRET") != "1":
        with pytest.raises(ValueError, match="backend: 'triton' needs Triton and CUDA uint8 or float32"):
            apply_plan(images, plan, backend="triton")
    with pytest.raises(ValueError, match="backend: 'triton'"):
        apply_plan(images.double(), plan, backend="triton")  # float64: not on the fused path
    with pytest.raises(ValueError, match="backend: 'triton'"):
        apply_plan(images, plan, backend="triton", fill=(1, 2))  # two fill values for three channels


@pytest.mark.skipif(
    importlib.util.find_spec("triton") is None, reason="Triton is not installed (CUDA builds of torch have it)"
)
def test_a_policy_call_on_a_cuda_batch_never_waits_for_the_device():
    """Every policy's call on fake CUDA tensors (no GPU needed): no read of the device's memory (it would raise
    there) and no blocking copy between host and device once the per-device caches are filled.

    The fused path (uint8 and float32): one Triton launch for the plan's grids, two per step and one per draw, and few
    torch kernels around them (launches bound a GPU call on small batches); host indices come over in one
    asynchronous copy from pinned memory. The torch path (the Triton paths off), uint8 and float32, with
    host indices or none: the plan is drawn and grouped on the host and copied over asynchronously."""
    script = Path(__file__).with_name("_sync_check.py")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(run.stdout.strip().splitlines()[-1])
    # policy: (steps, draws, most torch kernels); one more draw where a dose's p < 1 gates the samples
    expected = {
        "ta_wide": (1, 3, 10),
        "ta_wide-s2": (1, 3, 10),
        "rand-n2-m9": (2, 2, 10),
        "auto-imagenet": (2, 3, 17),
        "augmix": (9, 8, 125),
        "ta_wide-ibilinear-f128": (1, 3, 10),
    }
    cases = ("device index", "host index", "no index")
    fused = {f"{policy} {dtype} {case}" for policy in expected for dtype in ("uint8", "float32") for case in cases}
    assert set(results["fused"]) == fused
    for key, result in results["fused"].items():
        policy, _, case = key.split(" ", 2)
        steps, draws, kernels = expected[policy]
        assert result["copies"] == [], key
        assert result["async_copies"] == result["pinned"] == (1 if case == "host index" else 0), key
        assert result["grid_launches"] == 1, key
        assert result["step_launches"] == result["table_launches"] == steps, key
        assert result["draw_launches"] == draws, key
        assert result["torch_kernels"] <= kernels + (1 if case == "no index" else 0), key  # + the arange
    torch_cases = {f"{p} {dtype} {case}" for p in expected for dtype in ("uint8", "float32") for case in cases[1:]}
    assert set(results["torch"]) == torch_cases
    for key, result in results["torch"].items():
        assert result["read"] is None, (key, result["read"])
        assert result["copies"] == [], key
        assert 0 < result["async_copies"] == result["pinned"] <= 8, key  # the plan's tensors and step orders


def test_the_fused_gpu_path_checks_itself_once_per_configuration_and_turns_off_when_a_byte_differs(monkeypatch):
    """Before "auto" takes the fused path on a device, a batch through every op must give the CPU's bytes there
    (`gpu.verified`): checked once per configuration; one differing byte warns and turns the Triton paths off, so
    a GPU whose compiler computes otherwise changes no result. The kernels are stood in for by the CPU paths."""
    from mithridate._backend import switch
    from mithridate.image import gpu

    monkeypatch.delenv("MITHRIDATE_TRITON", raising=False)  # on by default
    monkeypatch.setattr(switch, "_triton_failure", None)
    monkeypatch.setattr(gpu._check, "_verdicts", {})
    monkeypatch.setattr(gpu, "supports", lambda *args: True)
    runs = []

    def faithful(images, ops, magnitudes, weights, fill, interpolation, mix):
        runs.append(images.shape)
        options = {"interpolation": interpolation, "fill": fill}
        backend = "native" if images.dtype == torch.uint8 else "torch"  # what the check compares with
        return apply_plan(images, Plan(ops, magnitudes, weights), backend=backend, **options)

    def off_by_one(*args):
        out = faithful(*args)
        out.view(-1)[123] ^= 1
        return out

    images, plan = gpu.check_batch(3)
    assert set(plan.ops[:, 0, -1].tolist()) == set(range(len(OPS))) and plan.weights is not None
    float_images, float_plan = gpu.check_batch(3, dtype=torch.float32)
    assert float_images.dtype == torch.float32 and float_images.min() >= 0 and float_images.max() <= 1
    stepped = torch.tensor([OP_IDS[name] for name in gpu._check._STEPPED])  # a few ulps could cross a step
    assert not torch.isin(float_plan.ops[:, :, :-1], stepped).any() and torch.isin(plan.ops[:, :, :-1], stepped).any()
    assert images.shape[-2] * images.shape[-1] > 1024  # more than the statistics block of the tables kernel
    monkeypatch.setattr(gpu, "run_plan", faithful)

    def batch(channels, height, width, chains, depth, weighted=False, dtype=torch.uint8):
        """A batch and a plan of these shapes: only shapes and the dtype select the check (values are not read)."""
        ops = torch.zeros((2, chains, depth), dtype=torch.int64)
        weights = torch.full((2, chains + 1), 1.0 / (chains + 1)) if weighted else None
        return torch.zeros((2, channels, height, width), dtype=dtype), Plan(ops, ops.double(), weights)

    ta_224 = batch(3, 224, 224, 1, 1)
    assert gpu.verified(*ta_224, "bilinear", None, apply_plan) and gpu.verified(*ta_224, "bilinear", None, apply_plan)
    n = 2 * len(OPS)  # two samples per op
    assert runs == [(n, 3, 48, 48)]  # once per configuration; sides of the same kind (multiples of 16)
    assert gpu.verified(*batch(3, 160, 96, 1, 1), "bilinear", None, apply_plan) and len(runs) == 1  # same kernels
    assert gpu.verified(*batch(1, 28, 1, 1, 2), "nearest", 7, apply_plan) and runs[-1] == (n, 1, 28, 1)
    assert gpu.verified(*batch(3, 224, 224, 3, 3, weighted=True), "bilinear", None, apply_plan) and len(runs) == 3
    assert gpu.verified(*batch(3, 100, 31, 1, 1), "bilinear", None, apply_plan) and runs[-1] == (n, 3, 37, 31)
    assert gpu.verified(*batch(3, 224, 224, 1, 1, dtype=torch.float32), "bilinear", None, apply_plan) and len(runs) == 5
    monkeypatch.setattr(gpu, "run_plan", off_by_one)
    match = r"self-check of the fused GPU path failed .*uint8 with 3 channels, nearest, fill=None, its values differ"
    match += r" from the CPU's at 1 of \d+, by up to 1\)"
    with pytest.warns(RuntimeWarning, match=match):
        assert not gpu.verified(*ta_224, "nearest", None, apply_plan)
    assert not switch.triton_enabled()
    assert not gpu.verified(*ta_224, "bilinear", None, apply_plan)  # every configuration is off once one failed
    assert len(runs) == 6


def test_auto_falls_back_to_the_torch_path_once_the_fused_gpu_path_fails(monkeypatch):
    """With the Triton paths on, a fused path that raises (a compiler that rejects the kernels) warns once and
    leaves the torch path for the rest of the process; an explicit backend="triton" would raise instead."""
    from mithridate.image import executor

    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("no kernel image for this device")

    images = torch.randint(0, 256, (6, 3, 9, 9), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    plan = mt.image.TrivialAugmentWide(seed=0).sample(6, (9, 9))
    reference = apply_plan(images, plan, backend="torch")
    from mithridate._backend import switch

    monkeypatch.setenv("MITHRIDATE_TRITON", "1")
    monkeypatch.setattr(switch, "_triton_failure", None)
    assert not executor.gpu.preferred(images, "nearest", None)  # a CPU batch
    monkeypatch.setattr(executor.gpu, "run_plan", broken)
    monkeypatch.setattr(executor.gpu, "preferred", lambda *args: switch.triton_enabled())  # as on CUDA
    monkeypatch.setattr(executor.gpu, "verified", lambda *args: True)  # checked: it fails at the launch
    with pytest.warns(RuntimeWarning, match=r"fused GPU path failed \(RuntimeError: no kernel image"):
        first = apply_plan(images, plan)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = apply_plan(images, plan)
    assert len(calls) == 1
    assert torch.equal(first, reference) and torch.equal(second, reference)


@pytest.mark.skipif(
    importlib.util.find_spec("triton") is None, reason="Triton is not installed (CUDA builds of torch have it)"
)
def test_the_triton_kernels_compile_for_real_gpus_with_exact_float_arithmetic(tmp_path):
    """Every Triton kernel, in every specialisation launched, compiles to a cubin for sm_90 and sm_80 without a
    GPU, and its PTX names the rounding of each float32 add, multiply, fma and divide (none approximate)."""
    script = Path(__file__).with_name("_gpu_compile_check.py")
    env = {**os.environ, "TRITON_CACHE_DIR": str(tmp_path)}
    env.pop("TRITON_INTERPRET", None)
    run = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(results) == 54
    assert {name: result for name, result in results.items() if result != "ok"} == {}


def test_host_tensors_go_to_cuda_pinned_and_without_waiting(monkeypatch):
    """`transfer.to_device`: a host tensor bound for CUDA is pinned and copied with non_blocking=True (from
    pageable memory the copy would wait for the stream); other moves are plain `.to`. No GPU here: the
    pinning and the copy are recorded instead."""
    from mithridate._backend import transfer

    calls = []
    real_to = torch.Tensor.to

    def pin(self):
        calls.append("pin")
        return self

    def to(self, *args, **kwargs):
        device = torch.device(args[0]) if args else kwargs.get("device")
        if isinstance(device, torch.device) and device.type == "cuda":
            calls.append(("to", device.type, kwargs.get("non_blocking", False)))
            return self
        return real_to(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "pin_memory", pin)
    monkeypatch.setattr(torch.Tensor, "to", to)
    host = torch.arange(4)
    assert transfer.to_device(host, "cuda") is host and calls == ["pin", ("to", "cuda", True)]
    calls.clear()
    assert transfer.to_device(host, None) is host and transfer.to_device(host, "cpu") is host and calls == []
    assert transfer.to_device(host, "meta").device.type == "meta" and calls == []
    table = transfer.constant((1.0, 2.0), torch.float32, torch.device("cpu"))
    assert table is transfer.constant((1.0, 2.0), torch.float32, torch.device("cpu"))  # made once
    assert table.tolist() == [1.0, 2.0] and table.dtype == torch.float32
