"""One module per library of the text benchmark; each says whether it can run here and prepares each case.

A library module has `NAME`, `MODE` (how it is called: "batch" for the whole input in one call per batch,
"per sentence" for a Python loop over the sentences inside the library), `PACKAGE`, `unavailable() -> str |
None`, `version() -> str`, and `prepare(case, inputs, targets) -> Prepared | None`: the runner of the case on
every input (one call processes all N sentences or all batches) and what it did (edits per sentence, masked
share, parameters), or None where the library has no counterpart. `targets` are mithridate's own figures
(edits per sentence per case), which peers match their rates to; mithridate gets an empty dict.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

__all__ = ["TEXT_LIBRARIES", "Prepared", "load", "missing", "package_version"]

TEXT_LIBRARIES: tuple[str, ...] = ("mithridate", "nlpaug", "transformers")
"""Every library the text benchmark knows, mithridate first (the peers match their rates to its figures)."""

_MODULES = {"mithridate": "ours", "nlpaug": "nlpaug_lib", "transformers": "transformers_lib"}


@dataclass
class Prepared:
    """A case ready to time: `run()` processes every input once; `info` says what it does (JSON-ready);
    `note` a caveat for the table."""

    run: Callable[[], Any]
    info: dict[str, Any] = field(default_factory=dict)
    note: str | None = None


def load(name: str) -> ModuleType:
    """The module of a library by name."""
    if name not in _MODULES:
        raise ValueError(f"libraries: expected some of {', '.join(TEXT_LIBRARIES)}, got {name!r}")
    return importlib.import_module(f"{__name__}.{_MODULES[name]}")


def missing(*modules: str) -> str | None:
    """None when every module is importable here, else a line naming the first one missing."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[bench]' or '.[dev]')"
    return None


def package_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"
