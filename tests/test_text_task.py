"""The text task: text files and folders (formats, column detection, errors), the dispatch of `task_for` (and
the image hashes it must keep), the hashed features (the same in another process), the reference models
learning a separable task in seconds, the trainer's order and policy calls, the text defaults."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mithridate.data.datasets import DatasetError
from mithridate.data.text import is_text_data, load_text_file, load_text_splits
from mithridate.experiments.records import SweepSpec
from mithridate.experiments.tasks import task_for
from mithridate.experiments.tasks.text import TextTask, text_accuracy, text_dose_policy
from mithridate.experiments.tasks.text.data import TEXT_DEFAULTS, load_text_sweep_data
from mithridate.experiments.tasks.text.models import CharCNN, FastText, HashedNgrams, build_text_model
from mithridate.experiments.tasks.text.training import TextTrainer

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

GOOD = ("good", "great", "fine", "lovely", "superb", "brilliant", "charming", "moving")
BAD = ("bad", "awful", "poor", "dull", "tedious", "boring", "clumsy", "weak")
FILLER = ("the", "film", "a", "story", "is", "was", "and", "plot", "of", "it", "acting", "very", "quite", "this")


def separable(n: int, seed: int) -> tuple[list[str], list[int]]:
    """`n` short reviews, half of each class: filler words with one or two words of the class's sentiment."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        words = [rng.choice(FILLER) for _ in range(rng.randint(4, 9))]
        for _ in range(rng.randint(1, 2)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(GOOD if label else BAD))
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


def write_tsv(path: Path, texts: list[str], labels: list[int], column: str = "sentence") -> Path:
    path.write_text(f"label\t{column}\n" + "".join(f"{y}\t{t}\n" for t, y in zip(texts, labels, strict=True)))
    return path


def text_folder(root: Path, n_train: int = 400, n_dev: int = 100) -> Path:
    """A folder in SST-2's layout: train.tsv (label, sentence) and dev.tsv (label, content)."""
    root.mkdir(parents=True, exist_ok=True)
    write_tsv(root / "train.tsv", *separable(n_train, 0))
    write_tsv(root / "dev.tsv", *separable(n_dev, 1), column="content")
    return root


# Data: formats, columns, errors.


def test_tsv_csv_and_jsonl_give_the_same_dataset(tmp_path):
    texts = ["a fine film", 'it is "quoted", with a comma', "bad\u00e9 film"]
    labels = [1, 0, 0]
    tsv = load_text_file(write_tsv(tmp_path / "x.tsv", texts, labels))
    csv_file = tmp_path / "x.csv"
    csv_file.write_text('text,label\n"a fine film",1\n"it is ""quoted"", with a comma",0\nbad\u00e9 film,0\n')
    jsonl = tmp_path / "x.jsonl"
    jsonl.write_text(
        "".join(
            json.dumps({"text": t, "label": y, "id": i}) + "\n"
            for i, (t, y) in enumerate(zip(texts, labels, strict=True))
        )
    )
    for dataset in (tsv, load_text_file(csv_file), load_text_file(jsonl)):
        assert dataset.texts == texts and dataset.labels.tolist() == labels and dataset.classes == ["0", "1"]


def test_folder_splits_detect_columns_and_share_classes(tmp_path):
    folder = text_folder(tmp_path / "sst")
    train, dev = load_text_splits(folder)
    assert (len(train), len(dev)) == (400, 100) and train.classes == dev.classes == ["0", "1"]
    assert is_text_data(folder) and is_text_data(folder / "train.tsv") and not is_text_data(tmp_path)
    assert not is_text_data("digits")


