"""Small constant tables (kernels, colours, quantisation steps) as tensors on a device, made once per process.

A copy from pageable host memory to a GPU waits for the device's stream first: a table built on the host
and copied at every call would synchronise every corruption call. Cached tensors are shared: callers must
not modify them.
"""

from __future__ import annotations

import functools

import torch

__all__ = ["constant"]


@functools.lru_cache(maxsize=512)
def constant(values: tuple, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """`torch.tensor(values, dtype=dtype)` on `device`, copied there once (values: nested tuples)."""
    return torch.tensor(values, dtype=dtype).to(device)
