"""The reference code classifier: a hashed bag of sub-tokens that trains in seconds on a CPU.

A source is cut by a regular expression into identifiers, numbers and operators (inside strings and comments too,
so a docstring's words count); each identifier gives its lower-cased sub-tokens (split on `_` and camelCase:
`read_line` and `readLine` share `read` and `line`) and itself, each number and operator itself, and every pair of
adjacent tokens a bigram (`self .`, `return None`, `< =`), so the bag sees some of the code's order. The features
are hashed (CRC-32, the same in every process and on every machine) into `buckets` rows of an `nn.EmbeddingBag`
(mean), then a linear layer classifies. The model takes the sources as strings (after a policy noised them) and
featurises inside, as the text task's models do: a renamed identifier loses its sub-tokens, which is what the
renaming dose is about.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import torch
from torch import nn

from ....data.code import split_name

__all__ = ["MODELS", "HashedSubtokens", "SubtokenBag", "build_code_model"]

MODELS = ("bag",)
_TOKEN = re.compile(r"[^\W\d]\w*|\d+|==|!=|<=|>=|//|\*\*|->|:=|[^\w\s]")
_IDENTIFIER = re.compile(r"[^\W\d]\w*")


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


class HashedSubtokens:
    """Sources to bags of bucket ids (flat ids and offsets, `nn.EmbeddingBag`'s input): per token its own id
    and, for identifiers, its sub-tokens' ids; per pair of adjacent tokens a bigram id. A token's ids are cached
    (bounded), since tokens repeat."""

    def __init__(self, buckets: int = 2**18, bigrams: bool = True, cache_size: int = 200_000) -> None:
        if not isinstance(buckets, int) or buckets < 2:
            raise ValueError(f"buckets: expected an integer >= 2, got {buckets!r}")
        self.buckets, self.bigrams, self.cache_size = buckets, bigrams, cache_size
        self._cache: dict[str, tuple[int, list[int]]] = {}

    def _token(self, token: str) -> tuple[int, list[int]]:
        found = self._cache.get(token)
        if found is None:
            parts = split_name(token) if _IDENTIFIER.fullmatch(token) else []
            subs = [_crc("s" + part) % self.buckets for part in parts if part != token]
            found = (_crc("t" + token), subs)
            if len(self._cache) >= self.cache_size:
                self._cache.clear()
            self._cache[token] = found
        return found

    def ids(self, source: str) -> list[int]:
        """The bucket ids of one source."""
        out: list[int] = []
        previous = None
        for token in _TOKEN.findall(source):
            whole, subs = self._token(token)
            out.append(whole % self.buckets)
            out.extend(subs)
            if self.bigrams and previous is not None:
                out.append(((previous * 1_000_003) ^ whole) % self.buckets)
            previous = whole
        return out

    def __call__(self, sources: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        flat: list[int] = []
        offsets: list[int] = []
        for source in sources:
            if not isinstance(source, str):
                raise TypeError(f"sources: expected str, got {type(source).__name__}")
            offsets.append(len(flat))
            flat.extend(self.ids(source))
        return torch.tensor(flat, dtype=torch.int64), torch.tensor(offsets, dtype=torch.int64)


class SubtokenBag(nn.Module):
    """Mean of hashed sub-token and bigram embeddings, then a linear layer (see the module docstring); an empty
    source embeds to zeros."""

    def __init__(self, classes: int, buckets: int = 2**18, dim: int = 32) -> None:
        super().__init__()
        if not isinstance(classes, int) or classes < 2:
            raise ValueError(f"classes: expected an integer >= 2, got {classes!r}")
        self.featurise = HashedSubtokens(buckets)
        self.embedding = nn.EmbeddingBag(buckets, dim, mode="mean")
        self.head = nn.Linear(dim, classes)
        nn.init.uniform_(self.embedding.weight, -1.0 / dim, 1.0 / dim)

    def forward(self, sources: Sequence[str]) -> torch.Tensor:
        ids, offsets = self.featurise(sources)
        device = self.head.weight.device
        return self.head(self.embedding(ids.to(device), offsets.to(device)))


def build_code_model(name: str, classes: int) -> nn.Module:
    """The reference model `name` (one of `MODELS`) for `classes` classes."""
    if name == "bag":
        return SubtokenBag(classes)
    raise ValueError(f"model: expected one of {', '.join(MODELS)} for code data, got {name!r}")
