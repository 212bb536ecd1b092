"""Data: synthetic digits rendered from fonts, and mixing of real with synthetic datasets at a measured ratio."""

from .mix import Mix
from .rendered_digits import FONTS, font_path, render_digits, rendered_digits_dataset

__all__ = ["FONTS", "Mix", "font_path", "render_digits", "rendered_digits_dataset"]
