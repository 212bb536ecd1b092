"""Write corrupted copies of an image folder, as CIFAR-10-C / ImageNet-C are laid out.

`corrupt_folder(src, dst)` reads an ImageFolder tree (src/<class>/<images>) or a flat folder of images
and writes dst/<corruption>/<severity>/<class>/<name>.png (dst/<corruption>/<severity>/<name>.png for a
flat folder), for every corruption and severity asked for. Files are listed as `load_image_folder`
lists them (classes and files sorted by name); a file's position in that listing is its sample index,
so a file gets the same corruption whatever else is in the folder's batches and however often it runs.
Images are decoded once, grouped by size and mode into batches, and every corruption and severity is
applied to the batch before the next one is read. Each image keeps its own size and mode (L, LA, RGB
or RGBA; palette images become RGBA, as `load_image_folder` opens them); alpha passes through untouched.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import torch

from ..data.datasets import GRAY_MODES, DatasetError, check_folder, class_folders, list_folder, open_image
from ..image.corruptions import COMMON, CORRUPTIONS, EXTRA, SEVERITIES, corrupt

__all__ = ["corrupt_folder", "parse_corruptions", "parse_severities"]

_GROUPS = {"all": CORRUPTIONS, "common": COMMON, "extra": EXTRA}


def parse_corruptions(corruptions: str | Iterable[str]) -> tuple[str, ...]:
    """Corruption names from a sequence or one string: "all", "common", "extra" or names joined by commas."""
    if isinstance(corruptions, str):
        text = corruptions.strip()
        names = list(_GROUPS[text]) if text in _GROUPS else [part.strip() for part in text.split(",") if part.strip()]
    else:
        names = list(corruptions)
    if not names:
        raise ValueError(f"corruptions: expected at least one of {', '.join(CORRUPTIONS)} (or all, common, extra)")
    unknown = [name for name in names if not isinstance(name, str) or name not in CORRUPTIONS]
    if unknown:
        raise ValueError(
            f"corruptions: unknown corruption {unknown[0]!r}; expected names among {', '.join(CORRUPTIONS)} "
            "(or all, common, extra)"
        )
    return tuple(dict.fromkeys(names))


def parse_severities(severities: int | str | Iterable[int]) -> tuple[int, ...]:
    """Severities from an integer, a sequence of integers or one string such as "1,3,5"."""
    if isinstance(severities, str):
        parts = [part.strip() for part in severities.split(",") if part.strip()]
        try:
            values: list[Any] = [int(part) for part in parts]
        except ValueError:
            raise ValueError(f"severities: expected integers in 1..5 separated by commas, got {severities!r}") from None
    elif isinstance(severities, (int, np.integer)) and not isinstance(severities, bool):
        values = [int(severities)]
    else:
        values = list(severities)
    if not values:
        raise ValueError("severities: expected at least one severity in 1..5")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) not in SEVERITIES:
            raise ValueError(f"severities: expected integers in 1..5, got {value!r}")
    return tuple(dict.fromkeys(int(v) for v in values))


def _target_mode(mode: str) -> str:
    """The mode an image is corrupted in: gray, gray + alpha, RGB or RGBA (palette images as open_image)."""
    if mode in ("LA", "La"):
        return "LA"
    if mode in GRAY_MODES:
        return "L"
    if mode in ("RGBA", "RGBa", "PA", "P"):
        return "RGBA"
    return "RGB"


def _header(path: Path) -> tuple[int, int, str]:
    """(height, width, target mode) of an image file, from its header only."""
    try:
        with PIL.Image.open(path) as image:
            return image.height, image.width, _target_mode(image.mode)
    except (OSError, ValueError, SyntaxError, PIL.Image.DecompressionBombError) as error:
        raise DatasetError(f"cannot read image file {path}: {error}") from None


def _load(paths: Sequence[Path], mode: str) -> torch.Tensor:
    """Decode same-size images into a uint8 batch (N, C, H, W)."""
    arrays = []
    for path in paths:
        array = np.asarray(open_image(path).convert(mode), dtype=np.uint8)
        arrays.append(array[:, :, None] if array.ndim == 2 else array)
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


class _Progress:
    """tqdm when it is installed, else a line on stderr every tenth of the way."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled, self.bar, self.next_report = total, 0, enabled, None, 0.1
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                return
            self.bar = tqdm(total=total, unit="img", desc="corrupt")

    def update(self, count: int) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
        elif self.enabled and self.done >= self.next_report * self.total:
            print(f"corrupt: {self.done}/{self.total} images", file=sys.stderr)
            while self.next_report * self.total <= self.done:
                self.next_report += 0.1

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _check_destination(root: Path, dst: str | Path) -> Path:
    out = Path(dst).expanduser()
    resolved, source = out.resolve(), root.resolve()
    if resolved == source or source in resolved.parents:
        raise DatasetError(f"destination {out}: inside the source folder {root}; choose a folder outside it")
    if out.exists() and not out.is_dir():
        raise DatasetError(f"destination {out}: expected a directory, found a file")
    return out


