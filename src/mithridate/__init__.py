"""mithridate: measured doses of randomness for ML training data.

import mithridate as mt
policy = mt.image.TrivialAugmentWide(dose=mt.Dose(p=1.0, strength=1.0), seed=0)
augmented = policy(images, index=indices, epoch=epoch)
"""

import importlib
from types import ModuleType

from . import data, image, rng
from .dose import ConstantSchedule, CosineSchedule, Dose, FunctionSchedule, LinearSchedule, Schedule, as_schedule

__version__ = "0.1.0"

__all__ = [
    "ConstantSchedule",
    "CosineSchedule",
    "Dose",
    "FunctionSchedule",
    "LinearSchedule",
    "Schedule",
    "__version__",
    "as_schedule",
    "data",
    "image",
    "rng",
    "tabular",
]


def __getattr__(name: str) -> ModuleType:
    """`mt.tabular` on first use: it imports scikit-learn's estimators, which image users need not load."""
    if name == "tabular":
        return importlib.import_module(f"{__name__}.tabular")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
