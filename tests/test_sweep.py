"""The sweep end to end at tiny sizes: results, resume, crash safety (kill -9), concurrent writers, the CLI."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import mithridate as mt
from mithridate.cli import main
from mithridate.experiments.records import SweepSpec
from mithridate.experiments.store import STORE_FILE, ExperimentStore
from mithridate.experiments.studies.sweep import run_record, run_sweep, show_sweep
from mithridate.experiments.tasks.image import dose_policy
from mithridate.experiments.tasks.image.data import load_sweep_data, resolve_spec

TINY = {
    "data": "digits",
    "policy": "ta_wide",
    "doses": (0.0, 1.0, 2.0),
    "seeds": 2,
    "epochs": 2,
    "train_size": 5,
    "corruptions": ("gaussian_noise", "contrast"),
    "severities": (1, 3),
    "corruption_test_size": 40,
}
TINY_FLAGS = [
    "--doses", "0,1,2", "--seeds", "2", "--epochs", "2", "--train-size", "5",
    "--corruptions", "gaussian_noise,contrast", "--severities", "1,3", "--corruption-test-size", "40",
    "--jobs", "1", "--no-progress",
]  # fmt: skip
ROWS_QUERY = (
    "SELECT spec_hash, cell, seed, json_extract(metrics_json, '$.clean_accuracy') FROM results "
    "WHERE experiment = 'sweep' ORDER BY 1, 2, 3"
)


def rows(out: Path) -> list[tuple]:
    """The stored runs (spec hash, dose, seed, clean accuracy), read with plain sqlite3."""
    with sqlite3.connect(out / STORE_FILE) as connection:
        try:
            found = connection.execute(ROWS_QUERY).fetchall()
        except sqlite3.OperationalError:  # the store is being created
            return []
    return sorted((spec_hash, json.loads(cell)["dose"], seed, clean) for spec_hash, cell, seed, clean in found)


def stored_runs(out: Path, spec: SweepSpec) -> list:
    """The stored runs as the sweep reads them."""
    with ExperimentStore(out / STORE_FILE) as store:
        return [run_record(record, spec) for record in store.records()]


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("sweep") / "tiny"
    summary = run_sweep(SweepSpec(**TINY), out, jobs=1, progress=False, echo=lambda line: None).summary
    return out, summary


def test_sweep_stores_every_run_and_reports(tiny_sweep):
    out, summary = tiny_sweep
    assert len(rows(out)) == 6
    for record in stored_runs(out, summary.spec):
        assert 0.0 <= record.clean_accuracy <= 1.0 and 0.0 <= record.corrupted_accuracy <= 1.0
        expected = ["contrast/1", "contrast/3", "gaussian_noise/1", "gaussian_noise/3"]
        assert sorted(record.corruption_accuracy) == expected
        assert record.final_train_loss > 0 and record.train_seconds > 0 and record.peak_memory_mb > 0
        assert record.versions["mithridate"] == mt.__version__
        if record.dose == 0:
            assert record.affinity == 1.0 and record.augment_images_per_second == 0.0
        else:
            assert 0.0 < record.affinity < 1.5 and record.augment_images_per_second > 0
    assert [row.dose for row in summary.rows] == [0.0, 1.0, 2.0]
    assert summary.best_dose in (0.0, 1.0, 2.0)
    table = summary.format_table()
    assert "*" in table and "affinity" in table.lower() and "diversity" in table.lower()
    for name in ("report.html", "dose_response.png", "affinity_diversity.png", "corruptions.png", "preview.png"):
        assert (out / name).stat().st_size > 1000, name
    assert json.loads((out / "summary.json").read_text())["best_dose"] == summary.best_dose
    with ExperimentStore(out / STORE_FILE) as store:  # the dose-0 models, kept for the affinity of the others
        (recipe,) = store.recipes("sweep")
        models = [store.artifacts(recipe, {"dose": dose}, seed) for dose in (0.0, 1.0) for seed in (0, 1)]
        assert store.failures() == []
    assert [sorted(found) for found in models] == [["dose0_model"]] * 2 + [[]] * 2
    assert not (out / "models").exists() and not (out / "cache").exists()


def test_rerun_skips_finished_runs_and_gives_the_same_table(tiny_sweep, capsys):
    out, summary = tiny_sweep
    before = rows(out)
    start = time.perf_counter()
    again = run_sweep(SweepSpec(**TINY), out, jobs=1, progress=False, echo=lambda line: None).summary
    assert time.perf_counter() - start < 30  # no training: only the summary and report
    assert rows(out) == before
    assert again.format_table() == summary.format_table()
    assert main(["show", str(out)]) == 0
    assert summary.format_table() in capsys.readouterr().out
    assert main(["show", str(out), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown[0]["best_dose"] == summary.best_dose


def test_runs_are_reproducible(tiny_sweep, tmp_path):
    out, _ = tiny_sweep
    spec = SweepSpec(**{**TINY, "doses": (0.0, 1.0), "seeds": 1})
    run_sweep(spec, tmp_path / "again", jobs=1, progress=False, echo=lambda line: None)
    first = {(dose, seed): accuracy for _, dose, seed, accuracy in rows(out) if seed == 0 and dose <= 1}
    second = {(dose, seed): accuracy for _, dose, seed, accuracy in rows(tmp_path / "again")}
    assert first == second


def _sweep_process(out: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "mithridate.cli", "sweep", "--out", str(out), *TINY_FLAGS, *extra]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)


def test_kill_minus_nine_loses_nothing_and_repeats_nothing(tiny_sweep, tmp_path):
    reference_out, reference = tiny_sweep
    out = tmp_path / "killed"
    process = _sweep_process(out)
    deadline = time.time() + 120
    while time.time() < deadline and (not (out / STORE_FILE).exists() or len(rows(out)) < 2):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    landed = rows(out)
    assert 2 <= len(landed) < 6, "the sweep should have been killed part-way"
    with sqlite3.connect(out / STORE_FILE) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    resumed = _sweep_process(out)
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()
    final = rows(out)
    assert len(final) == 6 and len({row[:3] for row in final}) == 6
    assert set(landed) <= set(final)  # finished runs were kept, not redone
    assert final == rows(reference_out)
    assert show_sweep(out)[0].format_table() == reference.format_table()


def test_two_sweeps_writing_one_store_both_land(tmp_path):
    out = tmp_path / "shared"
    first = _sweep_process(out, "--policy", "ta_wide")
    second = _sweep_process(out, "--policy", "rand-n1-m9")
    assert first.wait(timeout=300) == 0, first.stderr.read().decode()
    assert second.wait(timeout=300) == 0, second.stderr.read().decode()
    landed = rows(out)
    assert len(landed) == 12 and len({row[0] for row in landed}) == 2
    assert len(show_sweep(out)) == 2


def test_config_file_and_flags(tmp_path, capsys):
    config = tmp_path / "sweep.toml"
    config.write_text(
        "[sweep]\n"
        'policy = "ta_wide"\ndoses = [0, 1]\nseeds = 1\nepochs = 1\ntrain_size = 3\n'
        'corruptions = ["contrast"]\nseverities = [2]\ncorruption_test_size = 20\njobs = 1\n'
        f'out = "{tmp_path / "from-config"}"\n'
    )
    assert main(["sweep", "--config", str(config), "--no-progress", "--axis", "p"]) == 0
    printed = capsys.readouterr().out
    assert "report:" in printed
    (spec,) = [summary.spec for summary in show_sweep(tmp_path / "from-config")]
    assert spec.axis == "p" and spec.doses == (0.0, 1.0) and spec.epochs == 1 and spec.corruptions == ("contrast",)
    config.write_text("[sweep]\nepochs = 1\nlearning_rat = 0.1\n")
    assert main(["sweep", "--config", str(config)]) == 2
    assert "unknown keys ['learning_rat']" in capsys.readouterr().err
    assert main(["sweep", "--doses", "0,x"]) == 2
    assert "expected numbers separated by commas" in capsys.readouterr().err
    assert main(["sweep", "--axis", "p", "--doses", "0,2", "--out", str(tmp_path / "bad")]) == 2
    assert "probabilities in [0, 1]" in capsys.readouterr().err
    assert main(["show", str(tmp_path / "nothing")]) == 2
    assert "no store.sqlite" in capsys.readouterr().err
    assert main(["sweep", "--address", "auto", "--out", str(tmp_path / "bad")]) == 2
    assert "--address: only with --backend ray" in capsys.readouterr().err
    assert main(["sweep", "--vary", "all,weights", "--out", str(tmp_path / "bad")]) == 2
    assert "vary: expected distinct names among all, init, order, augment, data" in capsys.readouterr().err


def test_dose_policy_sets_one_axis_and_keeps_the_other():
    spec = SweepSpec(policy="ta_wide-p0.5-s2", axis="strength")
    assert dose_policy(spec, 3.0, 0).dose == mt.Dose(p=0.5, strength=3.0)
    spec = SweepSpec(policy="ta_wide-p0.5-s2", axis="p")
    assert dose_policy(spec, 0.25, 0).dose == mt.Dose(p=0.25, strength=2.0)


def test_digits_split_is_stratified_and_fixed():
    spec = resolve_spec(SweepSpec())
    assert (spec.model, spec.epochs, spec.train_size, spec.corruption_test_size) == ("cnn", 60, 30, 500)
    data = load_sweep_data(spec)
    assert data.train.images.shape == (300, 1, 32, 32) and len(data.test) == 1797 - 300
    assert torch.bincount(data.train.labels).tolist() == [30] * 10
    assert len(data.corruption_index) == 500
    again = load_sweep_data(spec)
    assert torch.equal(again.train.images, data.train.images)


def test_corrupt_command_writes_a_deterministic_copy(tmp_path, capsys):
    import numpy as np
    import PIL.Image

    for label in ("a", "b"):
        (tmp_path / "src" / label).mkdir(parents=True)
        for i in range(2):
            pixels = np.random.default_rng(i).integers(0, 256, (32, 32, 3), dtype=np.uint8)
            PIL.Image.fromarray(pixels).save(tmp_path / "src" / label / f"{i}.png")
    arguments = ["corrupt", "--data", str(tmp_path / "src"), "--corruptions", "fog,jpeg_compression", "--no-progress"]
    assert main([*arguments, "--severities", "2,5", "--out", str(tmp_path / "one")]) == 0
    assert "wrote 16 images" in capsys.readouterr().out
    assert main([*arguments, "--severities", "2,5", "--out", str(tmp_path / "two")]) == 0
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.png"))
    assert len(files) == 16 and Path("fog/5/b/1.png") in files
    assert all((tmp_path / "one" / f).read_bytes() == (tmp_path / "two" / f).read_bytes() for f in files)
    assert main([*arguments, "--severities", "6", "--out", str(tmp_path / "bad")]) == 2
    assert "severities" in capsys.readouterr().err
    assert main(["corrupt", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "x"), "--no-progress"]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_synthetic_ratio_axis_mixes_rendered_digits_at_the_dose(tmp_path):
    """On the synthetic-ratio axis a dose is the share of rendered digits in a fixed-size training set."""
    spec = SweepSpec(**{**TINY, "axis": "synthetic-ratio", "doses": (0.0, 0.4, 1.0), "seeds": 1})
    assert resolve_spec(spec).synthetic == "rendered-digits"
    data = load_sweep_data(resolve_spec(spec))
    assert data.synthetic is not None and data.synthetic.images.shape == (50, 1, 32, 32)
    assert torch.bincount(data.synthetic.labels).tolist() == [5] * 10
    assert not torch.equal(data.synthetic.images, data.train.images)
    assert dose_policy(resolve_spec(spec), 0.4, 0).dose == mt.Dose()  # the policy keeps its own dose
    run_sweep(spec, tmp_path / "syn", jobs=1, progress=False, echo=lambda line: None)
    records = sorted(stored_runs(tmp_path / "syn", resolve_spec(spec)), key=lambda record: record.dose)
    assert [record.extra["synthetic_images"] for record in records] == [0, 20, 50]
    assert all(record.extra["train_images"] == 50 for record in records)
    assert all(record.affinity is None for record in records)


def test_synthetic_source_is_checked(tmp_path):
    from PIL import Image

    with pytest.raises(ValueError, match="synthetic-ratio axis only"):
        SweepSpec(synthetic="rendered-digits")
    with pytest.raises(ValueError, match=r"shares in \[0, 1\]"):
        SweepSpec(axis="synthetic-ratio", doses=(0.0, 1.5))
    for label in ("a", "b"):  # an image folder has no default synthetic source
        (tmp_path / "folder" / label).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (8, 8), (i * 90, 40, 200)).save(tmp_path / "folder" / label / f"{i}.png")
    with pytest.raises(ValueError, match="needs a synthetic source"):
        resolve_spec(SweepSpec(data=str(tmp_path / "folder"), axis="synthetic-ratio"))
    assert "synthetic" not in SweepSpec().to_dict()


def test_widening_the_sweep_trains_only_the_new_runs(tiny_sweep, tmp_path):
    """The key hashes the recipe, not the grid's extent: one more dose or seed trains only what is new."""
    import shutil

    source, _ = tiny_sweep
    out = tmp_path / "wider"
    shutil.copytree(source, out)
    before = rows(out)
    wider = SweepSpec(**{**TINY, "doses": (0.0, 1.0, 2.0, 3.0), "seeds": 3})
    result = run_sweep(wider, out, jobs=1, progress=False, echo=lambda line: None)
    after = rows(out)
    assert set(before) <= set(after) and len(after) == 12  # 6 kept + dose 3 at 3 seeds + seed 2 at 3 doses
    assert {row[0] for row in after} == {before[0][0]}  # one recipe
    assert [row.dose for row in result.summary.rows] == [0.0, 1.0, 2.0, 3.0]
    assert all(run.affinity is not None for run in result.runs)  # seed 2's new dose-0 model served dose 3


