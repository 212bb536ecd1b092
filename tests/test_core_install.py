"""The core install (`pip install mithridate`: torch, numpy, Pillow, numba) runs every image policy and
corruption, checked in a fresh interpreter where the experiments' packages cannot be imported; a command that
needs them says in one line which extra to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from mithridate.extras import EXTRAS, install_hint

EXPERIMENTS = [name for name, (_, extra) in EXTRAS.items() if extra == "experiments"]

BLOCK = f"""
import sys
for name in {EXPERIMENTS!r}:
    sys.modules[name] = None  # `import name` raises ModuleNotFoundError, as where it is not installed
"""


def run(code: str) -> subprocess.CompletedProcess:
    script = BLOCK + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)


def test_every_image_policy_and_corruption_runs_without_the_experiments_extra():
    done = run(
        """
        import torch
        import mithridate as mt
        from mithridate.image.corruptions import CORRUPTIONS, corrupt

        images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
        for text in ["ta_wide", "rand-n2-m9", "auto-cifar10", "auto-imagenet", "auto-svhn", "augmix"]:
            out = mt.image.policy(text, seed=0)(images, index=torch.arange(4))
            assert out.shape == images.shape and out.dtype == torch.uint8
            assert mt.image.policy(text, seed=0)(images.float() / 255, index=torch.arange(4)).dtype == torch.float32
        for name in CORRUPTIONS:
            assert corrupt(images, name, 3, seed=0).shape == images.shape, name
        for name in ["sklearn", "scipy", "skimage", "matplotlib"]:
            assert sys.modules[name] is None, name  # still blocked: nothing above needed it
        print("ran", len(CORRUPTIONS))
        """
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ran 19" in done.stdout


def test_commands_that_need_the_extra_say_what_to_install():
    done = run(
        """
        from mithridate.cli import main
        raise SystemExit(main(["sweep", "--seeds", "1"]))
        """
    )
    assert done.returncode == 2, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mithridate: error: mithridate sweep: this needs ")
    assert lines[0].endswith("pip install 'mithridate[experiments]'")


def test_install_hints_name_the_extra_and_only_for_optional_modules():
    assert install_hint(ModuleNotFoundError("x", name="sklearn.utils")) == (
        "this needs scikit-learn, which is not installed: pip install 'mithridate[experiments]'"
    )
    assert install_hint(ModuleNotFoundError("x", name="pygments")).endswith("'mithridate[code]'")
    assert install_hint(ModuleNotFoundError("x", name="mithridate.nothing")) is None
    assert install_hint(ModuleNotFoundError("x")) is None
