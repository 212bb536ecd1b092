"""Image augmentation: per-sample auto-augment policies on batches, their kernels, plans and adapters."""

from . import corruptions, functional
from .adapters import Batch, to_batch
from .executor import apply_plan
from .ops import OP_IDS, OPS
from .plan import Plan
from .policies import AugMix, AutoAugment, Policy, RandAugment, TrivialAugmentWide
from .policy_string import POLICY_CLASSES, format_policy, parse_policy
from .preview import preview_grid

policy = parse_policy

__all__ = [
    "OPS",
    "OP_IDS",
    "POLICY_CLASSES",
    "AugMix",
    "AutoAugment",
    "Batch",
    "Plan",
    "Policy",
    "RandAugment",
    "TrivialAugmentWide",
    "apply_plan",
    "corruptions",
    "format_policy",
    "functional",
    "parse_policy",
    "policy",
    "preview_grid",
    "to_batch",
]
