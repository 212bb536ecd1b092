"""The layout of the `mithridate` command and the layers under it.

Every subcommand answers --help through `main`; data/ never imports experiments/ or cli/, experiments/ never
imports cli/; no module imports a private name (one leading underscore) from another mithridate module (a
package may import its own private submodules); no chain of imports forms a cycle, at load time or inside
functions, anywhere in the package; and the experiments' modules import alone, each in a fresh interpreter.
The import checks read the source with `ast`, so they see imports inside functions too, and resolve relative
imports against the module's package.
"""

from __future__ import annotations

import ast
import itertools
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


def _is_module(name: str) -> bool:
    """Whether a dotted mithridate name is a module or package (a file or folder under src/)."""
    path = SOURCE.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


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
    assert "mithridate.experiments.studies.sweep" in targets


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


# Where no module imports another module's private names.
PRIVATE_CHECKED = {
    "cli": _files("cli"),
    "data": _files("data"),
    "experiments": _files("experiments"),
    "integrations": _files("integrations"),
    "text": _files("text"),
    "bench": _files("bench"),
    "code": _files("code"),
    "tabular": _files("tabular"),
    "meters": _files("meters"),
    "image": _files("image"),
    "_backend": _files("_backend"),
    "root": sorted(PACKAGE.glob("*.py")),
}


@pytest.mark.parametrize("where", list(PRIVATE_CHECKED))
def test_no_private_names_imported_across_modules(where: str) -> None:
    assert PRIVATE_CHECKED[where] and all(path.is_file() for path in PRIVATE_CHECKED[where])
    bad = []
    for path in PRIVATE_CHECKED[where]:
        for target, names, line in _imports(path):
            if not _is_under(target, "mithridate"):
                continue
            # A package's own private submodule (`from . import _native` inside that package) is its business.
            own_package = _module_name(path).rpartition(".")[0] if path.name != "__init__.py" else _module_name(path)
            private = [
                n
                for n in names
                if n.startswith("_")
                and not n.startswith("__")
                and not (target == own_package and _is_module(f"{target}.{n}"))
            ]
            if private:
                bad.append(f"{path.relative_to(SOURCE)}:{line} imports {private} from {target}")
    assert not bad, "\n".join(bad)


# summary imports report.tables; report.sweep imports summary: each must import first, alone.
FIRST_IMPORTS = (
    "mithridate.experiments.summary",
    "mithridate.experiments.report",
    "mithridate.experiments.report.tables",
    "mithridate.experiments.report.sweep",
    "mithridate.experiments.studies.garbage",
    "mithridate.experiments.studies.synthetic",
    "mithridate.experiments.studies.sweep",
    "mithridate.experiments.engine",
    "mithridate.experiments.store",
    "mithridate.experiments.store.legacy",
    "mithridate.experiments.tasks",
    "mithridate.experiments.tasks.image",
    "mithridate.experiments.tasks.text",
    "mithridate.experiments.variance",
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


def _module_imports_at_load(path: Path) -> set[str]:
    """The mithridate modules a module imports when it is loaded (its top-level imports; a name imported
    from a package counts as its submodule when there is one)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            if target != module:  # `from . import x` in a package's __init__ loads its submodule x only
                found.add(target)
            for alias in node.names:
                candidate = PACKAGE.parent / Path(*f"{target}.{alias.name}".split("."))
                if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
                    found.add(f"{target}.{alias.name}")
    return {name for name in found if _is_under(name, "mithridate")}


def test_no_import_cycles_at_load_time() -> None:
    """No chain of top-level imports leads from a module back to itself (cli, data, experiments, integrations)."""
    paths = [path for folder in ("cli", "data", "experiments", "integrations") for path in _files(folder)]
    graph = {_module_name(path): _module_imports_at_load(path) for path in paths}
    cycles, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if target not in graph:
                continue
            if state.get(target) == "open":
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "\n".join(cycles)


def _module_imports_anywhere(path: Path) -> dict[str, int]:
    """The mithridate modules a module imports anywhere (top level or inside functions), each with the line of its
    first import: `from package import submodule` imports the submodule, not the package; the module's own
    ancestor packages (`from .. import name`, where name is no submodule) are left out."""
    module = _module_name(path)
    found: dict[str, int] = {}
    for target, names, line in _imports(path):
        if not _is_under(target, "mithridate"):
            continue
        submodules = [f"{target}.{name}" for name in names if _is_module(f"{target}.{name}")]
        if not names or len(submodules) < len(names):
            submodules.append(target)
        for name in submodules:
            if _is_module(name) and name != module and not _is_under(module, name):
                found.setdefault(name, line)
    return found


def _cycles(graph: dict[str, dict[str, int]]) -> list[tuple[list[str], list[str]]]:
    """(a shortest cycle through its first module, its modules) for each strongly connected component of more than
    one module (Tarjan's): every cycle lies within one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            connect(name)
    cycles = []
    for component in components:
        start, members = component[0], set(component)
        trails, seen, cycle = [[start]], {start}, None
        while cycle is None:  # breadth first, within the component: the shortest way back to start
            step = []
            for trail in trails:
                for target in sorted(graph[trail[-1]]):
                    if target == start:
                        cycle = [*trail, start]
                        break
                    if target in members and target not in seen:
                        seen.add(target)
                        step.append([*trail, target])
                if cycle is not None:
                    break
            trails = step
        cycles.append((cycle, component))
    return cycles


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b": 1}, "b": {"c": 1, "d": 1}, "c": {"a": 1}, "d": {}, "e": {"f": 1}, "f": {"e": 1}}
    assert _cycles(graph) == [(["a", "b", "c", "a"], ["a", "b", "c"]), (["e", "f", "e"], ["e", "f"])]
    assert _cycles({"a": {"b": 1}, "b": {}}) == []


def test_no_import_cycles_anywhere() -> None:
    """No chain of imports, at load time or inside functions, leads from a mithridate module back to itself."""
    graph = {_module_name(path): _module_imports_anywhere(path) for path in sorted(PACKAGE.rglob("*.py"))}
    assert "mithridate.code.policies" in graph and "mithridate.code.python.bugs" in graph
    assert "mithridate.code.ops" in graph["mithridate.code.python.bugs"]
    bad = []
    for cycle, component in _cycles(graph):
        steps = [f"{a} (line {graph[a][b]})" for a, b in itertools.pairwise(cycle)]
        others = sorted(set(component) - set(cycle))
        bad.append(" -> ".join([*steps, cycle[-1]]) + (f"; in a tangle with {', '.join(others)}" if others else ""))
    assert not bad, "\n".join(bad)
