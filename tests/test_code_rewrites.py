"""Semantics-preserving rewrites (`code.python.rewrites`): exact before/after on hand-written cases, outputs that
compile and keep the tree (or its normal form) over standard-library files, determinism per (seed, epoch, index),
rates linear in strength, strings and comments left alone, and bad input."""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest

from mithridate.code import CodeSyntaxError, OpPolicy, SampleDraws
from mithridate.code.python.rewrites import OPS
from mithridate.code.python.stdlib import stdlib_files
from mithridate.code.python.verify import normal_form, verify, without_docstrings
from mithridate.dose import Dose
from mithridate.text.strings import apply_edits


def draws(rate: float = 1.0, seed: int = 0, values: dict[int, list[float]] | None = None) -> SampleDraws:
    """Draws from a fixed generator (or fixed values per stream)."""

    def uniform(count: int, sub: int) -> np.ndarray:
        if values is not None and sub in values:
            return np.resize(np.asarray(values[sub], dtype=np.float64), count)
        return np.random.default_rng([seed, sub]).random(count)

    return SampleDraws(uniform, rate, 1.0)


def run(name: str, source: str, rate: float = 1.0, **kwargs) -> str:
    op = OPS[name]()
    return apply_edits(source, op.edits(source, draws(rate, **kwargs)))


