"""`code.python.rename.Rename` (DOBF): on standard-library files every output compiles, is alpha-equivalent to its
input and edits only NAME tokens; generated programs run the same renamed; each rule of the never-rename list;
Python 3.11 syntax; DOBF's numbering; plausible names; draws keyed by (seed, epoch, index); the share renamed linear
in the strength; bad input."""

from __future__ import annotations

import io
import textwrap
import tokenize

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mithridate.code import CodeSyntaxError, OpPolicy, SampleDraws, read_python
from mithridate.code.python.equivalence import alpha_equivalent
from mithridate.code.python.rename import OPS, PLAUSIBLE_NAMES, Rename
from mithridate.code.python.stdlib import stdlib_files
from mithridate.dose import Dose
from mithridate.text.strings import apply_edits


def draws(rate: float, seed: int = 0) -> SampleDraws:
    rng = np.random.default_rng(seed)
    return SampleDraws(lambda count, sub: rng.random(count), rate, 1.0)


def rename(source: str, rate: float = 1.0, seed: int = 0, **kwargs) -> str:
    parsed = read_python(source)
    return apply_edits(parsed.text, Rename(**kwargs).edits(parsed, draws(rate, seed)))


FILES = stdlib_files(limit=40)


@pytest.mark.parametrize("rate, style", [(1.0, "dobf"), (0.5, "plausible")])
def test_stdlib_outputs_compile_are_alpha_equivalent_and_edit_only_names(rate, style):
    assert len(FILES) == 40
    renamed_files = 0
    for number, path in enumerate(FILES):
        source = read_python(path.read_bytes())
        edits = Rename(style).edits(source, draws(rate, number))
        out = apply_edits(source.text, edits)
        compile(out, str(path), "exec")
        assert alpha_equivalent(source.text, out), path
        names = {(t.start, t.end) for t in source.tokens if t.type == tokenize.NAME}
        fstrings = [(t.start, t.end) for t in source.tokens if t.type == tokenize.STRING and "f" in
                    t.string[:3].lower()]  # fmt: skip
        for e in edits:  # a NAME token, or a field of an f-string (one STRING token before Python 3.12)
            assert (e.start, e.end) in names or any(a < e.start < e.end < b for a, b in fstrings), (path, e)
        renamed_files += bool(edits)
    assert renamed_files >= 35


def _program(draw_int, draw_pick) -> str:
    """A small runnable program over nested scopes, with `__result__` holding every module variable."""
    lines, defined = ["a = 1", "b = 2"], ["a", "b"]
    for i in range(draw_int(2, 7)):
        x, y, target = draw_pick(defined), draw_pick(defined), draw_pick(["a", "b", "c", "d"])
        form = draw_int(0, 6)
        if form == 0:
            lines.append(f"{target} = {x} * 3 - {y}")
        elif form == 1:
            lines.append(f"def fn{i}(p, /, q, *rest, k=1, **kw):\n    m = [e + p for e in rest]\n"
                         f"    return q + k + sum(m) + len(kw)\n")  # fmt: skip
            lines.append(f"{target} = fn{i}({x}, {y}, 4, 5, k={x}, z=1)")
        elif form == 2:
            lines.append(f"{target} = {{v: v * {x} for v in range(4)}}[{y} % 4]")
        elif form == 3:
            lines.append(f"try:\n    {target} = {x} // ({y} - {y})\nexcept ZeroDivisionError as err{i}:\n"
                         f"    {target} = len(str(err{i}))")  # fmt: skip
        elif form == 4:
            lines.append(f"match ({x}, {y}):\n    case (1, other{i}):\n        {target} = other{i}\n"
                         f"    case (first{i}, *more{i}):\n        {target} = first{i} + len(more{i})")  # fmt: skip
        elif form == 5:
            lines.append(f"def fn{i}():\n    total = {x}\n    def add(step=1):\n        nonlocal total\n"
                         f"        total += step\n    add(step={y})\n    return total\n{target} = fn{i}()")  # fmt: skip
        else:
            lines.append(f"class C{i}:\n    base = {x}\n    def get(self, n):\n        return self.base + n\n"
                         f"{target} = C{i}().get({y}) + len(f'{{{x}!r}}-{{C{i}.__name__}}')")  # fmt: skip
        if target not in defined:
            defined.append(target)
    lines.append(f"__result__ = ({', '.join(defined)},)")
    return "\n".join(lines) + "\n"


