"""Host tensors to an accelerator without waiting for it.

A copy from pageable host memory to a CUDA device first waits for the device's stream (CUDA's documented
behaviour; torch's blocking copy also synchronises after it): one such copy per batch (sample indices, a
plan drawn on the host) would stall a training step on the previous one. From pinned memory with
`non_blocking=True` the copy is queued on the stream instead; torch's caching host allocator keeps the
pinned block alive until the copy has run.
"""

from __future__ import annotations

import functools

import torch

__all__ = ["constant", "to_device"]


def to_device(tensor: torch.Tensor, device: torch.device | str | None) -> torch.Tensor:
    """`tensor` on `device`: a host tensor bound for CUDA is pinned and copied asynchronously."""
    if device is None:
        return tensor
    device = torch.device(device)
    if device.type == "cuda" and tensor.device.type == "cpu":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


@functools.lru_cache(maxsize=512)
def constant(values: tuple, dtype: torch.dtype, device: torch.device | str) -> torch.Tensor:
    """`torch.tensor(values, dtype=dtype)` on `device`, made once per process (values: nested tuples).

    For the small constant tables of kernels (colours, scales, quantisation steps): built on the host at
    every call, each would be a copy to the device. Shared: callers must not modify it.
    """
    return to_device(torch.tensor(values, dtype=dtype), device)
