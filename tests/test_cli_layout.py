"""The layout of the `mithridate` command and the layers under it.

Every subcommand answers --help through `main`; data/ never imports experiments/ or cli/, experiments/
never imports cli/; the modules under cli/, data/ and experiments/report/, and experiments/garbage.py,
synthetic.py and summary.py, import no private name (one leading underscore) from another mithridate module;
and the modules whose imports could form a cycle (summary -> report.tables, report.sweep -> summary) import
alone, each in a fresh interpreter. The import checks read the source with `ast`, so they see imports inside
functions too, and resolve relative imports against the module's package.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from mithridate.cli import COMMANDS, main

SOURCE = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SOURCE / "mithridate"
SUBCOMMANDS = ("sweep", "show", "convert", "corrupt", "preview", "bench", "garbage", "synthetic")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, tuple[str, ...], int]]:
    """(absolute module, names imported from it, line) for every import statement in the file."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, (), node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, tuple(alias.name for alias in node.names), node.lineno))
    return found


def _files(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _is_under(target: str, package: str) -> bool:
    return target == package or target.startswith(package + ".")


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_help_works(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    assert f"usage: mithridate {command}" in capsys.readouterr().out


def test_the_top_level_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(command in out for command in SUBCOMMANDS)
    assert {module.__name__.rpartition(".")[2] for module in COMMANDS} == set(SUBCOMMANDS)


def test_the_import_resolver_sees_relative_imports() -> None:
    targets = {target for target, _, _ in _imports(PACKAGE / "cli" / "show.py")}
    assert "mithridate.cli.arguments" in targets
    assert "mithridate.experiments.grid" in targets


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("data", ("mithridate.experiments", "mithridate.cli")),
        ("experiments", ("mithridate.cli",)),
    ],
)
def test_lower_layers_do_not_import_higher_ones(folder: str, forbidden: tuple[str, ...]) -> None:
    bad = [
        f"{path.relative_to(SOURCE)}:{line} imports {target}"
        for path in _files(folder)
        for target, names, line in _imports(path)
        for package in forbidden
        if _is_under(target, package) or any(_is_under(f"{target}.{name}", package) for name in names)
    ]
    assert not bad, "\n".join(bad)


# Where no module imports another module's private names (not yet the whole of experiments/: its runner and
# store are being replaced).
PRIVATE_CHECKED = {
    "cli": _files("cli"),
    "data": _files("data"),
    "experiments/report": _files("experiments/report"),
    "experiments/garbage.py, synthetic.py, summary.py": [
        PACKAGE / "experiments" / name for name in ("garbage.py", "synthetic.py", "summary.py")
    ],
}


@pytest.mark.parametrize("where", list(PRIVATE_CHECKED))
def test_no_private_names_imported_across_modules(where: str) -> None:
    assert PRIVATE_CHECKED[where] and all(path.is_file() for path in PRIVATE_CHECKED[where])
    bad = []
    for path in PRIVATE_CHECKED[where]:
        for target, names, line in _imports(path):
            if not _is_under(target, "mithridate"):
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                bad.append(f"{path.relative_to(SOURCE)}:{line} imports {private} from {target}")
    assert not bad, "\n".join(bad)


# summary imports report.tables; report.sweep imports summary: each must import first, alone.
FIRST_IMPORTS = (
    "mithridate.experiments.summary",
    "mithridate.experiments.report",
    "mithridate.experiments.report.tables",
    "mithridate.experiments.report.sweep",
    "mithridate.experiments.garbage",
    "mithridate.experiments.synthetic",
)


@pytest.mark.parametrize("module", FIRST_IMPORTS)
def test_imports_alone_in_a_fresh_interpreter(module: str) -> None:
    code = f"import {module}; from mithridate.experiments.report import write_report, text_table"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]


def test_report_tables_is_a_leaf() -> None:
    """report/tables.py imports nothing from mithridate (summary imports it: no cycle can start there)."""
    path = PACKAGE / "experiments" / "report" / "tables.py"
    assert not [target for target, _, _ in _imports(path) if _is_under(target, "mithridate")]
