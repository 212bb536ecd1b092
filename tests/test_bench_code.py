"""`mithridate bench --modality code`: a quick run writes the table and JSON with every code op, the floors and
the targets; options of the other modalities and unknown ops are refused (no timing assertions)."""

from __future__ import annotations

import json

import pytest

from mithridate.bench.code import CODE_FLOOR_RATIO, CodeBenchSettings, run_code_bench
from mithridate.cli import main
from mithridate.code import CODE_OPS


def test_a_quick_run_writes_every_op_and_the_targets(tmp_path, capsys):
    assert main(["bench", "--modality", "code", "--quick", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "bench_code.json").read_text())
    markdown = (tmp_path / "bench_code.md").read_text()
    assert [row["op"] for row in result["ops"]] == list(CODE_OPS)
    assert result["python"]["files"] == 10 and result["python"]["tokens"] > 1000 and result["python"]["functions"] > 10
    for row in result["ops"]:
        if "skipped" in row:
            assert row["op"].startswith("lexed_") and "JavaScript" in row["skipped"]
            continue
        assert row["seconds"] > 0 and row["x_floor"] > 0 and 0 <= row["changed"] <= row["files"]
        assert f"| {row['op']} | {row['kind']} |" in markdown
    assert {target["what"].split(":")[0] for target in result["targets"]} == {"rename", "faulty"}
    assert all(target["met"] == (target["ratio"] <= CODE_FLOOR_RATIO) for target in result["targets"])
    assert "tokenize" in markdown and "## Targets" in markdown
    assert "mithridate bench: code" in capsys.readouterr().out


def test_options_of_other_modalities_are_refused(tmp_path, capsys):
    assert main(["bench", "--modality", "code", "--quick", "--device", "cpu", "--out", str(tmp_path)]) != 0
    assert "--device: not an option of --modality code" in capsys.readouterr().err
    assert not (tmp_path / "bench_code.json").exists()
    with pytest.raises(ValueError, match="unknown code ops"):
        CodeBenchSettings(ops=("rename", "nope"))
    with pytest.raises(ValueError, match="repeats"):
        CodeBenchSettings(repeats=0)


def test_a_subset_of_ops(tmp_path):
    result = run_code_bench(CodeBenchSettings(limit=3, js_limit=1, repeats=1, ops=("rename", "swap_if")), echo=str)
    assert [row["op"] for row in result["ops"]] == ["rename", "swap_if"]
