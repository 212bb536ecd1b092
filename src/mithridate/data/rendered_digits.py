"""Rendered digits: 0 to 9 drawn from matplotlib's bundled fonts, randomised, in scikit-learn's digits format.

Synthetic training data by domain randomisation: each digit is a font glyph (the DejaVu faces that ship
inside matplotlib, so nothing is downloaded and every machine with the same matplotlib renders the same
glyphs) drawn with a random font and stroke (the font's outline thickened, or a round pen along its
skeleton with the stroke ends cut back), slant, rotation, width, position, elastic wobble and pixel noise,
so that a model trained on them has seen handwriting-like variety. Output follows scikit-learn's
`load_digits` (the UCI optdigits preprocessing): a 32x32 binary bitmap whose digit fills the height and
about 20 pixels of the width, centred, then the count of on-pixels in each 4x4 block: 8x8 integers 0..16.
Measured: an RBF SVC trained on 2,000 of them recognises about 69% of scikit-learn's 1,797 real digits
(the clean glyphs, `randomise=False`: 50%); a small CNN about 78% (clean: 55%).

Speed: each (font, digit) glyph is rasterised once per process with matplotlib's Agg renderer at 128x128
and turned into distance fields: to the glyph outline, and to its skeleton with the stroke ends cut back
by a few lengths. A sample is then one bilinear `grid_sample` of its field through its own affine and
elastic warp, and a threshold (the stroke width); no matplotlib call per sample. Every draw is
counter-based (`mithridate.rng`): sample i is a pure function of (seed, i), so a smaller call is a prefix
of a larger one (labels cycle 0..9)."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..rng import Key
from ..validation import check_int
from .datasets import ImageDataset

__all__ = ["FONTS", "font_path", "render_digits", "rendered_digits_dataset"]

# The DejaVu faces bundled in matplotlib's mpl-data/fonts/ttf (file stems): 3 families x 4 weights/styles.
FONTS: tuple[str, ...] = tuple(
    f"DejaVu{family}{style}"
    for family, styles in (
        ("Sans", ("", "-Bold", "-Oblique", "-BoldOblique")),
        ("SansMono", ("", "-Bold", "-Oblique", "-BoldOblique")),
        ("Serif", ("", "-Bold", "-Italic", "-BoldItalic")),
    )
    for style in styles
)

_MASTER = 128  # side of the master raster of each glyph
_MASTER_HEIGHT = 80  # glyph height in master pixels (margins leave room for thick strokes)
_BLOCK = 4  # sklearn's digits: on-pixel counts in 4x4 blocks of the bitmap
_REFERENCE = 32.0  # bitmap side the pixel-sized ranges below are written for (scaled for other sizes)
_CHUNK = 256  # samples warped per grid_sample call (bounds memory)

# Counter-based streams, one per kind of draw.
_S_FONT, _S_PEN, _S_STROKE, _S_GEOMETRY, _S_ELASTIC, _S_PIXEL, _S_FLIP_RATE, _S_TRIM = range(8)

# Ranges at randomise=1, bitmap 32x32 (pixels scale with the bitmap side).
_PEN_SHARE = 0.5  # share of samples drawn as a uniform pen along the glyph's skeleton
_OUTLINE_OFFSET = (0.5, 2.5)  # grow (+) or thin (-) the font's own stroke, pixels
_TRIM = (0.0, 0.1, 0.2, 0.3)  # pen strokes: their loose ends cut by this share of the glyph height
_PEN_HALF_WIDTH = (2.0, 3.5)  # pen half-width, pixels; at randomise=0 the middle
_ROTATION_DEGREES = 10.0
_SHEAR = 0.2  # x shift per unit of height, either way
_WIDTH = (18.0, 24.0)  # width of the box the digit is fitted to, pixels; at randomise=0 the middle
_STRETCH = (0.6, 1.8)  # bounds on the width scale relative to the height scale
_HEIGHT_FILL = 0.05  # the digit fills 1 - u * this of the height (sklearn's fill the height exactly)
_SHIFT = 0.5  # pixels, each axis
_ELASTIC_GRID = 3  # control points per side of the smooth random displacement
_ELASTIC = 3.0  # displacement standard deviation, pixels
_EDGE_NOISE = 1.0  # width of the uniform per-pixel jitter of the stroke edge, pixels
_FLIP = 0.005  # largest per-sample probability of flipping a bitmap pixel


def font_path(font: str | Path) -> Path:
    """The font file for a face name in matplotlib's bundled fonts (e.g. "DejaVuSerif-Bold") or a path."""
    if not isinstance(font, (str, Path)):
        raise TypeError(f"font: expected a font name or a path to a .ttf file, got {type(font).__name__}")
    import matplotlib

    bundled = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / f"{font}.ttf"
    if isinstance(font, str) and "/" not in font and bundled.is_file():
        return bundled
    path = Path(font)
    if path.is_file():
        return path
    raise ValueError(
        f"font: expected a font in matplotlib's bundled fonts (e.g. {', '.join(FONTS[:3])}) or a path to a "
        f"font file, got {str(font)!r}"
    )


