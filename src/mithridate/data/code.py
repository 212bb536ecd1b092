"""Code classification data: the functions of Python source files (by default the standard library), split by
module file, labelled by the verb of their name or by an injected bug.

- Samples: every top-level function and every method of a top-level class, as its source lines from the first
  decorator (decorators are part of the function: `@property` or `@classmethod` say what it does) to its last
  line, with the definition's indentation removed, and its own name hidden: every whole-word occurrence of the
  name (the `def` line, recursive calls such as `self.name(...)`, mentions in its docstring) becomes `FUNC`, so
  the name's verb is never given away. A sample whose segment does not parse alone is left out, and so is a
  copy of an earlier sample's source (the encodings' identical `getregentry`s would leak across the split);
  `CodeCorpus.skipped` says which and why.
- The standard library is `sysconfig.get_paths()["stdlib"]` without `test/`, `tests/`, `idlelib/`,
  `site-packages/` (lib2to3's test data lies under `tests/`). A folder of `.py` files is read the same way.
- The split is by module file: a seeded shuffle of the files puts `test_fraction` of them in the test split, so
  no function of a test module was seen in training (functions of one module share names, helpers and style).
- `verb` labels: the first sub-token of the name (split on `_` and camelCase, lower-cased; `__dunder__`
  protocol methods have no verb), among the `verbs` most common of the training modules (ties by name); the
  others are left out.
- `bug` labels (DeepBugs-style, balanced): an injector callable given to the loader (so this module depends
  on no bug op) returns a function's source with one bug, or None where it finds no place for one; of the
  functions with a place, a seeded half get their bug (label `bug`), the rest stay as they are (`clean`).

Data strings (`parse_code_data`): "stdlib" or a folder, optionally with ":verb" or ":bug" (default verb).
Every problem is a `DatasetError` naming the path.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..code.python.stdlib import EXCLUDED_FOLDERS, stdlib_root
from .datasets import DatasetError

__all__ = [
    "BUG_CLASSES",
    "EXCLUDED_FOLDERS",
    "HIDDEN_NAME",
    "LABELS",
    "SPLIT_SEED",
    "STDLIB",
    "CodeCorpus",
    "CodeDataset",
    "CodeFunction",
    "Injector",
    "bug_dataset",
    "common_verbs",
    "extract_functions",
    "hide_name",
    "is_code_data",
    "load_code_splits",
    "load_functions",
    "name_verb",
    "parse_code_data",
    "python_files",
    "split_modules",
    "split_name",
    "stdlib_root",
    "verb_dataset",
]

STDLIB = "stdlib"
LABELS = ("verb", "bug")
HIDDEN_NAME = "FUNC"
BUG_CLASSES = ("clean", "bug")
SPLIT_SEED = 20_221_220  # the fixed seed of the module split and the bug half: every run sees the same data

Injector = Callable[[str, int], "str | None"]
"""(a function's source, its key: a stable sample number) -> the source with one bug, or None (no place for one)."""


@dataclass(frozen=True, slots=True)
class CodeFunction:
    """One function: its `source` (dedented, name hidden), `module` (the file, relative to the corpus root, with
    `/`), `qualname` ("Class.method" or "function") and its own `name`."""

    source: str
    module: str
    qualname: str
    name: str


@dataclass
class CodeCorpus:
    """The functions of a corpus, in file order then source order, and the files or functions left out (path or
    "path:qualname", and why)."""

    root: Path
    functions: list[CodeFunction]
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def modules(self) -> list[str]:
        return sorted({f.module for f in self.functions})


@dataclass
class CodeDataset:
    """Sources, labels int64 (N,) indexing `classes`, and per sample its module file and qualified name."""

    sources: list[str]
    labels: torch.Tensor
    classes: list[str]
    modules: list[str]
    qualnames: list[str]

    def __post_init__(self) -> None:
        n = len(self.sources)
        if not all(isinstance(s, str) for s in self.sources):
            raise DatasetError("CodeDataset.sources: expected a list of str")
        if not isinstance(self.labels, torch.Tensor) or self.labels.dtype != torch.int64 or self.labels.shape != (n,):
            raise DatasetError(f"CodeDataset.labels: expected an int64 tensor ({n},)")
        if len(self.modules) != n or len(self.qualnames) != n:
            raise DatasetError(f"CodeDataset: {n} sources but {len(self.modules)} modules, {len(self.qualnames)} names")
        if n and not (int(self.labels.min()) >= 0 and int(self.labels.max()) < len(self.classes)):
            raise DatasetError(f"CodeDataset.labels: expected values in [0, {len(self.classes)})")

    def __len__(self) -> int:
        return len(self.sources)

    def subset(self, indices: Sequence[int] | torch.Tensor) -> CodeDataset:
        """The samples at `indices`, with the same classes."""
        index = torch.as_tensor(indices, dtype=torch.int64).tolist()
        return CodeDataset(
            [self.sources[i] for i in index],
            self.labels[torch.tensor(index, dtype=torch.int64)],
            list(self.classes),
            [self.modules[i] for i in index],
            [self.qualnames[i] for i in index],
        )


# Names and verbs ------------------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")  # a maximal run of word characters: a whole word
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+|[^\W\d_A-Za-z]+")


def split_name(name: str) -> list[str]:
    """The lower-cased sub-tokens of an identifier, split on `_` and camelCase: "getHTTPResponse_now" ->
    ["get", "http", "response", "now"]."""
    return [part.lower() for chunk in name.split("_") for part in _CAMEL.findall(chunk)]


def name_verb(name: str) -> str | None:
    """The verb of a function's name: its first sub-token; None for `__dunder__` protocol names and names
    without letters."""
    if len(name) > 4 and name.startswith("__") and name.endswith("__"):
        return None
    words = [w for w in split_name(name) if not w.isdigit()]
    return words[0] if words else None


def common_verbs(functions: Sequence[CodeFunction], k: int = 20) -> list[str]:
    """The `k` most common verbs of `functions` (ties broken by the verb), most common first."""
    counts = Counter(v for f in functions if (v := name_verb(f.name)) is not None)
    return [verb for verb, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:k]]


