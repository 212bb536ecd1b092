"""Text classification datasets: texts and labels from a TSV, CSV or JSON Lines file, a folder with `train.*`
and `dev.*` (or `test.*`) files, or a Hugging Face `datasets` folder written by `save_to_disk`.

A table has a text column and a label column, found by name (`TEXT_COLUMNS`, `LABEL_COLUMNS`, first match,
case-insensitive) or given. TSV files are read without quoting (GLUE's convention: SST-2's
`label<TAB>sentence` with a header line); CSV files with the usual double quotes; JSON Lines one object
per line. Labels are class names (strings, or integers written as strings); classes sort numerically when
every label is an integer, else as text. Every problem is a `DatasetError` naming the file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .datasets import DatasetError

__all__ = [
    "LABEL_COLUMNS",
    "TEXT_COLUMNS",
    "TEXT_EXTENSIONS",
    "TextDataset",
    "is_text_data",
    "load_text_file",
    "load_text_splits",
]

TEXT_EXTENSIONS: tuple[str, ...] = (".tsv", ".csv", ".jsonl", ".json")
TEXT_COLUMNS: tuple[str, ...] = ("sentence", "text", "content", "review", "document", "sentence1", "question")
LABEL_COLUMNS: tuple[str, ...] = ("label", "labels", "class", "target", "category", "sentiment", "y")
TEST_SPLITS: tuple[str, ...] = ("dev", "validation", "valid", "test")
"""The evaluation split of a folder: the first of these present (GLUE's test files have no labels)."""


@dataclass
class TextDataset:
    """Texts, labels int64 (N,) indexing `classes`, and the class names."""

    texts: list[str]
    labels: torch.Tensor
    classes: list[str]

    def __post_init__(self) -> None:
        if not isinstance(self.texts, list) or not all(isinstance(t, str) for t in self.texts):
            raise DatasetError("TextDataset.texts: expected a list of str")
        if not isinstance(self.labels, torch.Tensor) or self.labels.dtype != torch.int64 or self.labels.ndim != 1:
            raise DatasetError("TextDataset.labels: expected an int64 tensor (N,)")
        if len(self.labels) != len(self.texts):
            raise DatasetError(f"TextDataset: {len(self.texts)} texts but {len(self.labels)} labels")
        if len(self.labels) and not (int(self.labels.min()) >= 0 and int(self.labels.max()) < len(self.classes)):
            raise DatasetError(f"TextDataset.labels: expected values in [0, {len(self.classes)}) (one per class)")

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: Sequence[int] | torch.Tensor) -> TextDataset:
        """The samples at `indices`, with the same classes."""
        index = torch.as_tensor(indices, dtype=torch.int64)
        return TextDataset([self.texts[i] for i in index.tolist()], self.labels[index], list(self.classes))


def _hf_folder(path: Path) -> bool:
    return path.is_dir() and ((path / "dataset_dict.json").is_file() or (path / "state.json").is_file())


def _split_file(folder: Path, split: str) -> Path | None:
    for extension in TEXT_EXTENSIONS:
        if (candidate := folder / f"{split}{extension}").is_file():
            return candidate
    return None


def is_text_data(data: str | Path) -> bool:
    """Whether `data` names text data: a file with a text extension, a folder with a `train.*` text file, or
    a Hugging Face `save_to_disk` folder. A name with a text extension that is not a folder counts (a
    missing file then gets the text loader's error)."""
    path = Path(data)
    if path.suffix.lower() in TEXT_EXTENSIONS and not path.is_dir():
        return True
    return path.is_dir() and (_split_file(path, "train") is not None or _hf_folder(path))


def _pick(columns: Sequence[str], given: str | None, candidates: tuple[str, ...], what: str, where: str) -> str:
    if given is not None:
        if given not in columns:
            raise DatasetError(f"{where}: no {what} column {given!r}; the columns are {list(columns)}")
        return given
    lowered = {column.lower(): column for column in columns}
    for candidate in candidates:
        if candidate in lowered:
            return lowered[candidate]
    raise DatasetError(
        f"{where}: found no {what} column among {list(columns)}; expected one of {list(candidates)} "
        f"or the column named ({what}_column=...)"
    )


