"""Ray Data integration: a mapped dataset equals the in-process policy call sample for sample, whatever the batch
size or the order Ray delivers rows in; other columns and the input dataset stay as they were; bad input is named.

Needs the optional `ray` extra; one local Ray instance (2 CPUs) serves the module.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import mithridate as mt
from mithridate.image.policies import Policy, TrivialAugmentWide
from mithridate.image.policy_string import parse_policy
from mithridate.integrations.ray_data import AugmentBatches, augment_dataset

ray = pytest.importorskip("ray", reason="Ray Data is an optional extra: pip install 'mithridate[ray]'")
ray_data = pytest.importorskip("ray.data", reason="Ray Data is an optional extra: pip install 'mithridate[ray]'")

# Ray Data's own DataContext warns about its deprecated fields when it is first built.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")

N = 40
SEED = 11


@pytest.fixture(scope="module")
def ray_session():
    """A local Ray instance for this module, unless one is already running in the process (then it is kept).

    Under pytest-xdist each worker starts its own instance: one CPU each, so that two of them do not
    oversubscribe a 2-core machine (measured: about 37 s instead of 45 s for this module under `-n 2`).
    """
    os.environ["RAY_AUTH_MODE"] = "disabled"
    started = not ray.is_initialized()
    if started:
        cpus = 1 if os.environ.get("PYTEST_XDIST_WORKER") else 2
        ray.init(num_cpus=cpus, include_dashboard=False, object_store_memory=150 * 2**20, ignore_reinit_error=True)
    yield ray
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (N, 32, 32, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return parse_policy("rand-n2-m9", seed=SEED)


@pytest.fixture(scope="module")
def dataset(ray_session, images):
    """Rows in a shuffled order, so that a row's position is not its index; a label column rides along."""
    order = np.random.default_rng(1).permutation(N)
    rows = [{"image": images[i], "index": int(i), "label": f"label-{i}"} for i in order]
    return ray_data.from_items(rows)


def reference(policy: Policy, images: np.ndarray, epoch: int) -> np.ndarray:
    """The in-process call on the whole array, as (N, H, W, C)."""
    out = policy(torch.from_numpy(images).permute(0, 3, 1, 2), index=torch.arange(len(images)), epoch=epoch)
    return out.permute(0, 2, 3, 1).numpy()


