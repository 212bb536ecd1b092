"""What each optional part of mithridate needs, and the one line that says how to install it.

The core (`pip install mithridate`: torch, numpy, Pillow, numba) runs every image policy and corruption. The
experiments (`sweep`, `garbage`, `synthetic`, the reports, `mt.tabular`, the digits) need the `experiments` extra;
text and code noise on other languages and the peers of the benchmarks have extras of their own.
"""

from __future__ import annotations

__all__ = ["EXTRAS", "install_hint"]

EXTRAS: dict[str, tuple[str, str]] = {
    "sklearn": ("scikit-learn", "experiments"),
    "skimage": ("scikit-image", "experiments"),
    "scipy": ("scipy", "experiments"),
    "matplotlib": ("matplotlib", "experiments"),
    "tqdm": ("tqdm", "experiments"),
    "jinja2": ("Jinja2", "experiments"),
    "threadpoolctl": ("threadpoolctl", "experiments"),
    "codespell_lib": ("codespell", "text"),
    "tokenizers": ("tokenizers", "text"),
    "transformers": ("transformers", "text"),
    "pygments": ("Pygments", "code"),
    "ray": ("ray[data]", "ray"),
    "nlpaug": ("nlpaug", "bench"),
    "albumentations": ("albumentations", "bench"),
    "kornia": ("kornia", "bench"),
}
"""Top-level module name -> (the package to install, the mithridate extra that has it)."""


def install_hint(error: ModuleNotFoundError) -> str | None:
    """For a missing optional module, one line naming it and the extra to install; None for any other module."""
    top = (error.name or "").partition(".")[0]
    if top not in EXTRAS:
        return None
    package, extra = EXTRAS[top]
    return f"this needs {package}, which is not installed: pip install 'mithridate[{extra}]'"
