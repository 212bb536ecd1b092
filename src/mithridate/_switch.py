"""The switches of the compiled paths, read at every call so that a test or a benchmark can compare paths in
one process.

- MITHRIDATE_NATIVE=0 turns the compiled CPU paths (draws, policies, corruptions) off;
- MITHRIDATE_TRITON=1 turns the Triton paths on CUDA (draws, policies) on: opt-in until measured on a GPU.
"""

from __future__ import annotations

import os

__all__ = ["native_enabled", "triton_enabled"]


def native_enabled() -> bool:
    """False when the environment variable MITHRIDATE_NATIVE is "0"."""
    return os.environ.get("MITHRIDATE_NATIVE", "1") != "0"


def triton_enabled() -> bool:
    """True when the environment variable MITHRIDATE_TRITON is "1"."""
    return os.environ.get("MITHRIDATE_TRITON", "0") == "1"
