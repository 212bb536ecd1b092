"""The text benchmark's inputs: the sentences, a WordPiece tokenizer trained on them offline, their ids, and
the padded batches every library gets the same.

Sentences: the first N of an SST-2 TSV file (`label<TAB>sentence` or `sentence<TAB>label`, a header naming
the `sentence` column, no quoting), default `../shared/data/sst2/train.tsv`; when that file is missing, a
built-in corpus of sentences generated deterministically (and the output says so). The harness writes them
once to a folder that each library's process reads (`write_inputs`, `load_inputs`).
"""

from __future__ import annotations

import csv
import json
import random
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "DEFAULT_DATA",
    "SPECIAL_TOKENS",
    "PaddedBatch",
    "TextInputs",
    "fallback_sentences",
    "load_inputs",
    "load_sentences",
    "write_inputs",
]

DEFAULT_DATA = Path("../shared/data/sst2/train.tsv")

SENTINELS = tuple(f"<extra_id_{i}>" for i in range(100))
SPECIAL_TOKENS: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *SENTINELS)
"""The tokenizer's special tokens, ids 0.. in this order: BERT's, then T5's sentinels (for span corruption)."""

VOCAB_SIZE = 8000


def _sentence_column(header: list[str]) -> int | None:
    names = [name.strip().lower() for name in header]
    return names.index("sentence") if "sentence" in names else None


def load_sentences(path: Path | None, n: int) -> tuple[list[str], str]:
    """The first n sentences of a TSV file (or of `train.tsv` in a folder) and a line saying where they come
    from; a built-in corpus when `path` (default `DEFAULT_DATA`) does not exist."""
    if n < 1:
        raise ValueError(f"n: expected a positive number of sentences, got {n}")
    given = path is not None
    path = DEFAULT_DATA if path is None else Path(path)
    if path.is_dir():
        path = path / "train.tsv"
    if not path.is_file():
        if given:
            raise ValueError(f"data: expected a TSV file of sentences (or a folder with train.tsv), {path} is missing")
        return fallback_sentences(n), (
            f"built-in corpus: {n:,} sentences generated deterministically ({DEFAULT_DATA} not found)"
        )
    sentences: list[str] = []
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        first = next(rows, None)
        column = _sentence_column(first) if first else None
        if first and column is None:  # no header: the sentence is the longest field of the first row
            column = max(range(len(first)), key=lambda i: len(first[i]))
            sentences.append(first[column])
        for row in rows:
            if len(sentences) >= n:
                break
            if row and column is not None and column < len(row) and row[column].strip():
                sentences.append(row[column])
    if not sentences:
        raise ValueError(f"data: found no sentences in {path}")
    sentences = sentences[:n]
    every = " (the whole file)" if len(sentences) < n else ""
    return sentences, f"{path.name} ({path.parent.name}): first {len(sentences):,} sentences{every}"


_SUBJECTS = ("the film", "this movie", "the story", "its director", "the cast", "the script", "the plot",
             "every scene", "the lead actress", "the soundtrack", "a picture like this", "the second half")  # fmt: skip
_VERBS = ("is", "feels", "remains", "seems", "becomes", "turns out to be", "never becomes", "is n't")
_ADJECTIVES = ("a charming", "an overlong", "a clever", "a tedious", "a moving", "an uneven", "a gorgeous",
               "a predictable", "a sharp", "a hollow", "an ambitious", "a lazy", "a warm", "a bleak")  # fmt: skip
_NOUNS = ("comedy", "thriller", "portrait", "mess", "drama", "romance", "character study", "exercise in style",
          "documentary", "sequel", "adaptation", "debut")  # fmt: skip
_TAILS = ("", "", " .", " , and the ending works", " that never quite finds its footing",
          " with 2 great performances", " , but it 's too long by 20 minutes", " -- funny , smart and sad",
          " that fans will love", " ; see it on the big screen", " about growing up in the 1970s")  # fmt: skip


def fallback_sentences(n: int) -> list[str]:
    """n movie-review-like sentences, lower case and tokenized as SST-2's, the same on every machine."""
    draw = random.Random(0)
    sentences = []
    for _ in range(n):
        sentence = f"{draw.choice(_SUBJECTS)} {draw.choice(_VERBS)} {draw.choice(_ADJECTIVES)} {draw.choice(_NOUNS)}"
        sentence += draw.choice(_TAILS)
        if draw.random() < 0.3:
            sentence += f" and {draw.choice(_SUBJECTS)} {draw.choice(_VERBS)} {draw.choice(_ADJECTIVES)[2:].strip()}"
        sentences.append(sentence)
    return sentences