def hide_name(source: str, name: str, hidden: str = HIDDEN_NAME) -> str:
    """`source` with every whole-word occurrence of `name` replaced by `hidden` (code, strings, comments)."""
    return _WORD.sub(lambda match: hidden if match.group() == name else match.group(), source)


# Reading sources ------------------------------------------------------------------------------------------------


def python_files(root: str | Path, exclude: Sequence[str] = EXCLUDED_FOLDERS) -> list[Path]:
    """The `.py` files under `root`, sorted by relative path, none inside a folder named in `exclude`."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"code data {root}: expected a folder of .py files, found no such folder")
    excluded = set(exclude)
    files = [
        path
        for path in root.rglob("*.py")
        if path.is_file() and not excluded.intersection(path.relative_to(root).parts[:-1])
    ]
    return sorted(files, key=lambda path: path.relative_to(root).as_posix())


def _segment(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The node's lines from its first decorator to its end, its indentation removed where a line has it."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    chunk = lines[first - 1 : node.end_lineno]
    indent = re.match(r"[ \t]*", chunk[0]).group() if chunk else ""  # type: ignore[union-attr]
    if indent:
        chunk = [line[len(indent) :] if line.startswith(indent) else line for line in chunk]
    text = "".join(chunk)
    return text if text.endswith("\n") else text + "\n"


def extract_functions(text: str, module: str, hide: bool = True) -> tuple[list[CodeFunction], list[tuple[str, str]]]:
    """The top-level functions and the methods of top-level classes of one module's `text` (see the module
    docstring), and those left out (qualified name, why). A SyntaxError when the module does not parse."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append((node.name, node))
        elif isinstance(node, ast.ClassDef):
            found.extend(
                (f"{node.name}.{item.name}", item)
                for item in node.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
            )
    out, skipped = [], []
    for qualname, node in found:
        source = _segment(lines, node)
        if hide:
            source = hide_name(source, node.name)
        try:
            ast.parse(source)
        except SyntaxError as error:
            skipped.append((qualname, f"its segment does not parse alone ({error.msg})"))
            continue
        out.append(CodeFunction(source, module, qualname, node.name))
    return out, skipped


