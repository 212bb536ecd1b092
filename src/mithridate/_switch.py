"""The switch of the compiled CPU paths (draws, policies, corruptions): MITHRIDATE_NATIVE=0 turns them off.

Read at every call, so that a test or a benchmark can compare both paths in one process.
"""

from __future__ import annotations

import os

__all__ = ["native_enabled"]


def native_enabled() -> bool:
    """False when the environment variable MITHRIDATE_NATIVE is "0"."""
    return os.environ.get("MITHRIDATE_NATIVE", "1") != "0"
