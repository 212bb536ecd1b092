"""The text benchmark (`mithridate bench --modality text`): inputs, nlpaug's rate matching, the report, the
command's options, and a --quick smoke run that checks the outputs' structure (no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mithridate.bench.text import TextBenchSettings, build_text_cases, run_text_bench
from mithridate.bench.text.cases import PEERS, STRING_OPS, TOKEN_OPS
from mithridate.bench.text.inputs import fallback_sentences, load_inputs, load_sentences, write_inputs
from mithridate.bench.text.libraries import TEXT_LIBRARIES, load
from mithridate.bench.text.libraries.nlpaug_lib import match_rate
from mithridate.bench.text.report import check_text_targets, text_markdown, write_text_outputs


def test_cases_and_their_peers() -> None:
    cases = build_text_cases()
    assert [case.name for case in cases if case.group == "string"] == list(STRING_OPS)
    assert [case.name for case in cases if case.group == "token"] == list(TOKEN_OPS)
    assert {case.unit for case in cases if case.group != "string"} == {"tokens"}
    assert all(key in {case.key for case in cases} for key in PEERS)
    assert build_text_cases(("token",))[0].label == "xlm"
    with pytest.raises(ValueError, match="groups: expected some of"):
        build_text_cases(("strings",))


def test_sentences_from_tsv_files_and_the_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sst").mkdir()
    (tmp_path / "sst" / "train.tsv").write_text('label\tsentence\n0\ta dull film\n1\ta "fine" one\n1\tgreat\n')
    sentences, source = load_sentences(tmp_path / "sst", 2)
    assert sentences == ["a dull film", 'a "fine" one'] and "first 2 sentences" in source
    (tmp_path / "plain.tsv").write_text("a long sentence here\t1\nanother one\t0\n")
    assert load_sentences(tmp_path / "plain.tsv", 5)[0] == ["a long sentence here", "another one"]
    assert "the whole file" in load_sentences(tmp_path / "plain.tsv", 5)[1]
    with pytest.raises(ValueError, match="is missing"):
        load_sentences(tmp_path / "nowhere.tsv", 5)
    monkeypatch.chdir(tmp_path)  # the default path is relative: missing here
    sentences, source = load_sentences(None, 30)
    assert source.startswith("built-in corpus: 30 sentences") and "not found" in source
    assert sentences == fallback_sentences(30) and len(set(sentences)) > 20


def test_inputs_pad_every_batch_the_same_for_every_library(tmp_path: Path) -> None:
    sentences = fallback_sentences(21)
    summary = write_inputs(tmp_path, sentences, "test")
    inputs = load_inputs(tmp_path, batch=8)
    assert summary["sentences"] == 21 and summary["tokens"] == inputs.tokens
    batches = inputs.batches()
    assert [len(b.index) for b in batches] == [8, 8, 5] and batches[2].index.tolist() == list(range(16, 21))
    pad = inputs.vocab["pad_token_id"]
    for batch in batches:
        real = batch.attention_mask.bool()
        assert bool((batch.input_ids[~real] == pad).all()) and bool(batch.special_tokens_mask[~real].all())
        assert int(batch.special_tokens_mask[real].sum()) == 2 * len(batch.index)  # [CLS] and [SEP]
    examples = inputs.examples(with_index=True)
    assert examples[2][0]["index"] == 16 and examples[2][0]["input_ids"] == inputs.input_ids[16]
    assert len(inputs.vocab["sentinel_ids"]) == 100


def test_nlpaug_rate_matching_finds_the_nearest_count() -> None:
    tokens = np.array([10, 20, 5, 1])
    eligible = np.array([8, 15, 4, 0])
    edits = np.array([8.0, 15.0, 4.0, 0.0])  # one edit per drawn word
    p, expected = match_rate(tokens, eligible, edits, target=2.0)
    drawn = np.minimum(np.ceil(p * tokens), eligible)
    assert expected == pytest.approx(drawn.sum() / 4) and abs(expected - 2.0) <= 0.25
    low, floor = match_rate(tokens, eligible, edits, target=0.1)  # below nlpaug's least count: one per sentence
    assert 0 < low < 0.05 and floor == pytest.approx(3 / 4)


def _fake_result() -> dict:
    def entry(unit: str, per_s: float, **info: object) -> dict:
        return {"unit": unit, f"{unit}_per_s": per_s, f"min_{unit}_per_s": per_s, f"max_{unit}_per_s": per_s, **info}

    ours = {
        "string:typo": entry("sentences", 200_000.0, edits_per_sentence=2.0, rate=0.05, rate_unit="character"),
        "mask:mlm": entry("tokens", 5e6, masked=0.15, per_sample_reproducible=True),
        "token:xlm": entry("tokens", 2e6, policy="xlm", output_tokens=90),
    }
    return {
        "settings": {},
        "machine": {"cpu": "test cpu", "cores": 2, "os": "os", "python": "3", "date": "today", "torch": "2"},
        "inputs": {
            "source": "test",
            "mean_characters": 50,
            "mean_words": 9,
            "tokenizer": "wp",
            "tokens": 100,
            "mean_tokens": 12,
            "max_tokens": 20,
            "batches": 1,
            "batch": 8,
            "sentences": 8,
        },
        "seconds": 1.0,
        "libraries": {
            "mithridate": {"mode": "batch", "skipped": None, "version": "0"},
            "nlpaug": {"mode": "per sentence", "skipped": None, "version": "1"},
            "transformers": {"mode": "batch", "skipped": "transformers is not installed"},
        },
        "cases": [
            {"group": g, "name": n, "label": n, "unit": u}
            for g, n, u in (("string", "typo", "sentences"), ("mask", "mlm", "tokens"), ("token", "xlm", "tokens"))
        ],
        "tables": [
            {
                "threads": 1,
                "libraries": {
                    "mithridate": ours,
                    "nlpaug": {
                        "string:typo": entry(
                            "sentences", 10_000.0, edits_per_sentence=2.1, params={"aug_word_p": 0.2}, note="a caveat"
                        )
                    },
                },
            }
        ],
    }


def test_targets_and_markdown(tmp_path: Path) -> None:
    checks = check_text_targets(_fake_result())
    assert checks[0] == {"what": "typo, 1 thread: mithridate / nlpaug KeyboardAug >= 10", "ratio": 20.0, "met": True}
    assert checks[1]["what"].startswith("xlm denoising noise") and not checks[1]["met"]
    text = text_markdown(_fake_result())
    assert "| typo | sentences | 200k | nlpaug: 10k [1] | **20.00x** | edits/sentence 2.00 vs 2.10" in text
    assert "[1] a caveat" in text and "Skipped: transformers (transformers is not installed)" in text
    assert "| mlm | tokens | 5.00M | transformers: – | – | masked 15.0%; per-sample reproducible |" in text
    paths = write_text_outputs(_fake_result(), tmp_path, "fake")
    assert json.loads(paths["json"].read_text())["targets"][0]["met"] is True


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n and batch"),
        ({"threads": (0,)}, "threads: expected positive"),
        ({"libraries": ("nlpaug",)}, "mithridate must be among them"),
        ({"libraries": ("mithridate", "textattack")}, "libraries: expected some of"),
        ({"repeats": 0}, "repeats and target_seconds"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TextBenchSettings(**kwargs)


def test_the_command_refuses_options_of_the_other_modality(tmp_path: Path) -> None:
    from mithridate.cli import main

    assert main(["bench", "--modality", "text", "--sizes", "32:4", "--out", str(tmp_path)]) == 2
    assert main(["bench", "--modality", "text", "--device", "cuda", "--out", str(tmp_path)]) == 2
    assert main(["bench", "--n", "10", "--out", str(tmp_path)]) == 2  # image (the default) takes no --n
    assert main(["bench", "--modality", "audio"]) == 2
    assert not any(tmp_path.iterdir())


def test_a_missing_peer_is_skipped_with_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load("transformers"), "unavailable", lambda: "transformers is not installed (test)")
    lines: list[str] = []
    settings = TextBenchSettings(
        n=6, batch=4, libraries=("mithridate", "transformers"), groups=("mask",), repeats=1, target_seconds=0.001
    )
    result = run_text_bench(settings, echo=lines.append)
    assert "skipping transformers: transformers is not installed (test)" in lines
    assert list(result["tables"][0]["libraries"]) == ["mithridate"]
    assert result["tables"][0]["libraries"]["mithridate"]["mask:mlm"]["tokens_per_s"] > 0


def test_bench_text_quick_smoke(tmp_path: Path) -> None:
    """`mithridate bench --modality text --quick` runs each installed library in its own process and writes the
    Markdown table and the JSON; peers that are not installed are skipped with a reason."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mithridate.cli",
            "bench",
            "--modality",
            "text",
            "--quick",
            "--out",
            str(tmp_path),
            "--name",
            "smoke",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    text = (tmp_path / "smoke.md").read_text()
    assert text in done.stdout and "| case | unit/s | mithridate | peer | **ours / peer** | same work |" in text
    data = json.loads((tmp_path / "smoke.json").read_text())
    assert data["machine"]["cpu"] and data["machine"]["cores"] >= 1 and data["machine"]["torch"]
    assert data["inputs"]["sentences"] == 48 and data["inputs"]["batch"] == 16 and data["inputs"]["batches"] == 3
    assert set(data["libraries"]) == set(TEXT_LIBRARIES)
    (table,) = data["tables"]
    assert table["threads"] == 1
    ours = table["libraries"]["mithridate"]
    assert set(ours) == {case.key for case in build_text_cases()}
    for key, entry in ours.items():
        assert entry[f"{entry['unit']}_per_s"] > 0 and entry["repeats"] == 1, key
    assert all(ours[f"string:{name}"]["edits_per_sentence"] > 0 for name in STRING_OPS)
    assert ours["mask:mlm"]["per_sample_reproducible"] is True
    assert 0.05 < ours["mask:mlm"]["masked"] < 0.3
    for peer in ("nlpaug", "transformers"):
        reason = load(peer).unavailable()
        if reason:
            assert data["libraries"][peer]["skipped"] == reason and f"{peer} ({reason})" in text
            assert peer not in table["libraries"]
            continue
        assert data["libraries"][peer]["version"] not in (None, "?")
        theirs = table["libraries"][peer]
        assert set(theirs) == {key for key, (library, _) in PEERS.items() if library == peer}
        assert all(entry[f"{entry['unit']}_per_s"] > 0 for entry in theirs.values())
    keys = {check["what"].split(",")[0] for check in data["targets"]}
    assert "xlm denoising noise" in keys


@pytest.mark.parametrize("peer", ["nlpaug", "transformers"])
def test_peer_is_installed_or_skipped_with_a_reason(peer: str) -> None:
    reason = load(peer).unavailable()
    if reason:
        pytest.skip(f"{peer}: {reason}")
    assert load(peer).version() not in ("", "?")
