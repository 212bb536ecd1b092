"""Random-probe (shadow feature) selection: which features a model finds no more useful than noise.

`RandomProbeSelector` is a scikit-learn feature selector in the manner of Boruta (Kursa & Rudnicki, 2010).
Each round appends *shadows* (every still-active column with its rows permuted independently, so a
shadow keeps its column's distribution but loses any link to the target), fits a clone of any
estimator, and records a *hit* for each real feature more important than the best shadow. After each
round, binomial tests on the hit counts (p = 1/2) with Boruta's two-step correction (Benjamini-Hochberg
across features, then Bonferroni across rounds, as BorutaPy's `two_step`) confirm features that win too
often to be chance and reject those that lose too often. Rejected features leave the later rounds, and
the fit stops as soon as no feature is tentative.

Rounds are seeded up front from `random_state`, and a round depends only on its seed and on the features
not yet rejected. So rounds can run ahead in parallel (`n_jobs`) on the current active set, and the few
that ran ahead of a rejection are run again: the result is the same whatever `n_jobs`. The opening
rounds, before any test can decide (8 at alpha = 0.05), always run ahead together.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable

import numpy as np
from joblib import effective_n_jobs
from scipy.stats import binom
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.feature_selection import SelectorMixin
from sklearn.inspection import permutation_importance
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["RandomProbeSelector"]

CONFIRMED, TENTATIVE, REJECTED = 1, 0, -1
MIN_SHADOWS = 5  # as Boruta: the best of fewer shadows is too easy a bar
PERMUTATION_HELD_OUT = 0.25
PERMUTATION_REPEATS = 5

ImportanceFn = Callable[[BaseEstimator, np.ndarray, np.ndarray], np.ndarray]


class RandomProbeSelector(SelectorMixin, BaseEstimator):
    """Keep the features that beat their own shuffled copies, Boruta-style.

    Parameters
    ----------
    estimator : estimator
        Any scikit-learn classifier or regressor; a fresh clone is fitted each round, with every
        `random_state` parameter it has set from the round's seed. It sets the cost of a round: for a
        forest, 100 trees of bounded depth (e.g. `max_depth=7`) are usually plenty.
    n_rounds : int, default=100
        The most rounds to run; the fit stops earlier once no feature is tentative.
    importance : {"auto", "permutation"} or callable, default="auto"
        How a fitted estimator scores the columns of its training matrix (real features then shadows).
        "auto": `feature_importances_`, else `|coef_|` summed over classes or targets (standardize the
        features first, e.g. in a Pipeline, whose last step is then read). "permutation": fit on 75 %
        of the rows and take `sklearn.inspection.permutation_importance` (5 repeats, the estimator's
        default score) on the other 25 %. A callable `(fitted_estimator, X, y) -> importances` gets the
        matrix and target the estimator was fitted on and returns one number per column.
    alpha : float, default=0.05
        Significance level of both tests, in (0, 0.5].
    random_state : int, RandomState instance or None, default=None
        Seeds the permutations and the estimator of every round; an int gives the same result on
        every run, whatever `n_jobs`.
    n_jobs : int or None, default=None
        Rounds run at once, in threads (joblib conventions: None is 1, -1 all cores; switch to
        processes with `joblib.parallel_config(backend="loky")` for estimators that hold the GIL).
        Give the cores either to the rounds (with the estimator's own `n_jobs=1`) or to the estimator:
        rounds in parallel pay off when each fit is small, as in the later rounds.

    Attributes
    ----------
    support_ : ndarray of bool, shape (n_features_in_,)
        The confirmed features: those `transform` keeps.
    support_weak_ : ndarray of bool, shape (n_features_in_,)
        The features still tentative when the rounds ran out (neither confirmed nor rejected).
    ranking_ : ndarray of int, shape (n_features_in_,)
        1 confirmed, 2 tentative, 3 and up rejected, best first by hit rate then median importance.
    hits_ : ndarray of int, shape (n_features_in_,)
        Rounds in which each feature beat the best shadow.
    rounds_in_ : ndarray of int, shape (n_features_in_,)
        Rounds each feature took part in (rejected features leave; constant ones never enter).
    n_rounds_ : int
        Rounds run; fewer than `n_rounds` when every feature was decided early.
    importance_history_ : ndarray of float, shape (n_rounds_, n_features_in_)
        Importance of each feature in each round, NaN after it was rejected.
    shadow_max_history_ : ndarray of float, shape (n_rounds_,)
        Importance of the best shadow in each round: the bar a hit has to clear.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names, when fitted on a DataFrame with string column names.

    Notes
    -----
    Constant columns carry no information: they get a warning, are rejected without being fitted and
    rank last. A matrix whose columns are all constant, or that holds NaN or infinity, is an error.

    As in Boruta, the bar falls as features are rejected (the best of fewer shadows), so a noise column
    that happens to be associated with the target in this sample (the most associated of many) can end
    up tentative or even confirmed; the tests control errors per round, not this selection effect.
    Read `support_weak_` and `hits_` before trusting a borderline feature.
    """

    def __init__(
        self,
        estimator: BaseEstimator,
        *,
        n_rounds: int = 100,
        importance: str | ImportanceFn = "auto",
        alpha: float = 0.05,
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.n_rounds = n_rounds
        self.importance = importance
        self.alpha = alpha
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y) -> RandomProbeSelector:
        """Run the rounds on `X` (n_samples, n_features), numpy or pandas, and target `y`; return self."""
        self._check_params()
        X, y = validate_data(
            self, X, y, dtype=(np.float64, np.float32), ensure_all_finite=False, ensure_min_samples=2, multi_output=True
        )
        names = getattr(self, "feature_names_in_", None)
        _check_finite(X, names)
        n_features = X.shape[1]
        X = np.asfortranarray(X)  # shadows are built column by column; trees read columns too

        constant = np.ptp(X, axis=0) == 0
        if constant.all():
            raise ValueError(f"X: expected at least one non-constant column, got {n_features} constant column(s)")
        if constant.any():
            warnings.warn(
                f"X: constant column(s) {_describe(np.flatnonzero(constant), names)} cannot be informative; "
                "they are rejected without being fitted",
                UserWarning,
                stacklevel=2,
            )

        rng = check_random_state(self.random_state)
        entropy = int(rng.randint(np.iinfo(np.int32).max))
        seeds = np.random.SeedSequence(entropy).generate_state(2 * self.n_rounds).reshape(self.n_rounds, 2)

        decision = np.where(constant, REJECTED, TENTATIVE)
        hits = np.zeros(n_features, dtype=np.int64)
        rounds_in = np.zeros(n_features, dtype=np.int64)
        importance_history: list[np.ndarray] = []
        shadow_max_history: list[float] = []
        first_decisive = _first_decisive_round(self.alpha)
        width = effective_n_jobs(self.n_jobs)
        rounds_done = 0
        with Parallel(n_jobs=self.n_jobs, prefer="threads") as parallel:
            while rounds_done < self.n_rounds and (decision == TENTATIVE).any():
                # A round depends only on its seed and on the features not yet rejected, so rounds run
                # ahead in parallel on today's active set; those after a rejection are run again.
                active = np.flatnonzero(decision != REJECTED)
                batch = min(max(width, first_decisive - rounds_done), self.n_rounds - rounds_done)
                results = parallel(
                    delayed(_round_importances)(self.estimator, X, y, active, seeds[rounds_done + i], self.importance)
                    for i in range(batch)
                )
                for real, shadow in results:
                    rounds_done += 1
                    row = np.full(n_features, np.nan)
                    row[active] = real
                    importance_history.append(row)
                    shadow_max_history.append(float(shadow.max()))
                    hits[active] += real > shadow.max()
                    rounds_in[active] += 1
                    _decide(decision, hits, active, rounds_done, self.alpha)
                    if (decision[active] == REJECTED).any() or not (decision == TENTATIVE).any():
                        break

        self.n_rounds_ = rounds_done
        self.hits_ = hits
        self.rounds_in_ = rounds_in
        self.importance_history_ = np.vstack(importance_history)
        self.shadow_max_history_ = np.asarray(shadow_max_history)
        self.support_ = decision == CONFIRMED
        self.support_weak_ = decision == TENTATIVE
        self.ranking_ = _ranking(decision, hits, rounds_in, self.importance_history_)
        return self

    def _get_support_mask(self) -> np.ndarray:
        check_is_fitted(self, "support_")
        return self.support_

    def _check_params(self) -> None:
        if not hasattr(self.estimator, "fit"):
            raise TypeError(f"estimator: expected a scikit-learn estimator with fit, got {self.estimator!r}")
        n_rounds = self.n_rounds
        if isinstance(n_rounds, bool) or not isinstance(n_rounds, numbers.Integral) or n_rounds < 1:
            raise ValueError(f"n_rounds: expected a positive integer, got {n_rounds!r}")
        alpha = self.alpha
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha <= 0.5:
            raise ValueError(f"alpha: expected a significance level in (0, 0.5], got {alpha!r}")
        if not callable(self.importance) and self.importance not in ("auto", "permutation"):
            raise ValueError(
                f"importance: expected 'auto', 'permutation' or a callable(estimator, X, y), got {self.importance!r}"
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _round_importances(
    estimator: BaseEstimator,
    X: np.ndarray,
    y: np.ndarray,
    active: np.ndarray,
    seed: np.ndarray,
    importance: str | ImportanceFn,
) -> tuple[np.ndarray, np.ndarray]:
    """One round: the active columns plus their shadows, a fresh fit; importances of reals and shadows."""
    rng = np.random.default_rng(int(seed[0]))
    n_active = active.size
    copies = -(-MIN_SHADOWS // n_active)  # tile a few columns until there are enough shadows
    matrix = np.empty((X.shape[0], n_active * (1 + copies)), dtype=X.dtype, order="F")
    matrix[:, :n_active] = X[:, active]
    for c in range(copies):
        start = n_active * (1 + c)
        rng.permuted(matrix[:, :n_active], axis=0, out=matrix[:, start : start + n_active])

    model = clone(estimator)
    model_seed = int(seed[1] & 0x7FFFFFFF)
    model.set_params(**{k: model_seed for k in model.get_params(deep=True) if k.split("__")[-1] == "random_state"})

    if importance == "permutation":
        stratify = y if is_classifier(model) and y.ndim == 1 else None
        try:
            fit_rows, held_rows = train_test_split(
                np.arange(X.shape[0]), test_size=PERMUTATION_HELD_OUT, random_state=model_seed, stratify=stratify
            )
        except ValueError:  # a class too small to stratify
            fit_rows, held_rows = train_test_split(
                np.arange(X.shape[0]), test_size=PERMUTATION_HELD_OUT, random_state=model_seed
            )
        model.fit(matrix[fit_rows], y[fit_rows])
        scores = permutation_importance(
            model, matrix[held_rows], y[held_rows], n_repeats=PERMUTATION_REPEATS, random_state=model_seed
        ).importances_mean
    elif importance == "auto":
        model.fit(matrix, y)
        scores = _own_importances(model)
    else:
        model.fit(matrix, y)
        scores = importance(model, matrix, y)

    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (matrix.shape[1],):
        raise ValueError(
            f"importance: expected one number per column of the fitted matrix, shape ({matrix.shape[1]},), "
            f"got shape {scores.shape}"
        )
    if not np.isfinite(scores).all():
        raise ValueError("importance: expected finite importances, got NaN or infinity")
    return scores[:n_active], scores[n_active:]


def _own_importances(model: BaseEstimator) -> np.ndarray:
    """`feature_importances_`, else `|coef_|` summed over classes or targets; of a Pipeline's last step."""
    for candidate in (model, model[-1] if hasattr(model, "steps") else None):
        if candidate is None:
            continue
        importances = getattr(candidate, "feature_importances_", None)  # a property on forests: read it once
        if importances is not None:
            return np.asarray(importances)
        coef = getattr(candidate, "coef_", None)
        if coef is not None:
            coef = np.abs(np.asarray(coef, dtype=np.float64))
            return coef.sum(axis=0) if coef.ndim == 2 else coef
    raise TypeError(
        f"importance='auto': {type(model).__name__} has neither feature_importances_ nor coef_ once fitted; "
        "pass importance='permutation' or a callable(estimator, X, y) -> importances"
    )


def _first_decisive_round(alpha: float) -> int:
    """The first round at which a test can decide: all hits or none is then significant after Bonferroni."""
    rounds = 1
    while 0.5**rounds > alpha / rounds:
        rounds += 1
    return rounds


def _benjamini_hochberg(p_values: np.ndarray, alpha: float) -> np.ndarray:
    """Which hypotheses the Benjamini-Hochberg step-up procedure rejects at false-discovery rate `alpha`."""
    order = np.argsort(p_values, kind="stable")
    below = p_values[order] <= alpha * np.arange(1, p_values.size + 1) / p_values.size
    passed = np.zeros(p_values.size, dtype=bool)
    if below.any():
        passed[order[: np.flatnonzero(below)[-1] + 1]] = True
    return passed


def _decide(decision: np.ndarray, hits: np.ndarray, active: np.ndarray, rounds: int, alpha: float) -> None:
    """Boruta's two-step tests after `rounds` rounds, in place: FDR across the features still in play
    (confirmed ones included, as BorutaPy), then Bonferroni across rounds; only tentative ones change."""
    h = hits[active]
    p_confirm = binom.sf(h - 1, rounds, 0.5)
    p_reject = binom.cdf(h, rounds, 0.5)
    confirm = _benjamini_hochberg(p_confirm, alpha) & (p_confirm <= alpha / rounds)
    reject = _benjamini_hochberg(p_reject, alpha) & (p_reject <= alpha / rounds)
    tentative = decision[active] == TENTATIVE
    decision[active[tentative & confirm]] = CONFIRMED
    decision[active[tentative & reject]] = REJECTED


def _ranking(decision: np.ndarray, hits: np.ndarray, rounds_in: np.ndarray, history: np.ndarray) -> np.ndarray:
    """1 confirmed, 2 tentative, 3+ rejected: by hit rate, then median importance (ties share a rank)."""
    ranking = np.where(decision == CONFIRMED, 1, 2)
    rejected = np.flatnonzero(decision == REJECTED)
    if rejected.size:
        rate = hits[rejected] / np.maximum(rounds_in[rejected], 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: constant features
            median = np.nanmedian(history[:, rejected], axis=0)
        median = np.where(np.isnan(median), -np.inf, median)
        keys = np.stack([-rate, -median], axis=1)
        _, inverse = np.unique(keys, axis=0, return_inverse=True)  # lexicographic, best first
        dense = inverse.ravel()
        # competition ranking: a feature's rank is 3 plus the number of rejected features strictly better
        counts = np.bincount(dense)
        ranking[rejected] = 3 + np.concatenate([[0], np.cumsum(counts)[:-1]])[dense]
    return ranking


def _describe(columns: np.ndarray, names: np.ndarray | None, limit: int = 10) -> str:
    labels = [str(names[c]) if names is not None else str(int(c)) for c in columns[:limit]]
    more = f" and {columns.size - limit} more" if columns.size > limit else ""
    return ", ".join(labels) + more


def _check_finite(X: np.ndarray, names: np.ndarray | None) -> None:
    bad = ~np.isfinite(X).all(axis=0)
    if bad.any():
        raise ValueError(
            f"X: expected finite values, got NaN or inf in column(s) {_describe(np.flatnonzero(bad), names)}; "
            "impute or drop them first"
        )
