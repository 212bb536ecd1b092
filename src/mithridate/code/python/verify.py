"""Verification of code ops' outputs: a rewrite must keep the meaning, a bug must change it.

For a preserving op the output must compile, and then: layout ops give the same `ast.dump` (with docstrings dropped
on both sides for the docstring ops); control-flow rewrites give the same tree once a normal form undoes them
(comparisons oriented, `if not` branches swapped back, dead code dropped, the `while` over an explicit iterator
folded back into its `for`), each step of which keeps the meaning, and every pure function they changed returns
the same results and raises the same exceptions on hypothesis-generated inputs (ints, floats, strings, lists); a
renaming must be alpha-equivalent (`equivalence.alpha_equivalent`, when that module is there). A bug must change
the tree and, where its function can be run, change what it does on at least one input (`Verdict.share`).
"""

from __future__ import annotations

import ast
import builtins
import copy
import signal
import threading
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ops import CodeOp
from ..policies import EditedCode
from .source import PythonSource

__all__ = ["SAFE_NAMES", "Verdict", "generated_function", "normal_form", "runnable", "verify", "verify_edited"]

_PURE_BUILTINS = """abs all any bool chr dict divmod enumerate filter float frozenset int isinstance len list map max
min ord pow range repr reversed round set slice sorted str sum tuple zip iter next object"""
SAFE_NAMES = frozenset(_PURE_BUILTINS.split()) | frozenset(
    name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)
)
"""Free names a function may read and still count as pure (builtins without side effects, exception classes)."""


@dataclass(frozen=True)
class Verdict:
    """Whether an output passed (`ok`) and why not (`reason`), the checks that ran (`checks`: "compiles", "ast",
    "normal_form", "behaviour", "alpha", "ast_changed"), how many functions ran on generated inputs (`ran`) and,
    for a bug, the share of those inputs on which the behaviour differed (`share`, None when nothing ran)."""

    ok: bool
    reason: str = ""
    checks: tuple[str, ...] = ()
    ran: int = 0
    share: float | None = None

    def __bool__(self) -> bool:
        return self.ok


def _text(source: str | bytes | PythonSource, name: str) -> str:
    if isinstance(source, PythonSource):
        return source.text
    if isinstance(source, (bytes, bytearray)):
        from .source import decode_source

        return decode_source(bytes(source))
    if isinstance(source, str):
        return source
    raise TypeError(f"{name}: expected Python source as str, bytes or PythonSource, got {type(source).__name__}")


def _parse(text: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text)


# Normal forms -------------------------------------------------------------------------------------------------


def _pure_operand(node: ast.AST) -> bool:
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.Attribute):
        return isinstance(node.value, ast.Name)
    if isinstance(node, ast.Subscript):
        return isinstance(node.value, ast.Name) and isinstance(node.slice, (ast.Name, ast.Constant))
    return False


_MIRROR = {ast.Gt: ast.Lt, ast.GtE: ast.LtE}


def _name_counts(tree: ast.AST) -> Counter[str]:
    return Counter(node.id for node in ast.walk(tree) if isinstance(node, ast.Name))


def _is_call(node: ast.AST, name: str, count: int) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == name
        and len(node.args) == count
        and not node.keywords
    )


def _single_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    return None


