"""Mix a real and a synthetic dataset at an exact ratio, reproducibly: the dose axis of synthetic data.

`Mix(real, synthetic, ratio)` keeps the total fixed (by default len(real)) and makes the nearest whole
number of its items synthetic, the rest real: the share is exact, not a random draw around the ratio.
`Mix.on_top(real, synthetic, ...)` keeps every real item once and adds synthetic items on top. Which items
are drawn, and where they sit, is a counter-based permutation of the seed (`mithridate.rng`), with no
global random state; for one seed, the items drawn at a smaller count are a prefix of those drawn at a
larger one, so the synthetic set grows and the real set shrinks monotonically along a ratio sweep.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import numpy as np
import torch
from torch.utils.data import Dataset

from ..rng import Key
from ..validation import check_int

__all__ = ["Mix"]

_S_REAL, _S_SYNTHETIC, _S_ORDER = range(3)

Values = TypeVar("Values", torch.Tensor, np.ndarray)


def _permutation(seed: int, stream: int, n: int) -> torch.Tensor:
    """A permutation of range(n), int64, a pure function of (seed, stream, n): items sorted by hashed keys."""
    index = torch.arange(n, dtype=torch.int64)
    keys = Key(seed).bits(index, stream)[:, 0]
    return torch.sort(keys, stable=True).indices


def _check_dataset(name: str, dataset: object) -> int:
    if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
        raise TypeError(
            f"{name}: expected a map-style dataset with __getitem__ and __len__, got {type(dataset).__name__}"
        )
    return len(dataset)  # type: ignore[arg-type]


def _check_ratio(ratio: object, *, below_one: bool = False) -> float:
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float, np.integer, np.floating)):
        raise TypeError(f"ratio: expected a number in [0, 1], got {type(ratio).__name__}")
    value = float(ratio)
    if not (0.0 <= value < 1.0 if below_one else 0.0 <= value <= 1.0):
        interval = "[0, 1) (a synthetic share; 1 would need infinitely many)" if below_one else "[0, 1]"
        raise ValueError(f"ratio: expected a synthetic share in {interval}, got {ratio!r}")
    return value


def _check_count(name: str, value: object, minimum: int) -> int:
    return check_int(name, value, minimum, type_error=ValueError)


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


class Mix(Dataset):
    """A torch Dataset of `length` items (default len(real)): round(ratio * length) synthetic, the rest real.

    Items come from `real` or `synthetic` (any map-style datasets: torch Datasets, arrays, lists) as
    those return them; round is to the nearest whole number, halves up. Without `replace`, each source
    must hold enough distinct items; with it, a short source is cycled through one permutation, so every
    item is used the same number of times, give or take one.

    For analysis: `is_synthetic` (bool tensor, one per item), `source_index` (int64 tensor: the item's
    index in its source), `n_real`, `n_synthetic`, `ratio` (the exact share) and `requested_ratio`.
    """

    def __init__(
        self,
        real: Dataset,
        synthetic: Dataset,
        ratio: float,
        *,
        length: int | None = None,
        seed: int = 0,
        replace: bool = False,
    ) -> None:
        n_real_items = _check_dataset("real", real)
        _check_dataset("synthetic", synthetic)
        share = _check_ratio(ratio)
        if length is None:
            if n_real_items == 0:
                raise ValueError("length: the real dataset is empty; expected an explicit length >= 1")
            length = n_real_items
        length = _check_count("length", length, 1)
        n_synthetic = _round_half_up(share * length)
        self._build(real, synthetic, length - n_synthetic, n_synthetic, seed, replace, share)

    @classmethod
    def on_top(
        cls,
        real: Dataset,
        synthetic: Dataset,
        *,
        extra: int | None = None,
        ratio: float | None = None,
        seed: int = 0,
        replace: bool = False,
    ) -> Mix:
        """Every real item once plus synthetic ones: `extra` of them, or as many as make their share `ratio`
        (the nearest whole number, halves up; `ratio` in [0, 1))."""
        n_real = _check_dataset("real", real)
        _check_dataset("synthetic", synthetic)
        if (extra is None) == (ratio is None):
            raise ValueError("on_top: expected exactly one of extra (a count) or ratio (a synthetic share)")
        if extra is not None:
            n_synthetic = _check_count("extra", extra, 0)
            requested = None
        else:
            requested = _check_ratio(ratio, below_one=True)
            n_synthetic = _round_half_up(n_real * requested / (1.0 - requested))
        if n_real + n_synthetic == 0:
            raise ValueError("on_top: the real dataset is empty and no synthetic items were asked for")
        mix = cls.__new__(cls)
        mix._build(real, synthetic, n_real, n_synthetic, seed, replace, requested)
        return mix

    def _build(
        self,
        real: Dataset,
        synthetic: Dataset,
        n_real: int,
        n_synthetic: int,
        seed: object,
        replace: object,
        requested: float | None,
    ) -> None:
        seed = _check_count("seed", seed, 0)
        if not isinstance(replace, bool):
            raise TypeError(f"replace: expected a bool, got {type(replace).__name__}")
        self.real, self.synthetic, self.seed, self.replace = real, synthetic, seed, replace
        length = n_real + n_synthetic
        self.requested_ratio = n_synthetic / length if requested is None else requested
        real_pick = self._pick("real", real, n_real, _S_REAL)
        synthetic_pick = self._pick("synthetic", synthetic, n_synthetic, _S_SYNTHETIC)
        self._order = _permutation(seed, _S_ORDER, length)
        flags = torch.cat([torch.zeros(n_real, dtype=torch.bool), torch.ones(n_synthetic, dtype=torch.bool)])
        self._real_pick, self._synthetic_pick = real_pick, synthetic_pick
        self.is_synthetic: torch.Tensor = flags[self._order]
        self.source_index: torch.Tensor = torch.cat([real_pick, synthetic_pick])[self._order]

    def _pick(self, name: str, dataset: Dataset, count: int, stream: int) -> torch.Tensor:
        available = len(dataset)  # type: ignore[arg-type]
        if count == 0:
            return torch.zeros(0, dtype=torch.int64)
        if available == 0 or (count > available and not self.replace):
            items = "item" if count == 1 else "items"
            message = f"{name}: expected at least {count} {items} for this mix, the dataset has {available}"
            hint = "" if available == 0 else "; pass replace=True to repeat items, or lower the ratio or length"
            raise ValueError(message + hint)
        permutation = _permutation(self.seed, stream, available)
        cycles = -(-count // available)
        return permutation.repeat(cycles)[:count]

    @property
    def n_synthetic(self) -> int:
        """How many items are synthetic."""
        return int(self._synthetic_pick.numel())

    @property
    def n_real(self) -> int:
        """How many items are real."""
        return int(self._real_pick.numel())

    @property
    def ratio(self) -> float:
        """The synthetic share, exact: n_synthetic / len(self)."""
        return self.n_synthetic / len(self)

    def __len__(self) -> int:
        return int(self._order.numel())

    def __getitem__(self, index: int) -> Any:
        if isinstance(index, torch.Tensor) and index.numel() == 1 and not index.is_floating_point():
            index = int(index)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index: expected an integer, got {type(index).__name__}")
        length = len(self)
        position = int(index) + length if index < 0 else int(index)
        if not 0 <= position < length:
            raise IndexError(f"index: expected an integer in [-{length}, {length}), got {index}")
        source = self.synthetic if self.is_synthetic[position] else self.real
        return source[int(self.source_index[position])]

    def take(self, real_values: Values, synthetic_values: Values) -> Values:
        """The mix applied to whole arrays at once: row i of the result is item i's row of its source.

        `real_values` and `synthetic_values` are tensors (or both numpy arrays) indexed like the datasets,
        e.g. `mix.take(real.images, synthetic.images)`; faster than indexing item by item.
        """
        if isinstance(real_values, torch.Tensor) and isinstance(synthetic_values, torch.Tensor):
            real_part = real_values[self._real_pick.to(real_values.device)]
            synthetic_part = synthetic_values[self._synthetic_pick.to(synthetic_values.device)]
            return torch.cat([real_part, synthetic_part.to(real_part.device)])[self._order.to(real_part.device)]
        if isinstance(real_values, np.ndarray) and isinstance(synthetic_values, np.ndarray):
            real_part = real_values[self._real_pick.numpy()]
            synthetic_part = synthetic_values[self._synthetic_pick.numpy()]
            return np.concatenate([real_part, synthetic_part])[self._order.numpy()]
        got = f"{type(real_values).__name__} and {type(synthetic_values).__name__}"
        raise TypeError(f"take: expected two torch tensors or two numpy arrays, got {got}")

    def __repr__(self) -> str:
        return (
            f"Mix(len={len(self)}, real={self.n_real}, synthetic={self.n_synthetic}, ratio={self.ratio:.4g}, "
            f"seed={self.seed}, replace={self.replace})"
        )