def test_columns_can_be_named_and_classes_sort_numerically(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text("id\tbody\tstars\n1\tone\t10\n2\ttwo\t2\n3\tthree\t2\n")
    with pytest.raises(DatasetError, match=r"no text column among \['id', 'body', 'stars'\]"):
        load_text_file(path)
    dataset = load_text_file(path, text_column="body", label_column="stars")
    assert dataset.classes == ["2", "10"] and dataset.labels.tolist() == [1, 0, 0]
    with pytest.raises(DatasetError, match="no label column 'score'"):
        load_text_file(path, text_column="body", label_column="score")


def test_string_labels_are_classes(tmp_path):
    dataset = load_text_file(write_tsv(tmp_path / "x.tsv", ["a", "b", "c"], ["pos", "neg", "pos"]))  # type: ignore[list-item]
    assert dataset.classes == ["neg", "pos"] and dataset.labels.tolist() == [1, 0, 1]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.tsv", "", "the file is empty"),
        ("header.tsv", "label\tsentence\n", "no rows after the header"),
        ("ragged.tsv", "label\tsentence\n1\ta\tb\n", "row 2 has 3 fields; the header has 2"),
        ("nolabel.tsv", "sentence\tscore\na\t1\n", "no label column among"),
        ("blank.tsv", "label\tsentence\n \ta\n", "expected a label"),
        ("list.jsonl", '{"text": "a", "label": [1]}\n', r"expected a label \(a class name or an integer\), got \[1\]"),
        ("null.jsonl", '{"text": "a", "label": null}\n', "expected a label"),
        ("float.jsonl", '{"text": "a", "label": 0.5}\n', "expected a label"),
        ("number.jsonl", '{"text": 3, "label": 1}\n', "expected text in column 'text'"),
        ("broken.jsonl", '{"text": "a", \n', "expected one JSON object per line"),
        ("array.jsonl", '["a", 1]\n', "expected a JSON object"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DatasetError, match=message):
        load_text_file(path)


def test_bad_folders_get_clear_errors(tmp_path):
    with pytest.raises(DatasetError, match="no such file or folder"):
        load_text_splits(tmp_path / "none")
    write_tsv(tmp_path / "train.tsv", ["a", "b"], [0, 1])
    with pytest.raises(DatasetError, match="expected an evaluation file"):
        load_text_splits(tmp_path)
    write_tsv(tmp_path / "dev.tsv", ["a"], [7])
    with pytest.raises(DatasetError, match=r"labels \['7'\] are not among the training classes"):
        load_text_splits(tmp_path)


def test_a_hugging_face_folder_without_datasets_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # `import datasets` raises ImportError
    (tmp_path / "dataset_dict.json").write_text('{"splits": ["train", "validation"]}')
    assert is_text_data(tmp_path)
    with pytest.raises(DatasetError, match=r"needs the `datasets` package \(pip install datasets\)"):
        load_text_splits(tmp_path)


def test_hugging_face_folders_load_with_their_class_names(tmp_path):
    datasets = pytest.importorskip("datasets", reason="the `datasets` package (dev extra) reads save_to_disk folders")
    label = datasets.ClassLabel(names=["neg", "pos"])
    features = datasets.Features({"sentence": datasets.Value("string"), "label": label})
    train = datasets.Dataset.from_dict({"sentence": ["bad", "good", "fine", "awful"], "label": [0, 1, 1, 0]}, features)
    dev = datasets.Dataset.from_dict({"sentence": ["great", "poor"], "label": [1, 0]}, features)
    datasets.DatasetDict({"train": train, "validation": dev}).save_to_disk(str(tmp_path / "dict"))
    assert is_text_data(tmp_path / "dict")
    loaded_train, loaded_dev = load_text_splits(tmp_path / "dict")
    assert loaded_train.texts == ["bad", "good", "fine", "awful"] and list(loaded_train.classes) == ["neg", "pos"]
    assert loaded_train.labels.tolist() == [0, 1, 1, 0]
    assert loaded_dev is not None and loaded_dev.texts == ["great", "poor"] and loaded_dev.labels.tolist() == [1, 0]
    train.save_to_disk(str(tmp_path / "one"))
    only, none = load_text_splits(tmp_path / "one")
    assert none is None and only.texts == train["sentence"]
    datasets.DatasetDict({"validation": dev}).save_to_disk(str(tmp_path / "no_train"))
    with pytest.raises(DatasetError, match="expected a 'train' split"):
        load_text_splits(tmp_path / "no_train")
    other = datasets.Dataset.from_dict({"body": ["x"], "label": [0]})
    other.save_to_disk(str(tmp_path / "columns"))
    with pytest.raises(DatasetError, match="body"):
        load_text_splits(tmp_path / "columns")


# Dispatch and the image hashes.


def test_task_for_picks_text_for_text_data_and_keeps_image_hashes(tmp_path):
    folder = text_folder(tmp_path / "sst")
    assert isinstance(task_for(SweepSpec(data=str(folder))), TextTask)
    assert isinstance(task_for(SweepSpec(data=str(folder / "train.tsv"))), TextTask)
    assert isinstance(task_for(SweepSpec(data="somewhere/missing.tsv")), TextTask)
    assert task_for(SweepSpec()).name == "image"
    digits = SweepSpec()
    assert task_for(digits).resolve(digits).spec_hash() == "50bc48671c839b43"
    cifar = SweepSpec(data=str(SHARED / "cifar10-small"), model="resnet")
    if (SHARED / "cifar10-small").is_dir():
        resolved = task_for(cifar).resolve(cifar)
        assert resolved.policy == "ta_wide" and resolved.learning_rate == 0.05
        relative = SweepSpec.from_dict({**resolved.to_dict(), "data": "../shared/data/cifar10-small"})
        assert relative.spec_hash() == "115986059f66b662"


def test_text_defaults_and_checks(tmp_path):
    from mithridate.text.strings import TEXT_CORRUPTIONS

    folder = str(text_folder(tmp_path / "sst"))
    spec = TextTask().resolve(SweepSpec(data=folder))
    for name, value in TEXT_DEFAULTS.items():
        assert getattr(spec, name) == value
    assert spec.corruptions == tuple(TEXT_CORRUPTIONS)
    assert task_for(spec).resolve(spec) == spec  # resolving twice changes nothing
    assert isinstance(task_for(SweepSpec(data="digits", model="fasttext")), TextTask)  # a resolved text spec
    with pytest.raises(ValueError, match="'digits' is not text data"):
        TextTask().resolve(SweepSpec(data="digits", model="fasttext"))
    with pytest.raises(ValueError, match="expected one of fasttext, charcnn for text data, got 'cnn'"):
        TextTask().resolve(SweepSpec(data=folder, model="cnn"))
    with pytest.raises(ValueError, match="corruptions: unknown"):
        TextTask().resolve(SweepSpec(data=folder, corruptions=("fog",)))
    with pytest.raises(ValueError, match="synthetic-ratio axis has no text source"):
        TextTask().resolve(SweepSpec(data=folder, axis="synthetic-ratio"))


def test_training_sample_is_stratified_and_fixed(tmp_path):
    folder = str(text_folder(tmp_path / "sst"))
    spec = SweepSpec(data=folder, train_size=50, corruption_test_size=20)
    one, two = load_text_sweep_data(spec), load_text_sweep_data(spec)
    assert one.train.texts == two.train.texts and one.train.labels.bincount().tolist() == [50, 50]
    assert len(one.test) == 100 and one.corruption_index.tolist() == two.corruption_index.tolist()
    assert one.test.labels[one.corruption_index].bincount().tolist() == [10, 10]
    single = load_text_sweep_data(SweepSpec(data=f"{folder}/train.tsv", train_size=50))
    assert len(single.train) == 100 and len(single.test) == 300  # one file: the rest is the test set


def test_dose_policy_sets_one_axis_and_keeps_the_other(tmp_path):
    folder = str(text_folder(tmp_path / "sst"))
    spec = TextTask().resolve(SweepSpec(data=folder, policy="typo-p0.5-s2"))
    assert text_dose_policy(spec, 3.0, 0).dose.strength == 3.0 and text_dose_policy(spec, 3.0, 0).dose.p == 0.5
    spec = TextTask().resolve(SweepSpec(data=folder, policy="typo-p0.5-s2", axis="p"))
    assert text_dose_policy(spec, 0.25, 0).dose.p == 0.25 and text_dose_policy(spec, 0.25, 0).dose.strength == 2.0
    assert text_dose_policy(spec, 0.0, 0).dose.is_zero


# Features and models.

HASH_TEXTS = ["a fine film", "été naïve — ünïcode", "", "bad  bad   bad", "x"]


def test_hashed_features_are_the_same_in_another_process():
    ids, offsets = HashedNgrams()(HASH_TEXTS)
    code = (
        "from mithridate.experiments.tasks.text.models import HashedNgrams\n"
        f"ids, offsets = HashedNgrams()({HASH_TEXTS!r})\n"
        "print(ids.tolist()); print(offsets.tolist())"
    )
    env = {"PYTHONHASHSEED": "12345", "PATH": ""}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True)
    other_ids, other_offsets = (json.loads(line) for line in run.stdout.splitlines())
    assert other_ids == ids.tolist() and other_offsets == offsets.tolist()
    sizes = [  # per text: unigrams, bigrams, character 3- to 5-grams of each <word>; "" is an empty bag
        len(words) + max(len(words) - 1, 0) + sum(max(len(w) + 3 - n, 0) for w in words for n in (3, 4, 5))
        for words in (text.split() for text in HASH_TEXTS)
    ]
    assert offsets.tolist() == [sum(sizes[:i]) for i in range(len(sizes))] and len(ids) == sum(sizes)
    assert int(ids.max()) < 2**17 and int(ids.min()) >= 0


