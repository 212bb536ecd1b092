"""The `mithridate synthetic` experiment at a tiny size: synthetic digits in the digits' format, the mixes'
composition, real-only against synthetic-only accuracy, SMOTE rows, the report and the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mithridate.cli import main
from mithridate.experiments.studies import synthetic
from mithridate.experiments.studies.synthetic import SyntheticConfig, run_synthetic, show_synthetic, synthetic_digits


@pytest.mark.parametrize("variant", synthetic.DIGIT_VARIANTS)
def test_synthetic_digits_have_the_digits_format_and_nest(variant):
    small, small_labels = synthetic_digits(25, variant, seed=3)  # rendered 4 per class
    large, large_labels = synthetic_digits(90, variant, seed=3)  # rendered 16 per class: nests all the same
    assert small.shape == (25, 64) and small.dtype == np.float64
    assert np.array_equal(small, np.rint(small)) and small.min() >= 0 and small.max() <= 16 and small.max() > 8
    assert small_labels.tolist() == [i % 10 for i in range(25)]
    assert np.array_equal(large[:25], small) and np.array_equal(large_labels[:25], small_labels)
    other_seed = synthetic_digits(25, variant, seed=4)[0]
    assert np.array_equal(other_seed, small) == (variant == "plain")  # plain: the clean glyphs, whatever the seed


def test_randomisation_and_augmentation_change_the_images():
    plain, _ = synthetic_digits(240, "plain", seed=0)
    assert len(np.unique(plain, axis=0)) <= 120  # 12 fonts x 10 digits, in turn
    for variant in ("plain+aug", "randomised", "randomised+aug"):
        images, _ = synthetic_digits(240, variant, seed=0)
        assert len(np.unique(images, axis=0)) > 150, variant
    assert not np.array_equal(synthetic_digits(50, "randomised", 0)[0], synthetic_digits(50, "randomised+aug", 0)[0])


def test_config_is_validated():
    for settings, message in (
        ({"parts": ("digits", "audio")}, "parts: expected some of digits, tabular"),
        ({"digits_variants": ("plain", "smote")}, "digits variants"),
        ({"shares": (0, 1.5)}, "shares: expected synthetic shares in [0, 1]"),
        ({"digits_total": 2000}, "at most the 1000 real training images"),
        ({"tabular_real": 4}, "SMOTE needs more real rows"),
        ({"digits_added": (0, -5)}, "non-negative integers"),
        ({"augment": "nonsense"}, "unknown policy"),
        ({"seeds": 0}, "seeds"),
    ):
        with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
            SyntheticConfig(**settings)
    config = SyntheticConfig(
        parts=("digits",), digits_variants=("randomised", "plain"), shares=(0, 0.5), digits_added=(0, 10)
    )
    assert config.digits_variants == ("plain", "randomised")
    assert [(c["mix"], c["synthetic"], c["x"]) for c in config.cells()] == [
        ("share", "none", 0.0), ("share", "plain", 0.5), ("share", "randomised", 0.5),
        ("on_top", "none", 0), ("on_top", "plain", 10), ("on_top", "randomised", 10),
    ]  # fmt: skip
    assert SyntheticConfig(seeds=9, shares=(0, 1)).spec().spec_hash() == SyntheticConfig().spec().spec_hash()


TINY = {
    "digits_variants": ("plain", "randomised"),
    "tabular_variants": ("copies", "smote"),
    "models": ("logreg",),
    "seeds": 2,
    "shares": (0.0, 1.0),
    "digits_total": 200,
    "digits_real": 30,
    "digits_added": (0, 300),
    "tabular_total": 60,
    "tabular_real": 20,
    "tabular_added": (0, 100),
}


def test_tiny_experiment_mixes_report_and_resume(tmp_path, capsys):
    settings = dict(TINY)
    out = tmp_path / "tiny"
    summary = run_synthetic(SyntheticConfig(**settings), out, jobs=1, progress=False, echo=lambda line: None)

    def cell(part, mix, variant, x):
        (found,) = [
            r
            for r in summary.rows
            if (r.cell["part"], r.cell["mix"], r.cell["synthetic"], r.cell["x"]) == (part, mix, variant, x)
        ]
        return found

    real_only = cell("digits", "share", "none", 0.0)
    for variant in ("plain", "randomised"):
        synthetic_only = cell("digits", "share", variant, 1.0)
        assert (synthetic_only["n_real"].mean, synthetic_only["n_synthetic"].mean) == (0, 200)
        # tested on real digits: far better than chance (10 %), far worse than real data
        assert 0.25 < synthetic_only["accuracy/logreg"].mean < real_only["accuracy/logreg"].mean - 0.2
    assert real_only["accuracy/logreg"].mean > 0.85 and real_only["n_real"].mean == 200
    on_top = cell("digits", "on_top", "randomised", 300)
    assert (on_top["n_real"].mean, on_top["n_synthetic"].mean) == (30, 300)
    smote_only = cell("tabular", "share", "smote", 1.0)
    assert smote_only["n_synthetic"].mean == 60 and smote_only["accuracy/logreg"].mean > 0.85
    assert cell("tabular", "on_top", "smote", 100)["n_real"].mean == 20

    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and "Best synthetic mix" in page
    for name in ("synthetic_digits.png", "synthetic_tabular.png", "synthetic_samples.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    results = json.loads((out / "results.json").read_text())
    assert len(results["runs"]) == 2 * len(SyntheticConfig(**settings).cells())
    table = summary.format_table()
    assert "share of synthetic at a fixed total of 200" in table and "gain (points)" in table
    again = run_synthetic(SyntheticConfig(**settings), out, jobs=1, progress=False, echo=lambda line: None)
    assert again.format_table() == table == show_synthetic(out)[0].format_table()
    assert main(["synthetic", "--show", "--out", str(out)]) == 0
    assert table in capsys.readouterr().out


def test_command_line(tmp_path, capsys):
    out = tmp_path / "cli"
    flags = ["--parts", "digits", "--variants", "plain", "--shares", "0,1", "--digits-total", "100"]
    flags += ["--digits-added", "0", "--seeds", "1", "--models", "logreg", "--jobs", "1", "--no-progress"]
    assert main(["synthetic", *flags, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "fixed total of 100" in printed and f"report: {out / 'report.html'}" in printed
    for arguments, message in (
        (["--variants", "plain,photos"], "variants: expected some of"),
        (["--variants", "plain"], "none given for the tabular part"),
        (["--shares", "0,2"], "shares: expected synthetic shares in [0, 1]"),
        (["--models", "cnn"], "models: expected some of"),
        (["--augment", "ta_wide-q3"], "ta_wide"),
        (["--digits-total", "0"], "expected a positive integer"),
        (["--show", "--out", str(tmp_path / "nothing")], "no store.sqlite here"),
    ):
        assert main(["synthetic", *arguments]) == 2
        error = capsys.readouterr().err
        assert error.startswith("mithridate: error: ") and message in error and error.count("\n") == 1
