"""Dataset loaders: built-in digits and pictures, image folders and CIFAR-10 python batches written by the
tests, the dispatcher the CLI uses, and the real CIFAR-10 sample in ../shared/data when it is there."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import torch

from mithridate.data import (
    PICTURES,
    DatasetError,
    ImageDataset,
    load_cifar10_batches,
    load_digits,
    load_image_folder,
    load_images,
    load_picture,
)

CIFAR_SMALL = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-small"
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _rgb(height: int, width: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _save(array: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    PIL.Image.fromarray(array).save(path)
    return path


# Built-in data ----------------------------------------------------------------------------------------


def test_digits_shape_dtype_range_and_labels():
    from sklearn.datasets import load_digits as sklearn_digits

    data = load_digits()
    assert data.images.shape == (1797, 1, 8, 8)
    assert data.images.dtype == torch.uint8
    assert data.labels.dtype == torch.int64 and data.labels.shape == (1797,)
    assert data.classes == [str(d) for d in range(10)]
    assert torch.equal(data.labels.bincount(), torch.bincount(torch.from_numpy(sklearn_digits().target)))
    assert int(data.images.min()) == 0 and int(data.images.max()) == 255
    expected = (sklearn_digits().images.astype(np.int64) * 255 // 16).astype(np.uint8)
    assert np.array_equal(data.images[:, 0].numpy(), expected)
    assert len(data) == 1797


def test_pictures_have_their_channels():
    assert len(PICTURES) == 20 and len(set(PICTURES)) == 20
    assert load_picture("camera").shape == (1, 1, 512, 512)
    assert load_picture("astronaut").shape == (1, 3, 512, 512)
    assert load_picture("logo").shape == (1, 4, 500, 500)
    for name in PICTURES:
        image = load_picture(name, size=16)
        assert image.dtype == torch.uint8 and image.shape[0] == 1 and image.shape[2:] == (16, 16), name
        assert image.shape[1] in (1, 3, 4), name


def test_picture_size_centre_crops_before_resizing():
    import skimage.data

    coffee = skimage.data.coffee()  # 400 x 600: the centre square is columns 100..499
    assert coffee.shape[:2] == (400, 600)
    cropped = load_picture("coffee", size=400)
    assert np.array_equal(cropped[0].permute(1, 2, 0).numpy(), coffee[:, 100:500])
    small = load_picture("coffee", size=50)
    assert small.shape == (1, 3, 50, 50)


def test_unknown_picture_lists_the_valid_names():
    with pytest.raises(DatasetError, match=r"unknown picture 'lena'.*astronaut.*logo"):
        load_picture("lena")
    with pytest.raises(DatasetError, match="size"):
        load_picture("camera", size=0)


# Image folders ----------------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """root/{bird,cat,dog}: PNGs of 12x16, one 20x20 PNG, one gray PNG, one JPEG, and files to skip."""
    root = tmp_path / "animals"
    _save(_rgb(12, 16, 0), root / "cat" / "b.png")
    _save(_rgb(12, 16, 1), root / "cat" / "a.PNG")
    _save(_rgb(20, 20, 2), root / "dog" / "big.png")
    _save(np.full((12, 16), 77, np.uint8), root / "dog" / "gray.png")
    _save(_rgb(12, 16, 3), root / "bird" / "x.jpg")
    (root / "bird" / "notes.txt").write_text("not an image")
    (root / "bird" / ".hidden.png").write_bytes(b"junk")
    (root / ".cache").mkdir()
    return root


def test_image_folder_classes_labels_and_pixels(folder: Path):
    data = load_image_folder(folder)
    assert data.classes == ["bird", "cat", "dog"]
    assert data.labels.tolist() == [0, 1, 1, 2, 2]
    # the first image (bird/x.jpg) sets the size; the 20x20 one is resized, the gray one becomes RGB
    assert data.images.shape == (5, 3, 12, 16) and data.images.dtype == torch.uint8
    assert np.array_equal(data.images[1].permute(1, 2, 0).numpy(), _rgb(12, 16, 1))  # cat/a.PNG sorts first
    assert np.array_equal(data.images[2].permute(1, 2, 0).numpy(), _rgb(12, 16, 0))
    assert torch.equal(data.images[4], torch.full((3, 12, 16), 77, dtype=torch.uint8))  # dog/gray.png


def test_image_folder_size_and_limit(folder: Path):
    data = load_image_folder(folder, size=(8, 10), limit_per_class=1)
    assert data.images.shape == (3, 3, 8, 10)
    assert data.labels.tolist() == [0, 1, 2]
    assert load_image_folder(folder, size=9).images.shape[2:] == (9, 9)
    with pytest.raises(DatasetError, match="limit_per_class"):
        load_image_folder(folder, limit_per_class=0)


def test_image_folder_all_gray_keeps_one_channel(tmp_path: Path):
    _save(np.full((6, 6), 10, np.uint8), tmp_path / "g" / "a" / "1.png")
    _save(np.full((6, 6), 200, np.uint8), tmp_path / "g" / "b" / "1.bmp")
    data = load_image_folder(tmp_path / "g")
    assert data.images.shape == (2, 1, 6, 6)
    assert data.images[:, 0, 0, 0].tolist() == [10, 200]


def test_flat_folder_is_one_class_named_after_it(tmp_path: Path):
    _save(_rgb(5, 7, 0), tmp_path / "flowers" / "one.png")
    _save(_rgb(5, 7, 1), tmp_path / "flowers" / "two.webp")
    data = load_image_folder(tmp_path / "flowers")
    assert data.classes == ["flowers"]
    assert data.labels.tolist() == [0, 0]
    assert data.images.shape == (2, 3, 5, 7)


def test_corrupt_image_names_the_file(folder: Path):
    bad = folder / "cat" / "c_corrupt.jpg"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8).tobytes())
    with pytest.raises(DatasetError, match=r"c_corrupt\.jpg"):
        load_image_folder(folder)


def test_truncated_image_names_the_file(folder: Path):
    good = (folder / "cat" / "a.PNG").read_bytes()
    (folder / "cat" / "z_cut.png").write_bytes(good[: len(good) // 2])
    with pytest.raises(DatasetError, match=r"z_cut\.png"):
        load_image_folder(folder)


def test_folder_errors_say_what_is_wrong(tmp_path: Path):
    with pytest.raises(DatasetError, match="no such file or directory") as missing:
        load_image_folder(tmp_path / "nowhere")
    assert "nowhere" in str(missing.value)
    (tmp_path / "file.png").write_bytes(b"x")
    with pytest.raises(DatasetError, match="expected a directory"):
        load_image_folder(tmp_path / "file.png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="found neither"):
        load_image_folder(tmp_path / "empty")
    (tmp_path / "classes" / "a").mkdir(parents=True)
    _save(_rgb(4, 4, 0), tmp_path / "classes" / "b" / "1.png")
    with pytest.raises(DatasetError, match="class folder 'a' holds no image files"):
        load_image_folder(tmp_path / "classes")


def test_split_root_hints_a_level_too_high(tmp_path: Path):
    _save(_rgb(4, 4, 0), tmp_path / "root" / "train" / "a" / "1.png")
    with pytest.raises(DatasetError, match="a level too high"):
        load_image_folder(tmp_path / "root")


# CIFAR-10 python batches ------------------------------------------------------------------------------


def _write_cifar(root: Path, sizes: dict[str, int], seed: int = 0) -> dict[str, tuple[np.ndarray, list[int]]]:
    """CIFAR-10 python batches in the real format (bytes keys, uint8 (N, 3072), list labels)."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = {}
    for name, count in sizes.items():
        data = rng.integers(0, 256, (count, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, count).tolist()
        batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data, b"filenames": [b"x.png"] * count}
        (root / name).write_bytes(pickle.dumps(batch, protocol=2))
        written[name] = (data, labels)
    meta = {b"num_cases_per_batch": 10000, b"label_names": [n.encode() for n in CIFAR_CLASSES], b"num_vis": 3072}
    (root / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return written


CIFAR_SIZES = {**{f"data_batch_{i}": 2 for i in range(1, 6)}, "test_batch": 3}


def test_cifar_batches_pixel_layout(tmp_path: Path):
    written = _write_cifar(tmp_path / "cifar-10-batches-py", CIFAR_SIZES)
    data, _ = written["data_batch_2"]
    data[0] = 0
    data[0, 1 * 1024 + 5 * 32 + 7] = 200  # green plane, row 5, column 7 of the first image of batch 2
    batch = {b"labels": written["data_batch_2"][1], b"data": data}
    (tmp_path / "cifar-10-batches-py" / "data_batch_2").write_bytes(pickle.dumps(batch))

    train = load_cifar10_batches(tmp_path / "cifar-10-batches-py")
    assert train.images.shape == (10, 3, 32, 32) and train.images.dtype == torch.uint8
    assert train.classes == CIFAR_CLASSES
    expected_labels = [label for i in range(1, 6) for label in written[f"data_batch_{i}"][1]]
    assert train.labels.tolist() == expected_labels and train.labels.dtype == torch.int64
    image = train.images[2]  # batches 1 holds 2 images
    assert int(image[1, 5, 7]) == 200
    assert int(image.sum()) == 200
    # every pixel of another image: index c * 1024 + y * 32 + x of its row
    row = written["data_batch_5"][0][1]
    c, y, x = np.meshgrid(np.arange(3), np.arange(32), np.arange(32), indexing="ij")
    assert np.array_equal(train.images[9].numpy(), row[c * 1024 + y * 32 + x])

    test = load_cifar10_batches(tmp_path / "cifar-10-batches-py", split="test")
    assert test.images.shape == (3, 3, 32, 32)
    assert test.labels.tolist() == written["test_batch"][1]


def test_cifar_batches_errors(tmp_path: Path):
    root = tmp_path / "batches"
    _write_cifar(root, {k: v for k, v in CIFAR_SIZES.items() if k != "data_batch_3"})
    with pytest.raises(DatasetError, match="missing data_batch_3"):
        load_cifar10_batches(root)
    assert len(load_cifar10_batches(root, split="test")) == 3
    with pytest.raises(DatasetError, match="split"):
        load_cifar10_batches(root, split="valid")
    (root / "data_batch_3").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(DatasetError, match=r"data_batch_3.*expected a pickled dict"):
        load_cifar10_batches(root)
    (root / "data_batch_3").write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(DatasetError, match=r"data_batch_3.*uint8 array \(N, 3072\)"):
        load_cifar10_batches(root)
    (root / "data_batch_3").write_bytes(pickle.dumps({b"data": np.zeros((2, 3072), np.uint8)}))
    with pytest.raises(DatasetError, match="missing labels"):
        load_cifar10_batches(root)
    (root / "data_batch_3").write_bytes(b"not a pickle at all")
    with pytest.raises(DatasetError, match=r"data_batch_3.*cannot unpickle"):
        load_cifar10_batches(root)


def test_cifar_batches_refuse_objects_that_are_not_arrays(tmp_path: Path):
    import datetime

    root = tmp_path / "batches"
    _write_cifar(root, CIFAR_SIZES)
    evil = {b"data": np.zeros((1, 3072), np.uint8), b"labels": [0], b"when": datetime.date(2020, 1, 1)}
    (root / "test_batch").write_bytes(pickle.dumps(evil))
    with pytest.raises(DatasetError, match=r"refusing to load datetime\.date"):
        load_cifar10_batches(root, split="test")


# The dispatcher ---------------------------------------------------------------------------------------


def test_load_images_dispatch(tmp_path: Path, folder: Path):
    assert load_images("digits").images.shape == (1797, 1, 8, 8)
    assert load_images("digits", size=16).images.shape == (1797, 1, 16, 16)
    camera = load_images("camera", size=32)
    assert camera.images.shape == (1, 1, 32, 32) and camera.classes == ["camera"]
    assert load_images(str(folder)).classes == ["bird", "cat", "dog"]
    assert load_images(str(folder), size=6).images.shape == (5, 3, 6, 6)

    _write_cifar(tmp_path / "cifar", CIFAR_SIZES)
    assert len(load_images(str(tmp_path / "cifar"))) == 10
    assert len(load_images(str(tmp_path / "cifar"), split="test")) == 3

    _save(_rgb(4, 4, 0), tmp_path / "split" / "train" / "a" / "1.png")
    _save(_rgb(4, 4, 1), tmp_path / "split" / "train" / "b" / "1.png")
    _save(_rgb(4, 4, 2), tmp_path / "split" / "test" / "a" / "1.png")
    assert load_images(str(tmp_path / "split")).classes == ["a", "b"]
    assert load_images(str(tmp_path / "split"), split="test").classes == ["a"]

    single = load_images(str(folder / "cat" / "b.png"))
    assert single.classes == ["b"] and np.array_equal(single.images[0].permute(1, 2, 0).numpy(), _rgb(12, 16, 0))

    with pytest.raises(DatasetError, match=r"no such file or directory.*digits.*astronaut"):
        load_images(str(tmp_path / "missing"))
    with pytest.raises(DatasetError, match=r"notes\.txt.*expected a folder or an image file"):
        load_images(str(folder / "bird" / "notes.txt"))


def test_dataset_subset_and_checks():
    data = load_digits().subset([0, 5, 10])
    assert data.labels.tolist() == [0, 5, 0] and data.images.shape == (3, 1, 8, 8)
    with pytest.raises(DatasetError, match="3 images but 2 labels"):
        ImageDataset(data.images, data.labels[:2], data.classes)
    with pytest.raises(DatasetError, match="uint8"):
        ImageDataset(data.images.float(), data.labels, data.classes)
    with pytest.raises(DatasetError, match=r"labels: expected values in \[0, 2\)"):
        ImageDataset(data.images, data.labels, ["0", "1"])


# Real data --------------------------------------------------------------------------------------------


@pytest.mark.skipif(not CIFAR_SMALL.is_dir(), reason=f"real CIFAR-10 sample not found at {CIFAR_SMALL}")
def test_real_cifar10_small_loads():
    train = load_image_folder(CIFAR_SMALL / "train", limit_per_class=3)
    assert train.classes == CIFAR_CLASSES
    assert train.images.shape == (30, 3, 32, 32)
    assert train.labels.bincount().tolist() == [3] * 10
    assert float(train.images.float().std()) > 20  # real pictures, not blank
    test = load_images(str(CIFAR_SMALL), split="test", limit_per_class=2)
    assert test.classes == CIFAR_CLASSES and test.images.shape == (20, 3, 32, 32)
