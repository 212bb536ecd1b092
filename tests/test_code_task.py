"""The code task: the dispatch of `task_for` (image and text specs keep their task and hash), the resolved defaults
and their errors, the hashed sub-token features (the same in another process), the reference model learning verbs
from function bodies in seconds, the trainer's policy calls, ReCode's metrics in `evaluate`, and a tiny sweep end to
end on a folder of generated modules (verb and bug labels, the CLI)."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mithridate.cli import main
from mithridate.data.code import load_code_splits
from mithridate.experiments.records import SweepSpec
from mithridate.experiments.store import STORE_FILE, ExperimentStore
from mithridate.experiments.studies.sweep import run_sweep
from mithridate.experiments.tasks import task_for
from mithridate.experiments.tasks.code import CODE_DEFAULTS, CodeTask, code_dose_policy, code_predictions
from mithridate.experiments.tasks.code.data import RECODE_SEEDS, bug_injector
from mithridate.experiments.tasks.code.models import HashedSubtokens, SubtokenBag, build_code_model
from mithridate.experiments.tasks.code.training import CodeTrainer
from test_text_task import text_folder

NOUNS = ("name", "value", "size", "path", "mode", "color", "owner", "limit", "title", "score", "width", "label")
TEMPLATES = {
    "get": "def {verb}_{noun}(self, default=None):\n    found = self._{noun}\n    if found is None:\n"
    "        return default\n    return found\n",
    "set": "def {verb}_{noun}(self, value):\n    old = self._{noun}\n    self._{noun} = value\n"
    "    self.changed = old != value\n",
    "make": "def {verb}_{noun}(self, *args):\n    parts = [str(a) for a in args]\n"
    "    result = Builder('{noun}', parts)\n    return result.build({k})\n",
}


def code_folder(root: Path, modules: int = 12, seed: int = 0) -> Path:
    """Modules of methods whose verb (get, set, make) shows in their bodies; each module a class of its own."""
    rng = random.Random(seed)
    for m in range(modules):
        lines = [f"class Thing{m}:\n    kind = {m}\n\n"]
        for verb in TEMPLATES:
            for noun in rng.sample(NOUNS, 5):
                body = TEMPLATES[verb].format(verb=verb, noun=noun, k=rng.randint(0, 99))
                lines.append("".join(f"    {line}\n" if line else "\n" for line in body.splitlines()) + "\n")
        (root / f"thing{m}.py").parent.mkdir(parents=True, exist_ok=True)
        (root / f"thing{m}.py").write_text("".join(lines))
    return root


# Dispatch and resolution.


def test_task_for_picks_code_and_keeps_the_other_tasks(tmp_path):
    folder = code_folder(tmp_path / "code", 3)
    for data in ("stdlib", "stdlib:bug", str(folder), f"{folder}:verb"):
        assert task_for(SweepSpec(data=data)).name == "code"
    assert task_for(SweepSpec(data="/absent/folder:bug", model="bag")).name == "code"  # a resolved spec on a worker
    assert task_for(SweepSpec(data=str(text_folder(tmp_path / "text")))).name == "text"
    assert task_for(SweepSpec()).name == "image"
    # the default digits sweep resolves and hashes as before (tests/test_sweep.py asserts the same value)
    assert task_for(SweepSpec()).resolve(SweepSpec()).spec_hash() == "50bc48671c839b43"


def test_resolve_fills_the_code_defaults_and_names_the_label():
    resolved = CodeTask().resolve(SweepSpec(data="stdlib"))
    assert resolved.data == "stdlib:verb" and resolved.policy == CODE_DEFAULTS["policy"] == "rename"
    assert (resolved.model, resolved.epochs, resolved.learning_rate) == ("bag", 5, 0.03)
    assert resolved.corruptions == ("rename", "rewrite", "format")
    assert CodeTask().resolve(SweepSpec(data="stdlib:verb")).spec_hash() == resolved.spec_hash()
    assert CodeTask().resolve(SweepSpec(data="stdlib:bug")).spec_hash() != resolved.spec_hash()
    assert CodeTask().resolve(resolved) == resolved


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model": "fasttext"}, "model: expected one of bag for code data"),
        ({"corruptions": ("fog",)}, r"corruptions: unknown \['fog'\]"),
        ({"policy": "nonsense"}, "nonsense"),
        ({"axis": "synthetic-ratio", "doses": (0.0, 0.5)}, "synthetic-ratio axis has no code source"),
        ({"data": "digits", "model": "bag"}, "is not code data"),
    ],
)
def test_resolve_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        CodeTask().resolve(SweepSpec(**{"data": "stdlib", **changes}))


def test_dose_policy_sets_the_axis():
    spec = CodeTask().resolve(SweepSpec(data="stdlib", policy="rename-p0.5", axis="strength"))
    policy = code_dose_policy(spec, 1.5, seed=3)
    assert (policy.dose.p, policy.dose.strength, policy.seed) == (0.5, 1.5, 3)
    on_p = code_dose_policy(CodeTask().resolve(SweepSpec(data="stdlib", policy="faulty-s0.5", axis="p")), 0.25, 0)
    assert (on_p.dose.p, on_p.dose.strength) == (0.25, 0.5)
    assert code_dose_policy(spec, 0.0, seed=0).dose.is_zero


# Features and model.

SNIPPET = 'def FUNC(self, readLine, n=2):\n    """Read lines."""\n    return self.read_line(n) <= 0x10\n'


def test_features_split_identifiers_and_are_the_same_in_another_process():
    features = HashedSubtokens(buckets=2**20)
    ids = features.ids(SNIPPET)
    assert all(0 <= i < 2**20 for i in ids)
    camel, snake = set(features.ids("readLine")), set(features.ids("read_line"))
    assert len(camel & snake) == 2  # 'read' and 'line', not the whole tokens
    assert set(features.ids("<=")) != set(features.ids("<"))  # operators are tokens of their own
    assert features.ids(SNIPPET) == ids  # cached ids equal fresh ones
    flat, offsets = features([SNIPPET, "", "x"])
    assert offsets.tolist() == [0, len(ids), len(ids)] and flat[: len(ids)].tolist() == ids
    code = (
        "from mithridate.experiments.tasks.code.models import HashedSubtokens;"
        f"print(HashedSubtokens(buckets=2**20).ids({SNIPPET!r}))"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(other.stdout) == ids


def test_model_shapes_and_bad_input():
    model = build_code_model("bag", 3)
    assert isinstance(model, SubtokenBag) and model([SNIPPET, ""]).shape == (2, 3)
    with pytest.raises(ValueError, match="model: expected one of bag"):
        build_code_model("cnn", 3)
    with pytest.raises(ValueError, match="classes: expected an integer >= 2"):
        SubtokenBag(1)
    with pytest.raises(ValueError, match="buckets: expected an integer >= 2"):
        HashedSubtokens(buckets=1)
    with pytest.raises(TypeError, match="sources: expected str, got bytes"):
        model([b"x = 1"])


def test_the_model_learns_verbs_from_bodies_and_the_trainer_calls_the_policy(tmp_path):
    train, test = load_code_splits(code_folder(tmp_path / "code"), verbs=3, test_fraction=0.25)
    assert set(train.modules).isdisjoint(test.modules)
    spec = CodeTask().resolve(SweepSpec(data=str(tmp_path / "code"), epochs=4, policy="rename"))
    torch.manual_seed(0)
    model = build_code_model("bag", len(train.classes))
    calls = []

    def policy(batch, index, epoch):
        calls.append((len(batch), epoch))
        return batch

    policy.progress = 0.0  # type: ignore[attr-defined]
    trainer = CodeTrainer(model, train.sources, train.labels, spec, 0, torch.device("cpu"))
    for epoch in range(4):
        trainer.train_epoch(policy, epoch)
    assert policy.progress == 0.75  # type: ignore[attr-defined]
    assert sum(n for n, e in calls if e == 0) == len(train) and {e for _, e in calls} == {0, 1, 2, 3}
    accuracy = float((code_predictions(model, test.sources) == test.labels).float().mean())
    assert accuracy >= 0.9 and trainer.stats.images_augmented == 4 * len(train)


def test_bug_injector_injects_one_bug_the_same_each_time():
    inject = bug_injector()
    source = "def FUNC(a, b):\n    if a < b:\n        return a + 1\n    return max(a, b)\n"
    buggy = inject(source, 5)
    assert buggy is not None and buggy != source and inject(source, 5) == buggy
    compile(buggy, "<bug>", "exec")
    assert len({inject(source, k) for k in range(30)}) > 3  # kinds and places vary with the key
    assert inject("def FUNC():\n    pass\n", 0) is None  # no place for a bug


# Evaluation and the sweep.


def tiny(data: str, **changes) -> SweepSpec:
    values = {
        "data": data,
        "doses": (0.0, 1.0),
        "seeds": 2,
        "epochs": 3,
        "learning_rate": 0.05,
        "corruptions": ("rename", "format"),
        "severities": (1, 3),
        "corruption_test_size": 12,
    }
    return SweepSpec(**{**values, **changes})


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return code_folder(tmp_path_factory.mktemp("code") / "things", modules=30)


@pytest.fixture(scope="module")
def verb_sweep(tmp_path_factory, folder):
    out = tmp_path_factory.mktemp("out") / "verb"
    lines: list[str] = []
    result = run_sweep(tiny(str(folder)), out, jobs=1, progress=False, echo=lines.append)
    return out, result, lines


def test_code_sweep_stores_every_run_with_recode_metrics(verb_sweep, folder):
    out, result, lines = verb_sweep
    assert re.search(r"\d+ training and \d+ test functions, 3 classes, 4 corrupted copies of 12 test", lines[0])
    assert not result.failures and len(result.runs) == 4
    for run in result.runs:
        assert sorted(run.corruption_accuracy) == ["format/1", "format/3", "rename/1", "rename/3"]
        assert 0 <= run.corrupted_accuracy <= 1 and run.final_train_loss > 0
        if run.dose == 0:
            assert run.clean_accuracy >= 0.8 and run.affinity == 1.0 and run.augment_images_per_second == 0
        else:
            assert run.affinity is not None and run.augment_images_per_second > 0
    spec = task_for(tiny(str(folder))).resolve(tiny(str(folder)))
    with ExperimentStore(out / STORE_FILE) as store:
        (recipe,) = store.recipes("sweep")
        assert recipe.spec_hash() == spec.spec_hash() and recipe.params["data"] == f"{folder}:verb"
        for record in store.records(recipe):
            metrics = record.metrics
            for name in ("rename", "format"):
                assert 0 <= metrics[f"recode/{name}/robust_accuracy"] <= metrics["corruption/" + name + "/3"]
                assert 0 <= metrics[f"recode/{name}/robust_relative"] <= 1
            mean = (metrics["recode/rename/robust_accuracy"] + metrics["recode/format/robust_accuracy"]) / 2
            assert metrics["robust_accuracy"] == pytest.approx(mean)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["spec"]["policy"] == "rename" and summary["spec"]["model"] == "bag"
    for row in summary["rows"]:  # the ReCode means reach the summary, the table and the report
        assert set(row["measures"]) == {"robust_accuracy", "robust_drop", "robust_relative"}
        assert 0 <= row["measures"]["robust_accuracy"]["mean"] <= 1
    assert "robust_accuracy %" in (out / "report.html").read_text()


def test_evaluate_measures_recode_on_the_shared_versions(folder):
    task = CodeTask()
    spec = task.resolve(tiny(str(folder)))
    shared = task.prepare(spec)
    assert [len(v) for v in shared["recode"]["rename"]] == [12] * RECODE_SEEDS
    assert shared["recode"]["rename"][0] == shared["corrupted"]["rename/3"]
    assert len({tuple(v) for v in shared["recode"]["rename"]}) == RECODE_SEEDS  # seeds perturb differently
    constant = lambda sources: torch.tensor([[1.0, 0.0, 0.0]]).repeat(len(sources), 1)  # noqa: E731
    metrics = task.evaluate(constant, shared, torch.device("cpu"))  # type: ignore[arg-type]
    share = float((shared["test_labels"] == 0).float().mean())
    assert metrics["clean_accuracy"] == pytest.approx(share)
    # a model that ignores its input is perfectly robust: nothing it gets right is lost, nothing changes
    assert metrics["robust_drop"] == 0 and metrics["robust_relative"] == 0


def test_bug_labels_sweep_and_the_cli(tmp_path, folder, capsys):
    out = tmp_path / "bug"
    spec = tiny(f"{folder}:bug", seeds=1, corruptions=("rewrite",), severities=(2,))
    result = run_sweep(spec, out, jobs=1, progress=False, echo=lambda line: None)
    assert not result.failures and len(result.runs) == 2
    shared = CodeTask().prepare(CodeTask().resolve(spec))
    assert shared["classes"] == ["clean", "bug"] and float(shared["train_labels"].float().mean()) == pytest.approx(
        0.5, abs=0.01
    )
    code = main(
        ["sweep", "--data", str(folder), "--doses", "0,1", "--seeds", "1", "--epochs", "1", "--corruptions", "format",
         "--severities", "1", "--corruption-test-size", "6", "--out", str(tmp_path / "cli"), "--jobs", "1",
         "--no-progress"]
    )  # fmt: skip
    assert code == 0 and "report:" in capsys.readouterr().out
    assert (tmp_path / "cli" / "report.html").is_file()
