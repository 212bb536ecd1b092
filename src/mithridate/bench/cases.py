"""What the benchmark measures: one `Case` per row of the table (a policy, a single op, a corruption, a copy)."""

from __future__ import annotations

from dataclasses import dataclass

from ..image.corruptions import CORRUPTIONS

__all__ = ["GROUPS", "OP_NAMES", "POLICIES", "Case", "build_cases"]

POLICIES: tuple[str, ...] = ("TrivialAugmentWide", "RandAugment(2, 9)", "AugMix")
"""The per-sample policies, by the name the table shows."""

OP_NAMES: tuple[str, ...] = (
    "Identity",
    "ShearX",
    "ShearY",
    "TranslateX",
    "TranslateY",
    "Rotate",
    "Brightness",
    "Color",
    "Contrast",
    "Sharpness",
    "Posterize",
    "Solarize",
    "AutoContrast",
    "Equalize",
)
"""The 14 ops of TrivialAugmentWide; single-op rows draw the magnitude per sample from TA wide's range."""

CORRUPTION_SEVERITY = 3
"""The severity of the corruption rows (the middle of 1..5)."""

GROUPS: tuple[str, ...] = ("policy", "op", "corruption", "reference")


@dataclass(frozen=True)
class Case:
    """One row of the table: `group` (policy, op, corruption or reference) and `name` within it."""

    group: str
    name: str

    @property
    def label(self) -> str:
        """The row's label in tables and charts."""
        if self.group == "corruption":
            return f"{self.name} (s{CORRUPTION_SEVERITY})"
        return self.name

    @property
    def key(self) -> str:
        """A stable identifier, `group:name`."""
        return f"{self.group}:{self.name}"


def build_cases(groups: tuple[str, ...] = GROUPS) -> list[Case]:
    """The cases of the chosen groups, in table order."""
    unknown = [group for group in groups if group not in GROUPS]
    if unknown:
        raise ValueError(f"groups: expected some of {', '.join(GROUPS)}, got {', '.join(unknown)}")
    names = {
        "policy": POLICIES,
        "op": OP_NAMES,
        "corruption": CORRUPTIONS,
        "reference": ("copy",),
    }
    return [Case(group, name) for group in GROUPS if group in groups for name in names[group]]
