"""ReCode's robustness metrics (Wang et al., 2022, "ReCode: Robustness Evaluation of Code Generation Models"),
adapted from pass@k to a classifier's per-sample correctness.

ReCode perturbs each prompt s times (s seeds of one transformation) and asks whether the model stays correct in
the worst case. With `clean` the correctness of each of N samples as given (N,) and `perturbed` its correctness
under each of the s perturbed versions (N, s), both bool or 0/1:

- `robust_accuracy` (Robust Pass_s): the share of samples correct under all s perturbed versions.
- `robust_drop` (Robust Drop_s): (clean accuracy - robust accuracy) / clean accuracy: the share of the clean
  accuracy lost in the worst case (None when the clean accuracy is 0). Negative when perturbations fix more
  samples than they break.
- `robust_relative` (Robust Relative_s): the share of samples whose correctness changes in either direction
  under some perturbation: correct but wrong under at least one version (ReCode's RC^-), or wrong but right under
  at least one version (RC^+). ReCode's released script counts RC^+ only where every version is right; the paper's
  "changes in either direction" is what is computed here.

The clean version is not among the s versions (as ReCode's nominal prompt is not).
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["recode_metrics", "robust_accuracy", "robust_drop", "robust_relative"]


def _as_bool(name: str, value: Any, ndim: int) -> torch.Tensor:
    """`value` as a bool tensor of `ndim` dimensions, from bool or 0/1 integers; a clear error otherwise."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name}: expected a tensor of per-sample correctness, got {type(value).__name__}")
    if value.ndim != ndim:
        shape = "(N,)" if ndim == 1 else "(N, s)"
        raise ValueError(f"{name}: expected shape {shape}, got {tuple(value.shape)}")
    if value.dtype == torch.bool:
        return value
    if value.is_floating_point() or value.is_complex():
        raise TypeError(f"{name}: expected bool or 0/1 integers, got {value.dtype}")
    if value.numel() and not bool(((value == 0) | (value == 1)).all()):
        raise ValueError(f"{name}: expected 0/1 values (correct or not), got values outside {{0, 1}}")
    return value.bool()


def _pair(clean: Any, perturbed: Any) -> tuple[torch.Tensor, torch.Tensor]:
    clean_b, perturbed_b = _as_bool("clean", clean, 1), _as_bool("perturbed", perturbed, 2)
    if perturbed_b.shape[0] != clean_b.shape[0]:
        raise ValueError(f"perturbed: expected {clean_b.shape[0]} rows (one per sample of clean), "
                         f"got {perturbed_b.shape[0]}")  # fmt: skip
    _check_sizes(perturbed_b)
    return clean_b.cpu(), perturbed_b.cpu()


def _check_sizes(perturbed: torch.Tensor) -> None:
    if perturbed.shape[0] == 0:
        raise ValueError("perturbed: expected at least one sample")
    if perturbed.shape[1] == 0:
        raise ValueError("perturbed: expected at least one perturbed version per sample (s >= 1)")


def robust_accuracy(perturbed: torch.Tensor) -> float:
    """Robust Pass_s: the share of samples correct under all s perturbed versions; `perturbed` is (N, s)."""
    values = _as_bool("perturbed", perturbed, 2)
    _check_sizes(values)
    return float(values.all(dim=1).double().mean())


def robust_drop(clean: torch.Tensor, perturbed: torch.Tensor) -> float | None:
    """Robust Drop_s: (clean accuracy - robust accuracy) / clean accuracy; None when the clean accuracy is 0."""
    clean_b, perturbed_b = _pair(clean, perturbed)
    nominal = float(clean_b.double().mean())
    if nominal == 0:
        return None
    return (nominal - float(perturbed_b.all(dim=1).double().mean())) / nominal


def robust_relative(clean: torch.Tensor, perturbed: torch.Tensor) -> float:
    """Robust Relative_s: the share of samples whose correctness under some perturbed version differs from
    their clean correctness (right to wrong or wrong to right)."""
    clean_b, perturbed_b = _pair(clean, perturbed)
    return float((perturbed_b != clean_b.unsqueeze(1)).any(dim=1).double().mean())


def recode_metrics(clean: torch.Tensor, perturbed: torch.Tensor) -> dict[str, float | None]:
    """All of them at once: `clean_accuracy`, `robust_accuracy`, `robust_drop`, `robust_relative`, plus
    `broken` (ReCode's RC^-: share of samples right when clean and wrong under some version) and `fixed`
    (RC^+: wrong when clean and right under some version); `robust_relative` = broken + fixed."""
    clean_b, perturbed_b = _pair(clean, perturbed)
    nominal = float(clean_b.double().mean())
    robust = float(perturbed_b.all(dim=1).double().mean())
    broken = float((clean_b & ~perturbed_b.all(dim=1)).double().mean())
    fixed = float((~clean_b & perturbed_b.any(dim=1)).double().mean())
    return {
        "clean_accuracy": nominal,
        "robust_accuracy": robust,
        "robust_drop": None if nominal == 0 else (nominal - robust) / nominal,
        "robust_relative": float((perturbed_b != clean_b.unsqueeze(1)).any(dim=1).double().mean()),
        "broken": broken,
        "fixed": fixed,
    }