def test_variance_by_source_holds_the_other_sources(tmp_path):
    """With --vary augment only the augmentation's draws change with the seed: at dose 0 (no augmentation)
    every seed trains the same model; its seed 0 is the 'all' series' seed 0."""
    spec = SweepSpec(**{**TINY, "doses": (0.0, 2.0), "seeds": 2, "vary": ("all", "augment")})
    result = run_sweep(spec, tmp_path / "vary", jobs=1, progress=False, echo=lambda line: None)
    runs = {(run.vary, run.dose, run.seed): run for run in result.runs}
    assert len(runs) == 8
    assert runs["augment", 0.0, 0].clean_accuracy == runs["augment", 0.0, 1].clean_accuracy
    assert runs["augment", 0.0, 1].final_train_loss == runs["augment", 0.0, 0].final_train_loss
    assert runs["augment", 2.0, 0].final_train_loss == runs["all", 2.0, 0].final_train_loss
    assert runs["augment", 2.0, 1].final_train_loss != runs["augment", 2.0, 0].final_train_loss
    assert runs["all", 0.0, 1].final_train_loss != runs["all", 0.0, 0].final_train_loss
    assert [row.dose for row in result.summary.rows] == [0.0, 2.0]  # the headline is the first series
    spread = {(s.series, s.dose): s for s in result.summary.spread}
    assert spread["augment", 0.0].clean_sd == 0.0 and spread["augment", 0.0].seeds == 2  # nothing augmented
    expected = abs(runs["all", 2.0, 0].clean_accuracy - runs["all", 2.0, 1].clean_accuracy) / 2**0.5
    assert spread["all", 2.0].clean_sd == pytest.approx(expected)
    stored = json.loads((tmp_path / "vary" / "summary.json").read_text())["variance_by_source"]
    assert {(s["series"], s["dose"]) for s in stored} == set(spread)
    assert "by source" in result.summary.format_table() and "Spread over seeds, by source" in (
        tmp_path / "vary" / "report.html"
    ).read_text()
    assert show_sweep(tmp_path / "vary")[0].format_table() == result.summary.format_table()
    with pytest.raises(ValueError, match="vary"):
        SweepSpec(vary=("weights",))
