"""Image datasets for previews and experiments, loaded into memory as uint8 tensors (N, C, H, W).

Sources, all real data:

- `load_digits`: scikit-learn's bundled handwritten digits (1,797 images of 8x8), always available.
- `load_picture`: one of scikit-image's bundled pictures (`PICTURES`), always available.
- `load_image_folder`: image files in the ImageFolder layout (root/<class>/<files>) or a flat folder.
- `load_cifar10_batches`: CIFAR-10's "python version" (cifar-10-batches-py: data_batch_1..5, test_batch).
- `load_images`: one string that names any of these, as a command line carries it.

Every loader returns an `ImageDataset` and reports a problem as a `DatasetError` (a ValueError) that
names the path, what was expected and what was found. The folder helpers (`check_folder`, `class_folders`,
`list_folder`, `open_image`, `GRAY_MODES`) are public because `experiments.corrupt_folder` reads folders
the same way. This module lives in data/ (not experiments/) so that `rendered_digits` can return an
`ImageDataset` without data/ importing experiments/.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import torch

from ..validation import check_int

__all__ = [
    "GRAY_MODES",
    "IMAGE_EXTENSIONS",
    "PICTURES",
    "DatasetError",
    "ImageDataset",
    "check_folder",
    "class_folders",
    "list_folder",
    "load_cifar10_batches",
    "load_digits",
    "load_image_folder",
    "load_images",
    "load_picture",
    "open_image",
]

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")

# scikit-image's pictures that ship inside the package (no download): name -> loader function name.
PICTURES: tuple[str, ...] = (
    "astronaut",
    "camera",
    "coffee",
    "chelsea",
    "rocket",
    "cat",
    "coins",
    "moon",
    "page",
    "text",
    "clock",
    "brick",
    "grass",
    "gravel",
    "colorwheel",
    "immunohistochemistry",
    "hubble_deep_field",
    "microaneurysms",
    "cell",
    "logo",
)

# PIL modes decoded as one gray channel (shared with `experiments.corrupt_folder`, which keeps them gray).
GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16L", "I;16B", "F"})
_CIFAR_META = "batches.meta"
_CIFAR_FILES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
_CIFAR_SIDE = 32


class DatasetError(ValueError):
    """A dataset could not be found or read: the message names the path, what was expected and what was found."""


@dataclass
class ImageDataset:
    """Images uint8 (N, C, H, W), labels int64 (N,) indexing `classes`, and the class names."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]

    def __post_init__(self) -> None:
        if not isinstance(self.images, torch.Tensor) or self.images.dtype != torch.uint8 or self.images.ndim != 4:
            got = (
                f"{self.images.dtype} {tuple(self.images.shape)}"
                if isinstance(self.images, torch.Tensor)
                else type(self.images).__name__
            )
            raise DatasetError(f"ImageDataset.images: expected a uint8 tensor (N, C, H, W), got {got}")
        if not isinstance(self.labels, torch.Tensor) or self.labels.dtype != torch.int64 or self.labels.ndim != 1:
            raise DatasetError("ImageDataset.labels: expected an int64 tensor (N,)")
        if len(self.labels) != len(self.images):
            raise DatasetError(
                f"ImageDataset: {len(self.images)} images but {len(self.labels)} labels; expected one label per image"
            )
        if len(self.labels) and not (int(self.labels.min()) >= 0 and int(self.labels.max()) < len(self.classes)):
            raise DatasetError(
                f"ImageDataset.labels: expected values in [0, {len(self.classes)}) (one per class), "
                f"got {int(self.labels.min())}..{int(self.labels.max())}"
            )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def subset(self, indices: Sequence[int] | torch.Tensor) -> ImageDataset:
        """The images at `indices` (any integer sequence or tensor), with the same classes."""
        index = torch.as_tensor(indices, dtype=torch.int64)
        return ImageDataset(self.images[index], self.labels[index], list(self.classes))


def _check_positive(name: str, value: Any) -> int:
    return check_int(name, value, 1, error=DatasetError, type_error=DatasetError)