def _run(source: str) -> object:
    namespace: dict = {}
    exec(compile(source, "<test>", "exec"), namespace)
    return namespace["__result__"]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.floats(0.0, 1.0), st.sampled_from(["dobf", "plausible"]))
def test_generated_programs_run_the_same_renamed(data, rate, style):
    source = _program(lambda lo, hi: data.draw(st.integers(lo, hi)), lambda xs: data.draw(st.sampled_from(xs)))
    out = rename(source, rate, data.draw(st.integers(0, 1000)), style=style)
    assert alpha_equivalent(source, out)
    result = _run(source)
    if "__name__" not in source:
        assert _run(out) == result
    else:  # a class's __name__ is its (renamed) name: only the lengths may change
        assert len(_run(out)) == len(result)


def test_dobf_names_numbered_per_kind_in_order_of_first_appearance():
    source = textwrap.dedent(
        """\
        import os  # kept

        class Point:
            scale = 2
            def norm(self, other):
                return self.scale * other

        def area(width, height=1):
            "the area"
            product = width * height
            return product

        VAR_0 = area(3, height=Point().norm(os.sep.count("/")))
        """
    )
    out = rename(source)
    assert out == textwrap.dedent(
        """\
        import os  # kept

        class CLASS_0:
            scale = 2
            def norm(VAR_1, VAR_2):
                return VAR_1.scale * VAR_2

        def FUNC_0(VAR_3, VAR_4=1):
            "the area"
            VAR_5 = VAR_3 * VAR_4
            return VAR_5

        VAR_6 = FUNC_0(3, VAR_4=CLASS_0().norm(os.sep.count("/")))
        """
    )


PYTHON_311 = textwrap.dedent(
    '''\
    import functools

    def outer(items: list[int], *args: int, flag: bool = False, **options: str) -> int:
        """Docstring mentioning items stays."""
        if (count := len(items)) > 2:
            pass
        squares = [item * item for item in items if item]
        pairs = {key: value for key, value in options.items()}
        adder = lambda left, right=1: left + right
        total = 0
        def inner() -> int:
            nonlocal total
            total += count
            return total
        try:
            inner()
        except (ValueError, KeyError) as problem:  # comment with total
            raise RuntimeError(f"{problem!r} in {total:>4}") from problem
        match items:
            case [first, *rest] if first > 0:
                total += first + len(rest)
            case {"k": found, **others}:
                total += found + len(others)
            case Point(x=coord) as whole:
                total += coord
        return adder(total, right=len(squares) + len(pairs) + len(args))

    @functools.cache
    def cached(n):
        return n

    class Point:
        x = 1
        def method(self, value):
            return self.x + value
    '''
)


def test_python_311_syntax_is_renamed_consistently():
    out = rename(PYTHON_311)
    compile(out, "<test>", "exec")
    assert alpha_equivalent(PYTHON_311, out)
    # comments, strings and the docstring stay byte for byte; f-string fields are renamed
    assert "# comment with total" in out and '"""Docstring mentioning items stays."""' in out
    assert 'f"{VAR_' in out and "{problem" not in out
    for name in ("count", "squares", "pairs", "adder", "total", "inner", "problem", "first", "rest", "found",
                 "others", "whole", "left", "key", "value", "item", "outer"):  # fmt: skip
        assert not any(t.string == name for t in read_python(out).tokens if t.type == tokenize.NAME), name
    # kept: imports, builtins, attributes, class attributes (methods), keyword pattern attributes
    out_names = {t.string for t in read_python(out).tokens if t.type == tokenize.NAME}
    assert {"functools", "len", "RuntimeError", "ValueError", "x", "method", "items", "cache", "right"} <= out_names
    assert "options.items()" not in out and "VAR_3.items()" in out and "case CLASS_0(x=VAR_18) as VAR_19:" in out


