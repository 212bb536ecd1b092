"""numba's on-disk cache never runs old code: `_backend.compiled.njit` keys each kernel module's cache on the
sources of every module it imports.

numba checks a cached function against its own file and bytecode only; a kernel that calls a helper of another
module, or freezes a table of another module as a constant, would load its old machine code after either
changed. The tests build a small package in a temporary folder, run its kernel in fresh interpreters, and edit
the helper and reorder the table between runs; a control shows that numba's own cache does load stale code
there.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mithridate._backend.compiled import source_files

SOURCE = Path(__file__).resolve().parents[1] / "src" / "mithridate"

HELPER = """
from {njit} import njit

@njit(cache=True)
def step(x):
    return x + {increment}
"""
TABLE = "IDS = {ids}\n"
KERNEL = """
from {njit} import njit

from .helper import step
from .table import IDS

B = IDS["b"]

@njit(cache=True)
def kernel(x):
    return step(x) * 10 + B
"""
RUN = "import kitpkg.kernel as k; print(k.kernel(1), sum(k.kernel.stats.cache_hits.values()))"


def _write(root: Path, njit: str, increment: int, ids: str) -> None:
    package = root / "kitpkg"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    for name, text in (("helper", HELPER), ("table", TABLE), ("kernel", KERNEL)):
        path = package / f"{name}.py"
        content = textwrap.dedent(text).format(njit=njit, increment=increment, ids=ids)
        if not path.exists() or path.read_text() != content:
            path.write_text(content)


def _run(root: Path, home: Path) -> tuple[int, int]:
    """(the kernel's result, cache hits) in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), *sys.path]), "XDG_CACHE_HOME": str(home)}
    env.pop("NUMBA_CACHE_DIR", None)
    run = subprocess.run([sys.executable, "-c", RUN], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    value, hits = run.stdout.split()
    return int(value), int(hits)


def test_editing_an_imported_helper_or_reordering_a_table_never_runs_old_code(tmp_path):
    root = tmp_path / "src"
    root.mkdir()
    njit = "mithridate._backend.compiled"
    _write(root, njit, increment=1, ids='{"a": 1, "b": 2}')
    assert _run(root, tmp_path) == (22, 0)  # compiled
    assert _run(root, tmp_path) == (22, 1)  # loaded from the cache
    _write(root, njit, increment=2, ids='{"a": 1, "b": 2}')  # the helper's file only
    assert _run(root, tmp_path) == (32, 0)
    _write(root, njit, increment=2, ids='{"b": 5, "a": 1}')  # the table's file only
    assert _run(root, tmp_path) == (35, 0)
    assert _run(root, tmp_path) == (35, 1)
    _write(root, njit, increment=1, ids='{"a": 1, "b": 2}')  # back to the first sources: their cache serves
    assert _run(root, tmp_path) == (22, 1)
    assert list((root / "kitpkg" / "__pycache__").glob("numba-kitpkg.kernel-*"))  # beside the sources


def test_numbas_own_cache_would_run_old_code_there(tmp_path):
    """The control: the same package on `numba.njit` loads the old helper after the edit."""
    root = tmp_path / "src"
    root.mkdir()
    _write(root, "numba", increment=1, ids='{"a": 1, "b": 2}')
    assert _run(root, tmp_path) == (22, 0)
    _write(root, "numba", increment=2, ids='{"a": 1, "b": 2}')
    value, hits = _run(root, tmp_path)
    if (value, hits) == (32, 0):
        pytest.skip("this numba notices edits of imported modules by itself")
    assert (value, hits) == (22, 1)


def test_the_kernel_modules_are_keyed_on_the_tables_and_helpers_they_use():
    files = {
        name: {str(path.relative_to(SOURCE)) for path in source_files(name)}
        for name in (
            "mithridate.image.native._kernels",
            "mithridate.image.corruptions._native",
            "mithridate.text.tokens._native",
        )
    }
    assert {"image/ops.py", "_backend/fma.py"} <= files["mithridate.image.native._kernels"]
    assert {"_backend/rng_compiled.py", "_backend/fma.py", "_backend/threads.py"} <= files[
        "mithridate.image.corruptions._native"
    ]
    assert "_backend/rng_compiled.py" in files["mithridate.text.tokens._native"]
    assert "rng.py" not in files["mithridate.text.tokens._native"]  # only what it imports


def test_every_numba_kernel_of_the_package_goes_through_the_keyed_cache():
    """No module but `_backend/compiled.py` decorates with numba's own `njit` or `jit`."""
    bad = []
    for path in sorted(SOURCE.rglob("*.py")):
        if path == SOURCE / "_backend" / "compiled.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "numba":
                bad += [f"{path.relative_to(SOURCE)}: from numba import {a.name}" for a in node.names]
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("njit", "jit")
                and getattr(node.value, "id", "") == "numba"
            ):
                bad.append(f"{path.relative_to(SOURCE)}: numba.{node.attr}")
    assert not bad, "\n".join(bad)
