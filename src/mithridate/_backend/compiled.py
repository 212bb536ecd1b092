"""`numba.njit` with an on-disk cache that cannot go stale: each kernel module's cache is keyed on its sources.

numba checks a cached kernel against its own file (modification time and size) and its bytecode only: an
edit of another file whose functions the kernel calls (the hash of `rng_compiled`, the fma) is not noticed,
and module-level tables the kernel froze as constants (the op ids of `image.ops`) keep their old values
(numba documents both). So the cache of each kernel module lives in a folder named after a hash of the
module's source, of every module of its own package it imports (directly or not, lazily or not: read from
the sources with `ast`) and of numba's version: any edit of any of them selects a new folder, and old code
is never loaded. The folder is `__pycache__/numba-<module>-<hash>` beside the module where that is writable,
else under the user's cache folder (`$XDG_CACHE_HOME` or ~/.cache), else the kernels compile uncached.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba

__all__ = ["cache_folder", "njit", "source_files"]

_PACKAGE = __name__.split(".")[0]


def njit(*args: Any, **options: Any) -> Any:
    """`numba.njit`, used the same way (bare, or with options); with cache=True the module's cache is keyed
    on its sources (`cache_folder`)."""
    if args and callable(args[0]) and not options:
        return _compile(args[0], {})
    return functools.partial(_compile, options=options)


def _compile(function: Callable, options: dict[str, Any]) -> Any:
    if not options.get("cache"):
        return numba.njit(**options)(function)
    folder = cache_folder(function.__module__)
    if folder is None:
        return numba.njit(**{**options, "cache": False})(function)
    previous = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = str(folder)  # read once, when numba sets up this function's cache
    try:
        return numba.njit(**options)(function)
    finally:
        numba.config.CACHE_DIR = previous


@functools.cache
def cache_folder(module: str) -> Path | None:
    """The writable folder of `module`'s numba cache, named after the hash of its sources, or None."""
    files = source_files(module)
    digest = hashlib.sha256(numba.__version__.encode())
    for path in files:
        source = path.read_bytes()
        digest.update(len(source).to_bytes(8, "little") + source)
    name = f"numba-{module}-{digest.hexdigest()[:16]}"
    user = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for base in (files[0].parent / "__pycache__", Path(user) / _PACKAGE):
        if _writable(base / name):
            return base / name
    return None


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


@functools.cache
def source_files(module: str) -> tuple[Path, ...]:
    """The source files of `module` and of every module of the package it imports, directly or not (the
    module's own file first, the rest sorted)."""
    seen: dict[str, Path] = {}
    pending = [module]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        path = _origin(name)
        if path is None:
            continue
        seen[name] = path
        pending.extend(_imports(name, path, module.split(".")[0]))
    own = seen.pop(module)
    return (own, *sorted(seen.values()))


def _origin(module: str) -> Path | None:
    """The source file of a module of the package, or None for a name that is not a module."""
    loaded = sys.modules.get(module)
    origin = getattr(loaded, "__file__", None)
    if origin is None:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            return None
        origin = spec.origin if spec is not None else None
    return Path(origin) if origin is not None and origin.endswith(".py") else None


def _imports(module: str, path: Path, root: str) -> list[str]:
    """The modules of the package `root` that `module` (its source at `path`) imports anywhere in its body."""
    is_package = path.name == "__init__.py"
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node.module, node.level)
            for alias in node.names:  # `from package import submodule` reads the submodule, not the package
                submodule = f"{base}.{alias.name}"
                names.append(submodule if _origin(submodule) is not None else base)
    return [name for name in names if name == root or name.startswith(root + ".")]


def _absolute(module: str, is_package: bool, target: str | None, level: int) -> str:
    """The absolute name of `from <level dots><target> import ...` in `module`."""
    if level == 0:
        return target or ""
    parts = module.split(".")
    package = parts if is_package else parts[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join(base + ([target] if target else []))