def _rasterise(path: Path, digit: int) -> np.ndarray:
    """The glyph of `digit` in the font at `path`, bool (_MASTER, _MASTER), height _MASTER_HEIGHT, centred."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties
    from matplotlib.ft2font import FT2Font
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    if FT2Font(str(path)).get_char_index(ord(str(digit))) == 0:
        raise ValueError(f"font {path.name}: expected a glyph for the digit {digit}, the font has none")
    glyph = TextPath((0, 0), str(digit), size=1, prop=FontProperties(fname=path))
    box = glyph.get_extents()
    if not (box.height > 0 and box.width > 0):
        raise ValueError(f"font {path.name}: expected a glyph for the digit {digit}, got an empty one")
    scale = _MASTER_HEIGHT / box.height
    if box.width * scale > _MASTER - 32:
        raise ValueError(f"font {path.name}: the glyph of {digit} is too wide (aspect {box.width / box.height:.2f})")
    place = (
        Affine2D()
        .translate(-(box.x0 + box.x1) / 2, -(box.y0 + box.y1) / 2)
        .scale(scale)
        .translate(_MASTER / 2, _MASTER / 2)
    )
    renderer = RendererAgg(_MASTER, _MASTER, 72)
    gc = renderer.new_gc()
    gc.set_linewidth(0)
    renderer.draw_path(gc, glyph, place, (0.0, 0.0, 0.0))
    return np.asarray(renderer.buffer_rgba())[..., 3] >= 128


def _end_distance(skeleton: np.ndarray) -> np.ndarray:
    """Distance along the skeleton (8-connected pixels) from each skeleton pixel to the nearest stroke end."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    coords = np.argwhere(skeleton)
    number = -np.ones(skeleton.shape, dtype=np.int64)
    number[tuple(coords.T)] = np.arange(len(coords))
    rows, cols, weights = [], [], []
    height, width = skeleton.shape
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = number[: height - dr, max(0, -dc) : width - max(0, dc)]  # pixel (i, j) ...
        b = number[dr:, max(0, dc) : width + min(0, dc)]  # ... and its neighbour (i + dr, j + dc)
        both = (a >= 0) & (b >= 0)
        rows.append(a[both])
        cols.append(b[both])
        weights.append(np.full(int(both.sum()), math.hypot(dr, dc)))
    r, c, w = np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)
    graph = coo_matrix((w, (r, c)), shape=(len(coords), len(coords))).tocsr()
    degree = np.bincount(np.concatenate([r, c]), minlength=len(coords))
    ends = np.flatnonzero(degree == 1)
    distance = np.full(skeleton.shape, np.inf)
    if len(ends):
        distance[tuple(coords.T)] = dijkstra(graph, directed=False, indices=ends, min_only=True)
    return distance


