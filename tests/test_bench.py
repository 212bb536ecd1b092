"""The benchmark harness: cases, draws, timing rules, every library's adapters, the report and `mithridate bench`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mithridate.bench import BenchSettings, build_cases, run_bench
from mithridate.bench.cases import OP_NAMES, POLICIES, Case
from mithridate.bench.draws import TA_WIDE_LIMITS, op_magnitudes
from mithridate.bench.inputs import make_batch
from mithridate.bench.libraries import LIBRARIES, load
from mithridate.bench.measure import measure
from mithridate.bench.report import check_targets, markdown, suite_rate, write_outputs
from mithridate.image.corruptions import CORRUPTIONS


def test_cases_cover_policies_ops_corruptions_and_copy() -> None:
    cases = build_cases()
    groups = [case.group for case in cases]
    assert groups.count("policy") == 3 and groups.count("op") == 14
    assert groups.count("corruption") == len(CORRUPTIONS) == 19 and groups.count("reference") == 1
    assert len({case.key for case in cases}) == len(cases)
    assert [case.group for case in build_cases(("reference", "policy"))] == ["policy"] * 3 + ["reference"]
    with pytest.raises(ValueError, match="groups: expected some of"):
        build_cases(("policies",))


@pytest.mark.parametrize("name", OP_NAMES)
def test_op_magnitudes_are_fixed_and_inside_ta_wide_range(name: str) -> None:
    values = op_magnitudes(name, 500)
    assert torch.equal(values, op_magnitudes(name, 500))  # the same in every library's process
    low, high = TA_WIDE_LIMITS[name]
    assert float(values.min()) >= low and float(values.max()) <= high
    if low < 0 < high:  # signed ops draw both signs
        assert bool((values < 0).any()) and bool((values > 0).any())
    with pytest.raises(ValueError, match="op: expected one of"):
        op_magnitudes("Shear", 3)


def test_make_batch_gives_real_uint8_photos() -> None:
    images, source = make_batch(48, 5)
    assert images.shape == (5, 3, 48, 48) and images.dtype == torch.uint8
    assert source == "scikit-image photos"
    assert float(images.float().std()) > 20  # real pictures, not a constant
    assert not torch.equal(images[0], images[1])
    with pytest.raises(ValueError, match="expected size >= 8"):
        make_batch(4, 2)


def test_make_batch_takes_cifar_images_from_a_data_root_or_any_folder_below(tmp_path) -> None:
    """--cifar takes the data root, a dataset root (its train/ images only) or a class folder; a folder with
    no image below it is a clear error."""
    import PIL.Image

    for split, level in (("train", 40), ("test", 200)):
        for label in ("cat", "dog"):
            folder = tmp_path / "data" / "cifar" / split / label
            folder.mkdir(parents=True)
            for i in range(3):
                PIL.Image.new("RGB", (32, 32), (level + i, level, level)).save(folder / f"{i}.png")
    for root in (tmp_path / "data", tmp_path / "data" / "cifar", tmp_path / "data" / "cifar" / "train"):
        images, source = make_batch(32, 6, root)
        assert source == "CIFAR-10 subset" and images.shape == (6, 3, 32, 32)
        assert int(images.max()) < 100  # the training images only (levels 40-42), not test's (200-202)
    images, _ = make_batch(32, 2, tmp_path / "data" / "cifar" / "test" / "cat")
    assert int(images.min()) >= 200
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"expected \.png or \.jpg images below .*empty"):
        make_batch(32, 2, tmp_path / "empty")
    with pytest.raises(ValueError, match="is not a folder"):
        make_batch(32, 2, tmp_path / "missing")


def test_measure_per_image_runs_on_enough_images_and_batch_runs_enough_calls() -> None:
    seen: list[int] = []

    def runner(count: int) -> None:
        seen.append(count)

    result = measure(runner, 50, per_image=True, repeats=3, target_seconds=10.0)
    assert result["images_per_call"] == 50  # capped at the batch
    assert result["repeats"] == 3 and result["min_img_per_s"] <= result["img_per_s"] <= result["max_img_per_s"]
    seen.clear()
    result = measure(runner, 50, per_image=False, repeats=2, target_seconds=1e-9, min_calls=7)
    assert result["calls_per_repetition"] == 4 and seen.count(50) == 2 + 2 * 4  # warm-up, calibration, reps


def _available(name: str) -> None:
    reason = load(name).unavailable()
    if reason:
        pytest.skip(f"{name}: {reason}")


@pytest.mark.parametrize("library", LIBRARIES)
def test_every_adapter_runs_every_case_it_claims(library: str) -> None:
    """Each library's runner for each case it has returns one image per input image, of the input's size."""
    _available(library)
    module = load(library)
    images, _ = make_batch(32, 4)
    claimed = 0
    for case in build_cases():
        runner = module.prepare(case, images, torch.device("cpu"))
        if runner is None:
            continue
        claimed += 1
        out = runner(2)
        pictures = list(out) if not isinstance(out, list) else out
        expected = 2 if module.MODE == "per image" else 4
        assert len(pictures) == expected, case
        shape = tuple(pictures[0].shape)
        assert shape in ((3, 32, 32), (32, 32, 3)), (case, shape)
    assert claimed >= 1
    assert module.version() not in ("", None)


def test_mithridate_has_every_case_and_peers_flag_batch_level_policies() -> None:
    images, _ = make_batch(32, 4)
    ours = load("mithridate")
    cases = [case for case in build_cases() if case.group != "reference"]
    assert all(ours.prepare(case, images, torch.device("cpu")) is not None for case in cases)
    assert load("kornia").note(Case("policy", POLICIES[0])) == "one op per batch, not per sample"
    assert load("torchaug").note(Case("policy", POLICIES[0])) == "one op per batch, not per sample"
    assert load("kornia").min_calls(Case("policy", POLICIES[0])) > 14  # a mean over the ops it may draw


def _fake_result(ours: float, peer: float) -> dict:
    cases = [{"group": "policy", "name": "TrivialAugmentWide", "label": "TrivialAugmentWide"}]
    cases += [{"group": "corruption", "name": name, "label": name} for name in ("a", "b")]
    table = {
        "size": 32,
        "batch": 8,
        "threads": 1,
        "inputs": "test",
        "libraries": {
            "mithridate": {
                "policy:TrivialAugmentWide": {"img_per_s": ours, "min_img_per_s": ours, "max_img_per_s": ours},
                "corruption:a": {"img_per_s": 100.0},
                "corruption:b": {"img_per_s": 300.0},
            },
            "torchvision": {"policy:TrivialAugmentWide": {"img_per_s": peer}},
            "imagecorruptions": {"corruption:a": {"img_per_s": 10.0}, "corruption:b": {"error": "boom"}},
        },
    }
    return {
        "settings": {"device": "cpu"},
        "machine": {"cpu": "test cpu", "cores": 2, "os": "os", "python": "3", "date": "today"},
        "seconds": 1.0,
        "libraries": {
            "mithridate": {"mode": "batch", "skipped": None, "version": "0"},
            "torchvision": {"mode": "per image", "skipped": None, "version": "1"},
            "imagecorruptions": {"mode": "per image", "skipped": None, "version": "2"},
            "kornia": {"mode": "batch", "skipped": "kornia is not installed"},
        },
        "cases": cases,
        "tables": [table],
    }


def test_suite_rate_is_total_time_and_needs_every_corruption() -> None:
    results = {"corruption:a": {"img_per_s": 100.0}, "corruption:b": {"img_per_s": 300.0}}
    assert suite_rate(results, ["a", "b"]) == pytest.approx(2 / (1 / 100 + 1 / 300))
    assert suite_rate(results, ["a", "b", "c"]) is None
    assert suite_rate({"corruption:a": {"error": "x"}}, ["a"]) is None


def test_targets_and_markdown(tmp_path: Path) -> None:
    checks = check_targets(_fake_result(ours=1000.0, peer=50.0))
    assert checks == [
        {"what": "TrivialAugmentWide 32x32, 1 thread(s): mithridate / torchvision >= 10", "ratio": 20.0, "met": True}
    ]
    assert not check_targets(_fake_result(ours=100.0, peer=50.0))[0]["met"]
    text = markdown(_fake_result(ours=1000.0, peer=50.0))
    assert "| TrivialAugmentWide | 1.0k | 50 **20.00x** |" in text
    assert "failed [1]" in text and "[1] failed: boom" in text
    assert "Skipped: kornia (kornia is not installed)" in text
    paths = write_outputs(_fake_result(ours=1000.0, peer=50.0), tmp_path, "fake")
    data = json.loads(paths["json"].read_text())
    assert data["tables"][0]["libraries"]["mithridate"]["corruption suite"]["img_per_s"] == pytest.approx(150.0)
    assert "imagecorruptions" not in [k for k, v in data["tables"][0]["libraries"].items() if "corruption suite" in v]
    assert paths["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths["chart"].stat().st_size > 5000


def test_a_missing_peer_is_skipped_with_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load("torchvision"), "unavailable", lambda: "torchvision is not installed (test)")
    lines: list[str] = []
    settings = BenchSettings(
        sizes=((16, 3),), threads=(1,), libraries=("mithridate", "torchvision"), groups=("reference",), repeats=1
    )
    result = run_bench(settings, echo=lines.append)
    assert "skipping torchvision: torchvision is not installed (test)" in lines
    assert result["libraries"]["torchvision"]["skipped"]
    assert list(result["tables"][0]["libraries"]) == ["mithridate"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"device": "tpu"}, "device: expected cpu or cuda"),
        ({"sizes": ((4, 8),)}, "sizes: expected side >= 8"),
        ({"threads": (0,)}, "threads: expected positive"),
        ({"libraries": ("torchvision",)}, "mithridate must be among them"),
        ({"libraries": ("mithridate", "pillow")}, "libraries: expected some of"),
        ({"repeats": 0}, "repeats and target_seconds"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BenchSettings(**kwargs)


def test_bench_command_smoke(tmp_path: Path) -> None:
    """`mithridate bench --quick` runs every installed library in its own process and writes the three files."""
    done = subprocess.run(
        [sys.executable, "-m", "mithridate.cli", "bench", "--quick", "--groups", "policy,reference",
         "--out", str(tmp_path), "--name", "smoke"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    text = (tmp_path / "smoke.md").read_text()
    assert "| TrivialAugmentWide |" in text and "| copy |" in text
    data = json.loads((tmp_path / "smoke.json").read_text())
    table = data["tables"][0]
    assert (table["size"], table["batch"], table["threads"]) == (32, 16, 1)
    assert table["libraries"]["mithridate"]["policy:AugMix"]["img_per_s"] > 0
    assert table["libraries"]["torchvision"]["policy:TrivialAugmentWide"]["img_per_s"] > 0
    assert data["machine"]["cores"] >= 1 and data["libraries"]["torchvision"]["version"]
    assert (tmp_path / "smoke.png").stat().st_size > 5000


def test_bench_command_rejects_bad_options(tmp_path: Path) -> None:
    from mithridate.cli import main

    assert main(["bench", "--sizes", "32", "--out", str(tmp_path)]) == 2
    assert main(["bench", "--threads", "one", "--out", str(tmp_path)]) == 2
    assert main(["bench", "--libraries", "mithridate,pillow", "--out", str(tmp_path)]) == 2


def test_timings_script_smoke() -> None:
    """`benchmarks/timings.py --quick` (the README's smaller timings) runs and prints each of its figures."""
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "timings.py"
    done = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("compiled") == 4
    assert "torchvision:" in done.stdout and "x 19 corruptions x 5 severities" in done.stdout
