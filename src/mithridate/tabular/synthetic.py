"""Synthetic tabular rows by SMOTE-style interpolation: new rows on segments between same-class neighbours.

A synthetic row of class c is x + g * (x' - x): x a row of class c, x' one of its k nearest neighbours of
the same class, g uniform in [0, 1) (Chawla et al., 2002). The draws are SMOTE's, as imbalanced-learn
makes them, but imbalanced-learn's `SMOTE` is an over-sampler: it tops classes up to target counts and
hands back the real rows with the new ones. Here any number of rows is made, with the class shares of the
data by default, from scikit-learn's `NearestNeighbors` alone (no extra dependency), and the draws are
counter-based (`mithridate.rng`): synthetic row j is a pure function of (seed, j, its class), with no
global random state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ..rng import Key, new_seed
from ..validation import check_int

__all__ = ["smote_rows"]

_S_BASE, _S_NEIGHBOUR, _S_GAP, _S_ORDER = range(4)


def _check_X(X: Any) -> np.ndarray:
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(f"X: expected a 2-D array of rows (n_rows, n_features), got shape {array.shape}")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"X: expected numeric features, got dtype {array.dtype}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))
        raise ValueError(
            f"X: expected finite values, got {len(bad)} NaN or infinite (first at row {bad[0][0]}, column "
            f"{bad[0][1]}); impute or drop them first"
        )
    return array


def _check_y(y: Any, rows: int) -> np.ndarray:
    labels = np.asarray(y)
    if labels.ndim != 1 or len(labels) != rows:
        raise ValueError(f"y: expected a 1-D array of {rows} labels (one per row of X), got shape {labels.shape}")
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        raise ValueError("y: expected labels, got NaN")
    return labels


def _check_count(name: str, value: object) -> int:
    return check_int(name, value, 0, type_error=ValueError)


def _per_class(n: int | Mapping[Any, int], classes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Rows to make per class: `n` split by the class shares (largest remainders), or the given mapping."""
    if isinstance(n, Mapping):
        known_in_order = [cls.item() if isinstance(cls, np.generic) else cls for cls in classes]
        known = set(known_in_order)
        unknown = [label for label in n if label not in known]
        if unknown:
            raise ValueError(f"n: expected counts for classes in y ({sorted(known, key=str)}), got {unknown!r}")
        return np.array([_check_count(f"n[{cls!r}]", n.get(cls, 0)) for cls in known_in_order], dtype=np.int64)
    total = _check_count("n", n)
    quota = total * counts / counts.sum()
    share = np.floor(quota).astype(np.int64)
    remainder = total - int(share.sum())
    order = np.argsort(-(quota - share), kind="stable")  # largest remainders first, ties by class order
    share[order[:remainder]] += 1
    return share


def _neighbours(rows: np.ndarray, k: int) -> np.ndarray:
    """The k nearest other rows of each row (indices into `rows`), nearest first; a row is never its own."""
    from sklearn.neighbors import NearestNeighbors

    found = NearestNeighbors(n_neighbors=k + 1).fit(rows).kneighbors(rows, return_distance=False)
    other = found != np.arange(len(rows))[:, None]
    first = np.argsort(~other, axis=1, kind="stable")[:, :k]  # drop self wherever a tie put it
    return np.take_along_axis(found, first, axis=1)


def _seed_of(random_state: Any) -> int:
    """The integer seed of the counter-based draws, from what scikit-learn's `check_random_state` accepts."""
    if random_state is None:
        return new_seed()
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, np.iinfo(np.int64).max, dtype=np.int64))
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)) or random_state < 0:
        raise ValueError(
            f"random_state: expected None, a non-negative integer seed or a numpy RandomState (scikit-learn's "
            f"check_random_state), got {random_state!r}"
        )
    return int(random_state)


def smote_rows(
    X: Any,
    y: Any,
    n: int | Mapping[Any, int],
    *,
    k_neighbors: int = 5,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`n` synthetic rows (X_new, y_new), each between a row and one of its `k_neighbors` nearest same-class rows.

    `n` is a total split by the class shares of `y` (largest remainders) or a mapping {class: count}; a
    class that gets rows needs more than `k_neighbors` of them. Rows come with their classes interleaved
    at random. `random_state` follows scikit-learn's `check_random_state`: an integer seed (the same seed gives the
    same rows), a numpy RandomState (a seed is drawn from it, advancing it) or None (a fresh seed).
    """
    features = _check_X(X)
    labels = _check_y(y, len(features))
    k = _check_count("k_neighbors", k_neighbors)
    if k < 1:
        raise ValueError(f"k_neighbors: expected an integer >= 1, got {k_neighbors!r}")
    seed = _seed_of(random_state)

    classes, class_of_row, counts = np.unique(labels, return_inverse=True, return_counts=True)
    wanted = _per_class(n, classes, counts)
    short = [(cls, count) for cls, count, want in zip(classes, counts, wanted, strict=True) if want and count <= k]
    if short:
        cls, count = short[0]
        name = cls.item() if isinstance(cls, np.generic) else cls
        raise ValueError(
            f"y: class {name!r} has {count} rows; SMOTE with k_neighbors={k} needs at least {k + 1} rows in each "
            f"class that gets synthetic rows (lower k_neighbors, or leave the class out)"
        )

    dtype = features.dtype if features.dtype.kind == "f" else np.dtype(np.float64)
    total = int(wanted.sum())
    out = np.empty((total, features.shape[1]), dtype=dtype)
    key = Key(seed)
    # Row j's class: the class blocks, shuffled by a counter-based permutation of the rows.
    blocks = np.repeat(np.arange(len(classes)), wanted)
    order = torch.sort(key.bits(torch.arange(total, dtype=torch.int64), _S_ORDER)[:, 0], stable=True).indices
    row_class = blocks[order.numpy()]
    for c in np.flatnonzero(wanted):
        members = np.flatnonzero(class_of_row == c)
        rows = features[members].astype(dtype, copy=False)
        near = _neighbours(rows, k)
        at = np.flatnonzero(row_class == c)
        index = torch.from_numpy(at.astype(np.int64))
        base = key.integers(index, _S_BASE, len(members))[:, 0].numpy()
        pick = key.integers(index, _S_NEIGHBOUR, k)[:, 0].numpy()
        gap = key.uniform(index, _S_GAP).numpy().astype(np.float64)
        start, end = rows[base].astype(np.float64), rows[near[base, pick]].astype(np.float64)
        out[at] = start + gap * (end - start)
    return out, classes[row_class]
