"""The switches of the compiled paths, read at every call so that a test or a benchmark can compare paths in
one process.

- MITHRIDATE_NATIVE=0 turns the compiled CPU paths (draws, policies, corruptions) off;
- MITHRIDATE_TRITON=0 turns the Triton paths on CUDA (draws, fused policies) off; they are on by default.
  Each kernel variant checks itself once per device against the CPU before it is used
  (`rng_triton.verified`, `image.gpu.verified`). A Triton launch that fails (a compiler or driver
  that rejects the kernels) or a self-check that differs turns them all off for the rest of the process,
  with one warning, rather than stop a training run or change its results.
"""

from __future__ import annotations

import os
import warnings

__all__ = ["native_enabled", "triton_enabled", "triton_failed"]

_triton_failure: str | None = None
"""What the first failed Triton launch raised; None while none has failed."""


def native_enabled() -> bool:
    """False when the environment variable MITHRIDATE_NATIVE is "0"."""
    return os.environ.get("MITHRIDATE_NATIVE", "1") != "0"


def triton_enabled() -> bool:
    """False when the environment variable MITHRIDATE_TRITON is "0" or a Triton path has failed."""
    return _triton_failure is None and os.environ.get("MITHRIDATE_TRITON", "1") != "0"


def triton_failed(error: Exception, what: str) -> None:
    """Turn the Triton paths off for the rest of the process, with one warning naming `what` failed."""
    global _triton_failure
    _triton_failure = f"{type(error).__name__}: {error}"
    warnings.warn(
        f"mithridate: {what} failed ({_triton_failure}); the torch code runs for the rest of the process",
        RuntimeWarning,
        stacklevel=3,
    )