class _Normal(ast.NodeTransformer):
    """Undoes the control-flow rewrites, by steps that keep the meaning (see `normal_form`)."""

    def __init__(self, counts: Counter[str], fold_only: bool = False) -> None:
        self.counts = counts
        self.functions = 0
        self.fold_only = fold_only

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.functions += 1
        self.generic_visit(node)
        self.functions -= 1
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if self.fold_only or len(node.ops) != 1:
            return node
        if not (_pure_operand(node.left) and _pure_operand(node.comparators[0])):
            return node
        op, left, right = node.ops[0], node.left, node.comparators[0]
        if type(op) in _MIRROR:
            return ast.Compare(right, [_MIRROR[type(op)]()], [left])
        if isinstance(op, (ast.Eq, ast.NotEq, ast.Is)) and ast.dump(right) < ast.dump(left):
            return ast.Compare(right, [op], [left])
        return node

    def visit_If(self, node: ast.If) -> ast.AST:
        self.generic_visit(node)
        if self.fold_only:
            return node
        while node.orelse and isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not):
            node = ast.If(node.test.operand, node.orelse, node.body)
        return node

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(node, field, self._block(block) or block)
        return node

    def _block(self, block: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        i = 0
        while i < len(block):
            stmt = block[i]
            folded = self._fold_loop(block[i : i + 3])
            if folded is not None:
                out.append(folded)
                i += 3
                continue
            if not self.fold_only and self._dead(stmt):
                i += 1
                continue
            out.append(stmt)
            i += 1
        return out

    def _dead(self, stmt: ast.stmt) -> bool:
        """`if False: pass`, or (in a function) an assignment of a constant to a name used nowhere else."""
        if (
            isinstance(stmt, ast.If)
            and isinstance(stmt.test, ast.Constant)
            and stmt.test.value is False
            and not stmt.orelse
            and all(isinstance(s, ast.Pass) for s in stmt.body)
        ):
            return True
        name = _single_name(stmt)
        return bool(
            name and self.functions and isinstance(stmt.value, ast.Constant) and self.counts[name] == 1  # type: ignore[attr-defined]
        )

    def _fold_loop(self, stmts: list[ast.stmt]) -> ast.For | None:
        """`_it = iter(X)`, `_end = object()`, `while (_item := next(_it, _end)) is not _end: T = _item; ...` as
        `for T in X: ...` when those three names appear nowhere else."""
        if len(stmts) < 3:
            return None
        first, second, loop = stmts
        it, end = _single_name(first), _single_name(second)
        if not (it and end and isinstance(loop, ast.While)):
            return None
        if not (_is_call(first.value, "iter", 1) and _is_call(second.value, "object", 0)):  # type: ignore[attr-defined]
            return None
        test = loop.test
        if not (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], ast.IsNot)
            and isinstance(test.comparators[0], ast.Name)
            and test.comparators[0].id == end
            and isinstance(test.left, ast.NamedExpr)
            and _is_call(test.left.value, "next", 2)
        ):
            return None
        item = test.left.target.id
        arguments = test.left.value.args  # type: ignore[attr-defined]
        if not (isinstance(arguments[0], ast.Name) and arguments[0].id == it):
            return None
        if not (isinstance(arguments[1], ast.Name) and arguments[1].id == end):
            return None
        head = loop.body[0]
        if not (
            isinstance(head, ast.Assign)
            and len(head.targets) == 1
            and isinstance(head.value, ast.Name)
            and head.value.id == item
        ):
            return None
        if (self.counts[it], self.counts[end], self.counts[item]) != (2, 3, 2) or len(loop.body) < 2:
            return None
        return ast.For(head.targets[0], first.value.args[0], loop.body[1:], loop.orelse, None)  # type: ignore[attr-defined]


def normal_form(tree: ast.AST) -> ast.AST:
    """A copy of the tree with the control-flow rewrites undone: single comparisons of side-effect-free operands
    oriented (`b > a` as `a < b`, `==` operands ordered), `if not t: A else: B` as `if t: B else: A`, `if False:
    pass` and unused constant assignments in functions dropped, and the rewritten `while` over an explicit
    iterator folded back into its `for`. Each step keeps the meaning (for built-in operand types)."""
    tree = copy.deepcopy(tree)
    counts = _name_counts(tree)
    tree = _Normal(counts, fold_only=True).visit(tree)  # loops first: dead stores inside them would hide them
    return _Normal(counts).visit(tree)


def without_docstrings(tree: ast.AST) -> ast.AST:
    """A copy of the tree with module, class and function docstrings dropped (`pass` for a body left empty)."""
    tree = copy.deepcopy(tree)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                node.body = node.body[1:] or [ast.Pass()]
    return tree