def _read(path: Path) -> str:
    from ..code.python.source import decode_source  # the encoding cookie, as Python reads a file

    return decode_source(path.read_bytes())


def _load(root: Path, hide: bool) -> CodeCorpus:
    functions: list[CodeFunction] = []
    skipped: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for path in python_files(root):
        module = path.relative_to(root).as_posix()
        try:
            found, left_out = extract_functions(_read(path), module, hide)
        except (SyntaxError, ValueError) as error:  # a file of another Python version, a bad encoding
            skipped.append((module, f"does not parse ({error})"))
            continue
        skipped.extend((f"{module}:{name}", why) for name, why in left_out)
        for function in found:
            where = f"{module}:{function.qualname}"
            if function.source in seen:
                skipped.append((where, f"the same source as {seen[function.source]}"))
            else:
                seen[function.source] = where
                functions.append(function)
    if not functions:
        raise DatasetError(f"code data {root}: expected Python files with functions, found none")
    return CodeCorpus(root, functions, skipped)


@functools.lru_cache(maxsize=2)
def _stdlib(hide: bool) -> CodeCorpus:
    return _load(stdlib_root(), hide)


def load_functions(root: str | Path = STDLIB, hide: bool = True) -> CodeCorpus:
    """Every function of `root` ("stdlib" or a folder of `.py` files; the standard library is read once per
    process); `hide` hides each function's name (see the module docstring). Callers must not mutate it."""
    if str(root) == STDLIB:
        return _stdlib(hide)
    return _load(Path(root), hide)


# Splits and labels ----------------------------------------------------------------------------------------------


