"""`code.python.equivalence.alpha_equivalent`: accepts consistent, injective renamings of renamable definitions
(checked by running both programs), rejects real changes (a swapped variable, a renamed attribute, builtin, import
or class attribute, a collision, a capture, a keyword call site left behind, a changed constant), and bad input."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mithridate.code import CodeSyntaxError
from mithridate.code.python.equivalence import alpha_equivalent, same_shape
from mithridate.code.python.scopes import analyze, locate

BASE = textwrap.dedent(
    """
    import os
    LIMIT = 3

    def scale(value, factor=2, *rest, label="x", **extra):
        total = value * factor
        def inner():
            nonlocal total
            total += 1
            return total
        squares = [n * n for n in range(LIMIT) if (last := n)]
        return inner() + sum(squares) + last, f"{label}:{total!r}"

    class Box:
        size = 4
        def grow(self, amount):
            self.size += amount
            return self.size

    try:
        result = scale(3, factor=4, label="y")
    except ValueError as error:
        result = error
    match result:
        case (number, text):
            pair = number, text
    """
)


def run(source: str) -> object:
    namespace: dict = {}
    exec(compile(source, "<test>", "exec"), namespace)
    return namespace.get("__result__")


def test_the_same_source_and_consistent_renamings_are_equivalent():
    assert alpha_equivalent(BASE, BASE)
    renamed = (BASE.replace("total", "VAR_0").replace("squares", "VAR_1").replace("inner", "FUNC_0")
               .replace("value", "VAR_2").replace("factor", "VAR_3").replace("Box", "CLASS_0")
               .replace("error", "VAR_4").replace("number", "VAR_5").replace("last", "VAR_6"))  # fmt: skip
    assert alpha_equivalent(BASE, renamed)
    # the keyword argument at the call follows the parameter: renaming one without the other is not equivalent
    assert not alpha_equivalent(BASE, BASE.replace("factor=2", "ratio=2").replace("* factor", "* ratio"))
    assert alpha_equivalent(BASE, BASE.replace("factor", "ratio"))


@pytest.mark.parametrize(
    "changed, why",
    [
        (BASE.replace("total = value * factor", "total = factor * value"), "swapped variables"),
        (BASE.replace("self.size += amount", "self.volume += amount"), "a renamed attribute"),
        (BASE.replace("size", "volume"), "a renamed class attribute (and attribute)"),
        (BASE.replace("range", "span"), "a renamed builtin"),
        (BASE.replace("import os", "import os as system"), "a renamed import"),
        (BASE.replace("total", "squares"), "a collision of two definitions"),
        (BASE.replace("value * factor", "value * LIMIT").replace("factor=2", "LIMIT=2"), "a capture of a global"),
        (BASE.replace('label="y"', 'tag="y"'), "a keyword call site left behind"),
        (BASE.replace("LIMIT = 3", "LIMIT = 4"), "a changed constant"),
        (BASE.replace("n * n", "n + n"), "a changed operator"),
        (BASE.replace("{label}:", "{label}-"), "a changed string"),
        (BASE.replace("def grow", "def expand"), "a renamed method"),
        (BASE + "\nx = 1\n", "an added statement"),
    ],
)
def test_real_changes_are_rejected(changed, why):
    assert changed != BASE
    assert not alpha_equivalent(BASE, changed), why


@pytest.mark.parametrize(
    "source, renamed",
    [
        ("__all__ = ['public']\npublic = 1\nprint(public)\n", "__all__ = ['public']\nVAR_0 = 1\nprint(VAR_0)\n"),
        ("def f():\n    x = 1\n    return locals()\n", "def f():\n    VAR_0 = 1\n    return locals()\n"),
        ("def f():\n    __x__ = 1\n    return __x__\n", "def f():\n    VAR_0 = 1\n    return VAR_0\n"),
        ("class A:\n    def m(self):\n        return len\n", "class A:\n    def FUNC_0(self):\n        return len\n"),
        ("def f():\n    global g\n    return g\n", "def f():\n    global VAR_0\n    return VAR_0\n"),
        ("x = 1\nprint(f'{x=}')\n", "VAR_0 = 1\nprint(f'{VAR_0=}')\n"),
        ("def f(a):\n    return a\nf.__call__(a=1)\n", "def f(VAR_0):\n    return VAR_0\nf.__call__(a=1)\n"),
    ],
    ids=["__all__", "locals", "dunder", "method", "global-undefined", "debug-fstring", "keyword-unresolved"],
)
def test_renaming_a_name_that_must_stay_is_rejected(source, renamed):
    assert alpha_equivalent(source, source)
    assert not alpha_equivalent(source, renamed)


def test_scopes_are_told_apart():
    # two variables named x in two functions may get two different names; one x may not get two
    source = "def f():\n    x = 1\n    return x\n\ndef g():\n    x = 2\n    return x\n"
    assert alpha_equivalent(source, source.replace("x = 1", "a = 1").replace("return x\n\n", "return a\n\n"))
    assert not alpha_equivalent(source, source.replace("return x\n\n", "return a\n\n"))
    # class bodies are not visible in methods: the x of the method is the global one
    source = "x = 0\nclass A:\n    x = 1\n    def m(self):\n        return x\n"
    assert alpha_equivalent(source, source.replace("x = 0", "y = 0").replace("return x", "return y"))
    assert not alpha_equivalent(source, source.replace("x = 0", "y = 0"))


def test_bad_input():
    assert not alpha_equivalent("x = 1\n", "x = (\n")
    assert not alpha_equivalent("x = 1\n", "this is not python?")
    with pytest.raises(CodeSyntaxError, match="expected Python code that parses"):
        alpha_equivalent("def (:\n", "x = 1\n")
    with pytest.raises(TypeError, match="original: expected Python source"):
        alpha_equivalent(3, "x = 1\n")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="renamed: expected Python source"):
        alpha_equivalent("x = 1\n", None)  # type: ignore[arg-type]
    assert alpha_equivalent("", "")
    latin = "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n"
    assert alpha_equivalent(latin.encode("latin-1"), latin.replace("name", "VAR_0"))
    mixed = "if True:\n\tx = 1\n        y = x\n"
    with pytest.raises(CodeSyntaxError):
        alpha_equivalent(mixed, mixed)


def test_same_shape_ignores_only_identifiers():
    a, b = analyze("f(x=1)\n").source.tree, analyze("g(y=1)\n").source.tree
    assert same_shape(a, b)
    assert not same_shape(a, analyze("f(x=2)\n").source.tree)
    assert not same_shape(a, analyze("f(**x)\n").source.tree)


# Generated programs: a renaming that the scope analysis allows runs the same; one occurrence changed alone does not
# pass.

_POOL = ["a", "b", "c", "d"]


@st.composite
def programs(draw) -> tuple[str, list[str]]:
    lines, defined = [], ["a"]
    lines.append("a = 1")
    for i in range(draw(st.integers(2, 8))):
        target = draw(st.sampled_from(_POOL))
        x, y = draw(st.sampled_from(defined)), draw(st.sampled_from(defined))
        form = draw(st.integers(0, 7))
        if form == 0:
            lines.append(f"{target} = {x} + {draw(st.integers(0, 9))} * {y}")
        elif form == 1:
            lines.append(f"def fn{i}(p, q=1, *, r=2):\n    return p * q + r + {x}")
            lines.append(f"{target} = fn{i}({y}, q={x}, r=3)")
        elif form == 2:
            lines.append(f"{target} = sum(v * {x} for v in range(3) if v != {y})")
        elif form == 3:
            lines.append(f"{target} = (lambda p, q=2: p - q + {x})({y})")
        elif form == 4:
            lines.append(f"def fn{i}():\n    t = {x}\n    def step():\n        nonlocal t\n        t += {y}\n"
                         f"        return t\n    return step() + t\n{target} = fn{i}()")  # fmt: skip
        elif form == 5:
            lines.append(f"{target} = (w{i} := {x} + 1) * w{i}")
        elif form == 6:
            lines.append(f"if {x} > {y}:\n    {target} = {x}\nelse:\n    {target} = {y} - 1")
        else:
            lines.append(f"class K{i}:\n    size = {x}\n    def get(self, extra):\n        return self.size + extra\n"
                         f"{target} = K{i}().get({y})")  # fmt: skip
        if target not in defined:
            defined.append(target)
    lines.append(f"__result__ = ({', '.join(defined)},)")
    return "\n".join(lines) + "\n", defined


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.data())
def test_allowed_renamings_run_the_same_and_broken_ones_are_caught(program, data):
    source, _ = program
    scopes = analyze(source)
    renamable = scopes.renamable
    assert renamable
    chosen = data.draw(st.lists(st.sampled_from(renamable), unique=True, min_size=1, max_size=len(renamable)))
    spans = []
    for number, definition in enumerate(chosen):
        for occurrence in definition.occurrences:
            spans.append((occurrence, f"NEW_{number}"))

    edits = sorted((locate(scopes.source, o), new) for o, new in spans)
    text, position, parts = source, 0, []
    for (start, end), new in edits:
        parts.append(text[position:start] + new)
        position = end
    renamed = "".join(parts) + text[position:]
    assert alpha_equivalent(source, renamed)
    assert run(renamed) == run(source)
    # one occurrence of a definition used more than once, renamed alone: inconsistent
    several = [d for d in renamable if len(d.occurrences) > 1]
    if several:
        definition = data.draw(st.sampled_from(several))
        start, end = locate(scopes.source, definition.occurrences[-1])  # type: ignore[misc]
        broken = source[:start] + "OTHER" + source[end:]
        assert not alpha_equivalent(source, broken)