CASES = {
    "dead_code": (
        "def f(x):\n    return x\n",
        {1: [0.9]},
        "if False:\n    pass\ndef f(x):\n    if False:\n        pass\n    return x\n",
    ),
    "for_while": (
        "def f(xs):\n    for x in xs:  # loop\n        g(x)\n    else:\n        h()\n",
        {},
        "def f(xs):\n    _it = iter(xs)\n    _end = object()\n    while (_item := next(_it, _end)) is not _end:"
        "  # loop\n        x = _item\n        g(x)\n    else:\n        h()\n",
    ),
    "swap_compare": ("ok = a.b < c[0] and f(x) < 1\n", {}, "ok = c[0] > a.b and f(x) < 1\n"),
    "swap_if": (
        "if x > 0:\n    a = 1  # one\nelse:\n    a = 2\n",
        {},
        "if not (x > 0):\n    a = 2\nelse:\n    a = 1  # one\n",
    ),
    "blank_lines": ("a = 1\nb = 2\nc = 3\nd = 4\n", {}, "a = 1\nb = 2\n\nc = 3\n\nd = 4\n"),
    "split_lines": ("f(a, b, [c, d])\n", {}, "f(a,\n    b,\n    [c,\n    d])\n"),
    "drop_comments": (
        "#!/usr/bin/env python\n# coding: utf-8\n# alone\nx = 1  # trailing\ns = '# not a comment'\n",
        {},
        "#!/usr/bin/env python\n# coding: utf-8\nx = 1\ns = '# not a comment'\n",
    ),
    "drop_docstrings": (
        'def f():\n    """Doc."""\n\n\ndef g():\n    """Doc."""\n    return 1\n',
        {},
        "def f():\n    pass\n\n\ndef g():\n    return 1\n",
    ),
    "indentation": (
        "def f(x):\n    if x:\n        return (1,\n                2)\n    # note\n    return 0\n",
        {1: [0.1]},
        "def f(x):\n  if x:\n    return (1,\n            2)\n  # note\n  return 0\n",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_before_and_after(name):
    source, values, expected = CASES[name]
    out = run(name, source, values=values)
    assert out == expected
    compile(out, name, "exec")


def test_swap_if_unwraps_not_and_skips_elif():
    source = "if not x:\n    a()\nelse:\n    b()\nif y:\n    c()\nelif z:\n    d()\nelse:\n    e()\n"
    assert OPS["swap_if"]().sites(source) == 1
    assert run("swap_if", source) == "if x:\n    b()\nelse:\n    a()\n" + source.split("b()\n", 1)[1]


def test_for_while_keeps_tuple_iterables_and_inline_bodies():
    out = run("for_while", "def f():\n    for a, b in 1, 2: g(a)\n")
    assert "_it = iter((1, 2))" in out and "while (_item := next(_it, _end)) is not _end: a, b = _item; g(a)" in out
    assert OPS["for_while"]().sites("for x in y:\n    pass\nclass C:\n    for x in y:\n        pass\n") == 0


def test_dead_code_never_before_docstrings_future_imports_or_elif():
    source = '"""Doc."""\nfrom __future__ import annotations\nif a:\n    pass\nelif b:\n    pass\n'
    passes = [i for i in range(len(source)) if source.startswith("    pass", i)]
    assert OPS["dead_code"]().site_offsets(source) == [source.index("if a"), *passes]


def test_typos_touch_only_docstrings_and_comments():
    source = 'def f(text):\n    """Hello world \\n done."""\n    return "hello world"  # hello there\n'
    docs = run("docstring_typos", source)
    assert docs.count('return "hello world"  # hello there') == 1 and docs != source
    assert "\\n" in docs  # escapes kept
    comments = run("comment_typos", source)
    assert comments.split("#")[0] == source.split("#")[0] and comments != source


def test_swap_compare_skips_calls_chains_and_strings():
    source = "a = f(x) < y\nb = x < y < z\nc = 'p < q'\nd = (x) < y\n"
    assert OPS["swap_compare"]().sites(source) == 0


@pytest.mark.parametrize("name", sorted(OPS))
def test_strings_stay_byte_for_byte(name):
    source = 'def f(a, b):\n    s = """x < y, if a:\n    for b in c: pass\n"""\n    return s, [a, b]\n'
    out = run(name, source)
    assert '"""x < y, if a:\n    for b in c: pass\n"""' in out


def _sample(count: int) -> list:
    """`count` standard-library files under 30 kB, spread over the library."""
    files = [path for path in stdlib_files() if path.stat().st_size < 30_000]
    step = math.ceil(len(files) / count)
    return files[::step][:count]


@pytest.fixture(scope="module")
def stdlib_sources():
    return [path.read_bytes() for path in _sample(30)]


@pytest.mark.parametrize("name", sorted(OPS))
def test_outputs_over_stdlib_compile_and_verify(name, stdlib_sources):
    op = OPS[name]()
    edited = 0
    for i, raw in enumerate(stdlib_sources):
        source = op.parse(raw)
        out = apply_edits(source.text, op.edits(source, draws(min(op.reference_rate * 2, 1.0), seed=i)))
        if out == source.text:
            continue
        edited += 1
        before, after = ast.parse(source.text), ast.parse(out)  # compiles
        if op.check == "ast":
            assert ast.dump(before) == ast.dump(after), name
        elif op.check == "ast_without_docstrings":
            assert ast.dump(without_docstrings(before)) == ast.dump(without_docstrings(after)), name
        else:
            assert ast.dump(normal_form(before)) == ast.dump(normal_form(after)), name
    assert edited >= 10


@pytest.mark.parametrize("name", ["dead_code", "for_while", "swap_compare", "swap_if"])
def test_behaviour_kept_on_generated_functions(name):
    from mithridate.code.python.verify import generated_function

    op, ran = OPS[name](), 0
    for seed in range(12):
        source = generated_function(seed)
        out = apply_edits(source, op.edits(source, draws(0.6, seed=seed)))
        verdict = verify(op, source, out, examples=15)
        assert verdict.ok, (verdict, source, out)
        ran += verdict.ran
    assert ran >= 6


def test_the_verifier_rejects_a_wrong_rewrite():
    source = "def f(a: int, b: int):\n    if a < b:\n        return 1\n    else:\n        return 2\n"
    wrong = source.replace("if a < b", "if not (a < b)")
    verdict = verify(OPS["swap_if"](), source, wrong, examples=20)
    assert not verdict.ok and "normal forms" in verdict.reason
    assert not verify(OPS["blank_lines"](), source, source.replace("return 2", "return 3"))
    assert not verify(OPS["blank_lines"](), source, source + "def (:\n")


@pytest.mark.parametrize("name", sorted(OPS))
def test_same_draws_same_output_and_policy_determinism(name):
    source = CASES.get(name, CASES["swap_if"])[0] * 3 if name in CASES else CASES["drop_docstrings"][0]
    policy = OpPolicy(OPS[name](), seed=4)
    first = policy([source] * 6, index=list(range(6)), epoch=1)
    assert policy([source] * 6, index=list(range(6)), epoch=1) == first
    assert policy([source] * 2, index=[5, 4], epoch=1) == first[5:3:-1]


@pytest.mark.parametrize("name", ["blank_lines", "split_lines", "dead_code", "comment_typos"])
def test_rate_linear_in_strength(name):
    source = "x = f(a, b, c, d)  # some comment here\n" * 40 + "def g(p, q):\n" + "    y = h(p, q)\n" * 40
    op = OPS[name]()
    sites = op.sites(source)
    means = {}
    for strength in (0.5, 1.0):
        policy = OpPolicy(op, seed=2, dose=Dose(1.0, strength))
        means[strength] = np.mean([len(o.edits) for o in policy.augment([source] * 60, index=list(range(60)))])
    expected = min(op.reference_rate, 1.0) * sites
    assert means[1.0] == pytest.approx(expected, rel=0.2)
    assert means[0.5] == pytest.approx(expected / 2, rel=0.25)


def test_bad_input():
    op = OPS["blank_lines"]()
    for name, cls in OPS.items():
        with pytest.raises(CodeSyntaxError):
            cls().edits("def f(:\n  return [\n", draws())
        assert cls().sites("") == 0, name
        assert cls().edits("", draws()) == []
    with pytest.raises(TypeError, match="str or bytes"):
        op.sites(3)
    mixed = "if x:\n\tif y:\n\t        a = 1\n\tb = 2\n"
    out = run("indentation", mixed)
    assert ast.dump(ast.parse(out)) == ast.dump(ast.parse(mixed)) and "\t" not in out
    cookie = "# -*- coding: latin-1 -*-\ndef f():\n    return 'caf\xe9'  # caf\xe9\n".encode("latin-1")
    out = OPS["drop_comments"]().edits(cookie, draws())
    assert [e.text for e in out] == [""] and "coding" not in "".join(e.text for e in out)


def test_op_streams_are_distinct_and_in_range():
    from mithridate.code.python.bugs import OPS as BUGS

    streams = [cls.stream for cls in (*OPS.values(), *BUGS.values())]
    assert len(set(streams)) == len(streams) and all(0xC3_0000 <= s < 0xC4_0000 for s in streams)
    assert all(cls.preserving and cls.kind in ("rewrite", "format") for cls in OPS.values())
