"""A picture of what a policy does: each row an image, its original first, then independent draws, each
captioned with the ops and magnitudes its sample drew (`Plan.describe`).

The draws of the whole grid are one batch: the R images are repeated `cols` times and the policy samples
and applies one plan for all R x cols samples, with sample indices 0..R*cols-1 at epoch 0, so a grid
depends only on the policy (with its seed), the images and `cols`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import PIL.Image
import torch
from PIL import ImageDraw, ImageFont

from ..validation import check_int
from .policies import Policy

__all__ = ["GridLayout", "grid_layout", "preview_grid"]

MIN_TILE = 96  # small images are upscaled (nearest, by an integer factor) to at least this many pixels
MAX_TILE = 256  # large images are shown shrunk to this many pixels on their longer side
MARGIN = 8  # pixels around the grid
GAP = 6  # pixels between tiles, across and down
MAX_CAPTION_LINES = 4
_PAD = 2  # pixels between a tile and its caption

_BACKGROUND = (255, 255, 255)
_FRAME = (200, 200, 200)
_TEXT = (25, 25, 25)
_ORIGINAL_TEXT = (20, 80, 190)
_CHECKER = ((255, 255, 255), (204, 204, 204))
_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
# Characters of Plan.describe that a font may lack, with what to show instead.
_FALLBACKS = {"→": "->", "·": "*", "°": " deg", "…": "...", "−": "-"}


@dataclass(frozen=True)
class GridLayout:
    """Sizes in pixels of a preview grid: tiles, caption blocks, the title band and the whole picture."""

    rows: int
    cols: int
    tile_height: int
    tile_width: int
    caption_height: int
    title_height: int

    @property
    def width(self) -> int:
        """Margins, the original column and `cols` draws, with gaps between them."""
        return 2 * MARGIN + (self.cols + 1) * self.tile_width + self.cols * GAP

    @property
    def height(self) -> int:
        return 2 * MARGIN + self.title_height + self.rows * self.row_height + (self.rows - 1) * GAP

    @property
    def row_height(self) -> int:
        return self.tile_height + _PAD + self.caption_height

    def tile_origin(self, row: int, col: int) -> tuple[int, int]:
        """(x, y) of the top left corner of a tile; column 0 is the original."""
        return MARGIN + col * (self.tile_width + GAP), MARGIN + self.title_height + row * (self.row_height + GAP)


def tile_size(height: int, width: int, tile: int | None = None) -> tuple[int, int]:
    """(H, W) at which an image of height x width is shown.

    With `tile`, the longer side becomes `tile` pixels. Without, images whose longer side is under
    `MIN_TILE` are upscaled by the smallest integer factor that reaches it (8x8 -> 96x96, 32x32 -> 96x96),
    images over `MAX_TILE` are shrunk to it, and the others are shown as they are.
    """
    longer = max(height, width)
    if tile is None:
        if longer < MIN_TILE:
            factor = math.ceil(MIN_TILE / longer)
            return height * factor, width * factor
        if longer <= MAX_TILE:
            return height, width
        tile = MAX_TILE
    scale = tile / longer
    return max(1, round(height * scale)), max(1, round(width * scale))


def _font(size: int) -> Any:
    return ImageFont.load_default(size=size)


def _font_size(tile_width: int) -> int:
    return max(12, min(16, tile_width // 10))


def _line_height(font: Any) -> int:
    if hasattr(font, "getmetrics"):
        ascent, descent = font.getmetrics()
        return int(ascent + descent + 1)
    return int(font.getbbox("Ag")[3] + 2)


def _displayable(text: str, font: Any) -> str:
    """Replace the characters the font draws as a missing-glyph box by plain ones (`_FALLBACKS`)."""
    try:
        missing = bytes(font.getmask("\uffff"))
    except Exception:  # a bitmap font that cannot even encode the probe: assume the fallbacks are needed
        missing = None
    for char, plain in _FALLBACKS.items():
        if char not in text:
            continue
        try:
            drawn = bytes(font.getmask(char))
        except Exception:
            drawn = missing
        if missing is None or drawn == missing:
            text = text.replace(char, plain)
    return text


def _fit(text: str, font: Any, width: int, ellipsis: str) -> str:
    """`text` cut so that it ends in `ellipsis` and fits `width` pixels."""
    while text and font.getlength(text + ellipsis) > width:
        text = text[:-1]
    return text.rstrip() + ellipsis


def wrap_caption(text: str, font: Any, width: int, max_lines: int = MAX_CAPTION_LINES) -> list[str]:
    """Lines of at most `width` pixels, broken at spaces (inside a word only if it is too long alone);
    beyond `max_lines`, the last line ends in an ellipsis."""
    text = _displayable(text, font)
    ellipsis = _displayable("…", font)
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while font.getlength(word) > width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and font.getlength(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], _fit(lines[max_lines - 1], font, width, ellipsis)]
    return lines or [""]


def grid_layout(
    rows: int, cols: int, size: tuple[int, int], captions_lines: int, *, tile: int | None = None, title: bool = False
) -> GridLayout:
    """The layout of a grid of `rows` images of `size` (H, W) with `cols` draws each, captions of
    `captions_lines` lines, and a title band if `title`."""
    tile_height, tile_width = tile_size(*size, tile)
    font = _font(_font_size(tile_width))
    line = _line_height(font)
    return GridLayout(
        rows=rows,
        cols=cols,
        tile_height=tile_height,
        tile_width=tile_width,
        caption_height=captions_lines * line,
        title_height=_line_height(_font(_font_size(tile_width) + 1)) + GAP if title else 0,
    )


def _checker(width: int, height: int, square: int = 8) -> PIL.Image.Image:
    yy, xx = np.mgrid[0:height, 0:width]
    dark = ((yy // square + xx // square) % 2).astype(bool)
    array = np.where(dark[:, :, None], np.array(_CHECKER[1], np.uint8), np.array(_CHECKER[0], np.uint8))
    return PIL.Image.fromarray(array.astype(np.uint8), "RGB")


def _tile(image: torch.Tensor, height: int, width: int) -> PIL.Image.Image:
    """One uint8 (C, H, W) image as an RGB or L picture of height x width; alpha composited on a checker."""
    channels = int(image.shape[0])
    array = image.permute(1, 2, 0).cpu().numpy()
    picture = PIL.Image.fromarray(array[:, :, 0] if channels == 1 else array, _MODES[channels])
    if picture.size != (width, height):
        upscale = width >= picture.width and height >= picture.height
        method = PIL.Image.Resampling.NEAREST if upscale else PIL.Image.Resampling.BILINEAR
        picture = picture.resize((width, height), method)
    if channels in (2, 4):
        background = _checker(width, height).convert("RGBA")
        picture = PIL.Image.alpha_composite(background, picture.convert("RGBA")).convert("RGB")
    return picture


def _check_images(images: Any) -> torch.Tensor:
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images: expected a uint8 torch tensor (R, C, H, W), got {type(images).__name__}")
    if images.ndim == 3:
        images = images.unsqueeze(0)
    shape = tuple(images.shape)
    if images.dtype != torch.uint8 or images.ndim != 4:
        raise ValueError(f"images: expected a uint8 tensor (R, C, H, W), got {images.dtype} of shape {shape}")
    if shape[1] not in _MODES or shape[0] < 1 or shape[2] < 1 or shape[3] < 1:
        raise ValueError(
            f"images: expected at least one image with 1 or 3 channels (2 or 4 with alpha) and a non-empty "
            f"size, got shape {shape}"
        )
    return images


def _check_count(name: str, value: Any, low: int) -> int:
    return check_int(name, value, low, type_error=ValueError)


def preview_grid(
    policy: Policy,
    images: torch.Tensor,
    *,
    cols: int = 6,
    tile: int | None = None,
    title: str | None = None,
) -> PIL.Image.Image:
    """A grid picture of `cols` draws of `policy` on each of the R images (uint8 (R, C, H, W)).

    Row r shows image r: first the original (captioned "original"), then draws 0..cols-1, each captioned
    with its plan (`Plan.describe`), wrapped to the tile's width and cut after `MAX_CAPTION_LINES`
    lines. All R x cols draws are one batch with sample indices 0..R*cols-1 at epoch 0, so the grid is
    a function of the policy and its seed, the images and `cols`. Tiles are `tile` pixels on their
    longer side, or see `tile_size`; gray images show gray, alpha is composited on a checkerboard.
    `title`, if given, is written above the grid.
    """
    if not isinstance(policy, Policy):
        raise TypeError(f"policy: expected a mithridate image policy (e.g. mt.image.policy('ta_wide')), got {policy!r}")
    images = _check_images(images)
    cols = _check_count("cols", cols, 1)
    if tile is not None:
        tile = _check_count("tile", tile, 1)
    rows, _, height, width = images.shape
    batch = images.repeat_interleave(cols, dim=0)
    plan = policy.sample(rows * cols, (height, width), index=torch.arange(rows * cols), epoch=0, device=images.device)
    augmented = policy.apply(batch, plan)

    tile_height, tile_width = tile_size(height, width, tile)
    font = _font(_font_size(tile_width))
    text_width = max(1, tile_width - 2)
    captions = [["original", *(plan.describe(r * cols + c) for c in range(cols))] for r in range(rows)]
    wrapped = [[wrap_caption(text, font, text_width) for text in row] for row in captions]
    lines = max(len(caption) for row in wrapped for caption in row)
    layout = grid_layout(rows, cols, (height, width), lines, tile=tile, title=title is not None)

    canvas = PIL.Image.new("RGB", (layout.width, layout.height), _BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    line_height = _line_height(font)
    if title is not None:
        title_font = _font(_font_size(tile_width) + 1)
        text, room = _displayable(title, title_font), layout.width - 2 * MARGIN
        if title_font.getlength(text) > room:
            text = _fit(text, title_font, room, _displayable("…", title_font))
        draw.text((MARGIN, MARGIN), text, fill=_TEXT, font=title_font)
    for r in range(rows):
        for c in range(cols + 1):
            image = images[r] if c == 0 else augmented[r * cols + c - 1]
            x, y = layout.tile_origin(r, c)
            canvas.paste(_tile(image, tile_height, tile_width), (x, y))
            draw.rectangle((x - 1, y - 1, x + tile_width, y + tile_height), outline=_FRAME)
            colour = _ORIGINAL_TEXT if c == 0 else _TEXT
            for k, text in enumerate(wrapped[r][c]):
                offset = (tile_width - font.getlength(text)) / 2
                draw.text((x + offset, y + tile_height + _PAD + k * line_height), text, fill=colour, font=font)
    return canvas