def corrupt_folder(
    src: str | Path,
    dst: str | Path,
    *,
    corruptions: str | Iterable[str] = CORRUPTIONS,
    severities: int | str | Iterable[int] = SEVERITIES,
    seed: int = 0,
    batch_size: int = 256,
    progress: bool = True,
    params: str | None = None,
) -> int:
    """Write dst/<corruption>/<severity>/[<class>/]<name>.png for every image of `src`; return the files written.

    `corruptions`: names, or one string ("all", "common", "extra" or names joined by commas);
    `severities`: integers in 1..5, or one string such as "1,3,5"; `params`: "cifar", "imagenet" or
    None (by image size, as `corrupt`). Existing files are overwritten. Raises DatasetError (a
    ValueError) for a missing or empty folder, an unreadable image or two files that would write the
    same .png, and ValueError for an unknown corruption or severity, before anything is written.
    """
    names = parse_corruptions(corruptions)
    levels = parse_severities(severities)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
    if params is not None and params not in ("cifar", "imagenet"):
        raise ValueError(f"params: expected None (by image size), 'cifar' or 'imagenet', got {params!r}")
    root = check_folder(src, "image folder")
    flat = not class_folders(root)
    classes, items = list_folder(root, None)
    out_root = _check_destination(root, dst)

    if flat:
        relative = [Path(file.stem + ".png") for file, _ in items]
    else:
        relative = [Path(classes[label]) / (file.stem + ".png") for file, label in items]
    seen: dict[Path, Path] = {}
    for rel, (file, _) in zip(relative, items, strict=True):
        if rel in seen:
            raise DatasetError(f"image folder {root}: {seen[rel].name} and {file.name} would both be written as {rel}")
        seen[rel] = file

    groups: dict[tuple[int, int, str], list[int]] = {}
    for position, (file, _) in enumerate(items):
        groups.setdefault(_header(file), []).append(position)
    folders = {rel.parent for rel in relative}
    for name in names:
        for level in levels:
            for folder in folders:
                (out_root / name / str(level) / folder).mkdir(parents=True, exist_ok=True)

    bar = _Progress(len(items) * len(names) * len(levels), progress)
    written = 0
    try:
        for (_, _, mode), positions in groups.items():
            for start in range(0, len(positions), int(batch_size)):
                chunk = positions[start : start + int(batch_size)]
                images = _load([items[p][0] for p in chunk], mode)
                for name in names:
                    for level in levels:
                        out = corrupt(images, name, level, seed=seed, index=chunk, params=params)
                        arrays = out.permute(0, 2, 3, 1).numpy()
                        for position, array in zip(chunk, arrays, strict=True):
                            picture = PIL.Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array, mode=mode)
                            picture.save(out_root / name / str(level) / relative[position], format="PNG")
                        written += len(chunk)
                        bar.update(len(chunk))
    finally:
        bar.close()
    return written
