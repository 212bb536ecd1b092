"""Tabular data: random probes (shadow features) that show which features are no better than noise, and
synthetic rows measured the same way. `RandomProbeSelector` is a scikit-learn feature selector;
`smote_rows` interpolates new rows between same-class neighbours.
"""

from .random_probe import RandomProbeSelector
from .synthetic import smote_rows

__all__ = ["RandomProbeSelector", "smote_rows"]
