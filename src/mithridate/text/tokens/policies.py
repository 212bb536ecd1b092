"""Token-noise policies: BERT masking, XLM/TransCoder denoising noise, T5 span corruption, BART text infilling and
ELECTRA's random replacement, on padded id batches from any tokenizer.

Each policy draws a plan first (which tokens, which spans, which replacements) from counter-based randomness keyed
by (seed, epoch, sample index, stream) and the sample's own token or word numbering, then applies it with the pure
kernels of `functional`. So a sample's noise does not depend on the padded length, the padding side, its place in
the batch or the other samples. A `Dose` sets the chance a sample is touched (p) and scales each op's rate linearly
(strength 1 = the published rate). Special tokens and padding are never noised; inputs are never mutated.
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from ...dose import Dose, Schedule, as_schedule, dose_keys, format_number
from ...rng import Key, as_index, new_seed
from ...validation import check_int
from . import functional as F
from ._draws import (
    below,
    exclusive_cumsum,
    gathered,
    poisson,
    real_rank,
    sorted_subset,
    uniform,
    unit_index,
    width,
)
from .batch import (
    Tokens,
    as_vocab,
    check_ids,
    compiled_paths,
    encoding_word_ids,
    read_tokens,
    word_ids_from_offsets,
    write_tokens,
)

__all__ = [
    "DenoisingNoise",
    "MaskedLM",
    "RandomReplacement",
    "SpanCorruption",
    "TextInfilling",
    "TokenPlan",
    "TokenPolicy",
]

# Streams: what each draw is for. Choices compare a uniform with the rate, so a higher dose noises a superset of
# what a lower one noises (common random numbers across doses).
(
    _GATE,
    _CHOOSE,
    _ACTION,
    _RANDOM,
    _SHUFFLE,
    _DROP,
    _KEEP,
    _BLANK,
    _CUTS,
    _PLACE,
    _SPAN,
    _INSERT,
    _SPAN_RANDOM,
    _SPAN_RANDOM_ID,
    _INSERT_RANDOM,
    _INSERT_RANDOM_ID,
    _ROTATE,
    _ROTATE_OFFSET,
    _SENTENCE_PICK,
    _SENTENCE_ORDER,
) = range(1, 21)


def _check_int(name: str, value: Any, low: int) -> int:
    return check_int(name, value, low)



def _format_value(attribute: str, value: Any) -> str:
    """A parameter's value in a policy string."""
    if attribute == "replace_length":
        return {1: "1", 0: "0", -1: "all"}[value]
    if isinstance(value, bool):
        return "1" if value else "0"
    return format_number(value)


