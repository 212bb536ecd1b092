"""Random features (kinds, shapes, cardinality, determinism) and the `mithridate garbage` experiment at a
tiny size: k-nearest neighbours lose accuracy to many gaussian features and RandomProbeSelector wins it
back; the store, the report and the command line."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from mithridate.cli import main
from mithridate.experiments.studies.garbage import GarbageConfig, run_garbage, show_garbage
from mithridate.tabular.random_features import KINDS, add_random_features, random_features

# Random features ----------------------------------------------------------------------------------------


def test_each_kind_has_its_claimed_distribution_and_cardinality():
    n = 4000
    gaussian = random_features(n, 3, "gaussian", random_state=0)
    assert gaussian.shape == (n, 3) and gaussian.dtype == np.float64
    assert np.allclose(gaussian.mean(axis=0), 0, atol=0.1) and np.allclose(gaussian.std(axis=0), 1, atol=0.1)
    uniform = random_features(n, 3, "uniform", random_state=0)
    assert uniform.min() >= 0 and uniform.max() < 1 and np.allclose(uniform.mean(axis=0), 0.5, atol=0.05)
    categorical = random_features(n, 3, "categorical", n_categories=4, random_state=0)
    for column in categorical.T:
        values, counts = np.unique(column, return_counts=True)
        assert values.tolist() == [0, 1, 2, 3] and counts.min() > n / 4 * 0.8
    ids = random_features(n, 3, "id", random_state=0)
    for column in ids.T:
        assert sorted(column.tolist()) == list(range(n))  # one distinct value per row
    assert not np.array_equal(ids[:, 0], ids[:, 1]) and not np.array_equal(ids[:, 0], np.arange(n))


@pytest.mark.parametrize("kind", KINDS)
def test_draws_are_deterministic_nested_and_independent_of_x(kind):
    first = random_features(50, 6, kind, random_state=3)
    assert np.array_equal(first, random_features(50, 6, kind, random_state=3))
    assert not np.array_equal(first, random_features(50, 6, kind, random_state=4))
    assert np.array_equal(random_features(50, 2, kind, random_state=3), first[:, :2])  # fewer columns: a prefix
    assert random_features(50, 0, kind, random_state=3).shape == (50, 0)


def test_add_random_features_appends_after_the_real_ones_and_keeps_x():
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    copy = X.copy()
    out = add_random_features(X, 5, "uniform", random_state=1)
    assert out.shape == (4, 8) and out.dtype == np.float64
    assert np.array_equal(out[:, :3], X) and np.array_equal(X, copy)
    assert np.array_equal(out[:, 3:], random_features(4, 5, "uniform", random_state=1))
    assert np.array_equal(add_random_features([[1, 2], [3, 4]], 0, random_state=0), [[1.0, 2.0], [3.0, 4.0]])


def test_a_dataframe_gets_named_columns():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]}, index=[10, 11, 12])
    extended = add_random_features(frame, 2, "id", random_state=0)
    assert list(extended.columns) == ["a", "b", "random_id_0", "random_id_1"] and list(extended.index) == [10, 11, 12]
    assert list(frame.columns) == ["a", "b"]
    with pytest.raises(ValueError, match="already has columns"):
        add_random_features(pd.DataFrame({"random_gaussian_0": [1.0]}), 1)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="k: expected a non-negative integer"):
        random_features(10, -1)
    with pytest.raises(ValueError, match="kind: expected one of gaussian, uniform, categorical, id"):
        random_features(10, 1, "poisson")
    with pytest.raises(ValueError, match="n_categories"):
        random_features(10, 1, "categorical", n_categories=1)
    with pytest.raises(ValueError, match="2-D"):
        add_random_features(np.zeros(5), 1)
    with pytest.raises(ValueError, match="numeric"):
        add_random_features(np.array([["a", "b"]]), 1)


def test_an_id_feature_lets_a_tree_memorise_the_training_rows_and_nothing_more():
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    ids = random_features(400, 1, "id", random_state=0)
    tree = DecisionTreeClassifier(random_state=0).fit(ids[:300], y[:300])
    assert tree.score(ids[:300], y[:300]) == 1.0  # memorised
    assert tree.score(ids[300:], y[300:]) < 0.65  # chance on new rows


# The experiment --------------------------------------------------------------------------------------------

TINY = {
    "datasets": ("wine",),
    "kinds": ("gaussian",),
    "ks": (0, 104),  # 8 random features per real one
    "models": ("logreg", "knn"),
    "seeds": 2,
    "probe_rounds": 10,
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("garbage") / "tiny"
    return out, run_garbage(GarbageConfig(**TINY), out, jobs=1, progress=False, echo=lambda line: None)


def check_knn_falls_and_the_selector_recovers(tiny):
    _, summary = tiny
    clean, noisy = summary.cells("wine", "gaussian")
    assert (clean.cell["k"], noisy.cell["k"]) == (0, 104) and clean.cell["kind"] == "none"
    assert noisy["all/knn"].mean < clean["all/knn"].mean - 0.05
    assert noisy["probe/knn"].mean > noisy["all/knn"].mean + 0.05
    assert noisy["kept_random"].mean <= 0.05 and noisy["kept_real"].mean >= 0.5
    assert clean["kept_real"].mean >= 0.5 and clean["kept_random"].mean is None
    (finding,) = [f for f in summary.findings() if f.model == "knn"]
    assert finding.recovered is not None and finding.recovered > 0.5
    table = summary.format_table()
    assert "wine (d = 13" in table and "+probe" in table and "recovered" in table


def test_tiny_experiment_findings_report_results_and_resume(tiny, capsys):
    """One test, so that pytest-xdist does not run the tiny experiment once per worker."""
    check_knn_falls_and_the_selector_recovers(tiny)
    out, summary = tiny
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2 and "RandomProbeSelector" in page
    for name in ("garbage.png", "garbage_wine.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    results = json.loads((out / "results.json").read_text())
    assert len(results["cells"]) == 2 and len(results["runs"]) == 4 and results["config"]["ks"] == [0, 104]
    with sqlite3.connect(out / "store.sqlite") as connection:
        before = connection.execute("SELECT cell, seed, finished_at FROM results ORDER BY 1, 2").fetchall()
    assert len(before) == 4
    again = run_garbage(GarbageConfig(**TINY), out, jobs=1, progress=False, echo=lambda line: None)
    with sqlite3.connect(out / "store.sqlite") as connection:
        assert connection.execute("SELECT cell, seed, finished_at FROM results ORDER BY 1, 2").fetchall() == before
    assert again.format_table() == summary.format_table() == show_garbage(out)[0].format_table()
    assert main(["garbage", "--show", "--out", str(out)]) == 0
    assert summary.format_table() in capsys.readouterr().out
    assert main(["garbage", "--show", "--json", "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["spec"]["experiment"] == "garbage"
    assert main(["show", str(out)]) == 0  # `mithridate show` reads these folders too
    assert summary.format_table() in capsys.readouterr().out


def test_config_cells_and_recipe():
    config = GarbageConfig(datasets=("wine", "digits"), kinds=("id", "gaussian"), multiples=(0, 0.5, 1))
    cells = config.cells()
    assert cells[0] == {"dataset": "wine", "kind": "none", "k": 0}
    assert {"dataset": "wine", "kind": "gaussian", "k": 6} in cells and {
        "dataset": "digits",
        "kind": "id",
        "k": 64,
    } in cells
    assert len(cells) == 2 * (1 + 2 * 2)
    same = GarbageConfig(datasets=("wine",), seeds=7, models=("knn", "logreg", "random_forest", "gradient_boosting"))
    assert same.spec().spec_hash() == GarbageConfig().spec().spec_hash()  # the grid is not the recipe
    assert GarbageConfig(probe_rounds=5).spec().spec_hash() != GarbageConfig().spec().spec_hash()


def test_command_line(tmp_path, capsys):
    out = tmp_path / "cli"
    flags = ["--datasets", "wine", "--kinds", "id", "--ks", "0,13", "--models", "knn", "--seeds", "1"]
    assert main(["garbage", *flags, "--probe-rounds", "8", "--jobs", "1", "--no-progress", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "wine (d = 13" in printed and f"report: {out / 'report.html'}" in printed
    for arguments, message in (
        (["--datasets", "iris"], "datasets: expected some of breast_cancer, wine, digits, got iris"),
        (["--kinds", "gaussian,noise"], "kinds: expected some of"),
        (["--multiples", "0,x"], "expected numbers separated by commas"),
        (["--multiples", "0,-1"], "multiples: expected non-negative numbers"),
        (["--ks", "1", "--multiples", "1"], "not both"),
        (["--models", "svm"], "models: expected some of"),
        (["--seeds", "0"], "expected a positive integer"),
        (["--show", "--out", str(tmp_path / "nothing")], "no store.sqlite here"),
    ):
        assert main(["garbage", *arguments]) == 2
        error = capsys.readouterr().err
        assert error.startswith("mithridate: error: ") and message in error and error.count("\n") == 1
