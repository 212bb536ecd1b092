"""What a corruption kernel gets besides the images: its parameters and its per-sample random draws."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ...rng import Key

__all__ = ["Context"]

_BLOCK_ELEMENTS = 1 << 16


@dataclass(frozen=True)
class Context:
    """Per-sample draws of one corruption: a pure function of (seed, sample index, corruption, slot).

    `base` is the corruption's first stream; `slot` numbers the independent draws a kernel makes (noise
    field, angle, palette...). `integral` says the input was uint8, for the kernels whose reference
    rounds an intermediate image to uint8 (glass_blur, pixelate). `table` names the parameter table in
    use ("cifar" or "imagenet"), for the kernels whose algorithm differs between the two.
    """

    key: Key
    index: torch.Tensor
    base: int
    integral: bool
    table: str

    def uniform(self, slot: int, count: int) -> torch.Tensor:
        """Uniform float32 draws in [0, 1), shaped (N, count)."""
        return self.key.uniform(self.index, self.base + slot, count)

    def normal(self, slot: int, count: int) -> torch.Tensor:
        """Standard normal float32 draws, shaped (N, count).

        Box-Muller in float64 using both outputs of each pair of uniforms (cosine and sine), so half
        as many hashes as `Key.normal`; float64 keeps the float32 results the same on every device.
        """
        pairs = (count + 1) // 2
        n = self.index.shape[0]
        # A sample's draws do not depend on the others: on the CPU, rows go in cache-sized blocks.
        rows = n if self.index.device.type != "cpu" else max(_BLOCK_ELEMENTS // (2 * pairs), 1)
        out = torch.empty((n, count), dtype=torch.float32, device=self.index.device)
        for start in range(0, n, rows):
            block = self.index[start : start + rows]
            u = self.key.uniform(block, self.base + slot, 2 * pairs).to(torch.float64)
            radius = torch.sqrt(-2.0 * torch.log1p(-u[:, :pairs]))
            angle = (2.0 * math.pi) * u[:, pairs:]
            out[start : start + rows, :pairs] = radius * torch.cos(angle)
            out[start : start + rows, pairs:] = (radius * torch.sin(angle))[:, : count - pairs]
        return out

    def integers(self, slot: int, high: int, count: int) -> torch.Tensor:
        """Integers in [0, high), int64, shaped (N, count)."""
        return self.key.integers(self.index, self.base + slot, high, count)

    def field(self, slot: int, shape: tuple[int, ...], *, normal: bool = True) -> torch.Tensor:
        """A per-sample random field shaped (N, *shape): standard normal, or uniform in [0, 1)."""
        count = 1
        for side in shape:
            count *= side
        draws = self.normal(slot, count) if normal else self.uniform(slot, count)
        return draws.view(-1, *shape)
