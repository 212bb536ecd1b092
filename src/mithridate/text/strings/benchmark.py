"""Speed of the string ops against nlpaug's augmenters at the same rates, on SST-2 sentences.

    python -m mithridate.text.strings.benchmark [--data ../shared/data/sst2/dev.tsv] [--n 2000] [--repeat 3]

Both run on one thread, on the same sentences, best of `--repeat` runs. nlpaug's character augmenters
draw words first, then characters in each drawn word (at least one, `ceil(aug_char_p x length)`), so its
word rate is set to give about the same number of edits per sentence as a per-character rate does here;
the edit rate measured on mithridate's side is printed next to the times.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from .policies import POLICIES

_DEFAULT_DATA = Path("../shared/data/sst2")


def load_sentences(path: Path, n: int) -> list[str]:
    """The first n sentences of SST-2 TSV files (`label<TAB>sentence`), cycling through train then dev."""
    files = [path] if path.is_file() else [path / "dev.tsv", path / "train.tsv"]
    sentences: list[str] = []
    for file in files:
        with file.open(encoding="utf-8", newline="") as handle:
            rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            next(rows, None)
            sentences.extend(row[-1] for row in rows if row)
        if len(sentences) >= n:
            break
    return sentences[:n]


def _best(functions: list[Callable[[], object]], repeat: int) -> list[float]:
    """Best time of each function over `repeat` rounds, the functions run in turn in each round (so that
    both sides see the same load on a shared machine)."""
    times: list[list[float]] = [[] for _ in functions]
    for _ in range(repeat):
        for function, spent in zip(functions, times, strict=True):
            start = time.perf_counter()
            function()
            spent.append(time.perf_counter() - start)
    return [min(spent) for spent in times]


def _nlpaug_augmenters(sentences: list[str], char_rate: float, word_rate: float) -> dict[str, Callable[[str], object]]:
    import nlpaug.augmenter.char as nac
    import nlpaug.augmenter.word as naw

    words = sum(len(s.split()) for s in sentences)
    letters = sum(sum(c.isalpha() for c in s) for s in sentences)
    # One character per drawn word (aug_char_p small, aug_char_min 1): draw words at the rate that gives
    # as many edits as char_rate of the letters.
    word_p = min(1.0, char_rate * letters / max(words, 1))
    char = {"aug_char_p": char_rate, "aug_char_min": 1, "aug_char_max": None}
    word = {"aug_word_p": word_p, "aug_word_min": 0, "aug_word_max": None}
    return {
        "typo": nac.KeyboardAug(**char, **word, min_char=1).augment,
        "char_insert": nac.RandomCharAug(action="insert", **char, **word, min_char=1).augment,
        "char_swap": nac.RandomCharAug(action="swap", **char, **word, min_char=2).augment,
        "char_delete": nac.RandomCharAug(action="delete", **char, **word, min_char=1).augment,
        "ocr": nac.OcrAug(**char, **word, min_char=1).augment,
        "word_drop": naw.RandomWordAug(action="delete", aug_p=word_rate, aug_min=0, aug_max=None).augment,
        "word_swap": naw.RandomWordAug(action="swap", aug_p=word_rate, aug_min=0, aug_max=None).augment,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=_DEFAULT_DATA)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    sentences = load_sentences(args.data, args.n)
    index = list(range(len(sentences)))
    try:
        peers = _nlpaug_augmenters(sentences, 0.05, 0.1)
    except ImportError:
        peers = {}
    random.seed(0)
    print(f"{len(sentences)} sentences, mean {statistics.mean(map(len, sentences)):.0f} characters, 1 thread")
    print(f"{'op':<12} {'mithridate ms':>14} {'edits/unit':>11} {'nlpaug ms':>10} {'speed-up':>9}")
    for name in ("typo", "char_insert", "char_swap", "char_delete", "ocr", "word_drop", "word_swap"):
        policy = POLICIES[name](seed=0)
        policy.augment(sentences[:10], index=index[:10])  # warm-up (draw compilation, tables)
        run = [lambda policy=policy: policy(sentences, index=index)]
        if name in peers:
            run.append(lambda augment=peers[name]: [augment(s) for s in sentences])
        spent = _best(run, args.repeat)
        results = policy.augment(sentences, index=index)
        edits = sum(len(r.edits) for r in results) / (2 if name.endswith("swap") else 1)
        units = sum(len(s) if policy.op.unit == "character" else len(s.split()) for s in sentences)
        line = f"{name:<12} {spent[0] * 1e3:>14.1f} {edits / units:>11.4f}"
        if name in peers:
            line += f" {spent[1] * 1e3:>10.1f} {spent[1] / spent[0]:>8.1f}x"
        print(line)


if __name__ == "__main__":
    main()