def _label_text(value: Any, where: str) -> str:
    """A label as its class name: a non-empty string, an integer or a bool; anything else is an error."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise DatasetError(f"{where}: expected a label (a class name or an integer), got {value!r}")


def _read_rows(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """The column names and rows of a TSV, CSV or JSON Lines file."""
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: expected UTF-8 text ({error})") from None
    if not text.strip():
        raise DatasetError(f"{path}: the file is empty; expected a header line and rows")
    if suffix in (".jsonl", ".json"):
        rows, columns = [], {}
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise DatasetError(f"{path}:{number}: expected one JSON object per line ({error.msg})") from None
            if not isinstance(row, dict):
                raise DatasetError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
            rows.append(row)
            columns.update(dict.fromkeys(row))
        return list(columns), rows
    if suffix not in (".tsv", ".csv"):
        raise DatasetError(f"{path}: expected a {', '.join(TEXT_EXTENSIONS)} file")
    if suffix == ".tsv":
        reader = csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(text.splitlines())
    lines = [line for line in reader if line]
    header, body = lines[0], lines[1:]
    rows = []
    for number, line in enumerate(body, 2):
        if len(line) != len(header):
            raise DatasetError(f"{path}: row {number} has {len(line)} fields; the header has {len(header)}")
        rows.append(dict(zip(header, line, strict=True)))
    return header, rows


def load_text_file(
    path: str | Path,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    classes: Sequence[str] | None = None,
) -> TextDataset:
    """A TSV, CSV or JSON Lines file as a `TextDataset`. `classes` fixes the class names and their order (a
    label outside them is an error); by default they are the file's labels, sorted."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file; expected a {', '.join(TEXT_EXTENSIONS)} file")
    columns, rows = _read_rows(path)
    if not rows:
        raise DatasetError(f"{path}: no rows after the header; expected texts with labels")
    text_key = _pick(columns, text_column, TEXT_COLUMNS, "text", str(path))
    label_key = _pick(columns, label_column, LABEL_COLUMNS, "label", str(path))
    texts, names = [], []
    for number, row in enumerate(rows, 1):
        text = row.get(text_key)
        if not isinstance(text, str):
            raise DatasetError(f"{path}: row {number}: expected text in column {text_key!r}, got {text!r}")
        texts.append(text)
        names.append(_label_text(row.get(label_key), f"{path}: row {number}, column {label_key!r}"))
    return _dataset(texts, names, classes, str(path))


def _sorted_classes(names: Sequence[str]) -> list[str]:
    unique = set(names)
    try:
        return sorted(unique, key=int)
    except ValueError:
        return sorted(unique)


def _dataset(texts: list[str], names: list[str], classes: Sequence[str] | None, where: str) -> TextDataset:
    classes = _sorted_classes(names) if classes is None else list(classes)
    lookup = {name: i for i, name in enumerate(classes)}
    unknown = sorted(set(names) - set(lookup))
    if unknown:
        raise DatasetError(f"{where}: labels {unknown[:5]} are not among the training classes {classes}")
    return TextDataset(texts, torch.tensor([lookup[n] for n in names], dtype=torch.int64), classes)


def _load_hf(path: Path, text_column: str | None, label_column: str | None) -> tuple[TextDataset, TextDataset | None]:
    try:
        import datasets
    except ImportError:
        raise DatasetError(
            f"{path}: a Hugging Face datasets folder needs the `datasets` package (pip install datasets); "
            "or export it to TSV, CSV or JSON Lines"
        ) from None
    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        if "train" not in loaded:
            raise DatasetError(f"{path}: expected a 'train' split, found {list(loaded)}")
        test_name = next((name for name in TEST_SPLITS if name in loaded), None)
        parts = [loaded["train"], loaded[test_name] if test_name else None]
    else:
        parts = [loaded, None]
    columns = list(parts[0].column_names)
    text_key = _pick(columns, text_column, TEXT_COLUMNS, "text", str(path))
    label_key = _pick(columns, label_column, LABEL_COLUMNS, "label", str(path))
    feature = parts[0].features.get(label_key)
    names_of = getattr(feature, "names", None)

    def convert(part: Any, classes: Sequence[str] | None) -> TextDataset:
        texts = part[text_key]
        if not all(isinstance(text, str) for text in texts):
            raise DatasetError(f"{path}: expected text in column {text_key!r}")
        raw = part[label_key]
        names = [names_of[v] if names_of and isinstance(v, int) and v >= 0 else v for v in raw]
        labels = [_label_text(v, f"{path}: column {label_key!r}") for v in names]
        return _dataset(list(texts), labels, classes, str(path))

    train = convert(parts[0], list(names_of) if names_of else None)
    return train, None if parts[1] is None else convert(parts[1], train.classes)


def load_text_splits(
    data: str | Path, *, text_column: str | None = None, label_column: str | None = None
) -> tuple[TextDataset, TextDataset | None]:
    """The training and evaluation sets of `data`: a folder's `train.*` and its first of `dev.*`,
    `validation.*`, `valid.*`, `test.*` (with the training set's classes), or one file and None (the caller
    splits it)."""
    path = Path(data)
    columns = {"text_column": text_column, "label_column": label_column}
    if _hf_folder(path):
        return _load_hf(path, text_column, label_column)
    if path.is_dir():
        train_file = _split_file(path, "train")
        if train_file is None:
            raise DatasetError(f"{path}: expected a train file ({', '.join('train' + e for e in TEXT_EXTENSIONS)})")
        train = load_text_file(train_file, **columns)
        test_file = next((f for name in TEST_SPLITS if (f := _split_file(path, name)) is not None), None)
        if test_file is None:
            raise DatasetError(
                f"{path}: expected an evaluation file beside {train_file.name} (dev, validation or test)"
            )
        return train, load_text_file(test_file, **columns, classes=train.classes)
    if path.is_file():
        return load_text_file(path, **columns), None
    raise DatasetError(f"{data}: no such file or folder; expected a text file or a folder with train and dev files")
