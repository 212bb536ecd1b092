"""Random features: columns of pure noise to append to a table, to measure what garbage features cost a
model and what a feature selector recovers (`mithridate garbage`).

Four kinds, each column drawn independently of the target and of every other column:

- ``gaussian``: standard normal values, N(0, 1).
- ``uniform``: uniform values in [0, 1).
- ``categorical``: a low-cardinality categorical feature, ordinal-encoded as the codes 0, 1, ...,
  ``n_categories - 1`` (default 5), each equally likely. Ordinal codes keep one column per feature, so k
  random features are k columns of every kind; a model sees the codes as numbers (one-hot encoding would
  turn k features into k x n_categories columns and change the dose).
- ``id``: an ID-like feature with one distinct value per row: a shuffled row index 0 .. n-1 (a different
  shuffle per column). It carries no information about the target, but a tree can split on it down to
  single rows and so memorise the training set through it, and impurity-based importances favour it.

Draws are nested: with the same `random_state`, the first k columns of `random_features(n, k + j, ...)`
are `random_features(n, k, ...)`, so a sweep over k adds columns to the same table instead of drawing a new
one at every k (common random numbers: smoother curves).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from ..validation import check_int

__all__ = ["KINDS", "add_random_features", "random_features"]

KINDS = ("gaussian", "uniform", "categorical", "id")


def _check_count(name: str, value: Any, minimum: int) -> int:
    return check_int(name, value, minimum, type_error=ValueError)


def random_features(
    n_rows: int, k: int, kind: str = "gaussian", *, n_categories: int = 5, random_state: Any = None
) -> np.ndarray:
    """`k` random feature columns for `n_rows` rows, float64 (n_rows, k), of `kind` (see the module's
    docstring). `random_state`: None, an int or a numpy RandomState (scikit-learn's convention)."""
    n_rows = _check_count("n_rows", n_rows, 0)
    k = _check_count("k", k, 0)
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    n_categories = _check_count("n_categories", n_categories, 2)
    rng = check_random_state(random_state)
    # Drawn column by column (shape (k, n) then transposed) so that fewer columns are a prefix of more.
    if kind == "gaussian":
        columns = rng.standard_normal((k, n_rows))
    elif kind == "uniform":
        columns = rng.random_sample((k, n_rows))
    elif kind == "categorical":
        columns = rng.randint(0, n_categories, size=(k, n_rows)).astype(np.float64)
    else:
        columns = np.empty((k, n_rows))
        for column in columns:
            column[:] = rng.permutation(n_rows)
    return np.ascontiguousarray(columns.T, dtype=np.float64)


def add_random_features(
    X: Any, k: int, kind: str = "gaussian", *, n_categories: int = 5, random_state: Any = None
) -> Any:
    """`X` with `k` random feature columns of `kind` appended after its own (which keep their order).

    `X` is a 2-D numeric array-like (a numpy array, a list of rows, or a pandas DataFrame); `X` is not
    modified. The result is a new numpy array (float64, or X's dtype if it is a wider float) or, for a
    DataFrame, a DataFrame with the new columns named ``random_<kind>_<i>``. The real features are therefore
    the first ``X.shape[1]`` columns. See the module's docstring for the kinds and `random_features`.
    """
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        pd = None
    if pd is not None and isinstance(X, pd.DataFrame):
        noise = random_features(len(X), k, kind, n_categories=n_categories, random_state=random_state)
        names = [f"random_{kind}_{i}" for i in range(noise.shape[1])]
        clash = sorted(set(names) & {str(c) for c in X.columns})
        if clash:
            raise ValueError(f"X: already has columns named {clash}; rename them before adding random features")
        extra = pd.DataFrame(noise, index=X.index, columns=names)
        return pd.concat([X, extra], axis=1)
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(f"X: expected a 2-D table (rows, features), got an array of shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"X: expected numeric values, got dtype {array.dtype}")
    noise = random_features(array.shape[0], k, kind, n_categories=n_categories, random_state=random_state)
    dtype = np.result_type(array.dtype, np.float64) if np.issubdtype(array.dtype, np.floating) else np.float64
    return np.hstack([array.astype(dtype, copy=False), noise.astype(dtype, copy=False)])