@pytest.mark.parametrize(
    "source, kept",
    [
        ("x = len([1])\nprint(x)\n", "len"),  # builtins
        ("match = 1\ncase = match + 1\n_ = case\n", "match"),  # soft keywords
        ("def f():\n    __x__ = 1\n    return __x__\n", "__x__"),  # dunder names
        ("class A:\n    def m(self):\n        self.__p = 1\n        __q = 2\n        return __q\n", "__q"),  # private
        ("class A:\n    size = 1\nA.size = 2\nv = A.size\n", "size"),  # attributes and class attributes
        ("import os.path as p\nfrom sys import argv\nv = p.join(argv[0])\n", "argv"),  # imports
        ("def f():\n    global g\n    return g\n", "g"),  # global to a name not defined in the file
        ("__all__ = ['public']\npublic = 1\nprivate = public\n", "public"),  # __all__
        ("def f():\n    x = 1\n    return eval('x')\n", "x"),  # eval's scope
        ("def f():\n    y = 1\n    return locals()\n", "y"),  # locals()' scope
        ("x = 1\nprint(globals()['x'])\n", "x"),  # globals()
        ("import json\ndef f(indent):\n    return json.dumps(1, indent=indent)\n", "indent"),  # external keyword
        ("x = 1\nprint(f'{x=}')\n", "x"),  # self-documenting f-string field
        ("class Node:\n    pass\ndef f(n: 'Node') -> 'Node':\n    return n\n", "Node"),  # string annotation
        ("from m import *\nvalue = 1\n", "value"),  # star import
        ("import click\n@click.option('--name')\ndef hello(name):\n    return name\n", "name"),  # decorated
    ],
    ids=["builtin", "soft-keyword", "dunder", "private", "attribute", "import", "global-undefined", "__all__", "eval",
         "locals", "globals", "external-keyword", "debug-fstring", "string-annotation", "star-import", "decorated"],
)  # fmt: skip
def test_never_renamed(source, kept):
    out = rename(source)
    compile(out, "<test>", "exec")
    assert alpha_equivalent(source, out)
    names = [t.string for t in read_python(source).tokens if t.type == tokenize.NAME]
    out_names = [t.string for t in read_python(out).tokens if t.type == tokenize.NAME]
    assert names.count(kept) == out_names.count(kept) > 0


def test_renamed_variable_used_as_object_keeps_its_attribute():
    out = rename("def f(x):\n    return x.real + x.imag\n")
    assert out == "def FUNC_0(VAR_0):\n    return VAR_0.real + VAR_0.imag\n"


def test_keyword_call_sites_follow_parameters_unless_rename_parameters_is_false():
    source = "def area(width, height=1):\n    return width * height\n\nv = area(2, height=3)\n"
    assert rename(source) == "def FUNC_0(VAR_0, VAR_1=1):\n    return VAR_0 * VAR_1\n\nVAR_2 = FUNC_0(2, VAR_1=3)\n"
    kept = rename(source, rename_parameters=False)
    assert kept == "def FUNC_0(width, height=1):\n    return width * height\n\nVAR_0 = FUNC_0(2, height=3)\n"
    # nested functions, lambdas and positional-only parameters are renamed either way
    nested = "def f(a, /):\n    def g(b):\n        return b\n    h = lambda c: c\n    return g(b=a) + h(a)\n"
    out = rename(nested, rename_parameters=False)
    assert not {"a", "b", "c"} & {t.string for t in read_python(out).tokens}
    assert _exec_call(out, "FUNC_0", 3) == _exec_call(nested, "f", 3)


def _exec_call(source: str, name: str, *args):
    namespace: dict = {}
    exec(source, namespace)
    return namespace[name](*args)


def test_comprehension_and_class_scopes():
    source = "x = 1\nclass A:\n    x = 2\n    y = [x for _ in range(2)]\n    def m(self):\n        return x\n"
    out = rename(source)
    assert out.count("VAR_0") == 3 and "    x = 2" in out  # the module's x, seen from the comprehension and method
    assert _run(source + "__result__ = (A.y, A().m())\n") == _run(out + "__result__ = (CLASS_0.y, CLASS_0().m())\n")


