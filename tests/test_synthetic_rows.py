"""SMOTE-style synthetic rows: on segments between same-class neighbours, class shares kept, reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from mithridate.tabular.synthetic import smote_rows


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_breast_cancer(return_X_y=True)
    return X, y


def _on_a_neighbour_segment(new: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """For each new row: whether it is x + g (x' - x), g in [0, 1], x' one of the k nearest other rows of x."""
    distance = np.linalg.norm(rows[:, None] - rows[None], axis=-1)
    np.fill_diagonal(distance, np.inf)
    near = np.argsort(distance, axis=1, kind="stable")[:, :k]
    start = np.repeat(rows, k, axis=0)  # (segments, features)
    direction = rows[near.ravel()] - start
    found = np.zeros(len(new), dtype=bool)
    for i, point in enumerate(new):
        offset = point - start
        gap = np.einsum("sf,sf->s", offset, direction) / np.einsum("sf,sf->s", direction, direction)
        residual = np.linalg.norm(offset - gap[:, None] * direction, axis=1)
        scale = np.linalg.norm(direction, axis=1) + 1e-12
        found[i] = bool(np.any((residual <= 1e-9 * scale + 1e-9) & (gap >= -1e-9) & (gap <= 1 + 1e-9)))
    return found


def test_rows_lie_between_same_class_neighbours(cancer):
    X, y = cancer
    X, y = X[:80], y[:80]
    new, labels = smote_rows(X, y, 60, k_neighbors=3, random_state=0)
    assert new.shape == (60, X.shape[1]) and new.dtype == np.float64 and labels.dtype == y.dtype
    for c in (0, 1):
        assert _on_a_neighbour_segment(new[labels == c], X[y == c], k=3).all()
    assert not _on_a_neighbour_segment(new[labels == 0][:5], X[y == 1], k=3).any()  # never across classes


def test_class_shares_are_kept_exactly(cancer):
    X, y = cancer
    _, labels = smote_rows(X, y, 1000, random_state=1)
    counts = np.bincount(labels)
    quota = 1000 * np.bincount(y) / len(y)  # 372.6 and 627.4: largest remainders give 373 and 627
    assert counts.sum() == 1000 and np.all(np.abs(counts - quota) < 1)
    assert len(set(labels[:50].tolist())) == 2  # classes interleaved, not in blocks


def test_per_class_counts_and_string_labels(cancer):
    X, y = cancer
    names = np.where(y == 1, "benign", "malignant")
    new, labels = smote_rows(X, names, {"malignant": 7}, random_state=2)
    assert new.shape == (7, 30) and labels.tolist() == ["malignant"] * 7
    empty, no_labels = smote_rows(X, y, 0, random_state=2)
    assert empty.shape == (0, 30) and no_labels.shape == (0,)


def test_deterministic_and_seeds_differ(cancer):
    X, y = cancer
    a = smote_rows(X, y, 40, random_state=5)
    b = smote_rows(X, y, 40, random_state=5)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], smote_rows(X, y, 40, random_state=6)[0])
    assert not np.array_equal(smote_rows(X, y, 40)[0], smote_rows(X, y, 40)[0])  # None: a fresh seed


def test_a_random_state_instance_seeds_the_rows_as_scikit_learn_would(cancer):
    X, y = cancer
    first = smote_rows(X, y, 30, random_state=np.random.RandomState(4))[0]
    assert np.array_equal(first, smote_rows(X, y, 30, random_state=np.random.RandomState(4))[0])
    state = np.random.RandomState(4)
    drawn, again = smote_rows(X, y, 30, random_state=state)[0], smote_rows(X, y, 30, random_state=state)[0]
    assert np.array_equal(drawn, first) and not np.array_equal(again, first)  # the instance advances
    assert not np.array_equal(first, smote_rows(X, y, 30, random_state=np.random.RandomState(5))[0])


def test_dtypes_and_duplicate_rows():
    X32 = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.repeat([0, 1], 10)
    assert smote_rows(X32, y, 10, random_state=0)[0].dtype == np.float32
    integer, _ = smote_rows(np.arange(40).reshape(20, 2), y, 10, random_state=0)
    assert integer.dtype == np.float64
    same = np.ones((6, 3))  # all rows equal: every neighbour is a tie with the row itself
    new, _ = smote_rows(same, np.zeros(6, dtype=int), 4, k_neighbors=5, random_state=0)
    assert np.array_equal(new, np.ones((4, 3)))


def test_inputs_are_not_mutated(cancer):
    X, y = cancer
    X_copy, y_copy = X.copy(), y.copy()
    smote_rows(X, y, 30, random_state=0)
    assert np.array_equal(X, X_copy) and np.array_equal(y, y_copy)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 7, np.nan, X), y, 10, {}), "NaN or infinite"),
        (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 7, np.inf, X), y, 10, {}), "finite"),
        (lambda X, y: (X[:, 0], y, 10, {}), "2-D"),
        (lambda X, y: (X.astype(str), y, 10, {}), "numeric"),
        (lambda X, y: (X, y[:-1], 10, {}), "one per row"),
        (lambda X, y: (X, np.where(y == 1, np.nan, 0.0), 10, {}), "NaN"),
        (lambda X, y: (X, y, -1, {}), "n: expected a non-negative integer"),
        (lambda X, y: (X, y, 2.5, {}), "n: expected a non-negative integer"),
        (lambda X, y: (X, y, {7: 3}, {}), "n: expected counts for classes in y"),
        (lambda X, y: (X, y, 10, {"k_neighbors": 0}), "k_neighbors"),
        (lambda X, y: (X, y, 10, {"random_state": -3}), "random_state"),
        (lambda X, y: (X, y, 10, {"random_state": np.random.default_rng(0)}), "random_state"),
        (lambda X, y: (X[:25], np.r_[np.zeros(22), np.ones(3)].astype(int), 10, {}), "class 1 has 3 rows"),
    ],
)
def test_rejects_bad_input(cancer, change, message):
    X, y, n, kwargs = change(*cancer)
    with pytest.raises(ValueError, match=message):
        smote_rows(X, y, n, **kwargs)


def test_a_small_class_that_gets_no_rows_is_fine():
    X = np.arange(50, dtype=float).reshape(25, 2)
    y = np.r_[np.zeros(22), np.ones(3)].astype(int)
    _, labels = smote_rows(X, y, {0: 5}, random_state=0)
    assert labels.tolist() == [0] * 5
