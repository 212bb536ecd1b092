"""Injected bugs (`code.python.bugs`): exact before/after per kind, one bug per sample with its label, every bug
changing the tree (on hand-written code, generated functions and standard-library files), determinism per
(seed, epoch, index) and bad input."""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mithridate.code import CodeSyntaxError, EditedCode, OpPolicy, SampleDraws
from mithridate.code.python.bugs import OPS, bug_labels
from mithridate.code.python.stdlib import stdlib_files
from mithridate.code.python.verify import generated_function
from mithridate.text.strings import apply_edits


def draws(pick: float = 0.0, variant: float = 0.0) -> SampleDraws:
    def uniform(count: int, sub: int) -> np.ndarray:
        return np.full(count, pick if sub == 0 else variant)

    return SampleDraws(uniform, 1.0, 1.0)


def run(name: str, source: str, pick: float = 0.0, variant: float = 0.0) -> str:
    return apply_edits(source, OPS[name]().edits(source, draws(pick, variant)))


CASES = [
    ("swapped_args", "f(a, a, b)\n", 0.0, 0.0, "f(a, b, a)\n"),
    ("wrong_binop", "x = a + b * c\n", 0.0, 0.0, "x = a - b * c\n"),
    ("wrong_binop", "x = a + b * c\n", 0.9, 0.0, "x = a + b / c\n"),
    ("wrong_binop", "x //= 2\n", 0.0, 0.0, "x /= 2\n"),
    ("wrong_compare", "if a is not None and b < c: pass\n", 0.0, 0.0, "if a is None and b < c: pass\n"),
    ("wrong_compare", "if a is not None and b < c: pass\n", 0.9, 0.0, "if a is not None and b <= c: pass\n"),
    ("wrong_compare", "ok = k not in d\n", 0.0, 0.0, "ok = k in d\n"),
    ("off_by_one", "x = 0x10 + y\n", 0.0, 0.0, "x = 17 + y\n"),
    ("off_by_one", "x = a[0]\n", 0.0, 0.9, "x = a[(-1)]\n"),
    ("off_by_one", "for i in range(n + 2): pass\n", 0.0, 0.0, "for i in range((n + 2) + 1): pass\n"),
    ("off_by_one", "for i in range(len(a)): pass\n", 0.0, 0.9, "for i in range(len(a) - 1): pass\n"),
    ("var_misuse", "def f(a, b):\n    c = a\n    return c\n", 0.0, 0.0, "def f(a, b):\n    c = b\n    return c\n"),
    ("var_misuse", "def f(a, b):\n    c = a\n    return c\n", 0.9, 0.0, "def f(a, b):\n    c = a\n    return a\n"),
    ("removed_not", "if not (a and b): pass\n", 0.0, 0.0, "if (a and b): pass\n"),
]


@pytest.mark.parametrize("name, source, pick, variant, expected", CASES)
def test_before_and_after(name, source, pick, variant, expected):
    assert run(name, source, pick, variant) == expected
    assert ast.dump(ast.parse(expected)) != ast.dump(ast.parse(source))


def test_sites_skip_what_would_not_change_the_tree_or_is_not_code():
    assert OPS["swapped_args"]().sites("f(a, a)\nf(*a, b)\ns = 'f(a, b)'\n") == 0
    assert OPS["off_by_one"]().sites("x = True\nmatch y:\n    case 1:\n        pass\ns = f'{3}'\n") == 0
    assert OPS["var_misuse"]().sites("def f(a):\n    global g\n    g = 1\n    return [a for a in g]\n") == 0
    assert OPS["removed_not"]().sites("x = a is not b\ny = a not in b\n") == 0
    assert OPS["var_misuse"]().sites("def f(a):\n    return a\n") == 0  # no other local


def test_one_bug_per_sample_with_its_label():
    source = "def f(a, b):\n    if a < b and not a:\n        return g(a, b) + 1\n    return a - b\n"
    policy = OpPolicy(OPS["wrong_compare"](), seed=1)
    for name in OPS:
        outs = OpPolicy(OPS[name](), seed=1).augment([source] * 8, index=list(range(8)))
        for out in outs:
            labels = bug_labels(out)
            assert len(labels) == 1
            kind, start, end = labels[0]
            assert kind == name and all(edit.op == f"bug:{name}" for edit in out.edits)
            assert out.text[start:end] == "".join(edit.text for edit in out.edits) or kind == "swapped_args"
            assert ast.dump(ast.parse(out.text)) != ast.dump(ast.parse(source))
    out = policy.augment([source], index=[0])[0]
    assert out.text[bug_labels(out)[0][1] : bug_labels(out)[0][2]] in ("<=", "<", "not in", "is")
    assert bug_labels(EditedCode(source, source, ())) == []
    with pytest.raises(TypeError, match="EditedCode"):
        bug_labels(source)  # type: ignore[arg-type]


def test_swapped_args_label_spans_both_arguments():
    out = OpPolicy(OPS["swapped_args"](), seed=0).augment(["g(first, second)\n"], index=[0])[0]
    assert out.text == "g(second, first)\n" and bug_labels(out) == [("swapped_args", 2, 15)]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), pick=st.floats(0, 0.999), variant=st.floats(0, 0.999))
def test_every_bug_changes_the_tree_of_generated_functions(seed, pick, variant):
    source = generated_function(seed)
    for name in OPS:
        out = run(name, source, pick, variant)
        if OPS[name]().sites(source):
            assert ast.dump(ast.parse(out)) != ast.dump(ast.parse(source)), name
        else:
            assert out == source


def test_every_bug_changes_the_tree_of_stdlib_files():
    files = [path for path in stdlib_files() if path.stat().st_size < 30_000]
    files = files[:: math.ceil(len(files) / 25)]
    rng = np.random.default_rng(0)
    for path in files:
        source = OPS["removed_not"]().parse(path.read_bytes())
        before = ast.dump(source.tree)
        for name, cls in OPS.items():
            op = cls()
            if not op.sites(source):
                continue
            out = apply_edits(source.text, op.edits(source, draws(*rng.random(2))))
            assert ast.dump(ast.parse(out)) != before, (name, path)


def test_determinism_per_seed_epoch_index():
    sources = [generated_function(seed) for seed in range(6)]
    for name in OPS:
        policy = OpPolicy(OPS[name](), seed=3)
        first = policy(sources, index=list(range(6)), epoch=2)
        assert policy(sources[::-1], index=list(range(5, -1, -1)), epoch=2) == first[::-1]
        rich = "def f(a, b, c):\n    d = a + b * 2\n    if not a < b and c != d and not c:\n"
        rich += "        return g(a, b, c) - h(d, 1)\n    return range(c, d)\n"
        assert len(set(policy([rich] * 12, index=list(range(12))))) > 1, name


def test_bad_input():
    for cls in OPS.values():
        with pytest.raises(CodeSyntaxError, match="expected Python code"):
            cls().edits("def f(:\n", draws())
        assert cls().edits("", draws()) == []
    mixed = "def f(a, b):\n\tif a:\n\t        return a + b\n"
    assert run("wrong_binop", mixed) == mixed.replace("+", "-")
    cookie = "# -*- coding: latin-1 -*-\nx = f('caf\xe9', 1)\n".encode("latin-1")
    edits = OPS["swapped_args"]().edits(cookie, draws())
    assert [e.text for e in edits] == ["1", "'caf\xe9'"]