def test_new_names_never_collide_with_the_file():
    source = "from m import VAR_0, FUNC_0\ndef f(v):\n    return v + VAR_0\n# VAR_1 in a comment\n"
    out = rename(source)
    assert out == "from m import VAR_0, FUNC_0\ndef FUNC_1(VAR_2):\n    return VAR_2 + VAR_0\n# VAR_1 in a comment\n"
    assert alpha_equivalent(source, out)
    source = "from m import value\ndef f(v):\n    return v + value\n"
    for seed in range(20):
        plausible = rename(source, seed=seed, style="plausible")
        words = {t.string for t in read_python(plausible).tokens if t.type == tokenize.NAME}
        assert plausible.count("value") == 2 and alpha_equivalent(source, plausible)
        new = words - {"from", "m", "import", "value", "def", "return"}
        assert len(new) == 2 and new <= set(PLAUSIBLE_NAMES["VAR"]) | set(PLAUSIBLE_NAMES["FUNC"])


def test_many_definitions_run_out_of_plausible_names_without_collisions():
    source = "".join(f"v{i} = {i}\n" for i in range(300)) + "__result__ = " + " + ".join(f"v{i}" for i in range(300))
    out = rename(source + "\n", style="plausible")
    assert alpha_equivalent(source + "\n", out) and _run(out) == _run(source + "\n")


def test_draws_are_keyed_by_seed_epoch_and_index():
    sources = [PYTHON_311] * 6
    policy = OpPolicy(Rename(), seed=4)
    whole = policy(sources, index=list(range(6)), epoch=1)
    assert policy(sources[2:4], index=[2, 3], epoch=1) == whole[2:4]
    assert len(set(whole)) > 3
    assert policy(sources, index=list(range(6)), epoch=2) != whole
    assert OpPolicy(Rename(), seed=5)(sources, index=list(range(6)), epoch=1) != whole


def test_share_renamed_is_linear_in_the_strength():
    op = Rename()
    sites = op.sites(read_python(PYTHON_311))
    shares = {}
    for strength in (0.5, 1.0, 1.5, 2.0):
        out = OpPolicy(op, seed=1, dose=Dose(1.0, strength)).augment([PYTHON_311] * 120, index=list(range(120)))
        renamed = [len({e.text for e in item.edits}) for item in out]
        shares[strength] = np.mean(renamed) / sites
    assert shares[0.5] == pytest.approx(0.25, abs=0.05)
    assert shares[1.0] == pytest.approx(0.5, abs=0.05)
    assert shares[1.5] == pytest.approx(0.75, abs=0.05)
    assert shares[2.0] == 1.0


def test_op_contract_and_bad_input():
    assert {"rename": Rename} == OPS and Rename.stream == 0xC2_0001 and Rename.preserving
    assert Rename().params() == {} and Rename("plausible", False).params() == {
        "style": "plausible",
        "rename_parameters": False,
    }
    assert Rename() == Rename("dobf") != Rename("plausible")
    with pytest.raises(ValueError, match="style: expected one of"):
        Rename("random")
    with pytest.raises(TypeError, match="rename_parameters: expected a bool"):
        Rename(rename_parameters=1)  # type: ignore[arg-type]
    policy = OpPolicy(Rename(), seed=0, dose=Dose(1.0, 2.0))
    with pytest.raises(CodeSyntaxError, match="expected Python code that parses"):
        policy(["def f(:\n    pass\n"], index=[0])
    with pytest.raises(CodeSyntaxError):
        policy(["if True:\n\tx = 1\n        y = x\n"], index=[0])
    assert policy([""], index=[0]) == [""]
    latin = "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n"
    assert policy([latin.encode("latin-1")], index=[0])[0] == latin.replace("name", "VAR_0")
    out = OpPolicy(Rename(), seed=0, dose=Dose(1.0, 1.0), on_error="pass").augment(["x = (\n"], index=[0])[0]
    assert out.text == "x = (\n" and out.error


def test_inputs_are_not_mutated_and_untokenize_round_trip_holds():
    source = read_python(PYTHON_311)
    before = source.text
    Rename().edits(source, draws(1.0))
    assert source.text == before
    text = rename(PYTHON_311)
    assert tokenize.untokenize(tokenize.generate_tokens(io.StringIO(text).readline)) == text


def test_measure_runs_on_a_few_files():
    from mithridate.code.python.measure import format_report, measure

    report = measure(limit=3)
    assert report["files"] == 3 and report["tokens"] > 0
    for label in ("rename", "rename (all)", "rename plausible"):
        row = report["ops"][label]
        assert row["verified"] == row["compiled"] == row["changed"] > 0
    assert "| faulty |" in format_report(report)