def split_modules(modules: Sequence[str], test_fraction: float = 0.2, seed: int = SPLIT_SEED) -> tuple[set, set]:
    """(train modules, test modules): a seeded shuffle of the sorted distinct modules, the first
    round(test_fraction x count) of it (at least one) for testing, the rest for training."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction: expected a number in (0, 1), got {test_fraction}")
    distinct = sorted(set(modules))
    if len(distinct) < 2:
        raise DatasetError(f"code data: expected at least 2 module files to split by module, found {len(distinct)}")
    order = torch.randperm(len(distinct), generator=torch.Generator().manual_seed(seed)).tolist()
    count = min(max(round(test_fraction * len(distinct)), 1), len(distinct) - 1)
    test = {distinct[i] for i in order[:count]}
    return set(distinct) - test, test


def verb_dataset(functions: Sequence[CodeFunction], verbs: Sequence[str]) -> CodeDataset:
    """The functions whose verb is among `verbs`, labelled by its position in `verbs`."""
    position = {verb: i for i, verb in enumerate(verbs)}
    kept = [(f, position[v]) for f in functions if (v := name_verb(f.name)) in position]
    return CodeDataset(
        [f.source for f, _ in kept],
        torch.tensor([label for _, label in kept], dtype=torch.int64),
        list(verbs),
        [f.module for f, _ in kept],
        [f.qualname for f, _ in kept],
    )


def bug_dataset(
    functions: Sequence[CodeFunction], injector: Injector, seed: int = SPLIT_SEED, keys: Sequence[int] | None = None
) -> CodeDataset:
    """DeepBugs-style balanced bug detection: `injector(source, key)` (key: `keys[i]`, by default i) gives each
    function's buggy version or None; of the functions with one, a half drawn from `seed` (the larger half when
    odd) carry their bug (class 1, "bug"), the others their own source (class 0, "clean")."""
    if not callable(injector):
        raise TypeError(f"injector: expected a callable (source, key) -> str | None, got {type(injector).__name__}")
    keys = list(range(len(functions))) if keys is None else list(keys)
    if len(keys) != len(functions):
        raise ValueError(f"keys: expected one per function ({len(functions)}), got {len(keys)}")
    candidates: list[tuple[CodeFunction, str]] = []
    for function, key in zip(functions, keys, strict=True):
        buggy = injector(function.source, key)
        if buggy is not None and not isinstance(buggy, str):
            raise TypeError(f"injector: expected str or None for {function.qualname}, got {type(buggy).__name__}")
        if buggy is not None and buggy != function.source:
            candidates.append((function, buggy))
    order = torch.randperm(len(candidates), generator=torch.Generator().manual_seed(seed))
    labels = torch.zeros(len(candidates), dtype=torch.int64)
    labels[order[: (len(candidates) + 1) // 2]] = 1
    return CodeDataset(
        [buggy if label else f.source for (f, buggy), label in zip(candidates, labels.tolist(), strict=True)],
        labels,
        list(BUG_CLASSES),
        [f.module for f, _ in candidates],
        [f.qualname for f, _ in candidates],
    )


# Data strings and splits ----------------------------------------------------------------------------------------


def parse_code_data(data: str | Path) -> tuple[str, str]:
    """(source: "stdlib" or a folder, label: "verb" or "bug") of a data string "stdlib", "stdlib:bug",
    "FOLDER" or "FOLDER:verb"."""
    text = str(data)
    head, sep, tail = text.rpartition(":")
    if sep and tail in LABELS and head:
        return head, tail
    if sep and head == STDLIB:
        raise ValueError(f"data: expected {STDLIB}:LABEL with LABEL one of {', '.join(LABELS)}, got {text!r}")
    return text, "verb"


def is_code_data(data: str | Path) -> bool:
    """Whether `data` names code data: "stdlib" (optionally ":verb" or ":bug"), or a folder holding `.py` files
    and no `train/` folder or `train.*` file (those are image or text data)."""
    try:
        source, _ = parse_code_data(data)
    except ValueError:
        return str(data).startswith(STDLIB + ":")
    if source == STDLIB:
        return True
    path = Path(source)
    if not path.is_dir() or (path / "train").exists() or any(path.glob("train.*")):
        return False
    return next(iter(path.rglob("*.py")), None) is not None


def load_code_splits(
    data: str | Path,
    *,
    injector: Injector | None = None,
    verbs: int = 20,
    test_fraction: float = 0.2,
    seed: int = SPLIT_SEED,
) -> tuple[CodeDataset, CodeDataset]:
    """(train, test) of a data string (see `parse_code_data`): the functions split by module file (`seed`,
    `test_fraction`), labelled by verb (the `verbs` most common of the training split) or by bug (`injector`,
    required for "bug"; keys are the functions' positions in the corpus, the bug half drawn from `seed`)."""
    source, label = parse_code_data(data)
    if not isinstance(verbs, int) or verbs < 2:
        raise ValueError(f"verbs: expected an integer >= 2, got {verbs!r}")
    corpus = load_functions(source)
    train_modules, _ = split_modules(corpus.modules, test_fraction, seed)
    position = list(range(len(corpus.functions)))
    train_index = [i for i in position if corpus.functions[i].module in train_modules]
    test_index = [i for i in position if corpus.functions[i].module not in train_modules]
    train_f = [corpus.functions[i] for i in train_index]
    test_f = [corpus.functions[i] for i in test_index]
    if label == "verb":
        chosen = common_verbs(train_f, verbs)
        if len(chosen) < 2:
            raise DatasetError(f"code data {source}: expected at least 2 verbs in the training modules, "
                               f"found {chosen}")  # fmt: skip
        train, test = verb_dataset(train_f, chosen), verb_dataset(test_f, chosen)
    else:
        if injector is None:
            raise ValueError(f"data {data!r}: bug labels need an injector (source, key) -> str | None")
        train = bug_dataset(train_f, injector, seed, train_index)
        test = bug_dataset(test_f, injector, seed + 1, test_index)
    for name, split in (("training", train), ("test", test)):
        if len(split) == 0:
            raise DatasetError(f"code data {source}: the {name} split has no {label}-labelled function")
    return train, test
