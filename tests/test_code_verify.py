"""The verifier (`code.python.verify`) and the coverage report (`code.python.coverage`): verdicts for rewrites and
bugs, the normal form equating only programs that mean the same, pure functions run on hypothesis inputs (with a
time limit), renames through `alpha_equivalent` when present, and bad input."""

from __future__ import annotations

import ast
import importlib.util

import pytest

from mithridate.code import CodeOp, OpPolicy
from mithridate.code.python.bugs import OPS as BUGS
from mithridate.code.python.coverage import coverage_table, format_table
from mithridate.code.python.rewrites import OPS as REWRITES
from mithridate.code.python.stdlib import stdlib_files
from mithridate.code.python.verify import (
    Verdict,
    compare_functions,
    generated_function,
    normal_form,
    runnable,
    verify,
    verify_edited,
)


def function(source: str) -> ast.FunctionDef:
    return ast.parse(source).body[0]  # type: ignore[return-value]


def same_normal_form(a: str, b: str) -> bool:
    return ast.dump(normal_form(ast.parse(a))) == ast.dump(normal_form(ast.parse(b)))


def test_normal_form_undoes_each_rewrite():
    assert same_normal_form("x = a < b.c\n", "x = b.c > a\n")
    assert same_normal_form("if t:\n    a()\nelse:\n    b()\n", "if not (t):\n    b()\nelse:\n    a()\n")
    assert same_normal_form(
        "def f():\n    return 1\n", "def f():\n    _unused = 3\n    if False:\n        pass\n    return 1\n"
    )
    loop = "def f(xs):\n    for x in xs:\n        g(x)\n    else:\n        h()\n"
    assert same_normal_form(loop, REWRITES["for_while"]().edits and _rewrite("for_while", loop))


def test_normal_form_folds_loops_before_dropping_dead_stores_and_matches_functions_by_name():
    source = "def f(n):\n    for i in range(n):\n        x = 1\n"
    assert same_normal_form(source, _rewrite("for_while", source))
    twice = "def g(a: int):\n    if a:\n        def h():\n            return 1\n"
    twice += "    else:\n        def h():\n            return a\n    return h()\n"  # h twice: not matched by order
    assert verify(REWRITES["swap_if"](), twice, _rewrite("swap_if", twice)).ok


def _rewrite(name: str, source: str) -> str:
    return OpPolicy(REWRITES[name](), seed=0)([source], index=[0])[0]


@pytest.mark.parametrize(
    "a, b",
    [
        ("x = a < f()\n", "x = f() > a\n"),  # a call: order of evaluation matters
        ("x = a < b\n", "x = b < a\n"),
        ("def f():\n    return 1\n", "def f():\n    if False:\n        y = 1\n    return 1\n"),  # y made local
        ("x = 1\n", "_unused = 0\nx = 1\n"),  # a module-level name is visible
        ("def f():\n    return y\n", "def f():\n    y = 0\n    return y\n"),  # used elsewhere
        ("if t:\n    a()\nelse:\n    b()\n", "if not t:\n    a()\nelse:\n    b()\n"),
    ],
)
def test_normal_form_never_equates_different_programs(a, b):
    assert not same_normal_form(a, b)


def test_runnable_means_pure():
    assert runnable(function("def f(a, b):\n    return sorted([a, b])[0] + len(str(a))\n"))
    for source in [
        "def f(a):\n    return g(a)\n",  # a global
        "def f(self):\n    return self.x\n",
        "def f(a):\n    yield a\n",
        "def f(a):\n    import os\n    return a\n",
        "@cache\ndef f(a):\n    return a\n",
        "def f(*a):\n    return a\n",
        "def f(a):\n    print(a)\n",
        "async def f(a):\n    return a\n",
    ]:
        assert not runnable(function(source)), source


def test_compare_functions_finds_differences_and_survives_endless_loops():
    a = function("def f(a: int, b: int):\n    return a < b\n")
    b = function("def f(a: int, b: int):\n    return a <= b\n")
    compared, differed = compare_functions(a, b, examples=40)
    assert compared == 40 and 0 < differed < 40
    assert compare_functions(a, a, examples=20) == (20, 0)
    endless = function("def f(a: int):\n    while a != 0:\n        a = a - 2\n    return a\n")
    compared, differed = compare_functions(endless, endless, examples=10, seconds=0.02)
    assert differed == 0 and compared < 10  # odd inputs time out and are left out
    raising = function("def f(s: str):\n    return int(s)\n")
    assert compare_functions(raising, raising, examples=10)[1] == 0  # the same exception counts as the same


