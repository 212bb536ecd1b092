"""The dose of randomness, one object for every policy: `Dose(p, strength)` and schedules over training.

`p` is the chance that a sample is touched at all; `strength` scales the magnitude range of each op
(1 is the published range, above 1 an overdose). A schedule maps training progress in [0, 1] to a Dose,
so a dose can ramp up or decay while a model trains.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ConstantSchedule",
    "CosineSchedule",
    "Dose",
    "FunctionSchedule",
    "LinearSchedule",
    "Schedule",
    "as_schedule",
    "dose_keys",
    "format_number",
]


def _check_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    return value


@dataclass(frozen=True)
class Dose:
    """How much randomness a policy gives: `p` in [0, 1], the chance a sample is augmented, and
    `strength` >= 0, the scale of the magnitude range (1 = published range, above 1 = overdose)."""

    p: float = 1.0
    strength: float = 1.0

    def __post_init__(self) -> None:
        p = _check_number("Dose.p", self.p)
        strength = _check_number("Dose.strength", self.strength)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dose.p: expected a probability in [0, 1], got {p}")
        if strength < 0.0:
            raise ValueError(f"Dose.strength: expected a non-negative scale (1 = published range), got {strength}")
        object.__setattr__(self, "p", p)
        object.__setattr__(self, "strength", strength)

    @property
    def is_zero(self) -> bool:
        """True when no sample can be touched (p = 0 or strength = 0)."""
        return self.p == 0.0 or self.strength == 0.0

    def interpolate(self, other: Dose, weight: float) -> Dose:
        """The dose a fraction `weight` of the way from this one to `other`."""
        return Dose(
            p=self.p + (other.p - self.p) * weight,
            strength=self.strength + (other.strength - self.strength) * weight,
        )


def _check_progress(progress: float) -> float:
    progress = _check_number("progress", progress)
    if not 0.0 <= progress <= 1.0:
        raise ValueError(f"progress: expected training progress in [0, 1], got {progress}")
    return progress


class Schedule(ABC):
    """A dose as a function of training progress in [0, 1]."""

    def __call__(self, progress: float) -> Dose:
        return self.at(_check_progress(progress))

    @abstractmethod
    def at(self, progress: float) -> Dose:
        """The dose at a validated progress."""

    def doses(self, progress: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(p, strength) as float64 arrays at many progress values in [0, 1], the values `at` gives one by one.

        Here one call of `at` per value; the ramps compute the same float64 arithmetic on whole arrays.
        """
        doses = [self.at(value) for value in progress.tolist()]
        return np.array([d.p for d in doses], dtype=np.float64), np.array([d.strength for d in doses], np.float64)


@dataclass(frozen=True)
class ConstantSchedule(Schedule):
    """The same dose all through training."""

    dose: Dose = Dose()

    def at(self, progress: float) -> Dose:
        return self.dose

    def doses(self, progress: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.full(progress.shape, self.dose.p), np.full(progress.shape, self.dose.strength)


def _check_window(begin: float, end: float) -> None:
    if not 0.0 <= begin < end <= 1.0:
        raise ValueError(f"begin, end: expected 0 <= begin < end <= 1, got begin={begin}, end={end}")


@dataclass(frozen=True)
class LinearSchedule(Schedule):
    """A linear ramp from `start` to `stop` between progress `begin` and `end`, flat outside."""

    start: Dose
    stop: Dose
    begin: float = 0.0
    end: float = 1.0

    def __post_init__(self) -> None:
        _check_window(self.begin, self.end)

    def at(self, progress: float) -> Dose:
        weight = min(max((progress - self.begin) / (self.end - self.begin), 0.0), 1.0)
        return self.start.interpolate(self.stop, weight)

    def doses(self, progress: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        weight = np.clip((progress - self.begin) / (self.end - self.begin), 0.0, 1.0)
        start, stop = self.start, self.stop
        return start.p + (stop.p - start.p) * weight, start.strength + (stop.strength - start.strength) * weight


@dataclass(frozen=True)
class CosineSchedule(Schedule):
    """A half-cosine from `start` to `stop` between progress `begin` and `end`, flat outside."""

    start: Dose
    stop: Dose
    begin: float = 0.0
    end: float = 1.0

    def __post_init__(self) -> None:
        _check_window(self.begin, self.end)

    def at(self, progress: float) -> Dose:
        weight = min(max((progress - self.begin) / (self.end - self.begin), 0.0), 1.0)
        return self.start.interpolate(self.stop, 0.5 - 0.5 * math.cos(math.pi * weight))


@dataclass(frozen=True)
class FunctionSchedule(Schedule):
    """Any callable from progress to a Dose (or to a strength, as a number)."""

    function: Callable[[float], Dose | float]

    def at(self, progress: float) -> Dose:
        value = self.function(progress)
        if isinstance(value, Dose):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return Dose(strength=value)
        raise TypeError(f"schedule function: expected it to return a Dose or a number, got {type(value).__name__}")


def as_schedule(dose: Dose | Schedule | Callable[[float], Dose | float] | None) -> Schedule:
    """Accept a Dose, a Schedule, a callable or None (the full published dose) as a Schedule."""
    if dose is None:
        return ConstantSchedule(Dose())
    if isinstance(dose, Dose):
        return ConstantSchedule(dose)
    if isinstance(dose, Schedule):
        return dose
    if callable(dose):
        return FunctionSchedule(dose)
    raise TypeError(f"dose: expected a Dose, a Schedule or a callable of progress, got {type(dose).__name__}")


def format_number(value: float) -> str:
    """A number as the policy strings of every modality write it: the shortest digits that read back as the same
    float, never in exponent notation (whose '-' would split the string)."""
    return np.format_float_positional(float(value), trim="-")


def dose_keys(schedule: Schedule) -> list[str]:
    """The `p<prob>` and `s<strength>` keys of a policy string for a constant dose, defaults (1) omitted; none
    for a dose that changes over training (a policy string does not carry a schedule)."""
    if not isinstance(schedule, ConstantSchedule):
        return []
    dose = schedule.dose
    return [f"{key}{format_number(value)}" for key, value in (("p", dose.p), ("s", dose.strength)) if value != 1.0]
