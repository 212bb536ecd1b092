"""The Python standard library as a corpus of files: real code that no one here wrote, on every machine.

`stdlib_files()` lists its `.py` files (`sysconfig.get_paths()["stdlib"]`), sorted, without the test suites
(`test/`, `tests/`, `idle_test/`), `idlelib/`, `site-packages/` and caches; `limit` spreads a sample evenly over
the sorted list, so the same files come back on every call.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

__all__ = ["EXCLUDED_FOLDERS", "stdlib_files", "stdlib_root"]

EXCLUDED_FOLDERS = ("test", "tests", "idle_test", "idlelib", "site-packages", "__pycache__")


def stdlib_root() -> Path:
    """The standard library's folder (`sysconfig.get_paths()["stdlib"]`)."""
    return Path(sysconfig.get_paths()["stdlib"])


def stdlib_files(limit: int | None = None, root: str | Path | None = None) -> list[Path]:
    """The `.py` files under `root` (default: the standard library), sorted, none inside an excluded folder; with
    `limit`, that many spread evenly over the sorted list."""
    base = Path(root) if root is not None else stdlib_root()
    if not base.is_dir():
        raise ValueError(f"root: expected a directory of Python files, got {str(base)!r}")
    excluded = set(EXCLUDED_FOLDERS)
    files = sorted(path for path in base.rglob("*.py") if not excluded.intersection(path.relative_to(base).parts[:-1]))
    if limit is not None and 0 < limit < len(files):
        step = len(files) / limit
        files = [files[int(i * step)] for i in range(limit)]
    return files
