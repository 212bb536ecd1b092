"""Plans: what a policy decided for each sample, as plain tensors that can be printed, logged and replayed.

A plan holds, for N samples, W chains of D steps: `ops` (op ids of `mithridate.image.ops.OPS`) and
`magnitudes` in the op table's units, both shaped (N, W, D). Single-chain policies (TrivialAugment,
RandAugment, AutoAugment) have W = 1 and no weights; mixing policies (AugMix) also carry `weights`
(N, W + 1): the share of the original image first, then one per chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .._backend.transfer import to_device
from .ops import OPS, check_magnitudes

__all__ = ["Plan"]


def _format_magnitude(op: int, magnitude: float) -> str:
    spec = OPS[op]
    if spec.name == "Identity":
        return spec.name
    if spec.name in ("AutoContrast", "Equalize", "Invert"):
        return spec.name if magnitude >= 1.0 else f"{spec.name} {magnitude:.2f}"
    if spec.integer:
        return f"{spec.name} {int(magnitude)}{spec.unit}"
    if spec.name in ("TranslateX", "TranslateY"):  # applied truncated to whole pixels
        return f"{spec.name} {int(magnitude):+d}{spec.unit}"
    if spec.name == "Solarize":
        return f"{spec.name} >={magnitude:.2f}"
    return f"{spec.name} {magnitude:+.3g}{spec.unit}"


@dataclass(frozen=True, eq=False)
class Plan:
    """Per-sample ops and magnitudes (N, W, D), and for mixing policies the weights (N, W + 1)."""

    ops: torch.Tensor
    magnitudes: torch.Tensor
    weights: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.ops.ndim != 3 or self.ops.dtype != torch.int64:
            raise ValueError(
                f"Plan.ops: expected an int64 tensor shaped (N, W, D), got {self.ops.dtype} {tuple(self.ops.shape)}"
            )
        if self.magnitudes.shape != self.ops.shape or not self.magnitudes.is_floating_point():
            raise ValueError(
                f"Plan.magnitudes: expected a float tensor shaped like ops {tuple(self.ops.shape)}, "
                f"got {self.magnitudes.dtype} {tuple(self.magnitudes.shape)}"
            )
        if self.ops.numel() and bool(((self.ops < 0) | (self.ops >= len(OPS))).any()):
            raise ValueError(f"Plan.ops: expected op ids in [0, {len(OPS)}), got {self.ops.min()}..{self.ops.max()}")
        check_magnitudes(self.ops, self.magnitudes)
        n, w, _ = self.ops.shape
        if self.weights is None:
            if w != 1:
                raise ValueError(f"Plan.weights: a plan with {w} chains needs mixing weights shaped ({n}, {w + 1})")
        elif self.weights.shape != (n, w + 1):
            raise ValueError(f"Plan.weights: expected shape ({n}, {w + 1}), got {tuple(self.weights.shape)}")

    @classmethod
    def drawn(cls, ops: torch.Tensor, magnitudes: torch.Tensor, weights: torch.Tensor | None = None) -> Plan:
        """A plan a policy drew: shapes and dtypes are checked, values are not.

        A policy's draws are valid by construction; checking their values would read the device's memory
        back to the host, a synchronisation per batch on a GPU. Plans from anywhere else use `Plan(...)`.
        """
        if ops.ndim != 3 or ops.dtype != torch.int64 or magnitudes.shape != ops.shape:
            raise ValueError(f"Plan.drawn: expected int64 ops and float magnitudes shaped (N, W, D), got {ops.shape}")
        plan = object.__new__(cls)
        object.__setattr__(plan, "ops", ops)
        object.__setattr__(plan, "magnitudes", magnitudes)
        object.__setattr__(plan, "weights", weights)
        return plan

    @property
    def num_samples(self) -> int:
        return self.ops.shape[0]

    @property
    def chains(self) -> int:
        return self.ops.shape[1]

    @property
    def depth(self) -> int:
        return self.ops.shape[2]

    @property
    def device(self) -> torch.device:
        return self.ops.device

    def __len__(self) -> int:
        return self.num_samples

    def touched(self) -> torch.Tensor:
        """Bool (N,): which samples the plan changes at all."""
        changes = (self.ops != 0).flatten(1).any(dim=1)
        if self.weights is not None:
            changes &= self.weights[:, 0] < 1.0
        return changes

    def to(self, device: torch.device | str) -> Plan:
        """The plan on `device`; from the host to CUDA without waiting (`_backend.transfer.to_device`). Its values
        were checked where it was made: they are not read again."""
        weights = None if self.weights is None else to_device(self.weights, device)
        return Plan.drawn(to_device(self.ops, device), to_device(self.magnitudes, device), weights)

    def __getitem__(self, index: Any) -> Plan:
        """A sub-plan for a slice, an index tensor or a boolean mask of samples."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        weights = None if self.weights is None else self.weights[index]
        return Plan(self.ops[index], self.magnitudes[index], weights)

    @staticmethod
    def cat(plans: list[Plan]) -> Plan:
        """Join plans of the same structure along the sample axis."""
        weights = None if plans[0].weights is None else torch.cat([p.weights for p in plans])  # type: ignore[misc]
        return Plan(torch.cat([p.ops for p in plans]), torch.cat([p.magnitudes for p in plans]), weights)

    def describe(self, i: int) -> str:
        """One sample's plan in words, e.g. 'Rotate -31.5°' or 'ShearX +0.3 → Posterize 4 bits'."""
        ops = self.ops[i].tolist()
        magnitudes = self.magnitudes[i].tolist()
        chains = []
        for chain_ops, chain_magnitudes in zip(ops, magnitudes, strict=True):
            steps = [_format_magnitude(op, m) for op, m in zip(chain_ops, chain_magnitudes, strict=True) if op != 0]
            chains.append(" → ".join(steps) if steps else "Identity")
        if self.weights is None:
            return chains[0]
        weights = self.weights[i].tolist()
        parts = [f"{weights[0]:.2f}·original"] + [f"{w:.2f}·[{c}]" for w, c in zip(weights[1:], chains, strict=True)]
        return " + ".join(parts)

    def to_records(self) -> list[dict[str, Any]]:
        """JSON-ready records, one per sample, for logging or replay."""
        records = []
        weights = None if self.weights is None else self.weights.tolist()
        for i, (ops, magnitudes) in enumerate(zip(self.ops.tolist(), self.magnitudes.tolist(), strict=True)):
            record: dict[str, Any] = {
                "ops": [[OPS[op].name for op in chain] for chain in ops],
                "magnitudes": magnitudes,
            }
            if weights is not None:
                record["weights"] = weights[i]
            records.append(record)
        return records

    @staticmethod
    def from_records(records: list[dict[str, Any]]) -> Plan:
        """Rebuild a plan from `to_records()` output."""
        from .ops import op_id

        if not records:
            raise ValueError("records: expected at least one record")
        ops = [[[op_id(name) for name in chain] for chain in r["ops"]] for r in records]
        magnitudes = torch.tensor([r["magnitudes"] for r in records], dtype=torch.float32)
        weights = None
        if "weights" in records[0]:
            weights = torch.tensor([r["weights"] for r in records], dtype=torch.float32)
        return Plan(torch.tensor(ops, dtype=torch.int64), magnitudes, weights)

    def __repr__(self) -> str:
        n, w, d = self.ops.shape
        head = f"Plan({n} samples, {w} chain{'s' if w != 1 else ''} x {d} step{'s' if d != 1 else ''})"
        shown = [f"  [{i}] {self.describe(i)}" for i in range(min(n, 8))]
        if n > 8:
            shown.append(f"  ... {n - 8} more")
        return "\n".join([head, *shown])
