"""The text sweep end to end at tiny sizes: runs stored, resumed without retraining, reported; the prepared
data travels as the engine ships it; `mithridate sweep --data <tsv folder>`; a small SST-2 sample when
../shared/data/sst2 is there."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import torch

from mithridate.cli import main
from mithridate.experiments.records import SweepSpec
from mithridate.experiments.store import STORE_FILE, ExperimentStore
from mithridate.experiments.studies.sweep import run_sweep
from mithridate.experiments.tasks import task_for
from mithridate.experiments.tasks.text.training import TextTrainer
from test_text_task import SHARED, text_folder

SST2 = SHARED / "sst2"


def first_corruption() -> str:
    from mithridate.text.strings import TEXT_CORRUPTIONS

    return TEXT_CORRUPTIONS[0]


def tiny(data: Path, **changes) -> SweepSpec:
    values = {
        "data": str(data),
        "doses": (0.0, 1.0),
        "seeds": 2,
        "epochs": 2,
        "train_size": 100,
        "learning_rate": 0.05,
        "corruptions": (first_corruption(),),
        "severities": (1, 3),
        "corruption_test_size": 40,
    }
    return SweepSpec(**{**values, **changes})


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory) -> tuple[Path, SweepSpec, object]:
    root = tmp_path_factory.mktemp("text")
    folder = text_folder(root / "reviews")
    lines: list[str] = []
    result = run_sweep(tiny(folder), root / "out", jobs=1, progress=False, echo=lines.append)
    assert lines and "200 training and 100 test texts, 2 corrupted copies of 40 test texts" in lines[0]
    return root / "out", tiny(folder), result


def test_text_sweep_stores_every_run_and_reports(tiny_sweep):
    out, spec, result = tiny_sweep
    assert not result.failures and len(result.runs) == 4
    name = first_corruption()
    for run in result.runs:
        assert sorted(run.corruption_accuracy) == [f"{name}/1", f"{name}/3"]
        assert 0.0 <= run.corrupted_accuracy <= 1.0 and run.final_train_loss > 0
        assert run.extra["train_images"] == 200 and run.extra["epochs"] == 2
        if run.dose == 0:
            assert run.clean_accuracy >= 0.9 and run.affinity == 1.0 and run.augment_images_per_second == 0
        else:
            assert run.affinity is not None and 0.0 <= run.affinity <= 1.5 and run.augment_images_per_second > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["spec"]["policy"] == "text_ta" and summary["spec"]["model"] == "fasttext"
    page = (out / "report.html").read_text()
    assert "text_ta" in page and "preview" not in {p.stem for p in out.iterdir()}
    with ExperimentStore(out / STORE_FILE) as store:
        (recipe,) = store.recipes("sweep")
        assert recipe.spec_hash() == task_for(spec).resolve(spec).spec_hash()
        assert len(store.records(recipe)) == 4


def test_rerun_resumes_without_training(tiny_sweep, monkeypatch):
    out, spec, result = tiny_sweep

    def no_training(self, policy, epoch):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(TextTrainer, "train_epoch", no_training)
    again = run_sweep(spec, out, jobs=1, progress=False, echo=lambda line: None)
    assert not again.failures
    key = [(r.dose, r.seed, r.clean_accuracy, r.started_at) for r in result.runs]
    assert [(r.dose, r.seed, r.clean_accuracy, r.started_at) for r in again.runs] == key
    assert again.summary.format_table() == result.summary.format_table()


def test_the_prepared_data_survives_the_engines_shipping(tmp_path):
    """Worker processes get the shared data through torch.save and torch.load(weights_only=True)."""
    spec = tiny(text_folder(tmp_path / "reviews"))
    task = task_for(spec)
    shared = task.prepare(task.resolve(spec))
    buffer = io.BytesIO()
    torch.save(shared, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    assert loaded.keys() == shared.keys() and loaded["corrupted"] == shared["corrupted"]
    assert loaded["train_texts"] == shared["train_texts"] and torch.equal(loaded["test_labels"], shared["test_labels"])


def test_the_sweep_command_on_a_tsv_folder(tmp_path, monkeypatch, capsys):
    folder = text_folder(tmp_path / "reviews")
    monkeypatch.chdir(tmp_path)
    flags = [
        "--doses", "0,1", "--seeds", "1", "--epochs", "1", "--train-size", "50", "--learning-rate", "0.05",
        "--corruptions", first_corruption(), "--severities", "2", "--corruption-test-size", "20",
        "--jobs", "1", "--no-progress",
    ]  # fmt: skip
    assert main(["sweep", "--data", str(folder), *flags]) == 0
    out = tmp_path / "runs" / "reviews-text_ta-strength"  # the default folder names the text default policy
    assert (out / "report.html").is_file() and (out / STORE_FILE).is_file()
    assert "dose (strength)" in capsys.readouterr().out
    assert main(["show", str(out)]) == 0
    assert main(["sweep", "--data", str(folder), "--model", "cnn", *flags]) == 2
    assert "expected one of fasttext, charcnn for text data" in capsys.readouterr().err


@pytest.mark.skipif(not (SST2 / "train.tsv").is_file(), reason=f"SST-2 not found at {SST2} (../shared/data/sst2)")
def test_a_small_sst2_sweep(tmp_path):
    spec = SweepSpec(
        data=str(SST2),
        doses=(0.0, 1.0),
        seeds=1,
        epochs=2,
        train_size=200,
        corruptions=(first_corruption(),),
        severities=(2,),
        corruption_test_size=100,
    )
    lines: list[str] = []
    result = run_sweep(spec, tmp_path / "sst2", jobs=1, progress=False, echo=lines.append)
    assert "400 training and 872 test texts, 1 corrupted copies of 100 test texts" in lines[0]
    assert not result.failures and len(result.runs) == 2
    assert all(0.4 <= run.clean_accuracy <= 1.0 for run in result.runs)
    assert (tmp_path / "sst2" / "report.html").is_file()
