"""mithridate: measured doses of randomness for ML training data.

import mithridate as mt
policy = mt.image.TrivialAugmentWide(dose=mt.Dose(p=1.0, strength=1.0), seed=0)
augmented = policy(images, index=indices, epoch=epoch)
"""

from . import image, rng
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
    "image",
    "rng",
]