def test_features_do_not_depend_on_the_batch():
    featurise = HashedNgrams()
    ids, offsets = featurise(HASH_TEXTS)
    alone = [featurise.ids(text) for text in HASH_TEXTS]
    bounds = [*offsets.tolist(), len(ids)]
    assert [ids[bounds[i] : bounds[i + 1]].tolist() for i in range(len(HASH_TEXTS))] == alone


def train(model: torch.nn.Module, texts: list[str], labels: torch.Tensor, epochs: int, lr: float, seed: int = 0):
    spec = SweepSpec(data="x.tsv", epochs=epochs, learning_rate=lr, batch_size=32)
    trainer = TextTrainer(model, texts, labels, spec, seed, torch.device("cpu"))
    for epoch in range(epochs):
        trainer.train_epoch(None, epoch)
    return trainer


@pytest.mark.parametrize(("name", "epochs", "lr"), [("fasttext", 3, 0.02), ("charcnn", 6, 0.01)])
def test_the_models_learn_a_separable_task_in_seconds(name, epochs, lr):
    texts, labels = separable(400, 0)
    test_texts, test_labels = separable(200, 1)
    torch.manual_seed(0)
    model = build_text_model(name, 2)
    assert isinstance(model, FastText if name == "fasttext" else CharCNN)
    trainer = train(model, texts, torch.tensor(labels), epochs, lr)
    assert text_accuracy(model, test_texts, torch.tensor(test_labels)) >= 0.95
    assert trainer.stats.final_loss < 0.3 and trainer.stats.seconds < 30


