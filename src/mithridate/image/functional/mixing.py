"""Blending an image batch with another by a per-sample amount: torchvision's private `_blend`, batched.

Not an op of its own: the colour kernels blend with a degenerate image (gray, its mean, a blurred copy), and
the op table blends an op's output with its input for fractional magnitudes. Its float arithmetic follows
torchvision's; uint8 results are truncated as torchvision truncates.
"""

from ._color import blend

__all__ = ["blend"]
