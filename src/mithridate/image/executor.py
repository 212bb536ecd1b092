"""Apply a plan to a batch: group the samples by the op they drew and run each op once on its group.

All geometric samples of a step share one resampling call (each with its own matrix); every other op
runs once, vectorised over the samples that drew it, and the results are scattered back. There is no
loop over images: the loops are over steps, chains and the op table.

On the CPU, uint8 batches go by default to the compiled path (`image.native`), which gives the same
bytes without the per-group dispatch; `backend="torch"` keeps them here.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch

from .._backend.switch import triton_failed
from .._backend.transfer import to_device
from . import functional as F
from . import gpu, native
from .ops import GEOMETRIC_IDS, OPS, apply_op, geometric_matrices
from .plan import Plan

__all__ = ["apply_plan", "draws_on_host"]

_FIRST_GEOMETRIC, _LAST_GEOMETRIC = min(GEOMETRIC_IDS), max(GEOMETRIC_IDS)
assert list(GEOMETRIC_IDS) == list(range(_FIRST_GEOMETRIC, _LAST_GEOMETRIC + 1)), "geometric ids must be contiguous"


def _words(images: torch.Tensor) -> torch.Tensor | None:
    """A contiguous batch viewed as rows of 8-byte words, one row per image (None if it cannot be)."""
    row = images[0].numel() * images.element_size() if images.shape[0] else 0
    if images.is_contiguous() and row and row % 8 == 0:
        return images.view(images.shape[0], -1).view(torch.int64)
    return None


def _take(images: torch.Tensor, index: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """images[index] along the batch, into `out` if given; whole images move as 8-byte words when the
    layout allows (index_select copies uint8 byte by byte: measured 4x slower at 224x224)."""
    words = _words(images)
    out_words = None if out is None else _words(out)
    if words is not None and (out is None or out_words is not None):
        if out_words is None:
            return words.index_select(0, index).view(images.dtype).view(-1, *images.shape[1:])
        torch.index_select(words, 0, index, out=out_words)
        return out
    if out is None:
        return images.index_select(0, index)
    return torch.index_select(images, 0, index, out=out)


def _run_group(
    images: torch.Tensor,
    op: int,
    magnitudes: torch.Tensor,
    matrices: torch.Tensor,
    interpolation: str,
    fill: float | Sequence[float] | None,
    dest: torch.Tensor,
) -> None:
    """One kernel call for a group of images that drew the same op (all geometric ops are one group)."""
    if OPS[op].geometric:
        dest[:] = F.affine(images, matrices, interpolation=interpolation, fill=fill)
    else:
        dest[:] = apply_op(OPS[op].name, images, magnitudes)


def _apply_step(
    images: torch.Tensor,
    ops: torch.Tensor,
    magnitudes: torch.Tensor,
    matrices: torch.Tensor,
    interpolation: str,
    fill: float | Sequence[float] | None,
    out: torch.Tensor | None = None,
    host_ops: torch.Tensor | None = None,
) -> torch.Tensor:
    """One step of every chain: sort the batch by op, run each op once on its slice, unsort.

    Sorting makes every group a contiguous slice, so the batch is gathered and scattered once per
    step instead of once per op. Writes into `out` when given; never writes into `images`. The group
    sizes steer the loop: with `host_ops` (the same ops on the host) they are counted there and the
    order is copied to the device without waiting; otherwise they are read from `ops`.
    """
    grouping = ops if host_ops is None else host_ops
    counts = torch.bincount(grouping, minlength=len(OPS)).tolist()
    geometric = sum(counts[i] for i in GEOMETRIC_IDS)
    sizes = [counts[0], geometric] + [c for i, c in enumerate(counts) if i and not OPS[i].geometric]
    if max(sizes) == ops.shape[0]:  # a single group: no sorting needed
        op = int(grouping[0])
        if op == 0:
            return images if out is None else out.copy_(images)
        out = torch.empty_like(images) if out is None else out
        _run_group(images, op, magnitudes, matrices, interpolation, fill, out)
        return out
    order = to_device(torch.argsort(grouping, stable=True), ops.device)
    work = _take(images, order)
    magnitudes = magnitudes.index_select(0, order)
    starts = [0]
    for count in counts:
        starts.append(starts[-1] + count)
    first, last = starts[_FIRST_GEOMETRIC], starts[_LAST_GEOMETRIC + 1]
    if last > first:
        moves = matrices.index_select(0, order[first:last])
        _run_group(work[first:last], _FIRST_GEOMETRIC, moves, moves, interpolation, fill, work[first:last])
    for op, spec in enumerate(OPS):
        if op == 0 or spec.geometric or counts[op] == 0:
            continue
        group = slice(starts[op], starts[op + 1])
        _run_group(work[group], op, magnitudes[group], matrices, interpolation, fill, work[group])
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(order.shape[0], device=order.device)
    return _take(work, inverse, out)


def _mix(images: torch.Tensor, chains: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted sum of the original images and their chains, rounded back to uint8 where needed."""
    dtype = images.dtype if images.is_floating_point() else torch.float32
    w = weights.to(dtype)
    mix = images.to(dtype) * w[:, 0].view(-1, 1, 1, 1)
    for chain in range(chains.shape[1]):
        mix.add_(chains[:, chain].to(dtype) * w[:, chain + 1].view(-1, 1, 1, 1))
    if images.is_floating_point():
        return mix.clamp_(0.0, 1.0)
    return mix.round_().clamp_(0, 255).to(images.dtype)