def _check_size(size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    """(H, W) from None, an integer (a square) or a pair of positive integers."""
    if size is None:
        return None
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        side = _check_positive("size", size)
        return side, side
    if isinstance(size, Sequence) and len(size) == 2:
        return _check_positive("size[0] (height)", size[0]), _check_positive("size[1] (width)", size[1])
    raise DatasetError(f"size: expected None, a positive integer or a pair (height, width), got {size!r}")


def _to_tensor(array: np.ndarray) -> torch.Tensor:
    """An image (H, W) or (H, W, C) uint8 array as a tensor (C, H, W)."""
    if array.ndim == 2:
        array = array[:, :, None]
    return torch.from_numpy(array.transpose(2, 0, 1).copy())


# Built-in datasets ------------------------------------------------------------------------------------


def load_digits() -> ImageDataset:
    """scikit-learn's bundled handwritten digits: 1,797 gray images (N, 1, 8, 8), classes "0".."9".

    The original pixels are integers 0..16; they are scaled to uint8 as `value * 255 // 16`, so 0 stays 0,
    16 becomes 255 and 8 becomes 127.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    values = np.asarray(bunch.images, dtype=np.int64)
    images = torch.from_numpy((values * 255 // 16).astype(np.uint8)).unsqueeze(1)
    labels = torch.from_numpy(np.asarray(bunch.target, dtype=np.int64))
    return ImageDataset(images, labels, [str(d) for d in range(10)])


def load_picture(name: str, size: int | None = None) -> torch.Tensor:
    """One of scikit-image's bundled pictures (`PICTURES`) as uint8 (1, C, H, W).

    C is 1 for gray pictures (camera, coins, moon, ...), 3 for RGB ones and 4 for `logo` (RGBA; the
    policies pass alpha through untouched). With `size`, the picture is centre-cropped to a square and
    resized to size x size with Pillow's bilinear filter (antialiased when shrinking).
    """
    if name not in PICTURES:
        raise DatasetError(f"picture: unknown picture {name!r}; expected one of {', '.join(PICTURES)}")
    side = None if size is None else _check_positive("size", size)
    import skimage.data

    array = np.asarray(getattr(skimage.data, name)())
    if array.dtype != np.uint8:
        raise DatasetError(f"picture {name!r}: expected uint8 pixels from scikit-image, got {array.dtype}")
    if side is not None:
        height, width = array.shape[:2]
        crop = min(height, width)
        top, left = (height - crop) // 2, (width - crop) // 2
        square = PIL.Image.fromarray(array[top : top + crop, left : left + crop])
        array = np.asarray(square.resize((side, side), PIL.Image.Resampling.BILINEAR))
    return _to_tensor(array).unsqueeze(0)


# Image folders ----------------------------------------------------------------------------------------


def _is_image_file(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_EXTENSIONS


def _image_files(folder: Path) -> list[Path]:
    """The image files directly in `folder`, sorted by name."""
    return sorted((p for p in folder.iterdir() if _is_image_file(p)), key=lambda p: p.name)


def open_image(path: Path) -> PIL.Image.Image:
    """Open and decode an image file fully, or raise a DatasetError naming it."""
    try:
        with PIL.Image.open(path) as image:
            image.load()
            return image.copy() if image.mode != "P" else image.convert("RGBA")
    except (OSError, ValueError, SyntaxError, PIL.Image.DecompressionBombError) as error:
        raise DatasetError(f"cannot read image file {path}: {error}") from None


def class_folders(root: Path) -> list[Path]:
    """The visible subfolders of `root` (its classes in the ImageFolder layout), sorted by name."""
    return sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)


def check_folder(path: str | Path, what: str) -> Path:
    """`path` as an existing directory, or a DatasetError that calls it `what` and says what it found."""
    root = Path(path).expanduser()
    if not root.exists():
        raise DatasetError(f"{what} {root}: no such file or directory")
    if not root.is_dir():
        raise DatasetError(f"{what} {root}: expected a directory, found a file")
    return root


def list_folder(root: Path, limit_per_class: int | None) -> tuple[list[str], list[tuple[Path, int]]]:
    """Class names and (file, label) pairs of an ImageFolder root or of a flat folder of images."""
    folders = class_folders(root)
    if not folders:
        files = _image_files(root)
        if not files:
            raise DatasetError(
                f"image folder {root}: expected class subfolders (root/<class>/<images>) or image files "
                f"({', '.join(IMAGE_EXTENSIONS)}), found neither"
            )
        return [root.resolve().name or "images"], [(f, 0) for f in files[:limit_per_class]]
    items: list[tuple[Path, int]] = []
    for label, folder in enumerate(folders):
        files = _image_files(folder)
        if not files:
            inside = sorted(p.name for p in class_folders(folder))
            hint = f" (it holds folders {', '.join(inside[:5])}: is {root} a level too high?)" if inside else ""
            raise DatasetError(
                f"image folder {root}: class folder {folder.name!r} holds no image files "
                f"({', '.join(IMAGE_EXTENSIONS)}){hint}"
            )
        items.extend((f, label) for f in files[:limit_per_class])
    return [f.name for f in folders], items


def load_image_folder(
    path: str | Path,
    *,
    size: tuple[int, int] | int | None = None,
    limit_per_class: int | None = None,
) -> ImageDataset:
    """Images in the ImageFolder layout root/<class>/<image files>, or a flat folder of images.

    Classes are the subfolders sorted by name (labels 0, 1, ...), files are sorted by name within a
    class; image files end in .jpg, .jpeg, .png, .bmp, .gif, .webp, .tif or .tiff (any case) and hidden
    files and folders are skipped. A folder with no subfolders is one class named after the folder; a
    folder with subfolders ignores files at its top level. `limit_per_class` keeps the first files of
    each class.

    Every image is converted to RGB (alpha dropped), or to gray (C = 1) if every image is gray. Images
    whose size differs are resized (bilinear, aspect ratio not kept) to `size` (H, W) when given
    (an integer is a square), else to the size of the first image.
    """
    root = check_folder(path, "image folder")
    target = _check_size(size)
    limit = None if limit_per_class is None else _check_positive("limit_per_class", limit_per_class)
    classes, items = list_folder(root, limit)
    pictures = [open_image(file) for file, _ in items]
    gray = all(picture.mode in GRAY_MODES for picture in pictures)
    mode = "L" if gray else "RGB"
    if target is None:
        target = (pictures[0].height, pictures[0].width)
    height, width = target
    images = torch.empty((len(pictures), 1 if gray else 3, height, width), dtype=torch.uint8)
    for i, picture in enumerate(pictures):
        picture = picture.convert(mode)
        if picture.size != (width, height):
            picture = picture.resize((width, height), PIL.Image.Resampling.BILINEAR)
        images[i] = _to_tensor(np.asarray(picture, dtype=np.uint8))
    labels = torch.tensor([label for _, label in items], dtype=torch.int64)
    return ImageDataset(images, labels, classes)


# CIFAR-10 python batches ------------------------------------------------------------------------------


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays only: a batch file cannot run code when loaded."""

    _ALLOWED = frozenset(
        {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"),
            ("_codecs", "encode"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: expected only numpy arrays and lists")
        return super().find_class(module, name)


def _read_pickle(path: Path) -> dict[str, Any]:
    """A CIFAR batch pickle as a dict with str keys (the files have bytes keys: b"data", b"labels")."""
    try:
        with path.open("rb") as file:
            content = _ArrayUnpickler(file, encoding="bytes").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError) as error:
        raise DatasetError(
            f"CIFAR-10 file {path}: cannot unpickle it ({error}); expected a CIFAR-10 python batch"
        ) from None
    if not isinstance(content, dict):
        raise DatasetError(f"CIFAR-10 file {path}: expected a pickled dict, found {type(content).__name__}")
    return {key.decode("latin-1") if isinstance(key, bytes) else str(key): value for key, value in content.items()}


def _cifar_batch(path: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    batch = _read_pickle(path)
    missing = [key for key in ("data", "labels") if key not in batch]
    if missing:
        raise DatasetError(
            f"CIFAR-10 file {path}: expected keys b'data' and b'labels', missing {', '.join(missing)} "
            f"(found {', '.join(sorted(batch)) or 'none'})"
        )
    data = batch["data"]
    side = _CIFAR_SIDE * _CIFAR_SIDE
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * side:
        got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DatasetError(f"CIFAR-10 file {path}: expected b'data' a uint8 array (N, {3 * side}), got {got}")
    try:
        labels = np.asarray(batch["labels"], dtype=np.int64)
    except (TypeError, ValueError) as error:
        raise DatasetError(f"CIFAR-10 file {path}: expected b'labels' a list of integers ({error})") from None
    if labels.shape != (len(data),):
        raise DatasetError(f"CIFAR-10 file {path}: {len(data)} images but b'labels' has shape {labels.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise DatasetError(
            f"CIFAR-10 file {path}: expected labels in [0, {num_classes}), got {labels.min()}..{labels.max()}"
        )
    return data, labels


def load_cifar10_batches(path: str | Path, split: str = "train") -> ImageDataset:
    """CIFAR-10's python batches folder (cifar-10-batches-py) as uint8 (N, 3, 32, 32).

    `split` "train" reads data_batch_1..5, "test" reads test_batch; class names come from batches.meta.
    Each file is a pickled dict whose b"data" is uint8 (N, 3072), a row per image holding the red, green
    and blue 32x32 planes one after the other, each row-major, and whose b"labels" lists N integers.
    Only numpy arrays and plain containers are unpickled: other objects in a file are refused.
    """
    root = check_folder(path, "CIFAR-10 folder")
    if split not in _CIFAR_FILES:
        raise DatasetError(f"split: expected one of {', '.join(_CIFAR_FILES)}, got {split!r}")
    wanted = (_CIFAR_META, *_CIFAR_FILES[split])
    missing = [name for name in wanted if not (root / name).is_file()]
    if missing:
        found = sorted(p.name for p in root.iterdir())
        raise DatasetError(
            f"CIFAR-10 folder {root}: missing {', '.join(missing)} for the {split} split "
            f"(found {', '.join(found[:12]) or 'nothing'}); expected the cifar-10-batches-py layout"
        )
    meta = _read_pickle(root / _CIFAR_META)
    names = meta.get("label_names")
    if not isinstance(names, list) or not names or not all(isinstance(n, (bytes, str)) for n in names):
        raise DatasetError(f"CIFAR-10 file {root / _CIFAR_META}: expected b'label_names', a list of class names")
    classes = [n.decode("utf-8") if isinstance(n, bytes) else n for n in names]
    batches = [_cifar_batch(root / name, len(classes)) for name in _CIFAR_FILES[split]]
    data = np.concatenate([d for d, _ in batches])
    labels = np.concatenate([labels for _, labels in batches])
    images = torch.from_numpy(data.reshape(-1, 3, _CIFAR_SIDE, _CIFAR_SIDE).copy())
    return ImageDataset(images, torch.from_numpy(labels), classes)


# One string for any source ----------------------------------------------------------------------------


def _is_cifar_batches(folder: Path) -> bool:
    return any((folder / name).is_file() for name in (_CIFAR_META, "data_batch_1", "test_batch"))


def _resize(images: torch.Tensor, side: int) -> torch.Tensor:
    """Resize a uint8 batch to side x side (bilinear, antialiased when shrinking), keeping uint8."""
    if images.shape[-2:] == (side, side):
        return images
    resized = torch.nn.functional.interpolate(
        images.to(torch.float32), size=(side, side), mode="bilinear", antialias=True, align_corners=False
    )
    return resized.round().clamp(0, 255).to(torch.uint8)


def load_images(
    spec: str,
    *,
    size: int | None = None,
    split: str = "train",
    limit_per_class: int | None = None,
) -> ImageDataset:
    """A dataset named by one string, as the command line gives it.

    - "digits": `load_digits()` (the default data of the CLI);
    - a name of `PICTURES`: that picture, one image of class `spec` (centre-cropped with `size`);
    - a folder holding batches.meta, data_batch_1 or test_batch: `load_cifar10_batches(spec, split)`;
    - a folder holding train/ and test/ subfolders: `load_image_folder(spec/<split>)`;
    - any other folder: `load_image_folder(spec)`;
    - an image file: that image, one image of class named after the file.

    Built-in names win over a folder of the same name in the working directory (write ./digits for the
    folder). `size` makes images size x size: pictures are centre-cropped first, other images are resized.
    `limit_per_class` applies to image folders.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise DatasetError(f"data: expected 'digits', a picture name, a folder or an image file, got {spec!r}")
    side = None if size is None else _check_positive("size", size)
    if split not in _CIFAR_FILES:
        raise DatasetError(f"split: expected one of {', '.join(_CIFAR_FILES)}, got {split!r}")
    if spec == "digits":
        dataset = load_digits()
        return dataset if side is None else ImageDataset(_resize(dataset.images, side), dataset.labels, dataset.classes)
    if spec in PICTURES:
        return ImageDataset(load_picture(spec, side), torch.zeros(1, dtype=torch.int64), [spec])
    path = Path(spec).expanduser()
    if not path.exists():
        raise DatasetError(
            f"data {spec!r}: no such file or directory; expected 'digits', a picture name "
            f"({', '.join(PICTURES)}), a CIFAR-10 batches folder, an image folder or an image file"
        )
    if path.is_file():
        if path.suffix.lower() not in IMAGE_EXTENSIONS:
            raise DatasetError(f"data {path}: expected a folder or an image file ({', '.join(IMAGE_EXTENSIONS)})")
        picture = open_image(path)
        picture = picture.convert("L" if picture.mode in GRAY_MODES else "RGB")
        images = _to_tensor(np.asarray(picture, dtype=np.uint8)).unsqueeze(0)
        images = images if side is None else _resize(images, side)
        return ImageDataset(images, torch.zeros(1, dtype=torch.int64), [path.stem])
    if _is_cifar_batches(path):
        dataset = load_cifar10_batches(path, split)
        return dataset if side is None else ImageDataset(_resize(dataset.images, side), dataset.labels, dataset.classes)
    if (path / "train").is_dir() and (path / "test").is_dir():
        path = path / split
    return load_image_folder(path, size=None if side is None else (side, side), limit_per_class=limit_per_class)
