"""Ray Data integration: augmentation as distributed preprocessing, reproducibly whatever the batching.

    import ray
    from mithridate.integrations.ray_data import augment_dataset

    ds = ray.data.from_items([{"image": image, "index": i} for i, image in enumerate(images)])
    for epoch in range(epochs):
        for batch in augment_dataset(ds, policy, epoch=epoch).iter_torch_batches(batch_size=128): ...

`augment_dataset` is `ds.map_batches(AugmentBatches(policy, epoch=epoch), batch_format="numpy")`: each batch's
images go through one per-sample policy call, with the dataset's index column as the sample indices. A
sample's draws depend only on (seed, epoch, index), so the result equals the in-process
`policy(images, index=indices, epoch=epoch)` sample for sample, whatever batches, workers or order Ray picks.
The index column must therefore identify a sample for good: write it when the dataset is built (a file's
position in a sorted listing, a row number), not from the order Ray delivers rows in.

The policy (with its seed: a string is parsed once, here, so every worker shares the seed drawn for it) is
pickled into the map function. To keep it in long-lived actors instead (e.g. one per GPU, with `device`):

    ds.map_batches(AugmentBatches, fn_constructor_args=(policy,), fn_constructor_kwargs={"epoch": epoch,
                   "device": "cuda"}, batch_format="numpy", concurrency=2, num_gpus=1)

Ray is an optional dependency (`pip install 'mithridate[ray]'`): this module imports it only in
`augment_dataset`, so `AugmentBatches` runs on plain dicts of numpy arrays without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch

from ..image.policies import Policy
from ..image.policy_string import parse_policy

if TYPE_CHECKING:
    import ray.data

__all__ = ["AugmentBatches", "augment_dataset"]

Layout = Literal["HWC", "CHW"]
_LAYOUTS = ("HWC", "CHW")
_DTYPES = (np.uint8, np.float16, np.float32, np.float64)
_INSTALL_HINT = "pip install 'mithridate[ray]'"


def _check_epoch(epoch: Any) -> int:
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)):
        raise TypeError(f"epoch: expected a non-negative integer epoch, got {type(epoch).__name__}")
    if epoch < 0:
        raise ValueError(f"epoch: expected a non-negative integer epoch, got {epoch}")
    return int(epoch)


def _check_progress(progress: Any) -> float | None:
    if progress is None:
        return None
    if isinstance(progress, bool) or not isinstance(progress, (int, float, np.integer, np.floating)):
        raise TypeError(f"progress: expected training progress in [0, 1] or None, got {type(progress).__name__}")
    if not 0.0 <= float(progress) <= 1.0:  # NaN fails too
        raise ValueError(f"progress: expected training progress in [0, 1] or None, got {progress}")
    return float(progress)


def _check_column_name(name: Any, argument: str, optional: bool = False) -> str | None:
    if name is None and optional:
        return None
    if not isinstance(name, str) or not name:
        expected = "a column name or None" if optional else "a column name"
        raise TypeError(f"{argument}: expected {expected} (a non-empty str), got {name!r}")
    return name


class AugmentBatches:
    """A Ray Data batch function: `ds.map_batches(AugmentBatches(policy, epoch=e), batch_format="numpy")`.

    Called on a batch `{column: numpy array}`, it returns a new dict in which `image_column` holds the images
    augmented by one `policy(images, index=batch[index_column], epoch=epoch, progress=...)` call, and every
    other column is the input's own array; the input batch and its arrays are never modified.

    - `policy`: a mithridate image Policy, or a policy string for `mithridate.image.policy` (parsed here, so its seed is
      drawn once and travels with this object to every worker; pass `seed=` through a Policy to fix it).
    - `image_column`: images as one array (N, H, W, C) with `layout="HWC"` (Ray's `read_images` layout;
      (N, H, W) for grayscale) or (N, C, H, W) with `layout="CHW"`; uint8, or float in [0, 1]; 1 or 3 channels,
      2 or 4 with alpha (kept untouched). Images of different sizes (Ray gives an object array of per-image
      arrays) are augmented one size at a time and come back as an object array in the same order.
    - `index_column`: one non-negative integer per sample that identifies it across epochs; the draws follow it.
    - `epoch`: the epoch whose augmentations are drawn. `progress`: the training progress in [0, 1] for a dose
      schedule (None: the policy's own `progress`), or `progress_column`: a column of one progress per sample.
    - `device`: where the policy runs (e.g. "cuda" in a GPU actor); None keeps the CPU. Results return to numpy.
    """

    def __init__(
        self,
        policy: Policy | str,
        *,
        image_column: str = "image",
        index_column: str = "index",
        epoch: int = 0,
        progress: float | None = None,
        progress_column: str | None = None,
        layout: Layout = "HWC",
        device: str | torch.device | None = None,
    ) -> None:
        if isinstance(policy, str):
            policy = parse_policy(policy)
        if not isinstance(policy, Policy):
            raise TypeError(
                f"policy: expected a mithridate image Policy or a policy string, got {type(policy).__name__}"
            )
        if layout not in _LAYOUTS:
            raise ValueError(f"layout: expected one of {', '.join(_LAYOUTS)}, got {layout!r}")
        self.policy = policy
        self.image_column: str = _check_column_name(image_column, "image_column")  # type: ignore[assignment]
        self.index_column: str = _check_column_name(index_column, "index_column")  # type: ignore[assignment]
        self.progress_column = _check_column_name(progress_column, "progress_column", optional=True)
        if self.image_column == self.index_column:
            raise ValueError(f"image_column and index_column: expected two different columns, got {image_column!r}")
        self.epoch = _check_epoch(epoch)
        self.progress = _check_progress(progress)
        if self.progress is not None and self.progress_column is not None:
            raise ValueError("AugmentBatches: expected progress (one for all samples) or progress_column, not both")
        self.layout: Layout = layout
        self.device = None if device is None else torch.device(device)

    def __repr__(self) -> str:
        return (
            f"AugmentBatches({self.policy!r}, image_column={self.image_column!r}, index_column={self.index_column!r}, "
            f"epoch={self.epoch}, layout={self.layout!r})"
        )

    # Validation ---------------------------------------------------------------------------------------

    def _column(self, batch: Mapping[str, Any], name: str, role: str) -> np.ndarray:
        if name not in batch:
            columns = ", ".join(repr(column) for column in batch) or "none"
            raise ValueError(f"AugmentBatches: expected {role} in column {name!r}, but the batch has columns {columns}")
        values = batch[name]
        if not isinstance(values, np.ndarray):
            raise ValueError(
                f"AugmentBatches: expected column {name!r} as a numpy array, got {type(values).__name__} "
                '(map with batch_format="numpy")'
            )
        return values

    def _index(self, batch: Mapping[str, Any], n: int) -> torch.Tensor:
        name = self.index_column
        index = self._column(
            batch, name, "the sample indices (one non-negative integer per sample, stable across epochs)"
        )
        if index.ndim != 1 or index.shape[0] != n or index.dtype.kind not in "iu":
            raise ValueError(
                f"AugmentBatches: expected column {name!r} to hold one integer sample index per image ({n}), got "
                f"dtype {index.dtype} shape {index.shape}"
            )
        if n and index.dtype.kind == "i" and int(index.min()) < 0:
            raise ValueError(
                f"AugmentBatches: expected non-negative sample indices in column {name!r}, got {index.min()}"
            )
        if index.dtype == np.uint64 and n and int(index.max()) >= 2**63:
            raise ValueError(f"AugmentBatches: expected sample indices below 2**63 in column {name!r}")
        return torch.from_numpy(index.astype(np.int64))  # a copy: the policy never sees the batch's own array

    def _progress(self, batch: Mapping[str, Any], n: int) -> float | torch.Tensor | None:
        if self.progress_column is None:
            return self.progress
        name = self.progress_column
        progress = self._column(batch, name, "the training progress of each sample")
        if progress.ndim != 1 or progress.shape[0] != n or progress.dtype.kind not in "iuf":
            raise ValueError(
                f"AugmentBatches: expected column {name!r} to hold one training progress in [0, 1] per image ({n}), "
                f"got dtype {progress.dtype} shape {progress.shape}"
            )
        values = progress.astype(np.float64)
        if n and not (np.all(values >= 0.0) and np.all(values <= 1.0)):  # NaN fails too
            raise ValueError(f"AugmentBatches: expected training progress in [0, 1] in column {name!r}")
        return torch.from_numpy(values)

    def _check_images(self, images: np.ndarray, per_image: bool) -> None:
        """dtype and rank of a batch array (N, ...) or, with per_image, of one image of an object array."""
        name = self.image_column
        where = f"column {name!r}" + (" (per image)" if per_image else "")
        if images.dtype not in _DTYPES:
            raise ValueError(
                f"AugmentBatches: expected uint8 images, or float images with values in [0, 1], in {where}; "
                f"got dtype {images.dtype}"
            )
        rank = images.ndim + (1 if per_image else 0)
        allowed = (3, 4) if self.layout == "HWC" else (4,)
        if rank not in allowed:
            shapes = "(N, H, W, C) or (N, H, W)" if self.layout == "HWC" else "(N, C, H, W)"
            got = f"an image of shape {images.shape}" if per_image else f"shape {images.shape}"
            raise ValueError(
                f"AugmentBatches: expected images shaped {shapes} (layout={self.layout!r}) in {where}, got {got}"
            )

    # Augmenting ---------------------------------------------------------------------------------------

    def _augment(self, images: np.ndarray, index: torch.Tensor, progress: float | torch.Tensor | None) -> np.ndarray:
        """One policy call on a stacked batch (N, H, W[, C]) or (N, C, H, W); the same layout and dtype back."""
        gray = self.layout == "HWC" and images.ndim == 3
        if gray:
            array = images[:, None]
        elif self.layout == "HWC":
            array = images.transpose(0, 3, 1, 2)
        else:
            array = images
        array = np.ascontiguousarray(array)  # (N, C, H, W) in its own memory: a copy from channels-last
        if not array.flags.writeable:  # Ray may hand out read-only views; torch wants writable memory
            array = array.copy()
        tensor = torch.from_numpy(array)
        if self.device is not None:
            tensor = tensor.to(self.device)
        out = self.policy(tensor, index=index, epoch=self.epoch, progress=progress)
        out = out.cpu()
        if gray:
            out = out[:, 0]
        elif self.layout == "HWC":
            out = out.permute(0, 2, 3, 1)
        return np.ascontiguousarray(out.numpy())

    def _augment_ragged(
        self, images: np.ndarray, index: torch.Tensor, progress: float | torch.Tensor | None
    ) -> np.ndarray:
        """Images of several sizes (an object array of arrays): one policy call per size, in the batch's order."""
        groups: dict[tuple[tuple[int, ...], np.dtype], list[int]] = {}
        for i, image in enumerate(images):
            if not isinstance(image, np.ndarray):
                raise ValueError(
                    f"AugmentBatches: expected numpy images in column {self.image_column!r}, got {type(image).__name__}"
                )
            self._check_images(image, per_image=True)
            groups.setdefault((image.shape, image.dtype), []).append(i)
        out = np.empty(len(images), dtype=object)
        for members in groups.values():
            rows = torch.tensor(members, dtype=torch.int64)
            part = progress[rows] if isinstance(progress, torch.Tensor) else progress
            augmented = self._augment(np.stack([images[i] for i in members]), index[rows], part)
            for j, i in enumerate(members):
                out[i] = augmented[j]
        return out

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Augment one batch (a dict of numpy arrays, Ray's `batch_format="numpy"`); returns a new dict."""
        if not isinstance(batch, Mapping):
            raise ValueError(
                f'AugmentBatches: expected a batch as a dict of numpy arrays (map with batch_format="numpy"), '
                f"got {type(batch).__name__}"
            )
        images = self._column(batch, self.image_column, "the images")
        if images.ndim == 0:
            raise ValueError(
                f"AugmentBatches: expected a batch of images in column {self.image_column!r}, got a scalar"
            )
        n = images.shape[0]
        index = self._index(batch, n)
        progress = self._progress(batch, n)
        if images.dtype == object:
            augmented = self._augment_ragged(images, index, progress)
        else:
            self._check_images(images, per_image=False)
            augmented = self._augment(images, index, progress)
        return {**batch, self.image_column: augmented}


def augment_dataset(
    ds: ray.data.Dataset,
    policy: Policy | str,
    *,
    epoch: int = 0,
    progress: float | None = None,
    progress_column: str | None = None,
    image_column: str = "image",
    index_column: str = "index",
    layout: Layout = "HWC",
    device: str | torch.device | None = None,
    **map_batches_kwargs: Any,
) -> ray.data.Dataset:
    """`ds.map_batches(AugmentBatches(policy, ...), batch_format="numpy", **map_batches_kwargs)`: a lazy
    dataset of the epoch's augmented samples (see `AugmentBatches` for the arguments; `batch_size`,
    `num_cpus`, `concurrency`, ... go to `map_batches`). Raises ImportError without Ray, and ValueError when
    the dataset's schema is known and lacks the image or index column (else a batch raises it when run).
    """
    try:
        import ray.data
    except ImportError as error:
        raise ImportError(f"augment_dataset needs Ray Data, an optional dependency: {_INSTALL_HINT}") from error
    if not isinstance(ds, ray.data.Dataset):
        raise TypeError(f"ds: expected a ray.data.Dataset, got {type(ds).__name__}")
    if map_batches_kwargs.get("batch_format", "numpy") != "numpy":
        raise ValueError(
            f"batch_format: AugmentBatches takes numpy batches, got {map_batches_kwargs['batch_format']!r}"
        )
    map_batches_kwargs.pop("batch_format", None)
    fn = AugmentBatches(
        policy,
        image_column=image_column,
        index_column=index_column,
        epoch=epoch,
        progress=progress,
        progress_column=progress_column,
        layout=layout,
        device=device,
    )
    schema = ds.schema(fetch_if_missing=False)  # known without running the pipeline, or None
    if schema is not None:
        names = list(schema.names)
        needed = [(fn.image_column, "the images"), (fn.index_column, "the sample indices")]
        if fn.progress_column is not None:
            needed.append((fn.progress_column, "the training progress of each sample"))
        for column, role in needed:
            if column not in names:
                shown = ", ".join(repr(name) for name in names) or "none"
                raise ValueError(f"augment_dataset: expected {role} in column {column!r}, but ds has columns {shown}")
    return ds.map_batches(fn, batch_format="numpy", **map_batches_kwargs)
