"""One module per library; each says whether it can run here and builds a runner per benchmark case.

A library module has:

- `NAME`, `MODE` ("batch": one call per batch; "per image": a Python loop over the images, as its users
  write it), `PACKAGE` (what `pip install` needs) and `DEVICES` (the device types it runs on);
- `unavailable() -> str | None`: why it cannot run here (not installed), or None;
- `version() -> str`;
- `prepare(case, images, device) -> Runner | None`: a runner for the case, or None where the library has
  no equivalent. `images` is the uint8 (N, C, H, W) batch on `device`; conversion to the library's own
  input format happens here, untimed. A runner takes how many images to process (per-image libraries
  process the first `count`; batch libraries always process the whole batch) and returns the output;
- `note(case) -> str | None`: a caveat the table prints (e.g. "one op per batch, not per sample").
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

__all__ = ["LIBRARIES", "Runner", "load"]

Runner = Callable[[int], Any]

LIBRARIES: tuple[str, ...] = (
    "mithridate",
    "torchvision",
    "albumentations",
    "kornia",
    "torchaug",
    "imagecorruptions",
    "copy",
)
"""Every library the harness knows, mithridate first; `copy` is the memory-bound reference row."""

_MODULES = {"copy": "reference", "mithridate": "ours"}


def load(name: str) -> ModuleType:
    """The module of library `name`."""
    if name not in LIBRARIES:
        raise ValueError(f"library: expected one of {', '.join(LIBRARIES)}, got {name!r}")
    return importlib.import_module(f"{__name__}.{_MODULES.get(name, name + '_lib')}")