@functools.lru_cache(maxsize=8)
def _masters(paths: tuple[Path, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """Distance fields (F * 10 * E, 1, M, M) and ink points (F * 10 * E, P, 2) for each font and digit.

    Entry E * (font * 10 + digit) is the signed distance to the glyph outline (negative inside); the
    next ones the distance to the glyph's skeleton with its stroke ends trimmed by each of _TRIM. The
    points (x, y pixel centres, padded by repetition) are the outline's and the skeletons', for the
    bounding box of a warped glyph.
    """
    from scipy.ndimage import binary_erosion, distance_transform_edt
    from skimage.morphology import skeletonize

    fields, points = [], []
    for path in paths:
        for digit in range(10):
            mask = _rasterise(path, digit)
            fields.append(distance_transform_edt(~mask) - distance_transform_edt(mask))
            points.append(np.argwhere(mask & ~binary_erosion(mask)))
            skeleton = skeletonize(mask)
            from_end = _end_distance(skeleton)
            for trim in _TRIM:
                kept = skeleton & (from_end >= trim * _MASTER_HEIGHT)
                fields.append(distance_transform_edt(~kept))
                points.append(np.argwhere(kept))
    longest = max(len(p) for p in points)
    padded = np.stack([np.concatenate([p, np.repeat(p[:1], longest - len(p), axis=0)]) for p in points])
    xy = padded[..., ::-1].astype(np.float32) + 0.5  # (row, col) -> (x, y) pixel centres
    stacked = np.stack(fields).astype(np.float32)[:, None]
    return torch.from_numpy(stacked), torch.from_numpy(np.ascontiguousarray(xy))


def _check_randomise(randomise: object) -> float:
    if isinstance(randomise, bool):
        return 1.0 if randomise else 0.0
    if not isinstance(randomise, (int, float, np.integer, np.floating)) or not (
        math.isfinite(randomise) and randomise >= 0
    ):
        raise ValueError(
            f"randomise: expected True, False or a non-negative strength (1 = the default ranges), got {randomise!r}"
        )
    return float(randomise)


def _check_int(name: str, value: object, minimum: int) -> int:
    return check_int(name, value, minimum, type_error=ValueError)


def _between(u: torch.Tensor, low: float, high: float) -> torch.Tensor:
    return low + (high - low) * u


def _warp_chunk(
    index: torch.Tensor, key: Key, strength: float, side: int, fields: torch.Tensor, points: torch.Tensor, fonts: int
) -> torch.Tensor:
    """Binary bitmaps bool (n, side, side) for the samples at `index` (labels index % 10)."""
    n = index.numel()
    px = side / _REFERENCE  # pixel-sized ranges scale with the bitmap
    digit = index % 10
    if strength > 0:
        font = key.integers(index, _S_FONT, fonts)[:, 0]
        pen = key.uniform(index, _S_PEN)[:, 0] < _PEN_SHARE * min(strength, 1.0)
        trim = key.integers(index, _S_TRIM, len(_TRIM))[:, 0]
    else:  # the clean glyphs: fonts in turn, their own outline
        font = (index // 10) % fonts
        pen = torch.zeros(n, dtype=torch.bool)
        trim = torch.zeros(n, dtype=torch.int64)
    entry = (1 + len(_TRIM)) * (font * 10 + digit) + torch.where(pen, 1 + trim, 0)

    u = key.uniform(index, _S_STROKE)[:, 0]
    pen_low, pen_high = _PEN_HALF_WIDTH
    pen_middle = (pen_low + pen_high) / 2
    pen_width = pen_middle + strength * (u - 0.5) * (pen_high - pen_low)
    offset = strength * _between(u, *_OUTLINE_OFFSET)
    threshold = torch.where(pen, pen_width.clamp(min=0.5), offset) * px  # ink where distance < threshold

    g = key.uniform(index, _S_GEOMETRY, 6)
    angle = math.radians(_ROTATION_DEGREES) * strength * (2 * g[:, 0] - 1)
    shear = _SHEAR * strength * (2 * g[:, 1] - 1)
    width_low, width_high = _WIDTH
    width = ((width_low + width_high) / 2 + strength * (g[:, 2] - 0.5) * (width_high - width_low)) * px
    height = (1.0 - _HEIGHT_FILL * min(strength, 1.0) * g[:, 3]) * side
    shift = _SHIFT * px * strength * (2 * g[:, 4:6] - 1)

    # Linear part of the warp in master pixels: slant, then rotate (y grows downwards: a positive shear
    # leans the top to the right).
    cos, sin = torch.cos(angle), torch.sin(angle)
    rotation = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    slant = torch.eye(2).repeat(n, 1, 1)
    slant[:, 0, 1] = -shear
    linear = rotation @ slant

    # Normalise like optdigits: the warped glyph, stroke included, fills a box of about `width` x `height`
    # centred in the bitmap; the width scale stays within _STRETCH of the height scale so that a narrow
    # glyph (a plain 1) is not blown up.
    warped = points[entry] @ linear.transpose(1, 2)  # (n, P, 2)
    low, high = warped.amin(1), warped.amax(1)
    centre = (low + high) / 2
    extent = (high - low).clamp(min=1e-3)
    ink = 2 * threshold.clamp(min=0)
    scale_y = ((height - ink) / extent[:, 1]).clamp(min=1e-3)  # output px per master px
    scale_x = ((width - ink).clamp(min=1.0) / extent[:, 0]).clamp(_STRETCH[0] * scale_y, _STRETCH[1] * scale_y)
    scale_x = torch.minimum(scale_x, (side - ink).clamp(min=1.0) / extent[:, 0])
    scale = torch.stack([scale_x, scale_y], -1)

    # Output pixel centres -> master pixel coordinates, through an optional smooth displacement.
    axis = torch.arange(side, dtype=torch.float32) + 0.5
    oy, ox = torch.meshgrid(axis, axis, indexing="ij")
    out = torch.stack([ox, oy], -1).expand(n, side, side, 2) - side / 2 - shift[:, None, None, :]
    if strength > 0:
        control = key.normal(index, _S_ELASTIC, 2 * _ELASTIC_GRID**2).view(n, 2, _ELASTIC_GRID, _ELASTIC_GRID)
        field = F.interpolate(control, size=(side, side), mode="bicubic", align_corners=True)
        out = out + _ELASTIC * px * strength * field.permute(0, 2, 3, 1)
    inverse = torch.linalg.inv(linear)
    source = (out / scale[:, None, None, :] + centre[:, None, None, :]) @ inverse.transpose(1, 2)[:, None]
    grid = source * (2.0 / _MASTER) - 1.0
    distance = F.grid_sample(fields[entry], grid, mode="bilinear", padding_mode="border", align_corners=False)

    # Master-pixel distances in output pixels; the linear part's area factor corrects for the stretch.
    to_output = torch.sqrt(scale_x * scale_y * torch.linalg.det(linear).abs())
    distance = distance[:, 0] * to_output[:, None, None]
    if strength > 0:
        # One 32-bit word per pixel: the low half jitters the stroke edge, the high half flips pixels.
        bits = key.bits(index, _S_PIXEL, side * side).view(n, side, side)
        jitter = (bits & 0xFFFF).to(torch.float32) * (1.0 / 65536) - 0.5
        distance = distance + _EDGE_NOISE * px * strength * jitter
        rate = _FLIP * min(strength, 1.0) * key.uniform(index, _S_FLIP_RATE)[:, 0]
        flip = (bits >> 16).to(torch.float32) * (1.0 / 65536) < rate[:, None, None]
        bitmap = (distance < threshold[:, None, None]) ^ flip
    else:
        bitmap = distance < threshold[:, None, None]
    return bitmap


def render_digits(
    n_per_class: int,
    *,
    seed: int = 0,
    randomise: bool | float = True,
    size: int = 8,
    fonts: Sequence[str | Path] | None = None,
    flat: bool = False,
    bitmaps: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Rendered digits in scikit-learn's digits format: images float64 (N, size, size) of integers 0..16
    and labels int64 (N,), N = 10 * n_per_class, labels cycling 0, 1, ..., 9.

    `randomise` is the strength of the domain randomisation (True = 1, False = 0: the clean glyphs, fonts
    in turn; above 1 widens the ranges). `fonts` are face names in matplotlib's bundled fonts or font
    paths (default `FONTS`). `flat` gives images (N, size * size) like `load_digits().data`; `bitmaps`
    gives the binary bitmaps, bool (N, 4 * size, 4 * size), before the 4x4 block counts.
    """
    n_per_class = _check_int("n_per_class", n_per_class, 0)
    side = _BLOCK * _check_int("size", size, 1)
    seed = _check_int("seed", seed, 0)
    strength = _check_randomise(randomise)
    names = FONTS if fonts is None else fonts
    if isinstance(names, (str, Path)) or not isinstance(names, Sequence) or len(names) == 0:
        raise ValueError(f"fonts: expected a non-empty sequence of font names or paths, got {names!r}")
    paths = tuple(font_path(name) for name in names)

    count = 10 * n_per_class
    labels = np.arange(count, dtype=np.int64) % 10
    blocks = side // _BLOCK
    if count == 0:
        shape = (0, side, side) if bitmaps else ((0, blocks * blocks) if flat else (0, blocks, blocks))
        return np.zeros(shape, dtype=bool if bitmaps else np.float64), labels
    fields, points = _masters(paths)
    key = Key(seed)
    chunks = []
    with torch.no_grad():
        for start in range(0, count, _CHUNK):
            index = torch.arange(start, min(start + _CHUNK, count), dtype=torch.int64)
            chunks.append(_warp_chunk(index, key, strength, side, fields, points, len(paths)))
    bitmap = torch.cat(chunks).numpy()
    if bitmaps:
        return bitmap, labels
    images = bitmap.reshape(count, blocks, _BLOCK, blocks, _BLOCK).sum(axis=(2, 4)).astype(np.float64)
    return (images.reshape(count, -1) if flat else images), labels


def rendered_digits_dataset(
    n_per_class: int,
    *,
    seed: int = 0,
    randomise: bool | float = True,
    size: int = 8,
    fonts: Sequence[str | Path] | None = None,
) -> ImageDataset:
    """`render_digits` as an `ImageDataset`, uint8 (N, 1, size, size) scaled like `load_digits` (v * 255 // 16)."""
    images, labels = render_digits(n_per_class, seed=seed, randomise=randomise, size=size, fonts=fonts)
    pixels = (images.astype(np.int64) * 255 // 16).astype(np.uint8)
    return ImageDataset(torch.from_numpy(pixels).unsqueeze(1), torch.from_numpy(labels), [str(d) for d in range(10)])
