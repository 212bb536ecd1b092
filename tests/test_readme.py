"""The README's Python tour runs as written (with a small Hugging Face tokenizer trained offline for its
`tokenizer`), and every relative link of the README and the docs names a file that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def small_tokenizer():
    tokenizers = pytest.importorskip("tokenizers", reason="tokenizers (dev extra) trains the tour's tokenizer")
    transformers = pytest.importorskip("transformers", reason="transformers (dev extra) wraps it")
    tok = tokenizers.Tokenizer(tokenizers.models.WordPiece(unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(["the cat sat on the mat"] * 20, tokenizers.trainers.WordPieceTrainer(vocab_size=60,
                            special_tokens=specials))  # fmt: skip
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]",
    )  # fmt: skip


def test_the_readme_tour_runs():
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert blocks, "the README has a Python tour"
    namespace = {"tokenizer": small_tokenizer()}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["out"].shape == (256, 3, 32, 32) and namespace["corrupted"].shape == (256, 3, 32, 32)
    assert namespace["typos"](["a sentence with words"], index=[0])[0].count(" ") == 3
    assert namespace["rename"](["def f(a):\n    return a\n"], index=[0])[0].endswith("\n")


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
SNIPPET = re.compile(r'^-{1,3}8<-{1,3}\s+"([^":]+)(?::[^"]*)?"', flags=re.M)


def test_relative_links_name_existing_files():
    """Links resolve from the page; a docs page links only inside docs/ (the site is built from docs/ alone:
    `mkdocs build --strict` fails on any other), and includes files from elsewhere with a snippet
    (`--8<-- "path"`, from the repository's root)."""
    docs = ROOT / "docs"
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted(docs.rglob("*.md"))]
    broken = []
    for page in pages:
        text = page.read_text()
        for target in LINK.findall(text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path = (page.parent / target).resolve()
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif page.is_relative_to(docs) and not path.is_relative_to(docs):
                broken.append(f"{page.relative_to(ROOT)}: {target} (outside docs/: include it with a snippet)")
        broken += [f"{page.relative_to(ROOT)}: snippet {target}" for target in SNIPPET.findall(text)
                   if not (ROOT / target).is_file()]  # fmt: skip
    assert not broken, "\n".join(broken)
