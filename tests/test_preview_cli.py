"""The preview grid and the `mithridate` command: layout, pixels, one batch call, captions, errors, determinism."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import torch
from PIL import ImageFont

import mithridate as mt
from mithridate.cli import main
from mithridate.data import load_digits
from mithridate.image.preview import GAP, MARGIN, grid_layout, preview_grid, tile_size, wrap_caption


def _tile_pixels(grid: PIL.Image.Image, rows: int, tile: int, row: int, col: int) -> np.ndarray:
    """A tile of a grid without title: rows share the height left by the margins and gaps equally."""
    row_height, rest = divmod(grid.height - 2 * MARGIN - (rows - 1) * GAP, rows)
    assert rest == 0 and row_height > tile
    x, y = MARGIN + col * (tile + GAP), MARGIN + row * (row_height + GAP)
    return np.asarray(grid.convert("RGB"))[y : y + tile, x : x + tile]


def _expected_width(cols: int, tile: int) -> int:
    return 2 * MARGIN + (cols + 1) * tile + cols * GAP


# preview_grid -----------------------------------------------------------------------------------------


def test_tile_size_rules():
    assert tile_size(8, 8) == (96, 96)
    assert tile_size(32, 32) == (96, 96)
    assert tile_size(28, 20) == (112, 80)
    assert tile_size(200, 100) == (200, 100)
    assert tile_size(512, 256) == (256, 128)
    assert tile_size(8, 8, tile=40) == (40, 40)


def test_grid_shows_originals_then_draws():
    images = load_digits().images[[0, 1]]
    policy = mt.image.policy("ta_wide", seed=0)
    grid = preview_grid(policy, images, cols=3)
    assert grid.width == _expected_width(3, 96)
    for row in range(2):
        original = _tile_pixels(grid, 2, 96, row, 0)
        upscaled = images[row, 0].numpy().repeat(12, axis=0).repeat(12, axis=1)  # nearest, 8 -> 96
        assert np.array_equal(original[:, :, 0], upscaled)
        assert np.array_equal(original[:, :, 0], original[:, :, 1])  # gray shows gray
        assert np.array_equal(original[:, :, 1], original[:, :, 2])
    # the draws are what the policy gives for indices 0..5 of the repeated batch
    batch = images.repeat_interleave(3, dim=0)
    augmented = mt.image.policy("ta_wide", seed=0)(batch, index=torch.arange(6))
    for k in range(6):
        row, col = divmod(k, 3)
        expected = augmented[k, 0].numpy().repeat(12, axis=0).repeat(12, axis=1)
        assert np.array_equal(_tile_pixels(grid, 2, 96, row, col + 1)[:, :, 0], expected)


def test_grid_samples_and_applies_once():
    policy = mt.image.policy("rand-n2-m9", seed=3)
    calls: list[tuple[int, list[int]]] = []
    sample = policy.sample

    def counting_sample(n, size, **kwargs):
        calls.append((n, torch.as_tensor(kwargs["index"]).tolist()))
        assert kwargs.get("epoch", 0) == 0
        return sample(n, size, **kwargs)

    policy.sample = counting_sample  # type: ignore[method-assign]
    preview_grid(policy, load_digits().images[:4], cols=5)
    assert calls == [(20, list(range(20)))]


def test_grid_alpha_on_checker_and_tile_option():
    image = torch.zeros((1, 4, 16, 16), dtype=torch.uint8)
    image[:, :3] = 50
    image[:, 3, :, 8:] = 255  # left half transparent, right half opaque
    grid = preview_grid(mt.image.policy("ta_wide", seed=0), image, cols=2, tile=64)
    assert grid.width == _expected_width(2, 64)
    layout = grid_layout(1, 2, (16, 16), 1, tile=64)
    pixels = np.asarray(grid)[MARGIN : MARGIN + 64, MARGIN : MARGIN + 64]
    left, right = pixels[:, :32], pixels[:, 32:]
    assert {tuple(v) for v in left.reshape(-1, 3)} == {(255, 255, 255), (204, 204, 204)}
    assert np.all(right == 50)
    assert layout.tile_origin(0, 0) == (MARGIN, MARGIN)


def test_grid_is_deterministic_per_seed():
    images = load_digits().images[:3]
    first = np.asarray(preview_grid(mt.image.policy("ta_wide", seed=0), images, cols=4))
    again = np.asarray(preview_grid(mt.image.policy("ta_wide", seed=0), images, cols=4))
    other = np.asarray(preview_grid(mt.image.policy("ta_wide", seed=1), images, cols=4))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)  # other draws: other tiles, and captions that may take other heights


def test_grid_rejects_bad_input():
    policy = mt.image.policy("ta_wide", seed=0)
    with pytest.raises(ValueError, match="uint8"):
        preview_grid(policy, torch.zeros((2, 1, 8, 8)), cols=2)
    with pytest.raises(ValueError, match="cols"):
        preview_grid(policy, torch.zeros((2, 1, 8, 8), dtype=torch.uint8), cols=0)
    with pytest.raises(TypeError, match="policy"):
        preview_grid("ta_wide", torch.zeros((2, 1, 8, 8), dtype=torch.uint8), cols=2)  # type: ignore[arg-type]


def test_captions_fit_the_tile_and_are_cut_with_an_ellipsis():
    font = ImageFont.load_default(size=12)
    notdef = bytes(font.getmask("\uffff"))
    plan = mt.image.policy("augmix-w3-d3", seed=0).sample(8, (32, 32), index=torch.arange(8))
    for i in range(8):
        lines = wrap_caption(plan.describe(i), font, 94, max_lines=3)
        assert 1 <= len(lines) <= 3
        assert all(font.getlength(line) <= 94 for line in lines)
        assert all(bytes(font.getmask(ch)) != notdef for line in lines for ch in line if not ch.isspace())
    long = wrap_caption("word " * 100, font, 94, max_lines=2)
    assert len(long) == 2 and long[-1].endswith(("…", "..."))
    assert wrap_caption("Rotate -31.5°", font, 94) == ["Rotate -31.5°"]


# The command ------------------------------------------------------------------------------------------


def test_preview_digits_writes_the_grid(tmp_path: Path, capsys):
    out = tmp_path / "grid.png"
    assert main(["preview", "--out", str(out), "--rows", "3", "--cols", "4"]) == 0
    with PIL.Image.open(out) as image:
        assert image.format == "PNG"
        assert image.width == _expected_width(4, 96)
        assert image.height > 2 * MARGIN + 3 * 96 + 2 * GAP
    printed = capsys.readouterr()
    assert printed.err == ""
    assert printed.out.count("\n") == 1
    assert str(out) in printed.out and "ta_wide" in printed.out and "seed 0" in printed.out
    assert "classes 0, 4, 9" in printed.out  # rows spread over the dataset sorted by class


def test_preview_picture_with_size(tmp_path: Path):
    out = tmp_path / "astronaut.png"
    code = main(["preview", "--data", "astronaut", "--size", "64", "--out", str(out), "--policy", "augmix"])
    assert code == 0
    with PIL.Image.open(out) as image:
        assert image.width == _expected_width(6, 128)  # 64 px upscaled x2
        assert 128 < image.height < 2 * 128  # one image: one row


def test_preview_image_folder_rows_span_classes(tmp_path: Path, capsys):
    for k, name in enumerate(["ant", "bee", "cow"]):
        for j in range(3):
            path = tmp_path / "data" / "train" / name / f"{j}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            PIL.Image.new("RGB", (32, 32), (80 * k, 40 * j, 100)).save(path)
    (tmp_path / "data" / "test").mkdir()
    assert main(["preview", "--data", str(tmp_path / "data"), "--rows", "3", "--out", str(tmp_path / "f.png")]) == 0
    assert "classes ant, bee, cow" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--policy", "trivial"], "ta_wide, rand, auto, augmix"),
        (["--policy", "ta_wide-q3"], "unknown key 'q3'"),
        (["--data", "/no/such/folder"], "/no/such/folder"),
        (["--rows", "0"], "--rows"),
        (["--cols", "many"], "--cols"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_preview_errors_are_one_line(tmp_path: Path, capsys, argv, needle):
    out = tmp_path / "never.png"
    assert main(["preview", "--out", str(out), *argv]) == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    lines = printed.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("mithridate: error: ")
    assert needle in lines[0]
    assert not out.exists()


def test_missing_subcommand_and_version(capsys):
    assert main([]) == 2
    assert capsys.readouterr().err.startswith("mithridate: error: ")
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"mithridate {mt.__version__}"


def test_preview_is_deterministic(tmp_path: Path):
    paths = [tmp_path / f"{name}.png" for name in ("a", "b", "c")]
    for path, seed in zip(paths, ("0", "0", "1"), strict=True):
        assert main(["preview", "--out", str(path), "--seed", seed, "--rows", "2", "--cols", "3"]) == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()
    with PIL.Image.open(paths[0]) as a, PIL.Image.open(paths[2]) as c:
        assert a.size != c.size or not np.array_equal(np.asarray(a), np.asarray(c))


def test_console_script_runs(tmp_path: Path):
    script = Path(sys.executable).parent / "mithridate"
    if not script.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    result = subprocess.run(
        [str(script), "preview", "--out", "shot.png", "--rows", "2", "--cols", "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote shot.png" in result.stdout
    with PIL.Image.open(tmp_path / "shot.png") as image:
        assert image.width == _expected_width(2, 96)
