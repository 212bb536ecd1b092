"""RandomProbeSelector: finds the informative columns, rejects noise, is deterministic whatever n_jobs,
keeps pandas names, fails clearly on bad input, passes scikit-learn's estimator checks; and the
benchmark harness still runs."""

from __future__ import annotations

import importlib.util
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils.estimator_checks import check_estimator

from mithridate.tabular import RandomProbeSelector
from mithridate.tabular.random_probe import _benjamini_hochberg, _decide, _first_decisive_round

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "feature_selection.py"


def trees(n_estimators: int = 25, regression: bool = False, n_jobs: int | None = None):
    kind = ExtraTreesRegressor if regression else ExtraTreesClassifier
    return kind(n_estimators=n_estimators, n_jobs=n_jobs, random_state=0)


def informative_data(n: int = 400, p: int = 24, k: int = 4, seed: int = 2):
    """make_classification with shuffle=False: the first k columns informative, the rest noise."""
    return make_classification(
        n, p, n_informative=k, n_redundant=0, n_repeated=0, class_sep=1.5, shuffle=False, random_state=seed
    )


def precision_recall(selected: np.ndarray, k: int) -> tuple[float, float]:
    truth = np.arange(selected.size) < k
    hits = (selected & truth).sum()
    return hits / max(selected.sum(), 1), hits / k


@pytest.fixture(scope="module")
def classification_fit():
    X, y = informative_data()
    return X, y, RandomProbeSelector(trees(), n_rounds=40, random_state=0).fit(X, y)


# -- what it finds --------------------------------------------------------------------------------


def test_finds_the_informative_columns_of_a_classification(classification_fit):
    X, _, selector = classification_fit
    precision, recall = precision_recall(selector.support_, 4)
    assert precision == 1.0 and recall == 1.0, np.flatnonzero(selector.support_)
    assert (selector.ranking_[:4] == 1).all()
    assert (selector.ranking_[4:] >= 2).all()
    assert selector.transform(X).shape == (X.shape[0], 4)
    assert list(selector.get_feature_names_out()) == ["x0", "x1", "x2", "x3"]


def test_finds_the_informative_columns_of_a_regression():
    X, y, coef = make_regression(
        n_samples=300, n_features=20, n_informative=4, noise=5.0, shuffle=False, coef=True, random_state=4
    )
    assert (coef[:4] > 60).all() and (coef[4:] == 0).all()  # clear signals (other seeds draw a coefficient ~ noise)
    selector = RandomProbeSelector(trees(regression=True), n_rounds=40, random_state=0).fit(X, y)
    precision, recall = precision_recall(selector.support_, 4)
    assert precision == 1.0 and recall == 1.0, np.flatnonzero(selector.support_)


def test_pure_noise_is_rejected_and_nothing_confirmed():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(300, 20)), rng.integers(0, 2, size=300)
    selector = RandomProbeSelector(trees(), n_rounds=30, random_state=0).fit(X, y)
    assert not selector.support_.any()
    # most are rejected; as they leave, the bar (best of fewer shadows) drops, and a few may stay tentative
    assert (selector.ranking_ >= 3).mean() >= 0.6
    with pytest.warns(UserWarning, match="No features were selected"):
        assert selector.transform(X).shape == (300, 0)


def test_linear_coefficients_and_multiclass():
    """importance='auto' falls back to |coef_| summed over classes, read from a Pipeline's last step."""
    X, y = make_classification(
        300,
        12,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        class_sep=2.0,
        shuffle=False,
        random_state=0,
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    selector = RandomProbeSelector(model, n_rounds=30, random_state=0).fit(X, y)
    assert selector.support_[:3].all()
    # column 3 is noise but associated with y in this sample (ANOVA p = 0.012): it beats the shadows 24 times in 30
    assert np.flatnonzero(selector.support_[3:]).tolist() in ([], [0])
    assert (selector.ranking_[5:11] >= 3).all()


def test_permutation_importance_for_a_model_without_importances():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 8))
    y = (X[:, 0] + 0.8 * X[:, 1] + 0.3 * rng.normal(size=400) > 0).astype(int)
    selector = RandomProbeSelector(GaussianNB(), importance="permutation", n_rounds=20, random_state=0)
    selector.fit(X, y)
    assert np.flatnonzero(selector.support_).tolist() == [0, 1]
    assert (selector.ranking_[2:] >= 2).all()


def test_callable_importance_gets_the_fitted_model_and_its_matrix():
    X, y = informative_data(n=200, p=6, k=2)
    seen = []

    def importance(model, matrix, target):
        seen.append(matrix.shape)
        assert target.shape == (200,)
        return model.feature_importances_

    RandomProbeSelector(trees(10), importance=importance, n_rounds=3, random_state=0).fit(X, y)
    assert seen == [(200, 12)] * 3  # six real columns and their six shadows

    with pytest.raises(ValueError, match="one number per column"):
        RandomProbeSelector(trees(10), importance=lambda m, a, b: np.ones(3), n_rounds=2).fit(X, y)