def test_training_is_reproducible_and_the_policy_gets_indices_and_epochs():
    texts, labels = separable(100, 0)
    calls = []

    def policy(batch: list[str], *, index: torch.Tensor, epoch: int) -> list[str]:
        calls.append((index.tolist(), epoch))
        assert batch == [texts[i] for i in index.tolist()]
        return [text.upper() for text in batch]

    models = []
    for _ in range(2):
        torch.manual_seed(3)
        model = FastText(2)
        spec = SweepSpec(data="x.tsv", epochs=2, learning_rate=0.01, batch_size=32)
        trainer = TextTrainer(model, texts, torch.tensor(labels), spec, 7, torch.device("cpu"))
        for epoch in range(2):
            trainer.train_epoch(policy, epoch)
        models.append(model)
    assert all(
        torch.equal(a, b) for a, b in zip(models[0].state_dict().values(), models[1].state_dict().values(), strict=True)
    )
    first = calls[: len(calls) // 2]
    assert first == calls[len(calls) // 2 :] and [epoch for _, epoch in first] == [0] * 4 + [1] * 4
    assert sorted(i for index, epoch in first if epoch == 0 for i in index) == list(range(100))
    assert trainer.stats.images_augmented == 200


def test_charcnn_handles_empty_and_long_texts():
    model = CharCNN(3)
    logits = model(["", "x" * 1000, "ünïcode"])
    assert logits.shape == (3, 3) and torch.isfinite(logits).all()
    logits.sum().backward()
