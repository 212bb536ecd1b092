"""Coverage and speed of the renaming and faulty-code ops on the Python standard library.

`measure(limit=...)` reads the standard library's files (`sysconfig.get_paths()["stdlib"]`, tests and
`site-packages` excluded), and reports per op: the share of modules and functions it applies to, the share of
renamed outputs verified (compiles and `alpha_equivalent`), and throughput on one thread (functions/s, tokens/s)
beside `tokenize`'s own round trip of the same files (`generate_tokens` then `untokenize`), the floor of any
tokenize-based tool. Run `python -m mithridate.code.python.measure --limit 60`.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

__all__ = ["stdlib_files"]

_EXCLUDED = frozenset({"test", "tests", "idle_test", "site-packages", "__pycache__"})


def stdlib_files(limit: int | None = None) -> list[Path]:
    """The standard library's .py files (tests and site-packages excluded), sorted; with `limit`, that many
    spread evenly over the sorted list (the same files on every call)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in root.rglob("*.py") if not _EXCLUDED & set(p.relative_to(root).parts[:-1]))
    if limit is not None and 0 < limit < len(files):
        step = len(files) / limit
        files = [files[int(i * step)] for i in range(limit)]
    return files