# -- rounds, determinism, parallelism --------------------------------------------------------------


def test_early_stop_when_nothing_is_tentative(classification_fit):
    _, _, selector = classification_fit
    assert not selector.support_weak_.any()
    assert _first_decisive_round(0.05) <= selector.n_rounds_ < 40
    assert selector.importance_history_.shape == (selector.n_rounds_, 24)
    assert selector.shadow_max_history_.shape == (selector.n_rounds_,)
    rejected = selector.ranking_ >= 3
    # rejected columns leave the rounds: NaN importances from the round after, fewer rounds taken part in
    assert (selector.rounds_in_[rejected] < selector.n_rounds_).any()
    for column in np.flatnonzero(rejected):
        taken_part = selector.rounds_in_[column]
        assert np.isfinite(selector.importance_history_[:taken_part, column]).all()
        assert np.isnan(selector.importance_history_[taken_part:, column]).all()
    assert (selector.rounds_in_[~rejected] == selector.n_rounds_).all()


def test_no_decision_before_the_first_decisive_round():
    assert _first_decisive_round(0.05) == 8  # 0.5**8 <= 0.05 / 8 < 0.5**7 * 8 / 7 ...
    assert _first_decisive_round(0.01) == 10
    X, y = informative_data(n=200, p=6, k=2)
    selector = RandomProbeSelector(trees(10), n_rounds=7, random_state=0).fit(X, y)
    assert selector.n_rounds_ == 7
    assert selector.support_weak_.all() and (selector.ranking_ == 2).all()


def test_fixed_random_state_is_deterministic_and_seeds_matter(classification_fit):
    X, y, first = classification_fit
    again = RandomProbeSelector(trees(), n_rounds=40, random_state=0).fit(X, y)
    np.testing.assert_array_equal(first.importance_history_, again.importance_history_)
    np.testing.assert_array_equal(first.ranking_, again.ranking_)
    other = RandomProbeSelector(trees(), n_rounds=40, random_state=1).fit(X, y)
    assert not np.array_equal(first.importance_history_[0], other.importance_history_[0])


def test_n_jobs_does_not_change_the_result():
    X, y = informative_data(n=200, p=16, k=3, seed=4)

    def fit(n_jobs):
        return RandomProbeSelector(trees(10, n_jobs=1), n_rounds=25, n_jobs=n_jobs, random_state=7).fit(X, y)

    one, three = fit(1), fit(3)
    # with 3 jobs, rounds 9-11 then 12-14 run ahead; the rejection in round 12 sends 13 and 14 back
    assert 12 in one.rounds_in_[one.ranking_ >= 3]
    assert one.n_rounds_ == three.n_rounds_
    np.testing.assert_array_equal(one.importance_history_, three.importance_history_)
    np.testing.assert_array_equal(one.ranking_, three.ranking_)


# -- pandas ------------------------------------------------------------------------------------------


def test_pandas_gives_the_same_result_and_keeps_names():
    pd = pytest.importorskip("pandas")
    X, y = informative_data(n=300, p=10, k=3)
    names = [f"f_{i}" for i in range(10)]
    frame = pd.DataFrame(X, columns=names)
    from_numpy = RandomProbeSelector(trees(), n_rounds=30, random_state=0).fit(X, y)
    selector = RandomProbeSelector(trees(), n_rounds=30, random_state=0).fit(frame, pd.Series(y))
    np.testing.assert_array_equal(selector.ranking_, from_numpy.ranking_)
    assert list(selector.feature_names_in_) == names
    kept = [names[i] for i in np.flatnonzero(selector.support_)]
    assert kept == ["f_0", "f_1", "f_2"]
    assert list(selector.get_feature_names_out()) == kept

    out = selector.set_output(transform="pandas").transform(frame)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == kept
    np.testing.assert_array_equal(out.to_numpy(), X[:, :3])


def test_pandas_nan_error_names_the_columns():
    pd = pytest.importorskip("pandas")
    X, y = informative_data(n=50, p=4, k=2)
    frame = pd.DataFrame(X, columns=["age", "income", "height", "weight"])
    frame.loc[3, "income"] = np.nan
    frame.loc[5, "weight"] = np.inf
    with pytest.raises(ValueError, match=r"NaN or inf in column\(s\) income, weight"):
        RandomProbeSelector(trees(5)).fit(frame, y)


# -- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.zeros((0, 3)), np.zeros(0), "0 sample"),
        (np.zeros((5, 0)), np.arange(5), "0 feature"),
        (np.ones((1, 3)), np.ones(1), "1 sample"),
        (np.arange(12.0).reshape(6, 2), np.arange(5), "inconsistent numbers of samples"),
        (np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, 3.0]]), np.arange(3), r"NaN or inf in column\(s\) 0"),
        (np.ones((6, 3)), np.arange(6) % 2, "at least one non-constant column"),
    ],
)
def test_bad_input_is_a_clear_value_error(X, y, message):
    with pytest.raises(ValueError, match=message):
        RandomProbeSelector(trees(5)).fit(X, y)


