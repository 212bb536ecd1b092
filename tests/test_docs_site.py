"""The documentation site builds with `mkdocs build --strict` (a broken link, a missing snippet or a reference that
does not resolve fails it), its API reference documents each public module's `__all__` and nothing private, the
getting-started page's Python runs as written, and the pages render in headless Chromium."""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The API reference: page -> the modules it documents.
API_PAGES = {
    "mithridate": ["mithridate", "mithridate.rng"],
    "image": ["mithridate.image"],
    "image-corruptions": ["mithridate.image.corruptions"],
    "image-functional": ["mithridate.image.functional"],
    "text-tokens": ["mithridate.text.tokens"],
    "text-strings": ["mithridate.text.strings"],
    "code": ["mithridate.code"],
    "tabular": ["mithridate.tabular"],
    "data": ["mithridate.data", "mithridate.data.text", "mithridate.data.code"],
    "meters": ["mithridate.meters"],
    "integrations": ["mithridate.integrations"],
    "experiments": [
        "mithridate.experiments.records",
        "mithridate.experiments.studies.sweep",
        "mithridate.experiments.studies.garbage",
        "mithridate.experiments.studies.synthetic",
        "mithridate.experiments.summary",
        "mithridate.experiments.variance",
        "mithridate.experiments.engine",
        "mithridate.experiments.store",
        "mithridate.experiments.tasks",
        "mithridate.experiments.corrupt_folder",
    ],
}
GUIDES = [
    "getting-started", "image-policies", "corruptions", "sweep", "experiments", "garbage", "text-tokens",
    "text-strings", "text-sweep", "code-python-noise", "code-rewrites-bugs", "code-languages", "code-sweep", "speed",
    "text-bench", "code-bench", "gpu", "exactness", "layout", "changelog", "bench/cpu", "bench/cuda", "bench/text",
]  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    needed = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers", "pymdownx")
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (the docs extra: pip install -e '.[docs]')")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-5000:]
    return out


def _page(site: Path, name: str) -> str:
    path = site / name / "index.html" if name else site / "index.html"
    assert path.is_file(), f"{name or 'home'}: no page"
    return path.read_text()


def test_every_page_is_built(site):
    _page(site, "")
    for name in [*GUIDES, "api", *(f"api/{page}" for page in API_PAGES)]:
        _page(site, name)
    changelog = _page(site, "changelog")
    assert "Unreleased" in changelog, "the changelog page includes CHANGELOG.md"
    assert "Images per second, median" in _page(site, "bench/cpu"), "the table pages include benchmarks/results"


def _public_names(module: ModuleType) -> list[str]:
    return [name for name in module.__all__ if not isinstance(getattr(module, name), ModuleType)]


@pytest.mark.parametrize("page", sorted(API_PAGES))
def test_the_api_reference_documents_each_modules_all(site, page):
    html = _page(site, f"api/{page}")
    anchors = set(re.findall(r'id="(mithridate[\w.]*)"', html))
    for module_name in API_PAGES[page]:
        module = importlib.import_module(module_name)
        assert module_name in anchors, f"{module_name}: not documented on api/{page}"
        public = _public_names(module)
        missing = [name for name in public if f"{module_name}.{name}" not in anchors]
        assert not missing, f"{module_name}: names of __all__ missing from api/{page}: {missing}"
        members = {a[len(module_name) + 1 :].split(".")[0] for a in anchors if a.startswith(module_name + ".")}
        documented = [m for modules in API_PAGES.values() for m in modules]
        submodules = {m.rsplit(".", 1)[1] for m in documented if m.startswith(module_name + ".")}
        extra = members - set(public) - submodules
        assert not extra, f"{module_name}: api/{page} documents names outside __all__: {sorted(extra)}"
    private = sorted(a for a in anchors if re.search(r"\._[^_]|\.__(post_init|repr|eq|hash)__", a))
    assert not private, f"api/{page} documents private names: {private[:10]}"


def test_the_getting_started_python_runs_as_written():
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "getting-started.md").read_text(), flags=re.S)
    assert len(blocks) >= 5
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/getting-started.md", "exec"), namespace)
    assert namespace["out"].shape == (64, 3, 32, 32) and namespace["foggy"].shape == (64, 3, 32, 32)


def _dump_dom(url: str, profile: Path) -> str:
    command = [
        "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--dump-dom", "--virtual-time-budget=3000", url,
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not on PATH (CI installs it in .ci/run)")
def test_pages_render_in_headless_chromium(site, tmp_path):
    home = _dump_dom((site / "index.html").as_uri(), tmp_path / "profile-home")
    assert re.search(r"<h1[^>]*>\s*mithridate", home), home[:500]
    home_text = re.sub(r"<[^>]+>", "", home)
    assert "Getting started" in home_text and "API reference" in home_text, "the navigation is rendered"
    assert "mt.image.policy(" in home_text, "the quick start is rendered"

    api = _dump_dom((site / "api" / "image" / "index.html").as_uri(), tmp_path / "profile-api")
    text = re.sub(r"<[^>]+>", " ", api)
    assert re.search(r'<h1 id="mithridate\.image"', api), api[:500]
    assert "TrivialAugmentWide" in text and "RandAugment" in text, "the policy classes are rendered"
    assert "apply_plan" in text