def _check_rate(name: str, value: Any, high: float | None = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    value = float(value)
    if not (value >= 0.0 and (high is None or value <= high)) or math.isinf(value):
        bound = f"[0, {high:g}]" if high is not None else ">= 0 and finite"
        raise ValueError(f"{name}: expected a number in {bound}, got {value}")
    return value


@dataclass(frozen=True, eq=False)
class TokenPlan:
    """A drawn plan: for which policy, for a batch of which shape (N, L), which samples are touched (N,), and
    the draws (per unit, per real-token rank, per span or per sample) that the policy's kernels apply."""

    policy: str
    shape: tuple[int, int]
    touched: torch.Tensor
    draws: dict[str, torch.Tensor]

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.draws[name]

    @property
    def num_samples(self) -> int:
        return self.shape[0]


_ALLOWED: dict[tuple, torch.Tensor] = {}


class TokenPolicy(ABC):
    """Base of the token-noise policies: vocabulary, dose, seed, whole-word units, labels; sample a plan, apply it.

    `vocab` is a TokenVocab, a Hugging Face tokenizer or a mapping of TokenVocab's fields; `dose` a Dose, a Schedule
    over training progress or a callable of progress (None: the published dose); `seed` an integer (None draws one
    from the OS); `whole_word_mask` noises whole words (from `word_ids` or the batch's `offset_mapping`) instead of
    tokens; `label_key` names the output's labels entry (None: no labels); `padding_side` pads the output
    'left' or 'right' (None: as the input).
    """

    name: ClassVar[str]
    # Policy-string keys: key -> attribute, in the order strings write them.
    _KEYS: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        *,
        vocab: Any = None,
        dose: Dose | Schedule | Callable[[float], Dose | float] | None = None,
        seed: int | None = None,
        whole_word_mask: bool = False,
        label_key: str | None = "labels",
        padding_side: str | None = None,
    ) -> None:
        self.vocab = as_vocab(vocab)
        self.schedule = as_schedule(dose)
        self.seed = new_seed() if seed is None else _check_int("seed", seed, 0)
        if not isinstance(whole_word_mask, (bool, np.bool_)):
            raise TypeError(f"whole_word_mask: expected a bool, got {type(whole_word_mask).__name__}")
        self.whole_word_mask = bool(whole_word_mask)
        if label_key is not None and not isinstance(label_key, str):
            raise TypeError(f"label_key: expected a str or None, got {type(label_key).__name__}")
        self.label_key = label_key
        if padding_side not in (None, "left", "right"):
            raise ValueError(f"padding_side: expected 'left', 'right' or None (as the input), got {padding_side!r}")
        self.padding_side = padding_side
        self.progress = 0.0
        self._calls = 0

    # Configuration -----------------------------------------------------------------------------------------------

    def _need(self, field: str, why: str) -> int:
        value = getattr(self.vocab, field)
        if value is None:
            raise ValueError(
                f"vocab.{field}: {type(self).__name__} needs it {why}; give vocab=tokenizer or a TokenVocab"
            )
        return value

    def _allowed_ids(self, device: torch.device) -> torch.Tensor:
        """The ids random tokens are drawn from: the vocabulary without its special ids (ascending, int64)."""
        key = (self.vocab.vocab_size, self.vocab.special_ids, str(device))
        if key not in _ALLOWED:
            size = self._need("vocab_size", "to draw random tokens")
            allowed = torch.ones(size, dtype=torch.bool)
            allowed[list(self.vocab.special_ids)] = False
            if not bool(allowed.any()):
                raise ValueError("vocab: every id is special, so no random token can be drawn")
            if len(_ALLOWED) > 64:
                _ALLOWED.clear()
            _ALLOWED[key] = allowed.nonzero()[:, 0].to(device)
        return _ALLOWED[key]

    @property
    def dose(self) -> Dose:
        """The dose at the current training progress."""
        return self.schedule(self.progress)

    # Sampling ----------------------------------------------------------------------------------------------------

    def _dose_arrays(self, progress: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(p, strength) per sample as float64 arrays (n,): one progress for all, or one per sample (a floating
        tensor)."""
        if not isinstance(progress, torch.Tensor):
            dose = self.schedule(self.progress if progress is None else progress)
            return np.full(n, float(dose.p)), np.full(n, float(dose.strength))
        if progress.shape != (n,) or not progress.dtype.is_floating_point:
            raise ValueError(
                f"progress: expected a number or a floating tensor of one progress per sample, shape ({n},), "
                f"got {progress.dtype} of shape {tuple(progress.shape)}"
            )
        values = progress.detach().to("cpu", torch.float64).numpy()
        if values.size and not ((values >= 0.0) & (values <= 1.0)).all():  # NaN fails too
            raise ValueError(f"progress: expected training progress in [0, 1], got values from {values.min()}")
        p, strength = self.schedule.doses(values)
        return np.asarray(p, dtype=np.float64), np.asarray(strength, dtype=np.float64)

    def _doses(self, progress: Any, n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """(p, strength) per sample, float64 tensors (n,) on `device` (see `_dose_arrays`)."""
        p, strength = self._dose_arrays(progress, n)
        return torch.from_numpy(p).to(device), torch.from_numpy(strength).to(device)

    def _key(self, n: int, index: Any, epoch: int, device: torch.device) -> tuple[Key, torch.Tensor]:
        epoch = _check_int("epoch", epoch, 0)
        if index is None:
            key = Key(self.seed, epoch, self._calls)
            self._calls += 1
            return key, torch.arange(n, device=device)
        return Key(self.seed, epoch, None), as_index(index, n, device)

    def _read(self, batch: Any, inputs: dict[str, Any]) -> Tokens:
        unknown = sorted(set(inputs) - {"attention_mask", "lengths", "special_tokens_mask", "word_ids"})
        if unknown:
            raise TypeError(f"unexpected arguments {unknown}")
        return read_tokens(batch, self.vocab, padding_side=self.padding_side, **inputs)

    def _word_ids(self, tokens: Tokens) -> torch.Tensor | None:
        """The word of each token when noise works on whole words (from word_ids, a fast tokenizer's encodings, or
        offset_mapping), else None."""
        if not self.whole_word_mask:
            return None
        if tokens.word_ids is not None:
            return tokens.word_ids
        from_encodings = encoding_word_ids(tokens.source)
        if from_encodings is not None:
            rows = [[-1 if w is None else w for w in row] for row in from_encodings]
            if [len(row) for row in rows] != [tokens.shape[1]] * tokens.shape[0]:
                raise ValueError(
                    f"whole_word_mask: the BatchEncoding's encodings do not match input_ids of shape {tokens.shape}; "
                    "pass word_ids= explicitly"
                )
            return torch.tensor(rows, dtype=torch.int64, device=tokens.ids.device).reshape(tokens.shape)
        if tokens.offsets is not None:
            return word_ids_from_offsets(tokens.offsets, tokens.special | ~tokens.real)
        raise ValueError(
            "whole_word_mask: needs the word of each token: pass word_ids= (as BatchEncoding.word_ids(i), None or -1 "
            "for no word), a batch with a 'word_ids' or 'offset_mapping' entry, or a fast tokenizer's BatchEncoding"
        )

    def _units(self, tokens: Tokens) -> tuple[torch.Tensor, torch.Tensor]:
        """Each content position's unit (token or whole word) and each sample's unit count."""
        return unit_index(tokens.content, self._word_ids(tokens))

    def sample(
        self,
        batch: Any,
        *,
        index: Any = None,
        epoch: int = 0,
        progress: float | torch.Tensor | None = None,
        **inputs: Any,
    ) -> TokenPlan:
        """Draw the plan of a batch (see `__call__` for the arguments)."""
        tokens = self._read(batch, inputs)
        return self._sample(tokens, index, epoch, progress)

    def _sample(self, tokens: Tokens, index: Any, epoch: int, progress: Any) -> TokenPlan:
        n = tokens.shape[0]
        device = tokens.ids.device
        key, index_tensor = self._key(n, index, epoch, device)
        p, strength = self._doses(progress, n, device)
        touched = (uniform(key, index_tensor, _GATE, 1)[:, 0] < p) & (strength > 0)
        draws = self._draw(tokens, key, index_tensor, strength, touched)
        return TokenPlan(self.name, tokens.shape, touched, draws)

    @abstractmethod
    def _draw(
        self, tokens: Tokens, key: Key, index: torch.Tensor, strength: torch.Tensor, touched: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """The plan's draws for every sample; untouched samples (touched False) must come out unchanged."""

    # Applying ----------------------------------------------------------------------------------------------------

    def apply(self, batch: Any, plan: TokenPlan, **inputs: Any) -> Any:
        """Apply a plan drawn by `sample` for this batch; the output has the input's kind (see `__call__`)."""
        if not isinstance(plan, TokenPlan):
            raise TypeError(f"plan: expected a TokenPlan from sample(), got {type(plan).__name__}")
        tokens = self._read(batch, inputs)
        if plan.policy != self.name or plan.shape != tokens.shape:
            raise ValueError(
                f"plan: drawn by {plan.policy!r} for a batch of shape {plan.shape}, applied by {self.name!r} to "
                f"shape {tokens.shape}"
            )
        return self._finish(tokens, plan)

    def _finish(self, tokens: Tokens, plan: TokenPlan) -> Any:
        ids, real, special, labels, source = self._apply(tokens, plan)
        return write_tokens(tokens, ids, real, special, labels, source, self.label_key)

    @abstractmethod
    def _apply(
        self, tokens: Tokens, plan: TokenPlan
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """ids, attention (bool), special (bool), labels and the source map (None when positions do not move)."""

    def __call__(
        self,
        batch: Any,
        *,
        index: Any = None,
        epoch: int = 0,
        progress: float | torch.Tensor | None = None,
        attention_mask: Any = None,
        lengths: Any = None,
        special_tokens_mask: Any = None,
        word_ids: Any = None,
    ) -> Any:
        """Noise a padded batch: each sample draws its own noise, reproducibly.

        `batch` is a (N, L) integer tensor (or array, or padded lists) of ids, a TokenBatch, or a mapping such as a
        tokenizer's BatchEncoding with input_ids and optionally attention_mask, special_tokens_mask, word_ids,
        offset_mapping. Masks may also be given as arguments; `lengths` (N,) stands for a right-padding mask.
        Without a special_tokens_mask, the vocab's special ids are special. With `index` (one non-negative integer
        per sample, e.g. dataset indices) a sample's noise depends only on (seed, epoch, index) and its own tokens;
        without it a call counter stands in. `progress` (training progress in [0, 1] for the dose schedule) is one
        number or one per sample.

        Returns a TokenBatch for tensors and TokenBatches, a mapping of the input's type for mappings (the ids, the
        attention_mask, the labels under `label_key`, other per-token entries moved along with the tokens).
        """
        inputs = {"attention_mask": attention_mask, "lengths": lengths}
        inputs.update(special_tokens_mask=special_tokens_mask, word_ids=word_ids)
        tokens = self._read(batch, {k: v for k, v in inputs.items() if v is not None})
        fused = self._call_native(tokens, index, epoch, progress)
        if fused is not None:
            return write_tokens(tokens, *fused, self.label_key)
        plan = self._sample(tokens, index, epoch, progress)
        return self._finish(tokens, plan)

    def _call_native(self, tokens: Tokens, index: Any, epoch: int, progress: Any) -> tuple | None:
        """The draw and apply of a CPU call in one compiled pass, equal to `_sample` + `_apply` (ids, attention,
        special, labels, source map); None where the policy has none or it is off (the torch path runs)."""
        return None

    # Description -------------------------------------------------------------------------------------------------

    @classmethod
    def _default(cls, attribute: str) -> Any:
        """The constructor's default for an attribute (the policy string writes only values that differ)."""
        return inspect.signature(cls.__init__).parameters[attribute].default

    def __str__(self) -> str:
        """The policy string (`policy_string`'s grammar): the nearest preset of `TOKEN_POLICIES`, then the differing
        parameters and the dose (a scheduled dose is not part of it)."""
        best: list[str] | None = None
        for head, (cls, preset) in TOKEN_POLICIES.items():
            if cls is not type(self):
                continue
            parts = [head]
            for key, attribute in cls._KEYS.items():
                value = getattr(self, attribute)
                if value != preset.get(attribute, cls._default(attribute)):
                    parts.append(f"{key}{_format_value(attribute, value)}")
            if best is None or len(parts) < len(best):
                best = parts
        if best is None:
            raise TypeError(f"policy: {type(self).__name__} has no policy-string preset")
        best += dose_keys(self.schedule)
        return "-".join(best)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, seed={self.seed})"

    def _identity(self) -> tuple:
        return (type(self), str(self), self.seed, self.vocab, self.label_key, self.padding_side)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenPolicy) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    # Shared draws ------------------------------------------------------------------------------------------------

    def _chosen(
        self, tokens: Tokens, key: Key, index: torch.Tensor, rate: torch.Tensor, touched: torch.Tensor
    ) -> torch.Tensor:
        """Content tokens chosen with probability `rate` (N,) per unit (token or whole word)."""
        units, counts = self._units(tokens)
        draws = uniform(key, index, _CHOOSE, width(counts))
        return tokens.content & (gathered(draws, units) < rate[:, None]) & touched[:, None]

    def _random_ids(
        self, key: Key, index: torch.Tensor, stream: int, rank: torch.Tensor, count: int, avoid: torch.Tensor | None
    ) -> torch.Tensor:
        """Random non-special ids, one per rank column gathered at `rank` (unless `avoid`: different from it)."""
        allowed = self._allowed_ids(rank.device)
        words = gathered(key.bits(index, stream, count), rank)
        size = torch.full_like(rank, allowed.numel())
        if avoid is None:
            return allowed[(words * size) >> 32]
        at = torch.searchsorted(allowed, avoid.contiguous()).clamp(max=allowed.numel() - 1)
        inside = (allowed[at] == avoid) & (size > 1)
        j = (words * (size - inside.to(torch.int64))) >> 32
        return allowed[j + (inside & (j >= at)).to(torch.int64)]


