"""Where each op and each corruption lives: its spec, its torch kernel, its compiled CPU kernel and its GPU code.

An op of the auto-augment table has one spec (its `ops.OPS` entry: neutral value, limits, unit) and one
implementation per backend: the torch kernel in `functional` (which `ops.apply_op` or, for the geometric
ops, `ops.geometric_matrices` feeds), the compiled CPU kernel in `native` (dispatched by `native`'s
`apply_op` on the op id), and its branches of the fused GPU kernels in `gpu`. A corruption has its
parameters in `corruptions`' table, one torch kernel in the module of its family, and a compiled kernel in
the corruptions' `KERNELS`; on a GPU its torch kernel runs, with the draws in one Triton launch. The names
below are dotted paths (a `[key]` selects a table entry); `markdown()` prints them as the documentation's
op index, and a test resolves every one.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CORRUPTION_HOMES", "OP_HOMES", "Home", "markdown"]

_FUNCTIONAL = "mithridate.image.functional"
_NATIVE = "mithridate.image.native._kernels"
_GPU = "mithridate.image.gpu._kernels"
_CORRUPTIONS = "mithridate.image.corruptions"


@dataclass(frozen=True)
class Home:
    """The dotted names of one op's or corruption's spec and implementations."""

    spec: str
    torch: tuple[str, ...]
    compiled: tuple[str, ...]
    gpu: tuple[str, ...]


def _geometric(kernel: str) -> Home:
    return Home(
        f"mithridate.image.ops.OPS[{kernel}]",
        (f"{_FUNCTIONAL}.{_snake(kernel)}", "mithridate.image.ops.geometric_matrices"),
        (f"{_NATIVE}.affine_nearest", f"{_NATIVE}.affine_bilinear"),
        (f"{_GPU}._grids_kernel", f"{_GPU}._step_kernel"),
    )


def _point(name: str, kernel: str, compiled: str) -> Home:
    """A point op: on the GPU, a 256-entry table per sample and channel (uint8) or the op itself (float32)."""
    return Home(
        f"mithridate.image.ops.OPS[{name}]",
        (f"{_FUNCTIONAL}.{kernel}", "mithridate.image.ops.apply_op"),
        (f"{_NATIVE}.{compiled}",),
        (f"{_GPU}._tables_kernel", f"{_GPU}._float_point", f"{_GPU}._step_kernel"),
    )


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


OP_HOMES: dict[str, Home] = {
    "Identity": Home(
        "mithridate.image.ops.OPS[Identity]",
        ("mithridate.image.ops.apply_op",),
        (f"{_NATIVE}.copy",),
        (f"{_GPU}._step_kernel",),
    ),
    "ShearX": _geometric("ShearX"),
    "ShearY": _geometric("ShearY"),
    "TranslateX": _geometric("TranslateX"),
    "TranslateY": _geometric("TranslateY"),
    "Rotate": _geometric("Rotate"),
    "Brightness": _point("Brightness", "adjust_brightness", "brightness"),
    "Color": Home(
        "mithridate.image.ops.OPS[Color]",
        (f"{_FUNCTIONAL}.adjust_saturation", "mithridate.image.ops.apply_op"),
        (f"{_NATIVE}.color",),
        (f"{_GPU}._step_kernel",),
    ),
    "Contrast": _point("Contrast", "adjust_contrast", "contrast"),
    "Sharpness": Home(
        "mithridate.image.ops.OPS[Sharpness]",
        (f"{_FUNCTIONAL}.adjust_sharpness", "mithridate.image.ops.apply_op"),
        (f"{_NATIVE}.sharpness",),
        (f"{_GPU}._step_kernel",),
    ),
    "Posterize": _point("Posterize", "posterize", "posterize"),
    "Solarize": _point("Solarize", "solarize", "solarize"),
    "AutoContrast": _point("AutoContrast", "autocontrast", "autocontrast_lut"),
    "Equalize": _point("Equalize", "equalize", "equalize_lut"),
    "Invert": _point("Invert", "invert", "invert_lut"),
}

_FAMILIES = {
    "gaussian_noise": "_noise.gaussian_noise",
    "shot_noise": "_noise.shot_noise",
    "impulse_noise": "_noise.impulse_noise",
    "defocus_blur": "_blur.defocus_blur",
    "glass_blur": "_blur.glass_blur",
    "motion_blur": "_blur.motion_blur",
    "zoom_blur": "_blur.zoom_blur",
    "snow": "_weather.snow",
    "frost": "_weather.frost",
    "fog": "_weather.fog",
    "brightness": "_hsv.brightness",
    "contrast": "_digital.contrast",
    "elastic_transform": "_elastic.elastic_transform",
    "pixelate": "_digital.pixelate",
    "jpeg_compression": "_jpeg.jpeg_compression",
    "speckle_noise": "_noise.speckle_noise",
    "gaussian_blur": "_blur.gaussian_blur_corruption",
    "spatter": "_spatter.spatter",
    "saturate": "_hsv.saturate",
}

CORRUPTION_HOMES: dict[str, Home] = {
    name: Home(
        f"{_CORRUPTIONS}.PARAMS[cifar|imagenet][{name}]",
        (f"{_CORRUPTIONS}.{kernel}",),
        (f"{_CORRUPTIONS}._native.KERNELS[{name}]",),
        (f"{_CORRUPTIONS}.{kernel}", "mithridate._backend.rng_triton.draw"),
    )
    for name, kernel in _FAMILIES.items()
}


def markdown() -> str:
    """The index as the Markdown tables of the documentation's op index page."""
    lines = []
    for title, homes in (("Ops of the auto-augment table", OP_HOMES), ("Corruptions", CORRUPTION_HOMES)):
        header = "| name | spec | torch kernel | compiled CPU kernel | GPU |"
        lines += [f"## {title}", "", header, "|---|---|---|---|---|"]
        for name, home in homes.items():
            cells = [(home.spec,), home.torch, home.compiled, home.gpu]
            lines.append(f"| {name} | " + " | ".join(", ".join(f"`{n}`" for n in names) for names in cells) + " |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
