"""Image augmentation: per-sample auto-augment policies on batches, the plans they draw, their kernels and the
common corruptions.

`policy("ta_wide-s0.5")` builds a policy from its string; a policy's `sample` draws a `Plan` that
`apply_plan` applies (or replays); `functional` holds the batched kernels, `corruptions` the 19 ImageNet-C
corruptions.
"""

from . import corruptions, functional
from .executor import apply_plan
from .plan import Plan
from .policies import AugMix, AutoAugment, Policy, RandAugment, TrivialAugmentWide
from .policy_string import parse_policy as policy
from .preview import preview_grid

__all__ = [
    "AugMix",
    "AutoAugment",
    "Plan",
    "Policy",
    "RandAugment",
    "TrivialAugmentWide",
    "apply_plan",
    "corruptions",
    "functional",
    "policy",
    "preview_grid",
]
