"""Reference text classifiers that train in seconds on a CPU. Both take a list of strings (after the policy
noised them) and featurise inside, so every run feeds them the same way; the text is used as given (no
lowercasing), so every change a policy makes is visible.

- `FastText` (the default): hashed word unigrams and bigrams and character n-grams (3 to 5, of each word
  with `<` and `>` around it), averaged by an `nn.EmbeddingBag` and classified by a linear layer (Joulin et
  al., 2017). Hashes are CRC-32 (`zlib.crc32`), the same in every process and on every machine.
- `CharCNN`: the UTF-8 bytes (first 256) embedded, one convolution of width 5, max over time, a linear layer.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["MODELS", "CharCNN", "FastText", "HashedNgrams", "build_text_model"]

MODELS = ("fasttext", "charcnn")
_BIGRAM = 116_049_371  # fastText's multiplier for combining word hashes into n-gram hashes


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


class HashedNgrams:
    """Texts to bags of bucket ids: per text, each whitespace-separated word's hash, each pair of adjacent
    words' hash and each character n-gram's hash of `<word>`, all modulo `buckets`. Returns the flat ids and
    the bags' offsets (`nn.EmbeddingBag`'s input). A word's ids are cached (bounded), since words repeat."""

    def __init__(self, buckets: int = 2**17, char_ngrams: tuple[int, int] = (3, 5), cache_size: int = 200_000) -> None:
        if buckets < 2:
            raise ValueError(f"buckets: expected at least 2, got {buckets}")
        low, high = char_ngrams
        if not 1 <= low <= high:
            raise ValueError(f"char_ngrams: expected 1 <= low <= high, got {char_ngrams}")
        self.buckets, self.char_ngrams, self.cache_size = buckets, (low, high), cache_size
        self._cache: dict[str, tuple[int, list[int]]] = {}

    def _word(self, word: str) -> tuple[int, list[int]]:
        found = self._cache.get(word)
        if found is None:
            marked, (low, high) = f"<{word}>", self.char_ngrams
            grams = [
                _crc("c" + marked[i : i + n]) % self.buckets
                for n in range(low, high + 1)
                for i in range(len(marked) - n + 1)
            ]
            found = (_crc("w" + word), grams)
            if len(self._cache) >= self.cache_size:
                self._cache.clear()
            self._cache[word] = found
        return found

    def ids(self, text: str) -> list[int]:
        """The bucket ids of one text (unigrams, bigrams, character n-grams)."""
        out: list[int] = []
        previous = None
        for word in text.split():
            whole, grams = self._word(word)
            out.append(whole % self.buckets)
            if previous is not None:
                out.append(((previous * _BIGRAM + whole) & 0xFFFFFFFF) % self.buckets)
            out.extend(grams)
            previous = whole
        return out

    def __call__(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        flat: list[int] = []
        offsets: list[int] = []
        for text in texts:
            offsets.append(len(flat))
            flat.extend(self.ids(text))
        return torch.tensor(flat, dtype=torch.int64), torch.tensor(offsets, dtype=torch.int64)


class FastText(nn.Module):
    """Mean of hashed n-gram embeddings, then a linear layer (see the module docstring)."""

    def __init__(self, classes: int, buckets: int = 2**17, dim: int = 16) -> None:
        super().__init__()
        self.featurise = HashedNgrams(buckets)
        self.embedding = nn.EmbeddingBag(buckets, dim, mode="mean")
        self.head = nn.Linear(dim, classes)
        nn.init.uniform_(self.embedding.weight, -1.0 / dim, 1.0 / dim)

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        ids, offsets = self.featurise(texts)
        device = self.head.weight.device
        return self.head(self.embedding(ids.to(device), offsets.to(device)))


class CharCNN(nn.Module):
    """Bytes embedded (width 32), a width-5 convolution (128 channels), ReLU, max over time, a linear layer."""

    def __init__(self, classes: int, max_length: int = 256, dim: int = 32, channels: int = 128) -> None:
        super().__init__()
        self.max_length = max_length
        self.embedding = nn.Embedding(257, dim, padding_idx=0)  # byte b is b + 1; 0 pads
        self.conv = nn.Conv1d(dim, channels, 5, padding=2)
        self.head = nn.Linear(channels, classes)

    def encode(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Byte ids + 1, padded with 0 (N, L), and the mask of real bytes; at least one position per text."""
        encoded = [text.encode("utf-8")[: self.max_length] for text in texts]
        length = max([len(b) for b in encoded] + [1])
        ids = torch.zeros(len(encoded), length, dtype=torch.int64)
        for row, data in enumerate(encoded):
            if data:
                ids[row, : len(data)] = torch.frombuffer(bytearray(data), dtype=torch.uint8).long() + 1
        return ids, ids > 0

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        ids, mask = self.encode(texts)
        device = self.head.weight.device
        ids, mask = ids.to(device), mask.to(device)
        hidden = torch.relu(self.conv(self.embedding(ids).transpose(1, 2)))
        hidden = hidden.masked_fill(~mask.unsqueeze(1), float("-inf")).amax(dim=2)
        hidden = torch.where(torch.isfinite(hidden), hidden, torch.zeros_like(hidden))  # empty texts
        return self.head(hidden)


def build_text_model(name: str, classes: int) -> nn.Module:
    """The reference model `name` (one of `MODELS`) for `classes` classes."""
    if name == "fasttext":
        return FastText(classes)
    if name == "charcnn":
        return CharCNN(classes)
    raise ValueError(f"model: expected one of {', '.join(MODELS)} for text data, got {name!r}")