def test_constant_columns_warn_and_are_rejected_without_fitting():
    X, y = informative_data(n=200, p=6, k=2)
    X[:, 4] = 3.0
    with pytest.warns(UserWarning, match=r"constant column\(s\) 4"):
        selector = RandomProbeSelector(trees(10), n_rounds=30, random_state=0).fit(X, y)
    assert selector.rounds_in_[4] == 0 and np.isnan(selector.importance_history_[:, 4]).all()
    assert selector.ranking_[4] == selector.ranking_.max()
    assert not selector.support_[4]


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"n_rounds": 0}, ValueError, "n_rounds: expected a positive integer"),
        ({"alpha": 0.7}, ValueError, r"alpha: expected a significance level in \(0, 0.5\]"),
        ({"importance": "gain"}, ValueError, "importance: expected 'auto', 'permutation' or a callable"),
    ],
)
def test_bad_parameters(params, error, message):
    X, y = informative_data(n=50, p=4, k=2)
    with pytest.raises(error, match=message):
        RandomProbeSelector(trees(5), **params).fit(X, y)


def test_estimator_without_importances_is_a_type_error():
    X, y = informative_data(n=50, p=4, k=2)
    with pytest.raises(TypeError, match=r"neither feature_importances_ nor coef_.*importance='permutation'"):
        RandomProbeSelector(KNeighborsClassifier(), n_rounds=2).fit(X, y)
    with pytest.raises(TypeError, match="expected a scikit-learn estimator"):
        RandomProbeSelector("forest").fit(X, y)


# -- the tests against BorutaPy's reference code, and properties -----------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40), st.sampled_from([0.01, 0.05, 0.2]))
def test_benjamini_hochberg_matches_borutapy(p_values, alpha):
    boruta = pytest.importorskip("boruta")
    p_values = np.asarray(p_values)
    expected = boruta.BorutaPy(None)._fdrcorrection(p_values, alpha=alpha)[0]
    np.testing.assert_array_equal(_benjamini_hochberg(p_values, alpha), expected)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 60), st.data())
def test_two_step_decisions_match_borutapy(rounds, data):
    boruta = pytest.importorskip("boruta")
    n = data.draw(st.integers(1, 30))
    hits = np.asarray(data.draw(st.lists(st.integers(0, rounds), min_size=n, max_size=n)))
    before = np.asarray(data.draw(st.lists(st.sampled_from([-1, 0, 1]), min_size=n, max_size=n)))
    expected = boruta.BorutaPy(None, alpha=0.05)._do_tests(before.copy(), hits.copy(), rounds)
    decision = before.copy()
    _decide(decision, hits, np.flatnonzero(before >= 0), rounds, 0.05)
    np.testing.assert_array_equal(decision, expected)


@settings(max_examples=12, deadline=None)
@given(
    n=st.integers(20, 60),
    p=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    rounds=st.integers(1, 12),
)
def test_ranking_support_and_transform_agree(n, p, seed, rounds):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = X[:, 0] * rng.choice([0.0, 3.0]) + rng.normal(size=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "no features were selected"
        selector = RandomProbeSelector(DecisionTreeRegressor(max_depth=3), n_rounds=rounds, random_state=seed)
        selected = selector.fit(X, y).transform(X)
    ranking = selector.ranking_
    assert ((ranking == 1) == selector.support_).all()
    assert ((ranking == 2) == selector.support_weak_).all()
    assert not (selector.support_ & selector.support_weak_).any()
    assert (ranking >= 1).all() and selected.shape == (n, selector.support_.sum())
    np.testing.assert_array_equal(selected, X[:, selector.support_])
    rejected = np.flatnonzero(ranking >= 3)
    if rejected.size:  # rejected: better hit rate never ranks worse
        rate = selector.hits_[rejected] / np.maximum(selector.rounds_in_[rejected], 1)
        order = np.argsort(ranking[rejected], kind="stable")
        assert (np.diff(rate[order]) <= 1e-12).all()
    assert selector.n_rounds_ <= rounds


# -- scikit-learn conventions, benchmark -------------------------------------------------------------------


def test_scikit_learn_estimator_checks():
    selector = RandomProbeSelector(ExtraTreesRegressor(n_estimators=5), n_rounds=9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check_estimator(selector)


def test_benchmark_quick_runs(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_feature_selection", BENCHMARK)
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)  # dataclasses look their module up
    spec.loader.exec_module(bench)
    assert bench.main(["--quick", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "feature_selection_quick.json").read_text())
    methods = {row["method"] for row in report["rows"]}
    assert {"RandomProbeSelector", "SelectFromModel (mean)"} <= methods
    assert report["machine"]["cores"] and report["machine"]["versions"]["scikit-learn"]
    assert "| RandomProbeSelector |" in (tmp_path / "feature_selection_quick.md").read_text()