# Running pure functions --------------------------------------------------------------------------------------


_IMPURE = (ast.Yield, ast.YieldFrom, ast.Await, ast.Global, ast.Nonlocal, ast.Import, ast.ImportFrom,
           ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Delete)  # fmt: skip


def runnable(function: ast.AST) -> bool:
    """Whether a function can be run on generated inputs: a plain `def` (no decorators, no generator, no
    imports, no nested definitions, not a method) with at most four positional parameters and no free names but
    `SAFE_NAMES`."""
    if not isinstance(function, ast.FunctionDef) or function.decorator_list:
        return False
    arguments = function.args
    positional = arguments.posonlyargs + arguments.args
    if arguments.vararg or arguments.kwarg or arguments.kwonlyargs or len(positional) > 4:
        return False
    if positional and positional[0].arg in ("self", "cls"):
        return False  # a method: generated inputs would only raise AttributeError
    bound = {arg.arg for arg in ast.walk(function) if isinstance(arg, ast.arg)}
    for node in ast.walk(function):
        if node is not function and isinstance(node, _IMPURE):
            return False
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
    loads = {node.id for node in ast.walk(function) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return not (loads - bound - SAFE_NAMES)


def _compiled(function: ast.FunctionDef) -> Callable[..., Any]:
    function = copy.deepcopy(function)
    function.returns = None  # annotations are evaluated at definition time and may name anything
    for arg in ast.walk(function.args):
        if isinstance(arg, ast.arg):
            arg.annotation = None
    module = ast.Module([function], [])
    ast.fix_missing_locations(module)
    namespace: dict[str, Any] = {"__builtins__": builtins}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(module, "<function>", "exec"), namespace)
    return namespace[function.name]


class _Timeout(BaseException):
    pass


