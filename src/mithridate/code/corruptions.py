"""The code corruption suite: what a code model's robustness is measured on, at 5 severities (as the image and text
suites), built on the code ops through `OpPolicy` with a fixed Dose per severity.

- `rename`: scope-correct renaming (DOBF's `VAR_i`/`FUNC_i`, ReCode's variable renaming) at per-definition
  rates 0.2, 0.4, 0.6, 0.8, 1.
- `rewrite`: semantics-preserving rewrites in turn (ReCode's and NatGen's syntax perturbations): dead code,
  `for` to `while`, swapped comparisons, swapped `if`/`else`.
- `format`: layout noise in turn (ReCode's format perturbations): blank lines, split lines, the indentation
  width, typos in docstrings and comments.

Every op runs on every sample (p = 1) at the severity's strength (`SEVERITY_STRENGTHS`: a factor on the op's
reference per-unit rate, the product clipped to 1: 0.5, 1, 1.5, 2, 3 for rewrites and layout, 0.4 to 2 for
renaming, whose reference rate is 0.5). A sample's draws depend only on (seed, its index, the
corruption, the op), not on the severity, so the units chosen at one severity are among those chosen at the next
(for the first op of a chain exactly; later ops see the text the earlier ones left). A source an op cannot read
comes back as that op received it (`on_error="pass"`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..dose import Dose
from ..rng import as_index
from .ops import CodeOp
from .policies import OpPolicy
from .python.source import check_sources, decode_source

__all__ = ["CODE_CORRUPTIONS", "CODE_SEVERITIES", "SEVERITY_STRENGTHS", "corrupt_code", "corruption_ops"]

CODE_SEVERITIES = (1, 2, 3, 4, 5)
SEVERITY_STRENGTHS: dict[str, tuple[float, ...]] = {
    "rename": (0.4, 0.8, 1.2, 1.6, 2.0),
    "rewrite": (0.5, 1.0, 1.5, 2.0, 3.0),
    "format": (0.5, 1.0, 1.5, 2.0, 3.0),
}
"""The strength of every op of a corruption at severities 1..5 (a factor on the op's reference per-unit rate)."""

_OPS: dict[str, tuple[str, ...]] = {
    "rename": ("Rename",),
    "rewrite": ("DeadCode", "ForToWhile", "SwapComparison", "SwapIfElse"),
    "format": ("BlankLines", "SplitLines", "Indentation", "DocstringTypos", "CommentTypos"),
}
CODE_CORRUPTIONS: tuple[str, ...] = tuple(_OPS)


def corruption_ops(name: str) -> list[CodeOp]:
    """The ops of corruption `name`, in the order they run."""
    if not isinstance(name, str) or name not in _OPS:
        raise ValueError(f"name: unknown code corruption {name!r}; expected one of {', '.join(CODE_CORRUPTIONS)}")
    from .python import rename, rewrites

    return [getattr(rename if cls == "Rename" else rewrites, cls)() for cls in _OPS[name]]


def _seed(seed: int, name: str, position: int) -> int:
    """The draws' seed of one op of a corruption: a hash of (seed, corruption, op position), the same everywhere."""
    digest = hashlib.blake2b(f"{seed}/{name}/{position}".encode(), digest_size=7).digest()
    return int.from_bytes(digest, "little")


def corrupt_code(
    sources: Sequence[str | bytes], name: str, severity: int, seed: int = 0, index: Any = None
) -> list[str]:
    """Apply one code corruption (`CODE_CORRUPTIONS`) at one severity (1..5) to every source of a batch.

    `index`: one non-negative integer per source (e.g. dataset positions), 0..N-1 when None; a sample's edits
    depend only on (seed, its index, corruption) and grow with the severity (see the module docstring)."""
    items = check_sources(sources)
    ops = corruption_ops(name)
    if isinstance(severity, bool) or not isinstance(severity, (int, np.integer)) or severity not in CODE_SEVERITIES:
        raise ValueError(f"severity: expected an integer in 1..5, got {severity!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"seed: expected a non-negative integer, got {seed!r}")
    positions = list(range(len(items))) if index is None else as_index(index, len(items), "cpu").tolist()
    texts = [decode_source(bytes(item)) if isinstance(item, (bytes, bytearray)) else item for item in items]
    if not texts:
        return []
    dose = Dose(p=1.0, strength=SEVERITY_STRENGTHS[name][int(severity) - 1])
    for position, op in enumerate(ops):
        policy = OpPolicy(op, dose=dose, seed=_seed(int(seed), name, position), on_error="pass")
        texts = policy(texts, index=positions, epoch=0)
    return texts