def _train_wordpiece(sentences: list[str]) -> Any:
    """A BERT-style WordPiece tokenizer (lower case, [CLS] ... [SEP]) trained on the sentences, offline."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=VOCAB_SIZE, special_tokens=list(SPECIAL_TOKENS), show_progress=False)
    tokenizer.train_from_iterator(sentences, trainer)
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    return tokenizer


def _word_level(sentences: list[str]) -> tuple[dict[str, int], list[list[int]], list[list[int]]]:
    """Without `tokenizers`: a word-level vocabulary (lower case, whitespace) and the ids, [CLS] ... [SEP]."""
    counts: dict[str, int] = {}
    for sentence in sentences:
        for word in sentence.lower().split():
            counts[word] = counts.get(word, 0) + 1
    words = sorted(counts, key=lambda word: (-counts[word], word))[: VOCAB_SIZE - len(SPECIAL_TOKENS)]
    vocab = {token: i for i, token in enumerate((*SPECIAL_TOKENS, *words))}
    unk, cls, sep = vocab["[UNK]"], vocab["[CLS]"], vocab["[SEP]"]
    ids = [[cls, *(vocab.get(word, unk) for word in s.lower().split()), sep] for s in sentences]
    return vocab, ids, [[1] + [0] * (len(row) - 2) + [1] for row in ids]


def write_inputs(folder: Path, sentences: list[str], source: str) -> dict:
    """Write the sentences, the tokenizer and the ids under `folder`; returns a summary of the inputs."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        tokenizer = _train_wordpiece(sentences)
    except ImportError:
        tokenizer = None
    if tokenizer is not None:
        encodings = tokenizer.encode_batch(sentences)
        ids = [encoding.ids for encoding in encodings]
        special = [encoding.special_tokens_mask for encoding in encodings]
        vocab = tokenizer.get_vocab()
        tokenizer.save(str(folder / "tokenizer.json"))
        name = f"WordPiece trained offline with tokenizers on these sentences, {tokenizer.get_vocab_size():,} ids"
    else:
        vocab, ids, special = _word_level(sentences)
        name = f"word-level vocabulary of these sentences, {len(vocab):,} ids (tokenizers is not installed)"
    ids_of = {token: vocab[token] for token in SPECIAL_TOKENS}
    info = {
        "vocab_size": len(vocab),
        "pad_token_id": ids_of["[PAD]"],
        "mask_token_id": ids_of["[MASK]"],
        "eos_token_id": ids_of["[SEP]"],
        "special_ids": sorted(ids_of.values()),
        "sentinel_ids": [ids_of[token] for token in SENTINELS],
    }
    (folder / "sentences.json").write_text(json.dumps({"sentences": sentences, "source": source}))
    tokens = {"tokenizer": name, "vocab": info, "input_ids": ids, "special_tokens_mask": special}
    (folder / "tokens.json").write_text(json.dumps(tokens))
    lengths = [len(row) for row in ids]
    return {
        "source": source,
        "sentences": len(sentences),
        "characters": sum(map(len, sentences)),
        "mean_characters": round(statistics.mean(map(len, sentences)), 1),
        "mean_words": round(statistics.mean(len(s.split()) for s in sentences), 1),
        "tokenizer": name,
        "tokens": sum(lengths),
        "mean_tokens": round(statistics.mean(lengths), 1),
        "max_tokens": max(lengths),
    }


@dataclass(frozen=True)
class PaddedBatch:
    """One right-padded batch: ids, attention mask, special-tokens mask (1 at [CLS], [SEP] and padding, as a
    tokenizer's `pad` writes it) and the sentences' dataset indices."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    special_tokens_mask: torch.Tensor
    index: torch.Tensor


@dataclass
class TextInputs:
    """What a library's process reads: the sentences, the ids and vocabulary, and the batch size."""

    folder: Path
    sentences: list[str]
    source: str
    input_ids: list[list[int]]
    special_tokens_mask: list[list[int]]
    vocab: dict
    tokenizer: str
    batch: int
    _batches: list[PaddedBatch] = field(default_factory=list, repr=False)

    @property
    def tokenizer_file(self) -> Path | None:
        """The trained tokenizer (tokenizers' JSON), or None when the word-level fallback stood in."""
        path = self.folder / "tokenizer.json"
        return path if path.is_file() else None

    @property
    def tokens(self) -> int:
        """Real tokens ([CLS] and [SEP] included, padding not) over all sentences."""
        return sum(map(len, self.input_ids))

    @property
    def characters(self) -> int:
        return sum(map(len, self.sentences))

    def spans(self) -> list[range]:
        """The sentence indices of each batch, in order."""
        n = len(self.input_ids)
        return [range(start, min(start + self.batch, n)) for start in range(0, n, self.batch)]

    def batches(self) -> list[PaddedBatch]:
        """The padded batches (each to its longest sentence, right padding), built once."""
        if not self._batches:
            pad = self.vocab["pad_token_id"]
            for rows in self.spans():
                longest = max(len(self.input_ids[i]) for i in rows)
                ids = torch.full((len(rows), longest), pad, dtype=torch.int64)
                attention = torch.zeros((len(rows), longest), dtype=torch.int64)
                special = torch.ones((len(rows), longest), dtype=torch.int64)
                for j, i in enumerate(rows):
                    length = len(self.input_ids[i])
                    ids[j, :length] = torch.tensor(self.input_ids[i])
                    attention[j, :length] = 1
                    special[j, :length] = torch.tensor(self.special_tokens_mask[i])
                index = torch.arange(rows.start, rows.stop, dtype=torch.int64)
                self._batches.append(PaddedBatch(ids, attention, special, index))
        return self._batches

    def examples(self, *, with_index: bool) -> list[list[dict]]:
        """Per batch, the tokenized examples a collator takes: input_ids and special_tokens_mask as lists (and
        the dataset index when `with_index`)."""
        out = []
        for rows in self.spans():
            batch = []
            for i in rows:
                example: dict[str, Any] = {
                    "input_ids": list(self.input_ids[i]),
                    "special_tokens_mask": list(self.special_tokens_mask[i]),
                }
                if with_index:
                    example["index"] = i
                batch.append(example)
            out.append(batch)
        return out


def load_inputs(folder: Path, batch: int) -> TextInputs:
    """The inputs `write_inputs` wrote under `folder`, batched by `batch` sentences."""
    texts = json.loads((folder / "sentences.json").read_text())
    tokens = json.loads((folder / "tokens.json").read_text())
    return TextInputs(
        folder=folder,
        sentences=texts["sentences"],
        source=texts["source"],
        input_ids=tokens["input_ids"],
        special_tokens_mask=tokens["special_tokens_mask"],
        vocab=tokens["vocab"],
        tokenizer=tokens["tokenizer"],
        batch=batch,
    )