def _outcome(function: Callable[..., Any], args: tuple[Any, ...], seconds: float) -> tuple[str, Any]:
    def stop(signum: int, frame: Any) -> None:
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return "value", function(*copy.deepcopy(args))
    except _Timeout:
        return "timeout", None
    except RecursionError:
        return "timeout", None
    except Exception as error:  # the exception is the outcome
        return "raise", type(error).__name__
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _same(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    if a[0] != b[0]:
        return False
    try:
        return type(a[1]) is type(b[1]) and (a[1] == b[1] or repr(a[1]) == repr(b[1]))
    except Exception:
        return repr(a[1]) == repr(b[1])


def _strategies(function: ast.FunctionDef) -> list[Any]:
    from hypothesis import strategies as st

    kinds = {
        "int": st.integers(-12, 12),
        "float": st.floats(-1e6, 1e6, allow_nan=False) | st.sampled_from([float("nan"), float("inf"), -0.0]),
        "str": st.text("abc xyz01", max_size=8),
        "list": st.lists(st.integers(-6, 6), max_size=6),
    }
    anything = st.one_of(*kinds.values())
    out = []
    for arg in function.args.posonlyargs + function.args.args:
        annotation = arg.annotation
        name = annotation.id if isinstance(annotation, ast.Name) else None
        out.append(kinds.get(name, anything))  # type: ignore[arg-type]
    return out


def compare_functions(
    before: ast.FunctionDef, after: ast.FunctionDef, examples: int = 30, seconds: float = 0.2
) -> tuple[int, int]:
    """Run two versions of a function on the same hypothesis-generated inputs: (inputs where both finished,
    inputs where they differed, in results or in the type of exception raised)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    first, second = _compiled(before), _compiled(after)
    counts = [0, 0]

    @settings(max_examples=examples, database=None, derandomize=True, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.tuples(*_strategies(before)))
    def run(args: tuple[Any, ...]) -> None:
        a, b = _outcome(first, args, seconds), _outcome(second, args, seconds)
        if "timeout" in (a[0], b[0]):
            return
        counts[0] += 1
        counts[1] += not _same(a, b)

    run()
    return counts[0], counts[1]


def _changed_pairs(before: ast.AST, after: ast.AST) -> list[tuple[ast.FunctionDef, ast.FunctionDef]]:
    """Runnable functions of `before` whose tree changed, with their version in `after` (matched by name; a name
    defined twice, as in two branches of an `if` that a rewrite may swap, is left out)."""
    old = [n for n in ast.walk(before) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    new = [n for n in ast.walk(after) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    once = Counter(n.name for n in old)
    matched = {n.name: n for n in new if once[n.name] == 1}
    if Counter(n.name for n in new) != once:
        return []
    return [
        (a, matched[a.name])
        for a in old
        if once[a.name] == 1 and runnable(a) and ast.dump(a) != ast.dump(matched[a.name])
    ]


def _runs(before: ast.AST, after: ast.AST, examples: int, max_functions: int) -> tuple[int, int, int]:
    """(functions run, inputs compared, inputs that differed) over the changed runnable functions."""
    if threading.current_thread() is not threading.main_thread():
        return 0, 0, 0  # the per-call time limit needs SIGALRM
    ran = compared = differed = 0
    for a, b in _changed_pairs(before, after)[:max_functions]:
        try:
            n, d = compare_functions(a, b, examples)
        except Exception:  # the definition itself fails (a default value, a name bound only later)
            continue
        ran, compared, differed = ran + 1, compared + n, differed + d
    return ran, compared, differed


# Verdicts ----------------------------------------------------------------------------------------------------


def verify(
    op: CodeOp,
    original: str | bytes | PythonSource,
    output: str | bytes | PythonSource,
    *,
    examples: int = 30,
    max_functions: int = 5,
) -> Verdict:
    """Check an op's output against its input (see the module's docstring); `examples` inputs per function run,
    at most `max_functions` functions run."""
    if not isinstance(op, CodeOp):
        raise TypeError(f"op: expected a CodeOp, got {type(op).__name__}")
    before_text, after_text = _text(original, "original"), _text(output, "output")
    if not op.preserving and op.kind != "bug":
        return Verdict(True, f"nothing to check for an op of kind {op.kind!r}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(after_text, "<output>", "exec", dont_inherit=True)
        after = _parse(after_text)
    except (SyntaxError, ValueError) as error:
        return Verdict(False, f"the output does not compile: {error}", ())
    before = _parse(before_text)
    checks: tuple[str, ...] = ("compiles",)
    if op.kind == "bug":
        if ast.dump(before) == ast.dump(after):
            return Verdict(False, "the bug left the tree unchanged", checks)
        checks += ("ast_changed",)
        ran, compared, differed = _runs(before, after, examples, max_functions)
        share = differed / compared if compared else None
        if ran:
            checks += ("behaviour",)
        if share == 0.0:
            return Verdict(
                False,
                f"no generated input ({compared}) showed a difference (an equivalent mutant, or a path not reached)",
                checks,
                ran,
                share,
            )
        return Verdict(True, "", checks, ran, share)
    if op.kind == "rename":
        try:
            from .equivalence import alpha_equivalent  # the renaming worker's module, when present
        except ImportError:
            return Verdict(True, "compiles (alpha_equivalent not available)", checks)
        same = bool(alpha_equivalent(before_text, after_text))
        return Verdict(same, "" if same else "not alpha-equivalent", (*checks, "alpha"))
    mode = getattr(op, "check", "ast")
    if mode == "ast_without_docstrings":
        before, after = without_docstrings(before), without_docstrings(after)  # type: ignore[assignment]
    if mode in ("ast", "ast_without_docstrings"):
        same = ast.dump(before) == ast.dump(after)
        return Verdict(same, "" if same else "the tree changed", (*checks, "ast"))
    if ast.dump(normal_form(before)) != ast.dump(normal_form(after)):
        return Verdict(False, "the normal forms differ", checks)
    checks += ("normal_form",)
    ran, compared, differed = _runs(before, after, examples, max_functions)
    if ran:
        checks += ("behaviour",)
    if differed:
        return Verdict(False, f"behaviour differed on {differed} of {compared} inputs", checks, ran)
    return Verdict(True, "", checks, ran)


def verify_edited(op: CodeOp, edited: EditedCode, **kwargs: Any) -> Verdict:
    """`verify` of a policy's output (`EditedCode`): unchanged outputs pass as they are."""
    if not isinstance(edited, EditedCode):
        raise TypeError(f"edited: expected an EditedCode, got {type(edited).__name__}")
    if not edited.changed:
        return Verdict(True, "unchanged")
    return verify(op, edited.original, edited.text, **kwargs)


