"""mithridate: per-sample policies, single ops and corruptions, each one call on the whole batch."""

from __future__ import annotations

import torch

from ... import __version__
from ...image import Plan, apply_plan, corruptions
from ...image import policy as parse_policy
from ...image.ops import OP_IDS
from ..cases import CORRUPTION_SEVERITY, Case
from ..draws import op_magnitudes

NAME = "mithridate"
MODE = "batch"
PACKAGE = "mithridate"
DEVICES = ("cpu", "cuda")

_POLICIES = {"TrivialAugmentWide": "ta_wide", "RandAugment(2, 9)": "rand-n2-m9", "AugMix": "augmix"}


def unavailable() -> str | None:
    return None


def version() -> str:
    return __version__


def note(case: Case) -> str | None:
    if case.group == "corruption":
        return "ImageNet-C parameters at every size, as imagecorruptions"
    return None


def prepare(case: Case, images: torch.Tensor, device: torch.device):
    n = images.shape[0]
    index = torch.arange(n, device=device)
    if case.group == "policy":
        policy = parse_policy(_POLICIES[case.name])
        policy.seed = 0
        return lambda count: policy(images, index=index)
    if case.group == "op":
        ops = torch.full((n, 1, 1), OP_IDS[case.name], dtype=torch.int64, device=device)
        plan = Plan(ops, op_magnitudes(case.name, n).to(device).view(n, 1, 1))
        return lambda count: apply_plan(images, plan)
    if case.group == "corruption":
        return lambda count: corruptions.corrupt(images, case.name, CORRUPTION_SEVERITY, params="imagenet")
    return None