def test_bug_verdicts_report_the_share_of_inputs_that_differ():
    source = "def f(a: int, b: int):\n    if a < b:\n        return a - b\n    return b\n"
    verdict = verify(BUGS["wrong_binop"](), source, source.replace("a - b", "a + b"), examples=30)
    assert verdict.ok and "behaviour" in verdict.checks and verdict.ran == 1 and 0 < verdict.share < 1
    same = verify(BUGS["wrong_binop"](), source, source)
    assert not same.ok and "unchanged" in same.reason
    equivalent = source.replace("if a < b", "if a < b or a < b")
    assert not verify(BUGS["wrong_compare"](), source, equivalent, examples=20).ok
    impure = "def f(a):\n    return g(a - 1)\n"
    verdict = verify(BUGS["wrong_binop"](), impure, impure.replace("-", "+"))
    assert verdict.ok and verdict.share is None and verdict.ran == 0


def test_bugs_on_generated_functions_mostly_change_behaviour():
    shares = []
    for seed in range(10):
        source = generated_function(seed)
        for name in ("wrong_compare", "removed_not", "swapped_args"):
            out = OpPolicy(BUGS[name](), seed=seed)([source], index=[0])[0]
            if out != source:
                verdict = verify(BUGS[name](), source, out, examples=25)
                assert "ast_changed" in verdict.checks
                shares.append(verdict.share is not None and verdict.share > 0)
    assert sum(shares) >= len(shares) / 3


def test_preserving_verdicts():
    source = 'def f(a):\n    """Doc."""\n    return a  # c\n'
    assert verify(REWRITES["drop_comments"](), source, source.replace("  # c", "")).checks == ("compiles", "ast")
    assert verify(REWRITES["drop_docstrings"](), source, source.replace('    """Doc."""\n', ""))
    assert not verify(REWRITES["drop_comments"](), source, source.replace('"""Doc."""', "pass"))
    broken = verify(REWRITES["blank_lines"](), source, source + "  x = (\n")
    assert not broken.ok and "does not compile" in broken.reason
    out = OpPolicy(REWRITES["swap_if"](), seed=0).augment(["if x:\n    a()\nelse:\n    b()\n"], index=[0])[0]
    assert verify_edited(REWRITES["swap_if"](), out).ok
    assert verify_edited(REWRITES["swap_if"](), OpPolicy(REWRITES["swap_if"](), seed=0).augment(["x = 1\n"])[0])


class Renamer(CodeOp):
    name = "test_rename"
    stream = 0xC3_FFFF
    kind = "rename"
    preserving = True

    def edits(self, source, draws):
        return []


def test_renames_use_alpha_equivalence_when_present():
    source, renamed = "def f(a):\n    return a\n", "def f(b):\n    return b\n"
    verdict = verify(Renamer(), source, renamed)
    if importlib.util.find_spec("mithridate.code.python.equivalence") is None:
        assert verdict.ok and "not available" in verdict.reason
    else:
        assert verdict.ok and "alpha" in verdict.checks
        assert not verify(Renamer(), source, "def f(b):\n    return a\n").ok


def test_bad_input():
    with pytest.raises(TypeError, match="CodeOp"):
        verify("swap_if", "x = 1\n", "x = 1\n")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="original: expected Python source"):
        verify(REWRITES["swap_if"](), 3, "x = 1\n")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="EditedCode"):
        verify_edited(REWRITES["swap_if"](), "x = 1\n")  # type: ignore[arg-type]
    assert isinstance(verify(REWRITES["swap_if"](), b"x = 1\n", b"x = 1\n"), Verdict)
    with pytest.raises(ValueError, match="limit"):
        coverage_table(limit=0)
    with pytest.raises(ValueError, match="directory"):
        stdlib_files(root="/nonexistent/path")


def test_coverage_table_on_a_sample():
    files = stdlib_files()
    assert files and not any(part in ("test", "tests", "idlelib") for path in files for part in path.parts[-3:-1])
    ops = [REWRITES["swap_if"](), REWRITES["blank_lines"](), BUGS["removed_not"]()]
    sample = [path for path in files if path.name in ("bisect.py", "colorsys.py", "heapq.py", "textwrap.py")]
    rows = coverage_table(ops, files=sample, examples=5)
    assert [row.op for row in rows] == ["swap_if", "blank_lines", "removed_not"]
    for row in rows:
        assert row.files == len(sample) and row.functions > 20 and row.errors == 0
        assert 0 < row.applies <= row.functions and row.compiled == row.outputs > 0
    assert rows[1].applies_share == 1.0 and rows[1].verified_share == 1.0
    assert rows[0].ran > 0  # colorsys and bisect have pure functions
    table = format_table(rows)
    assert table.count("\n") == 4 and "| swap_if | rewrite |" in table