# Generated pure functions ------------------------------------------------------------------------------------


class _Generator:
    """A random pure function over (a: int, b: int, s: str, xs: list): loops, branches, comparisons."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.lines: list[str] = []
        self.loop_vars: list[str] = []
        self.counter = 0

    def choice(self, options: list[str]) -> str:
        return options[int(self.rng.integers(len(options)))]

    def atom(self) -> str:
        return self.choice(["a", "b", "t", "u", str(int(self.rng.integers(-3, 8))), "len(s)", "len(xs)",
                            *self.loop_vars])  # fmt: skip

    def expr(self) -> str:
        if self.rng.random() < 0.4:
            return self.atom()
        if self.rng.random() < 0.25:  # products by a constant only: no number grows beyond reach
            return f"{self.atom()} * {int(self.rng.integers(-2, 4))}"
        return f"{self.atom()} {self.choice(['+', '-'])} {self.atom()}"

    def test(self) -> str:
        op = self.choice(["<", "<=", ">", ">=", "==", "!="])
        test = f"{self.atom()} {op} {self.atom()}"
        return f"not {test}" if self.rng.random() < 0.2 else test

    def block(self, depth: int, indent: str, in_loop: bool) -> None:
        for _ in range(int(self.rng.integers(1, 4))):
            self.statement(depth, indent, in_loop)
        if in_loop and self.rng.random() < 0.15:  # last in its block: no dead code after it
            self.lines.append(f"{indent}{self.choice(['continue', 'break'])}")

    def statement(self, depth: int, indent: str, in_loop: bool) -> None:
        roll = self.rng.random()
        if depth < 2 and roll < 0.25:
            var = f"i{self.counter}"
            self.counter += 1
            source = self.choice(["range(a % 5)", "xs", "s", "range(b % 4, 6)", "range(len(xs))"])
            self.lines.append(f"{indent}for {var} in {source}:")
            var_expr = None if source == "s" else var
            if var_expr:
                self.loop_vars.append(var)
            self.block(depth + 1, indent + "    ", True)
            if var_expr:
                self.loop_vars.pop()
            if self.rng.random() < 0.25:
                self.lines.append(f"{indent}else:")
                self.lines.append(f"{indent}    u = u + 1")
        elif depth < 3 and roll < 0.5:
            self.lines.append(f"{indent}if {self.test()}:")
            self.block(depth + 1, indent + "    ", in_loop)
            if self.rng.random() < 0.7:
                self.lines.append(f"{indent}else:")
                self.block(depth + 1, indent + "    ", in_loop)
        elif roll < 0.6:
            self.lines.append(f"{indent}acc.append({self.expr()})")
        else:
            target = self.choice(["t", "u"])
            self.lines.append(f"{indent}{target} = {target} + {self.expr()}")


def generated_function(seed: int, name: str = "f") -> str:
    """The source of a random pure function `name(a: int, b: int, s: str, xs: list)` (for-loops over ranges,
    lists and strings with `break`, `continue` and `else`, if/else on comparisons, `not`), reproducible per
    seed: material on which the verifier runs rewrites and bugs."""
    generator = _Generator(int(seed))
    lines = [f"def {name}(a: int, b: int, s: str, xs: list):", "    t = 0", "    u = 1", "    acc = []"]
    generator.block(0, "    ", False)
    lines += generator.lines
    lines.append("    return t, u, acc")
    return "\n".join(lines) + "\n"