def _rate(reference: float, strength: torch.Tensor, touched: torch.Tensor) -> torch.Tensor:
    """The rate per sample: strength scales the reference linearly, clipped to [0, 1]; 0 for untouched samples."""
    return torch.where(touched, (reference * strength).clamp(0.0, 1.0), torch.zeros_like(strength))


class MaskedLM(TokenPolicy):
    """BERT's masked language modelling, as `transformers.DataCollatorForLanguageModeling`: each content token (or
    whole word) is chosen with probability `mlm_probability`; a chosen token becomes the mask token with probability
    `mask_replace_prob`, a random non-special token with `random_replace_prob`, else stays. Labels: the original id
    at chosen tokens, -100 elsewhere. The strength scales mlm_probability."""

    name = "mlm"
    _KEYS: ClassVar[dict[str, str]] = {
        "r": "mlm_probability",
        "m": "mask_replace_prob",
        "x": "random_replace_prob",
        "w": "whole_word_mask",
    }

    def __init__(
        self,
        vocab: Any = None,
        mlm_probability: float = 0.15,
        mask_replace_prob: float = 0.8,
        random_replace_prob: float = 0.1,
        whole_word_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(vocab=vocab, whole_word_mask=whole_word_mask, **kwargs)
        self.mlm_probability = _check_rate("mlm_probability", mlm_probability)
        self.mask_replace_prob = _check_rate("mask_replace_prob", mask_replace_prob)
        self.random_replace_prob = _check_rate("random_replace_prob", random_replace_prob)
        if self.mask_replace_prob + self.random_replace_prob > 1.0 + 1e-12:
            raise ValueError(
                f"mask_replace_prob + random_replace_prob: expected at most 1, got {self.mask_replace_prob} + "
                f"{self.random_replace_prob}"
            )
        if self.mask_replace_prob > 0:
            self._need("mask_token_id", "to mask tokens (mask_replace_prob > 0)")
        if self.random_replace_prob > 0:
            self._allowed_ids(torch.device("cpu"))

    def _draw(self, tokens, key, index, strength, touched):
        chosen = self._chosen(tokens, key, index, _rate(self.mlm_probability, strength, touched), touched)
        rank = real_rank(tokens.real)
        count = width(tokens.real.sum(1))
        u = gathered(uniform(key, index, _ACTION, count), rank)
        mask_p, random_p = self.mask_replace_prob, self.mask_replace_prob + self.random_replace_prob
        action = torch.where(u < mask_p, 1, torch.where(u < random_p, 2, 0)).to(torch.int8)
        if self.random_replace_prob > 0:
            random_ids = self._random_ids(key, index, _RANDOM, rank, count, None)
        else:
            random_ids = tokens.ids
        return {"chosen": chosen, "action": action, "random_ids": random_ids}

    def _call_native(self, tokens, index, epoch, progress):
        native = compiled_paths(tokens.ids)
        if native is None:
            return None
        n, device = tokens.shape[0], tokens.ids.device
        key, index_tensor = self._key(n, index, epoch, device)
        p, strength = self._dose_arrays(progress, n)
        words = self._word_ids(tokens)
        allowed = self._allowed_ids(device) if self.random_replace_prob > 0 else None
        mask_p, random_p = self.mask_replace_prob, self.mask_replace_prob + self.random_replace_prob
        ids, labels = native.masked_lm(
            tokens.ids, tokens.real, tokens.special, words, key, index_tensor, (_GATE, _CHOOSE, _ACTION, _RANDOM),
            p, strength, self.mlm_probability, mask_p, random_p, self.vocab.mask_token_id, allowed,
        )  # fmt: skip
        return ids, tokens.real, tokens.special, labels, None

    def _apply(self, tokens, plan):
        ids, labels = F.mask_tokens(
            tokens.ids, plan["chosen"], plan["action"], plan["random_ids"], self.vocab.mask_token_id
        )
        return ids, tokens.real, tokens.special, labels, None


class RandomReplacement(TokenPolicy):
    """ELECTRA's `uniform_generator`: each content token (or whole word) is chosen with probability `mask_prob` and
    replaced by a uniformly random non-special token (`disallow_correct`: never by itself). Labels: 1 where the
    token differs from the original, 0 at other real tokens, -100 at padding. The strength scales mask_prob."""

    name = "electra"
    _KEYS: ClassVar[dict[str, str]] = {"r": "mask_prob", "c": "disallow_correct", "w": "whole_word_mask"}

    def __init__(
        self,
        vocab: Any = None,
        mask_prob: float = 0.15,
        disallow_correct: bool = False,
        whole_word_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(vocab=vocab, whole_word_mask=whole_word_mask, **kwargs)
        self.mask_prob = _check_rate("mask_prob", mask_prob)
        if not isinstance(disallow_correct, (bool, np.bool_)):
            raise TypeError(f"disallow_correct: expected a bool, got {type(disallow_correct).__name__}")
        self.disallow_correct = bool(disallow_correct)
        self._allowed_ids(torch.device("cpu"))

    def _draw(self, tokens, key, index, strength, touched):
        chosen = self._chosen(tokens, key, index, _rate(self.mask_prob, strength, touched), touched)
        rank = real_rank(tokens.real)
        avoid = tokens.ids if self.disallow_correct else None
        random_ids = self._random_ids(key, index, _RANDOM, rank, width(tokens.real.sum(1)), avoid)
        return {"chosen": chosen, "random_ids": random_ids}

    def _apply(self, tokens, plan):
        ids = torch.where(plan["chosen"], plan["random_ids"], tokens.ids)
        labels = torch.where(tokens.real, (ids != tokens.ids).to(torch.int64), torch.full_like(ids, -100))
        return ids, tokens.real, tokens.special, labels, None


class DenoisingNoise(TokenPolicy):
    """XLM's and TransCoder's denoising noise (`add_noise`: `word_shuffle`, `word_dropout`, `word_blank`): content
    units are shuffled by adding uniform noise in [0, word_shuffle) to their positions and sorting (stable; 0 is the
    identity; no unit moves more than word_shuffle places and specials such as BOS/EOS stay in place), dropped with
    probability word_dropout (at least one is kept in each sample), and blanked (every token of the unit becomes
    the mask) with probability word_blank. The batch is re-padded to its new lengths. Labels: the original ids,
    -100 at padding. The strength scales all three."""

    name = "xlm"
    _KEYS: ClassVar[dict[str, str]] = {
        "k": "word_shuffle",
        "d": "word_dropout",
        "b": "word_blank",
        "w": "whole_word_mask",
    }

    def __init__(
        self,
        vocab: Any = None,
        word_shuffle: float = 3.0,
        word_dropout: float = 0.1,
        word_blank: float = 0.1,
        whole_word_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(vocab=vocab, whole_word_mask=whole_word_mask, **kwargs)
        self.word_shuffle = _check_rate("word_shuffle", word_shuffle, None)
        self.word_dropout = _check_rate("word_dropout", word_dropout)
        self.word_blank = _check_rate("word_blank", word_blank)
        if self.word_blank > 0:
            self._need("mask_token_id", "to blank words (word_blank > 0)")
        self._need("pad_token_id", "to re-pad the batch after dropping words")

    def _draw(self, tokens, key, index, strength, touched):
        _, counts = self._units(tokens)
        columns = width(counts)
        valid = torch.arange(columns, device=counts.device)[None, :] < counts[:, None]
        shuffle = torch.where(touched, self.word_shuffle * strength, torch.zeros_like(strength))
        noise = uniform(key, index, _SHUFFLE, columns) * shuffle[:, None]
        drop = (uniform(key, index, _DROP, columns) < _rate(self.word_dropout, strength, touched)[:, None]) & valid
        lost = (drop | ~valid).all(1) & (counts > 0)  # XLM keeps at least one word
        kept = below(key, index, _KEEP, counts.clamp(min=1), 1)
        spare = torch.zeros_like(drop).scatter_(1, kept, True) if columns else drop
        drop = drop & ~(spare & lost[:, None])
        blank = (uniform(key, index, _BLANK, columns) < _rate(self.word_blank, strength, touched)[:, None]) & valid
        return {"noise": noise, "drop": drop, "blank": blank}

    def _call_native(self, tokens, index, epoch, progress):
        native = compiled_paths(tokens.ids)
        if native is None:
            return None
        n, device = tokens.shape[0], tokens.ids.device
        key, index_tensor = self._key(n, index, epoch, device)
        p, strength = self._dose_arrays(progress, n)
        words = self._word_ids(tokens)
        mask_id = self.vocab.mask_token_id if self.word_blank > 0 else None
        return native.denoise(
            tokens.ids, tokens.real, tokens.special, words, key, index_tensor,
            (_GATE, _SHUFFLE, _DROP, _KEEP, _BLANK), p, strength, self.word_shuffle, self.word_dropout,
            self.word_blank, mask_id, self.vocab.pad_token_id, tokens.left, tokens.mask_dtype or torch.int64,
            tokens.special_dtype or torch.int64,
        )  # fmt: skip

    def _apply(self, tokens, plan):
        content = tokens.content
        units, _ = self._units(tokens)
        shuffled = F.shuffle_units(content, tokens.special, units, plan["noise"])
        ids = tokens.ids.gather(1, shuffled)
        units = units.gather(1, shuffled)  # content slots do not move, so the masks stay
        keep = tokens.real & ~(content & gathered(plan["drop"], units))
        packed = F.compact(keep, tokens.left)
        source = F.take(shuffled, packed, -1)
        out = F.take(ids, packed, self.vocab.pad_token_id)
        special = F.take(tokens.special, packed, False)
        real = packed >= 0
        units = F.take(units, packed, -1)
        if self.word_blank > 0:
            out = F.blank_units(out, real & ~special, units, plan["blank"], self.vocab.mask_token_id)
        labels = torch.where(tokens.real, tokens.ids, torch.full_like(tokens.ids, -100))
        return out, real, special, labels, source


def _composition(key: Key, index: torch.Tensor, stream: int, total: torch.Tensor, parts: torch.Tensor) -> torch.Tensor:
    """A uniformly random composition of `total` into `parts` positive lengths per sample (T5's
    random_segmentation), (N, max parts) int64 with zeros beyond parts."""
    cuts, valid = sorted_subset(key, index, stream, (total - 1).clamp(min=0), (parts - 1).clamp(min=0))
    n = total.shape[0]
    bounds = torch.cat(
        [
            torch.zeros((n, 1), dtype=torch.int64, device=total.device),
            torch.where(valid, cuts + 1, total[:, None]),
            total[:, None],
        ],
        dim=1,
    )
    return (bounds[:, 1:] - bounds[:, :-1])[:, : width(parts)]


def _place_spans(
    key: Key, index: torch.Tensor, stream: int, units: torch.Tensor, lengths: torch.Tensor, spans: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Starts of `spans` spans of the given lengths (in order) among `units` units, placed uniformly over all
    arrangements with at least one unit between two spans: (N, K) starts and validity."""
    noise = lengths.sum(1)
    free = (units - noise - (spans - 1).clamp(min=0)).clamp(min=0)
    blocks, valid = sorted_subset(key, index, stream, free + spans, spans)
    return torch.where(valid, blocks + exclusive_cumsum(lengths), torch.zeros_like(blocks)), valid


class SpanCorruption(TokenPolicy):
    """T5's span corruption (`random_spans_noise_mask` with `noise_span_to_unique_sentinel`): round(n *
    noise_density) of a sample's n content units (at least 1, at most n - 1) are noise, in round(noise /
    mean_noise_span_length) spans of random lengths, placed uniformly over the sample (T5 always ends a sample with a
    noise span; here the first span's start is uniform). Inputs: each span becomes one sentinel (`vocab.sentinel_ids`
    in order); labels (targets): each sentinel followed by its span's tokens, then EOS if the vocab has one, padded
    with -100. The strength scales noise_density."""

    name = "t5"
    _KEYS: ClassVar[dict[str, str]] = {"d": "noise_density", "l": "mean_noise_span_length", "w": "whole_word_mask"}

    def __init__(
        self,
        vocab: Any = None,
        noise_density: float = 0.15,
        mean_noise_span_length: float = 3.0,
        whole_word_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(vocab=vocab, whole_word_mask=whole_word_mask, **kwargs)
        self.noise_density = _check_rate("noise_density", noise_density)
        self.mean_noise_span_length = _check_rate("mean_noise_span_length", mean_noise_span_length, None)
        if self.mean_noise_span_length < 1:
            raise ValueError(f"mean_noise_span_length: expected a number >= 1, got {self.mean_noise_span_length}")
        if not self.vocab.sentinel_ids:
            raise ValueError(
                "vocab.sentinel_ids: SpanCorruption needs sentinel ids (T5's <extra_id_0>, <extra_id_1>, ...); give a "
                "T5 tokenizer or TokenVocab(sentinel_ids=...)"
            )
        self._need("pad_token_id", "to re-pad the inputs")

    def _draw(self, tokens, key, index, strength, touched):
        units, n = self._units(tokens)
        density = _rate(self.noise_density, strength, touched)
        noise = torch.round(n.to(torch.float64) * density).to(torch.int64)
        noise = torch.where((density > 0) & (n >= 2), noise.clamp(min=1), torch.zeros_like(noise))
        noise = torch.minimum(noise, (n - 1).clamp(min=0))
        spans = torch.round(noise.to(torch.float64) / self.mean_noise_span_length).to(torch.int64).clamp(min=1)
        spans = torch.minimum(torch.minimum(spans, noise), n - noise + 1)
        lengths = _composition(key, index, _CUTS, noise, spans)
        starts, valid = _place_spans(key, index, _PLACE, n, lengths, spans)
        return {"noise": F.spans_to_noise(tokens.content, units, n, starts, lengths, valid)}

    def _apply(self, tokens, plan):
        sentinels = torch.tensor(self.vocab.sentinel_ids, dtype=torch.int64, device=tokens.ids.device)
        ids, real, special, source, targets = F.span_corruption(
            tokens.ids,
            tokens.real,
            tokens.special,
            plan["noise"],
            sentinels,
            self.vocab.eos_token_id,
            self.vocab.pad_token_id,
            tokens.left,
        )
        return ids, real, special, targets, source


_REPLACE_LENGTHS = (-1, 0, 1)


class TextInfilling(TokenPolicy):
    """BART's noise (fairseq `DenoisingDataset`): sentence permutation, text infilling, insertion and rotation.

    A share `permute_sentence_ratio` of a sample's sentences (ended by `sentence_end_id`) swap places; then
    ceil(n * mask_ratio) of its n content units are masked in spans of Poisson(`poisson_lambda`) lengths placed
    uniformly (spans drawn with length 0 insert a mask); each span becomes one mask token (`replace_length` 1;
    0: removed; -1: one mask per token); ceil(n * insert_ratio) more masks are inserted at uniform places; a share
    `mask_random` of the masks are random non-special tokens; with probability `rotate_ratio` the content is rotated
    to start at a random token. Specials stay in place. Labels: the original ids, -100 at padding. The strength
    scales mask_ratio, insert_ratio, rotate_ratio and permute_sentence_ratio.
    """

    name = "bart"
    _KEYS: ClassVar[dict[str, str]] = {
        "m": "mask_ratio",
        "l": "poisson_lambda",
        "x": "mask_random",
        "i": "insert_ratio",
        "o": "rotate_ratio",
        "ps": "permute_sentence_ratio",
        "rl": "replace_length",
        "w": "whole_word_mask",
    }

    def __init__(
        self,
        vocab: Any = None,
        mask_ratio: float = 0.3,
        poisson_lambda: float = 3.5,
        mask_random: float = 0.1,
        insert_ratio: float = 0.0,
        rotate_ratio: float = 0.0,
        permute_sentence_ratio: float = 0.0,
        replace_length: int = 1,
        sentence_end_id: int | Sequence[int] | None = None,
        whole_word_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(vocab=vocab, whole_word_mask=whole_word_mask, **kwargs)
        self.mask_ratio = _check_rate("mask_ratio", mask_ratio)
        self.poisson_lambda = _check_rate("poisson_lambda", poisson_lambda, 1000.0)
        if self.poisson_lambda <= 0:
            raise ValueError(f"poisson_lambda: expected a positive mean span length, got {self.poisson_lambda}")
        self.mask_random = _check_rate("mask_random", mask_random)
        self.insert_ratio = _check_rate("insert_ratio", insert_ratio)
        self.rotate_ratio = _check_rate("rotate_ratio", rotate_ratio)
        self.permute_sentence_ratio = _check_rate("permute_sentence_ratio", permute_sentence_ratio)
        if isinstance(replace_length, bool) or replace_length not in _REPLACE_LENGTHS:
            raise ValueError(f"replace_length: expected -1, 0 or 1, got {replace_length!r}")
        self.replace_length = int(replace_length)
        if isinstance(sentence_end_id, (int, np.integer)) and not isinstance(sentence_end_id, bool):
            sentence_end_id = (sentence_end_id,)
        ends = check_ids("sentence_end_id", sentence_end_id, self.vocab.vocab_size)
        self.sentence_end_ids = tuple(sorted(set(ends)))
        if self.permute_sentence_ratio > 0 and not self.sentence_end_ids:
            raise ValueError(
                "sentence_end_id: permute_sentence_ratio > 0 needs the id (or ids) that end a sentence, e.g. "
                "tokenizer.convert_tokens_to_ids('.')"
            )
        if self.mask_ratio > 0 or self.insert_ratio > 0:  # spans drawn with length 0 insert masks
            self._need("mask_token_id", "to mask spans and insert masks")
        if self.mask_random > 0 and (self.mask_ratio > 0 or self.insert_ratio > 0):
            self._allowed_ids(torch.device("cpu"))
        self._need("pad_token_id", "to re-pad the batch")

    def _identity(self) -> tuple:
        return (*super()._identity(), self.sentence_end_ids)

    def _sentences(self, tokens: Tokens) -> tuple[torch.Tensor, torch.Tensor]:
        ends = torch.isin(tokens.ids, torch.tensor(self.sentence_end_ids, dtype=torch.int64, device=tokens.ids.device))
        return F.sentence_index(tokens.content, ends)

    def _draw(self, tokens, key, index, strength, touched):
        device = tokens.ids.device
        _, n = self._units(tokens)
        draws: dict[str, torch.Tensor] = {}
        # Sentence permutation: ceil(S * ratio) sentences drawn, then put in a random order among their places.
        if self.permute_sentence_ratio > 0:
            _, sentences = self._sentences(tokens)
            ratio = _rate(self.permute_sentence_ratio, strength, touched)
            picked_count = torch.ceil(sentences.to(torch.float64) * ratio - 1e-9).to(torch.int64).clamp(min=0)
            picked, valid = sorted_subset(key, index, _SENTENCE_PICK, sentences, picked_count)
            columns = width(sentences)
            chosen = torch.zeros((len(n), columns + 1), dtype=torch.bool, device=device)
            chosen.scatter_(1, torch.where(valid, picked, columns), True)
            chosen = chosen[:, :columns]
            order_key = uniform(key, index, _SENTENCE_ORDER, columns)
            order_key = torch.where(chosen, order_key, torch.full_like(order_key, 2.0))
            shuffled = torch.sort(order_key, dim=1, stable=True).indices
            slots = torch.sort((~chosen).to(torch.int8), dim=1, stable=True).indices
            ordering = torch.empty_like(slots).scatter_(1, slots, shuffled)
            draws["ordering"] = ordering
        # Spans: Poisson lengths drawn until they cover the budget, the last one trimmed (fairseq's
        # add_whole_word_mask).
        budget = torch.ceil(n.to(torch.float64) * _rate(self.mask_ratio, strength, touched) - 1e-9).to(torch.int64)
        budget = budget.clamp(min=0)
        draws_needed = width(budget) + 8 if width(budget) else 0
        lengths = poisson(uniform(key, index, _SPAN, draws_needed), self.poisson_lambda)
        covered = lengths.cumsum(1)
        column = torch.arange(draws_needed, device=device)[None, :]
        reached = covered >= budget[:, None]
        first_reached = reached.to(torch.int8).argmax(1) if draws_needed else torch.zeros_like(budget)
        last = torch.where(reached.any(1), first_reached, draws_needed - 1)
        taken = (column <= last[:, None]) & (budget[:, None] > 0)
        lengths = torch.where(column == last[:, None], budget[:, None] - exclusive_cumsum(lengths), lengths)
        lengths = torch.where(taken, lengths, torch.zeros_like(lengths))
        zero_spans = (taken & (lengths == 0)).sum(1)
        nonzero = taken & (lengths > 0)
        order = torch.sort((~nonzero).to(torch.int8), dim=1, stable=True).indices
        spans = nonzero.sum(1)
        lengths = lengths.gather(1, order)[:, : width(spans)]
        cap = (n - budget + 1).clamp(min=1)  # at most one span more than unmasked units, so spans stay apart
        column = torch.arange(lengths.shape[1], device=device)[None, :]
        tail = (lengths * (column >= (cap - 1)[:, None])).sum(1)
        lengths = torch.where(
            column < (cap - 1)[:, None], lengths, torch.where(column == (cap - 1)[:, None], tail[:, None], 0)
        )
        spans = torch.minimum(spans, cap)
        starts, valid = _place_spans(key, index, _PLACE, n, lengths, spans)
        draws.update(starts=starts, lengths=lengths, valid=valid)
        # Insertions: the zero-length spans and ceil(n * insert_ratio), each before a uniform unit gap in [0, n].
        inserts = zero_spans + torch.ceil(n.to(torch.float64) * _rate(self.insert_ratio, strength, touched) - 1e-9).to(
            torch.int64
        )
        if self.mask_ratio == 0 and self.insert_ratio == 0:
            inserts = torch.zeros_like(inserts)
        columns = width(inserts)
        gaps = below(key, index, _INSERT, n + 1, columns)
        live = torch.arange(columns, device=device)[None, :] < inserts[:, None]
        draws["gaps"] = torch.where(live, gaps, torch.full_like(gaps, -1))
        # Random tokens instead of masks: per real-token rank for span masks, per insertion for inserted ones.
        rank = real_rank(tokens.real)
        count = width(tokens.real.sum(1))
        mask_id = self.vocab.mask_token_id if self.vocab.mask_token_id is not None else 0
        span_value = torch.full_like(tokens.ids, mask_id)
        insert_value = torch.full_like(gaps, mask_id)
        if self.mask_random > 0 and (self.mask_ratio > 0 or self.insert_ratio > 0):
            pick = gathered(uniform(key, index, _SPAN_RANDOM, count), rank) < self.mask_random
            span_value = torch.where(pick, self._random_ids(key, index, _SPAN_RANDOM_ID, rank, count, None), span_value)
            pick = uniform(key, index, _INSERT_RANDOM, columns) < self.mask_random
            slots = torch.arange(columns, device=device).expand(len(n), columns)
            insert_value = torch.where(
                pick, self._random_ids(key, index, _INSERT_RANDOM_ID, slots, columns, None), insert_value
            )
        draws.update(span_value=span_value, insert_value=insert_value)
        # Rotation: the offset is drawn as 32 bits and scaled to the content length after masking.
        rotate = uniform(key, index, _ROTATE, 1)[:, 0] < _rate(self.rotate_ratio, strength, touched)
        draws.update(rotate=rotate, rotate_bits=key.bits(index, _ROTATE_OFFSET, 1)[:, 0])
        return draws

    def _apply(self, tokens, plan):
        ids, real, special = tokens.ids, tokens.real, tokens.special
        n_rows, length = tokens.shape
        words = self._word_ids(tokens)
        source = torch.arange(length, device=ids.device).expand(n_rows, length)
        if "ordering" in plan.draws and plan["ordering"].shape[1] > 1:
            sentence, _ = self._sentences(tokens)
            source = F.permute_sentences(tokens.content, sentence, plan["ordering"])
            ids = ids.gather(1, source)
            words = None if words is None else words.gather(1, source)
        content = real & ~special
        units, n = unit_index(content, words)
        noise = F.spans_to_noise(content, units, n, plan["starts"], plan["lengths"], plan["valid"])
        ids, real, special, moved = F.infill_spans(
            ids,
            real,
            special,
            units,
            n,
            noise,
            plan["span_value"],
            plan["gaps"],
            plan["insert_value"],
            self.replace_length,
            tokens.left,
        )
        ids = torch.where(real, ids, torch.full_like(ids, self.vocab.pad_token_id))
        source = F.take(source, moved, -1)
        rotate = plan["rotate"]
        if bool(rotate.any()):
            content = real & ~special
            count = content.sum(1)
            offset = 1 + ((plan["rotate_bits"] * (count - 1).clamp(min=0)) >> 32)
            offset = torch.where(rotate & (count >= 2), offset, torch.zeros_like(offset))
            turned = F.rotate_content(content, offset)
            ids, special, source = ids.gather(1, turned), special.gather(1, turned), source.gather(1, turned)
        labels = torch.where(tokens.real, tokens.ids, torch.full_like(tokens.ids, -100))
        return ids, real, special, labels, source


# Preset name -> (class, arguments that differ from the class's defaults): the names of the policy strings
# (`policy_string`). Strings are written from the first preset of a class with the fewest differences.
TOKEN_POLICIES: dict[str, tuple[type[TokenPolicy], dict[str, Any]]] = {
    "mlm": (MaskedLM, {}),
    "xlm": (DenoisingNoise, {}),
    "transcoder": (DenoisingNoise, {"word_blank": 0.3}),
    "t5": (SpanCorruption, {}),
    "bart": (TextInfilling, {}),
    "electra": (RandomReplacement, {}),
}