def collect(ds) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(images, indices, labels) of a dataset, sorted by the index column (Ray may reorder rows)."""
    rows = sorted(ds.take_all(), key=lambda row: int(row["index"]))
    return (
        np.stack([row["image"] for row in rows]),
        np.array([row["index"] for row in rows]),
        [str(row["label"]) for row in rows],
    )


# Through Ray ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [7, 16])
def test_equals_the_in_process_call_whatever_the_batch_size(dataset, images, policy, batch_size):
    out, index, labels = collect(augment_dataset(dataset, policy, epoch=1, batch_size=batch_size))
    np.testing.assert_array_equal(index, np.arange(N))
    assert labels == [f"label-{i}" for i in range(N)]
    np.testing.assert_array_equal(out, reference(policy, images, epoch=1))


def test_map_batches_with_the_callable_and_another_epoch(dataset, images, policy):
    mapped = dataset.map_batches(AugmentBatches(policy, epoch=2), batch_format="numpy", batch_size=12)
    out, _, _ = collect(mapped)
    expected = reference(policy, images, epoch=2)
    np.testing.assert_array_equal(out, expected)
    other = reference(policy, images, epoch=1)
    changed = [not np.array_equal(a, b) for a, b in zip(expected, other, strict=True)]
    assert sum(changed) > N // 2  # another epoch draws other augmentations
    # The input dataset is untouched: mapping is lazy and never writes to the batches it reads.
    original, index, _ = collect(dataset)
    np.testing.assert_array_equal(original, images)
    np.testing.assert_array_equal(index, np.arange(N))


def test_images_of_several_sizes(ray_session, policy):
    rng = np.random.default_rng(2)
    small = rng.integers(0, 256, (6, 24, 24, 3), dtype=np.uint8)
    large = rng.integers(0, 256, (6, 28, 20, 3), dtype=np.uint8)
    rows = [{"image": (small if i % 2 else large)[i // 2], "index": i} for i in range(12)]
    mapped = augment_dataset(ray_data.from_items(rows), policy, epoch=0, batch_size=5)
    out = sorted(mapped.take_all(), key=lambda row: int(row["index"]))
    odd, even = np.arange(1, 12, 2), np.arange(0, 12, 2)
    expected_small = policy(small, index=odd, epoch=0)
    expected_large = policy(large, index=even, epoch=0)
    for i, row in enumerate(out):
        expected = expected_small[i // 2] if i % 2 else expected_large[i // 2]
        np.testing.assert_array_equal(row["image"], expected)


def test_missing_columns_are_named_before_running(dataset, policy):
    with pytest.raises(ValueError, match=r"sample indices in column 'idx'.*'image', 'index', 'label'"):
        augment_dataset(dataset, policy, index_column="idx")
    with pytest.raises(ValueError, match=r"images in column 'img'"):
        augment_dataset(dataset, policy, image_column="img")
    with pytest.raises(ValueError, match=r"batch_format"):
        augment_dataset(dataset, policy, batch_format="pandas")
    with pytest.raises(TypeError, match=r"ray.data.Dataset"):
        augment_dataset([1, 2], policy)


def test_missing_index_column_fails_the_run_with_its_name(ray_session, images, policy):
    ds = ray_data.from_items([{"image": image} for image in images[:4]])
    lazy = ds.map_batches(lambda batch: batch, batch_format="numpy")  # schema unknown until it runs
    with pytest.raises(Exception, match=r"expected the sample indices .* in column 'index'"):
        augment_dataset(lazy, policy).take_all()


# The batch function in process -----------------------------------------------------------------------------


def test_batch_function_leaves_the_input_and_other_columns_alone(images, policy):
    batch = {"image": images[:8].copy(), "index": np.arange(8), "label": np.array(list("abcdefgh"), dtype=object)}
    before = {key: value.copy() for key, value in batch.items()}
    out = AugmentBatches(policy, epoch=3)(batch)
    assert out is not batch and set(out) == set(batch)
    for key, value in before.items():
        np.testing.assert_array_equal(batch[key], value)
    assert out["label"] is batch["label"] and out["index"] is batch["index"]
    assert out["image"].dtype == np.uint8 and out["image"].shape == (8, 32, 32, 3)
    np.testing.assert_array_equal(out["image"], reference(policy, images[:8], epoch=3))


def test_read_only_batches_channels_first_and_grayscale(images, policy):
    index = np.arange(N)
    expected = reference(policy, images, epoch=0)
    frozen = images.copy()
    frozen.flags.writeable = False
    np.testing.assert_array_equal(AugmentBatches(policy)({"image": frozen, "index": index})["image"], expected)
    chw = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    out = AugmentBatches(policy, layout="CHW")({"image": chw, "index": index})["image"]
    np.testing.assert_array_equal(out, expected.transpose(0, 3, 1, 2))
    gray = np.ascontiguousarray(images[..., 0])
    out = AugmentBatches(policy)({"image": gray, "index": index})["image"]
    np.testing.assert_array_equal(out, policy(gray[..., None], index=index)[..., 0])


def test_progress_for_a_dose_schedule(images):
    ramp = TrivialAugmentWide(dose=mt.LinearSchedule(mt.Dose(strength=0.0), mt.Dose(strength=2.0)), seed=SEED)
    index = np.arange(N)
    progress = np.linspace(0.0, 1.0, N)
    out = AugmentBatches(ramp, progress_column="t")({"image": images, "index": index, "t": progress})["image"]
    expected = ramp(images, index=index, progress=torch.from_numpy(progress))
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(out[0], images[0])  # strength 0 at progress 0
    one = AugmentBatches(ramp, progress=0.5)({"image": images, "index": index})["image"]
    np.testing.assert_array_equal(one, ramp(images, index=index, progress=0.5))


def test_policy_string_is_parsed_once(images):
    batches = AugmentBatches("ta_wide-p0.5")
    assert isinstance(batches.policy, TrivialAugmentWide)
    seed = batches.policy.seed
    copy = pickle.loads(pickle.dumps(batches))  # what each Ray worker gets
    assert copy.policy.seed == seed
    batch = {"image": images[:5], "index": np.arange(5)}
    np.testing.assert_array_equal(copy(batch)["image"], batches(batch)["image"])


@pytest.mark.parametrize(
    ("batch", "error", "message"),
    [
        ({"index": np.arange(2)}, ValueError, r"expected the images in column 'image'.*'index'"),
        ({"image": np.zeros((2, 8, 8, 3), np.uint8)}, ValueError, r"sample indices .* in column 'index'"),
        ({"image": np.zeros((2, 8, 8, 3), np.uint8), "index": np.arange(3)}, ValueError, r"one integer sample index"),
        ({"image": np.zeros((2, 8, 8, 3), np.uint8), "index": np.array([0.0, 1.0])}, ValueError, r"dtype float64"),
        ({"image": np.zeros((2, 8, 8, 3), np.uint8), "index": np.array([0, -1])}, ValueError, r"non-negative"),
        ({"image": np.zeros((2, 8, 8, 3), np.int32), "index": np.arange(2)}, ValueError, r"uint8 .* got dtype int32"),
        ({"image": np.zeros((2, 8), np.uint8), "index": np.arange(2)}, ValueError, r"shaped \(N, H, W, C\)"),
        ({"image": [np.zeros((8, 8, 3), np.uint8)], "index": np.arange(1)}, ValueError, r"numpy array.*list"),
        ({"image": np.zeros((2, 8, 8, 5), np.uint8), "index": np.arange(2)}, ValueError, r"1 or 3 channels"),
    ],
)
def test_bad_batches_are_named(policy, batch, error, message):
    with pytest.raises(error, match=message):
        AugmentBatches(policy)(batch)


def test_bad_arguments(policy):
    with pytest.raises(TypeError, match=r"policy: expected a mithridate image Policy"):
        AugmentBatches(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"layout: expected one of HWC, CHW"):
        AugmentBatches(policy, layout="NHWC")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"non-negative integer epoch"):
        AugmentBatches(policy, epoch=-1)
    with pytest.raises(ValueError, match=r"progress .* or progress_column, not both"):
        AugmentBatches(policy, progress=0.5, progress_column="t")
    with pytest.raises(ValueError, match=r"two different columns"):
        AugmentBatches(policy, image_column="x", index_column="x")
    with pytest.raises(ValueError, match=r"\(N, C, H, W\) \(layout='CHW'\)"):
        AugmentBatches(policy, layout="CHW")({"image": np.zeros((2, 8, 8), np.uint8), "index": np.arange(2)})


# Without Ray -----------------------------------------------------------------------------------------------


def test_importing_needs_no_ray():
    code = (
        "import sys\n"
        "import mithridate.integrations\n"
        "assert 'ray' not in sys.modules, 'importing the integrations imported ray'\n"
        "sys.modules['ray'] = None\n"
        "sys.modules['ray.data'] = None\n"
        "from mithridate.integrations.ray_data import augment_dataset\n"
        "try:\n"
        "    augment_dataset(None, 'ta_wide')\n"
        "except ImportError as error:\n"
        "    assert \"pip install 'mithridate[ray]'\" in str(error), error\n"
        "else:\n"
        "    raise AssertionError('no ImportError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