# CPU kernels stream each intermediate through memory; a batch larger than the caches is several times
# slower per image than one that fits (measured: 64 images at 224x224 ran 5x slower per image than 2).
# So on the CPU a batch is applied in chunks of about this many elements; accelerators take it whole.
CPU_CHUNK_ELEMENTS = 1 << 20
_BACKENDS = ("auto", "torch", "native", "triton")


def _chunk_size(images: torch.Tensor, chains: int, chunk_elements: int | None) -> int:
    n = images.shape[0]
    if chunk_elements is None:
        chunk_elements = CPU_CHUNK_ELEMENTS if images.device.type == "cpu" else 0
    if chunk_elements <= 0:
        return max(n, 1)
    per_sample = max(images[0].numel() * chains, 1) if n else 1
    return max(chunk_elements // per_sample, 1)


def _apply_chunk(
    images: torch.Tensor,
    ops: torch.Tensor,
    magnitudes: torch.Tensor,
    matrices: torch.Tensor,
    weights: torch.Tensor | None,
    interpolation: str,
    fill: float | Sequence[float] | None,
    out: torch.Tensor,
    host_ops: torch.Tensor | None = None,
) -> None:
    """Apply a chunk's plan, writing the result into `out` (a view of the output batch); `host_ops`, the
    ops on the host where the plan was drawn there, steer the grouping (`_apply_step`)."""
    n, chains, depth = ops.shape
    work = images if chains == 1 else images.repeat_interleave(chains, dim=0)
    ops = ops.reshape(n * chains, depth)
    host_ops = None if host_ops is None else host_ops.reshape(n * chains, depth)
    magnitudes = magnitudes.reshape(n * chains, depth)
    matrices = matrices.reshape(n * chains, depth, 2, 3)
    for step in range(depth):
        last = step == depth - 1 and weights is None
        work = _apply_step(
            work,
            ops[:, step],
            magnitudes[:, step],
            matrices[:, step],
            interpolation,
            fill,
            out if last else None,
            None if host_ops is None else host_ops[:, step],
        )
    if weights is not None:
        out.copy_(_mix(images, work.view(n, chains, *images.shape[1:]), weights))
    elif depth == 0:
        out.copy_(images)


def draws_on_host(images: torch.Tensor, interpolation: str, fill: float | Sequence[float] | None) -> bool:
    """Whether a policy should draw the plan of this batch on the host: a batch on an accelerator that the
    torch path will apply, which groups samples by op and must know the group sizes. Drawn on the device,
    the plan would be read back (a wait per step); drawn on the host (the same draws), it is counted there
    and copied over without waiting. The fused GPU path reads the plan on the device: it draws there."""
    return images.device.type != "cpu" and not gpu.preferred(images, interpolation, fill)


_SMALL_PLAN = 16
"""Steps up to which a CPU plan's matrices come one by one from `_step_matrix`'s cache."""


def _plan_matrices(plan: Plan, height: int, width: int) -> torch.Tensor | None:
    """The matrices (N, W, D, 2, 3) of every geometric step of the plan, computed once; other steps get an
    unused one. On the CPU, None for a plan without geometric steps (a small batch, often), and a small
    plan's matrices are looked up step by step (a policy's magnitudes come from a few table entries)."""
    ops = plan.ops
    if ops.device.type == "cpu":
        flat = ops.numpy().ravel()
        if not ((flat >= GEOMETRIC_IDS[0]) & (flat <= GEOMETRIC_IDS[-1])).any():
            return None
        if flat.size <= _SMALL_PLAN:
            # keyed by the magnitude's bits: -0.0 == 0.0 as dict keys, but not as matrices
            bits = plan.magnitudes.to(torch.float64).flatten().view(torch.int64).tolist()
            matrices = [_step_matrix(op, word, height, width) for op, word in zip(flat.tolist(), bits, strict=True)]
            return torch.stack(matrices).view(*ops.shape, 2, 3)
    matrices = geometric_matrices(ops.flatten(), plan.magnitudes.flatten(), height, width)
    return matrices.view(*ops.shape, 2, 3)


@functools.lru_cache(maxsize=4096)
def _step_matrix(op: int, magnitude_bits: int, height: int, width: int) -> torch.Tensor:
    """One step's matrix (2, 3), as `geometric_matrices` computes it in a batch (elementwise: the same bits),
    for the float64 magnitude with these bits. Cached: a caller must not modify it (`_plan_matrices` stacks
    copies)."""
    magnitude = torch.tensor([magnitude_bits], dtype=torch.int64).view(torch.float64)
    return geometric_matrices(torch.tensor([op], dtype=torch.int64), magnitude, height, width)[0]


def apply_plan(
    images: torch.Tensor,
    plan: Plan,
    *,
    interpolation: str = "nearest",
    fill: float | Sequence[float] | None = None,
    chunk_elements: int | None = None,
    backend: str = "auto",
) -> torch.Tensor:
    """Run a plan on (N, C, H, W) images; returns a new tensor, the input is never modified.

    `backend`: "torch" runs the batched torch kernels; "native" the compiled CPU path for uint8 images
    (`mithridate.image.native`, same results, raises where it does not apply); "auto" picks native
    wherever it applies, and on CUDA the fused GPU path once its self-check passed there (`gpu.verified`;
    MITHRIDATE_TRITON=0 turns it off; a failed launch or check falls back to the torch path, with a warning);
    "triton" the fused GPU path itself (uint8 or float32 on CUDA: two launches per step, no host sync).
    `chunk_elements` bounds the elements the torch path processes at once (None: `CPU_CHUNK_ELEMENTS` on
    the CPU, the whole batch elsewhere; 0: the whole batch). Results depend on neither.
    """
    if backend not in _BACKENDS:
        raise ValueError(f"backend: expected one of {_BACKENDS}, got {backend!r}")
    if plan.num_samples != images.shape[0]:
        raise ValueError(f"plan: made for {plan.num_samples} samples, but the batch has {images.shape[0]} images")
    # A plan drawn on the host for a device batch: the torch path groups by op there, not on the device.
    host_plan = plan if plan.device.type == "cpu" and images.device.type != "cpu" else None
    if plan.device != images.device:
        plan = plan.to(images.device)
    n = images.shape[0]
    if n == 0:
        return images.clone()
    if (
        backend == "auto"
        and gpu.preferred(images, interpolation, fill)
        and gpu.verified(images, plan, interpolation, fill, apply_plan)
    ):
        try:
            return gpu.run_plan(images, plan.ops, plan.magnitudes, plan.weights, fill, interpolation, _mix)
        except Exception as error:  # a compiler or driver that rejects the kernels must not stop training
            triton_failed(error, "the fused GPU path")
        backend = "torch"
    if backend == "triton":
        if not gpu.supports(images, interpolation, fill):
            raise ValueError(
                "backend: 'triton' needs Triton and CUDA uint8 or float32 (N, C, H, W) images with 1 or 3 "
                "channels, nearest or bilinear interpolation and one fill value or one per channel (for uint8, "
                f"integers in [0, 255]); got {images.device.type} "
                f"{images.dtype} {tuple(images.shape)}, {interpolation!r}, fill={fill!r}"
            )
        return gpu.run_plan(images, plan.ops, plan.magnitudes, plan.weights, fill, interpolation, _mix)
    matrices = _plan_matrices(plan if host_plan is None else host_plan, *images.shape[-2:])  # None: no geometric
    if backend != "torch" and native.supports(images, interpolation, fill):
        return native.run_plan(images, plan.ops, plan.magnitudes, matrices, plan.weights, fill, interpolation)
    if backend == "native":
        raise ValueError(
            "backend: 'native' needs CPU uint8 (N, C, H, W) images with 1 or 3 channels and at most "
            f"{native.MAX_PIXELS} pixels, nearest or bilinear interpolation, an integer fill in [0, 255] and "
            "numba; "
            f"got {images.device.type} {images.dtype} {tuple(images.shape)}, {interpolation!r}, fill={fill!r}"
        )
    if matrices is None:  # no geometric step: the groups never read them
        matrices = torch.zeros((*plan.ops.shape, 2, 3), dtype=torch.float64, device=images.device)
    else:
        matrices = to_device(matrices, images.device)
    size = _chunk_size(images, plan.chains, chunk_elements)
    out = torch.empty_like(images, memory_format=torch.contiguous_format)
    for start in range(0, n, size):
        part = slice(start, start + size)
        weights = None if plan.weights is None else plan.weights[part]
        args = (plan.ops[part], plan.magnitudes[part], matrices[part], weights)
        host_ops = None if host_plan is None else host_plan.ops[part]
        _apply_chunk(images[part], *args, interpolation, fill, out[part], host_ops)
    return out
