"""The definitions of a Python module and where each is used: scopes from `symtable`, occurrences from `ast`.

`analyze` walks the syntax tree once, noting every identifier the code binds or reads (names, parameters, def and
class names, `except ... as`, match captures, `global`/`nonlocal` names, keyword arguments of calls) in the scope
where it stands (module, class, function, lambda, comprehension), and resolves each to its `Definition` with the
compiler's own classification (`symtable`: local, free, global). A definition is renamable unless a rule of the
never-rename list holds (`Definition.frozen` says which): renaming one changes every occurrence consistently and,
since definitions are resolved as the compiler resolves them, keeps the program's meaning within the file.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
import symtable
from collections import defaultdict, deque
from dataclasses import dataclass, field

from .source import CodeSyntaxError, PythonSource, read_python

__all__ = ["BUILTIN_NAMES", "KEYWORDS", "Definition", "ModuleScopes", "Occurrence", "Scope", "analyze", "locate"]

KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)
"""Keywords and soft keywords (`match`, `case`, `_`, `type`): never renamed."""
BUILTIN_NAMES = frozenset(dir(builtins))
"""Names of the builtins: never renamed (nor given), even where a file rebinds one."""

# Roles of an occurrence. Binding roles define the name in its scope; the others read it or name it.
BINDING_ROLES = frozenset({"store", "del", "param", "def", "class", "except", "capture", "import"})
_DYNAMIC_LOCALS = frozenset({"locals", "vars", "dir", "eval", "exec"})
_DYNAMIC_GLOBALS = frozenset({"globals", "eval", "exec"})
# Decorators known to keep the keyword names of the function they decorate.
_KEEP_SIGNATURE = frozenset({
    "staticmethod", "classmethod", "property", "setter", "getter", "deleter", "abstractmethod", "wraps", "cache",
    "lru_cache", "cached_property", "contextmanager", "asynccontextmanager", "overload", "override", "final",
    "singledispatch", "singledispatchmethod",
})  # fmt: skip
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_TABLE_NAMES = {ast.ListComp: "listcomp", ast.SetComp: "setcomp", ast.GeneratorExp: "genexpr", ast.DictComp: "dictcomp"}
_NAME_AFTER_KEYWORD = re.compile(r"(?:async(?:\s|\\)+)?(?:def|class)(?:\s|\\)+")
_NAME_AFTER_AS = re.compile(r"(?:\s|\\|\)|#[^\n]*)*as(?:\s|\\)+")
_WORD = re.compile(r"\w+")
_DEBUG_FIELD = re.compile(r"\s*=(?!=)")


@dataclass(eq=False)
class Scope:
    """A scope: `kind` ("module", "class", "function", "lambda", "comprehension"), its `node`, its parent and its
    `symtable` table; `dynamic` when it calls locals()/vars()/dir()/eval/exec (its names are never renamed)."""

    kind: str
    node: ast.AST
    parent: Scope | None
    symbols: dict[str, symtable.Symbol]
    dynamic: bool = False
    star_import: bool = False


@dataclass(eq=False)
class Occurrence:
    """One identifier in the code: its `name`, `role` (a binding role, "load", "global", "nonlocal" or "keyword"),
    the `node` that carries it, the `scope` it stands in and the `definition` it resolves to (None: a fixed name,
    such as the keyword of a call the file cannot resolve). `index`: the name's place in a global/nonlocal list."""

    name: str
    role: str
    node: ast.AST
    scope: Scope
    index: int = 0
    call: ast.Call | None = None
    definition: Definition | None = None
    known_callee: bool = False
    debug: bool = False

    @property
    def position(self) -> tuple[int, int, int]:
        """(line, column, index) of the node: the order of appearance in the file (a pattern's capture at its end)."""
        node = self.node
        if isinstance(node, (ast.MatchMapping, ast.MatchAs)):
            return (node.end_lineno or 0, node.end_col_offset or 0, self.index)
        return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0), self.index)


@dataclass(eq=False)
class Definition:
    """A name bound in one scope (`scope` None: not defined in the file, as builtins), with every occurrence that
    resolves to it. `kind`: "FUNC" (bound first by a def), "CLASS" (by a class) or "VAR"; `frozen`: why it is never
    renamed (None: renamable)."""

    name: str
    scope: Scope | None
    occurrences: list[Occurrence] = field(default_factory=list)
    kind: str = "VAR"
    frozen: str | None = None

    @property
    def first(self) -> tuple[int, int, int]:
        return min(occurrence.position for occurrence in self.occurrences)

    def freeze(self, reason: str) -> None:
        if self.frozen is None:
            self.frozen = reason


@dataclass
class ModuleScopes:
    """What `analyze` found: the `source`, every occurrence in a fixed traversal order (the same for two trees of
    the same shape), the definitions in order of first appearance, and the scopes."""

    source: PythonSource
    occurrences: list[Occurrence]
    definitions: list[Definition]
    scopes: list[Scope]

    @property
    def renamable(self) -> list[Definition]:
        """The definitions that may be renamed, in order of first appearance."""
        return [definition for definition in self.definitions if definition.frozen is None]


def _symbols(table: symtable.SymbolTable) -> dict[str, symtable.Symbol]:
    return {symbol.get_name(): symbol for symbol in table.get_symbols()}


class _Walker:
    """One pass over the tree: scopes (matched to their symtable tables), occurrences, calls and string names."""

    def __init__(self, module: symtable.SymbolTable, source: PythonSource) -> None:
        self.source = source
        self.occurrences: list[Occurrence] = []
        self.scopes: list[Scope] = []
        self.tables: dict[int, dict[tuple[str, str, int], deque[symtable.SymbolTable]]] = {}
        self.scope_of_def: dict[int, Scope] = {}
        self.name_occurrence: dict[int, Occurrence] = {}
        self.all_names: set[str] = set()
        self.string_annotations: set[str] = set()
        self.dynamic_globals = False
        self.has_type_params = False
        self._table_of: dict[int, symtable.SymbolTable] = {}
        self.module = self._new_scope("module", None, None, module)

    # Scopes ---------------------------------------------------------------------------------------------------

    def _new_scope(
        self, kind: str, node: ast.AST | None, parent: Scope | None, table: symtable.SymbolTable | None
    ) -> Scope:
        if table is None:
            assert parent is not None and node is not None
            table = self._child_table(parent, node, kind)
        scope = Scope(kind, node if node is not None else ast.Module(body=[], type_ignores=[]), parent, _symbols(table))
        self._table_of[id(scope)] = table
        self.scopes.append(scope)
        return scope

    def _child_table(self, parent: Scope, node: ast.AST, kind: str) -> symtable.SymbolTable:
        children = self.tables.get(id(parent))
        if children is None:
            children = defaultdict(deque)
            for child in self._table_of[id(parent)].get_children():
                children[(child.get_type(), child.get_name(), child.get_lineno())].append(child)
            self.tables[id(parent)] = children
        if kind == "class":
            key = ("class", node.name, node.lineno)  # type: ignore[attr-defined]
        elif kind == "function":
            key = ("function", node.name, node.lineno)  # type: ignore[attr-defined]
        elif kind == "lambda":
            key = ("function", "lambda", node.lineno)  # type: ignore[attr-defined]
        else:
            key = ("function", _TABLE_NAMES[type(node)], node.lineno)  # type: ignore[attr-defined]
        queue = children.get(key)
        if not queue:
            raise CodeSyntaxError(f"source: no symbol table for the {kind} at line {key[2]} (unsupported syntax)")
        return queue.popleft()

    # Occurrences ----------------------------------------------------------------------------------------------

    def add(self, name: str, role: str, node: ast.AST, scope: Scope, index: int = 0) -> Occurrence:
        occurrence = Occurrence(name, role, node, scope, index)
        self.occurrences.append(occurrence)
        self.all_names.add(name)
        return occurrence

    def visit(self, node: ast.AST, scope: Scope) -> None:
        handler = _HANDLERS.get(type(node))
        if handler is not None:
            handler(self, node, scope)
            return
        for child in ast.iter_child_nodes(node):
            self.visit(child, scope)

    def visit_all(self, nodes: list, scope: Scope) -> None:
        for node in nodes:
            if node is not None:
                self.visit(node, scope)

    def name(self, node: ast.Name, scope: Scope) -> None:
        ctx = type(node.ctx)
        role = "load" if ctx is ast.Load else "store" if ctx is ast.Store else "del"
        self.name_occurrence[id(node)] = self.add(node.id, role, node, scope)

    def _annotations(self, args: ast.arguments, returns: ast.AST | None, scope: Scope) -> None:
        for arg in (*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg):
            if arg is not None and arg.annotation is not None:
                self._annotation(arg.annotation, scope)
        if returns is not None:
            self._annotation(returns, scope)

    def _annotation(self, node: ast.AST, scope: Scope) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            self._string_annotation(node.value)
        self.visit(node, scope)

    def _string_annotation(self, text: str) -> None:
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except (SyntaxError, ValueError):
            return
        self.string_annotations.update(node.id for node in ast.walk(tree) if isinstance(node, ast.Name))

    def _params(self, args: ast.arguments, scope: Scope) -> None:
        for arg in args.posonlyargs:
            self.add(arg.arg, "param", arg, scope, 0)
        for arg in args.args:
            self.add(arg.arg, "param", arg, scope, 1)
        if args.vararg is not None:
            self.add(args.vararg.arg, "param", args.vararg, scope, 0)
        for arg in args.kwonlyargs:
            self.add(arg.arg, "param", arg, scope, 1)
        if args.kwarg is not None:
            self.add(args.kwarg.arg, "param", args.kwarg, scope, 0)

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope) -> None:
        if getattr(node, "type_params", None):
            self.has_type_params = True
        self.visit_all(node.decorator_list, scope)
        self.visit_all(node.args.defaults, scope)
        self.visit_all(node.args.kw_defaults, scope)
        self._annotations(node.args, node.returns, scope)
        self.add(node.name, "def", node, scope)
        inner = self._new_scope("function", node, scope, None)
        self.scope_of_def[id(node)] = inner
        self._params(node.args, inner)
        self.visit_all(node.body, inner)

    def lambda_(self, node: ast.Lambda, scope: Scope) -> None:
        self.visit_all(node.args.defaults, scope)
        self.visit_all(node.args.kw_defaults, scope)
        inner = self._new_scope("lambda", node, scope, None)
        self._params(node.args, inner)
        self.visit(node.body, inner)

    def class_(self, node: ast.ClassDef, scope: Scope) -> None:
        if getattr(node, "type_params", None):
            self.has_type_params = True
        self.visit_all(node.decorator_list, scope)
        self.visit_all(node.bases, scope)
        for item in node.keywords:
            self.visit(item.value, scope)
            if item.arg is not None:
                self.add(item.arg, "keyword", item, scope)
        self.add(node.name, "class", node, scope)
        inner = self._new_scope("class", node, scope, None)
        self.visit_all(node.body, inner)

    def comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, scope: Scope) -> None:
        self.visit(node.generators[0].iter, scope)
        inner = self._new_scope("comprehension", node, scope, None)
        for i, generator in enumerate(node.generators):
            self.visit(generator.target, inner)
            if i:
                self.visit(generator.iter, inner)
            self.visit_all(generator.ifs, inner)
        if isinstance(node, ast.DictComp):
            self.visit(node.key, inner)
            self.visit(node.value, inner)
        else:
            self.visit(node.elt, inner)

    def call(self, node: ast.Call, scope: Scope) -> None:
        self.visit(node.func, scope)
        self.visit_all(node.args, scope)
        for item in node.keywords:
            self.visit(item.value, scope)
            if item.arg is not None:
                self.add(item.arg, "keyword", item, scope).call = node
        func = node.func
        if isinstance(func, ast.Name):
            if func.id in _DYNAMIC_LOCALS and (func.id not in ("vars", "dir") or not node.args):
                scope.dynamic = True
            if func.id in _DYNAMIC_GLOBALS:
                self.dynamic_globals = True

    def declaration(self, node: ast.Global | ast.Nonlocal, scope: Scope) -> None:
        role = "global" if isinstance(node, ast.Global) else "nonlocal"
        for i, name in enumerate(node.names):
            self.add(name, role, node, scope, i)

    def handler(self, node: ast.ExceptHandler, scope: Scope) -> None:
        if node.type is not None:
            self.visit(node.type, scope)
        if node.name is not None:
            self.add(node.name, "except", node, scope)
        self.visit_all(node.body, scope)

    def match_as(self, node: ast.MatchAs | ast.MatchStar, scope: Scope) -> None:
        if isinstance(node, ast.MatchAs) and node.pattern is not None:
            self.visit(node.pattern, scope)
        if node.name is not None:
            self.add(node.name, "capture", node, scope)

    def match_mapping(self, node: ast.MatchMapping, scope: Scope) -> None:
        self.visit_all(node.keys, scope)
        self.visit_all(node.patterns, scope)
        if node.rest is not None:
            self.add(node.rest, "capture", node, scope)

    def match_class(self, node: ast.MatchClass, scope: Scope) -> None:
        self.visit(node.cls, scope)
        self.visit_all(node.patterns, scope)
        self.all_names.update(node.kwd_attrs)
        self.visit_all(node.kwd_patterns, scope)

    def import_(self, node: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        for alias in node.names:
            if alias.name == "*":
                scope.star_import = True
                continue
            self.add(alias.asname or alias.name.split(".")[0], "import", alias, scope)

    def joined_str(self, node: ast.JoinedStr, scope: Scope) -> None:
        for value in node.values:
            if not isinstance(value, ast.FormattedValue):
                continue
            first = len(self.occurrences)
            self.visit(value.value, scope)
            if value.format_spec is not None:
                self.visit(value.format_spec, scope)
            end = self.source.node_span(value.value)[1]
            if _DEBUG_FIELD.match(self.source.text, end):  # f"{x=}": the field's text is part of the string
                for occurrence in self.occurrences[first:]:
                    occurrence.debug = True

    def attribute(self, node: ast.Attribute, scope: Scope) -> None:
        self.all_names.add(node.attr)
        self.visit(node.value, scope)

    def ann_assign(self, node: ast.AnnAssign, scope: Scope) -> None:
        self.visit(node.target, scope)
        self._annotation(node.annotation, scope)
        if node.value is not None:
            self.visit(node.value, scope)


_HANDLERS = {
    ast.Name: _Walker.name,
    ast.FunctionDef: _Walker.function,
    ast.AsyncFunctionDef: _Walker.function,
    ast.Lambda: _Walker.lambda_,
    ast.ClassDef: _Walker.class_,
    ast.ListComp: _Walker.comprehension,
    ast.SetComp: _Walker.comprehension,
    ast.GeneratorExp: _Walker.comprehension,
    ast.DictComp: _Walker.comprehension,
    ast.Call: _Walker.call,
    ast.Global: _Walker.declaration,
    ast.Nonlocal: _Walker.declaration,
    ast.ExceptHandler: _Walker.handler,
    ast.MatchAs: _Walker.match_as,
    ast.MatchStar: _Walker.match_as,
    ast.MatchMapping: _Walker.match_mapping,
    ast.MatchClass: _Walker.match_class,
    ast.Import: _Walker.import_,
    ast.ImportFrom: _Walker.import_,
    ast.Attribute: _Walker.attribute,
    ast.JoinedStr: _Walker.joined_str,
    ast.AnnAssign: _Walker.ann_assign,
}


class _Resolver:
    """Resolves occurrences to definitions as the compiler does (symtable's local/free/global)."""

    def __init__(self, module: Scope) -> None:
        self.module = module
        self.definitions: dict[tuple[int, str], Definition] = {}

    def definition(self, scope: Scope | None, name: str) -> Definition:
        key = (id(scope), name)
        found = self.definitions.get(key)
        if found is None:
            found = self.definitions[key] = Definition(name, scope)
        return found

    def resolve(self, scope: Scope, name: str) -> Definition:
        if (
            name.startswith("__") and not name.endswith("__") and any(s.kind == "class" for s in _ancestors(scope))
        ):  # a private name, mangled in classes: never renamed, one definition per name
            return self.definition(None, name)
        symbol = scope.symbols.get(name)
        if scope is self.module or symbol is None or symbol.is_global():
            return self.definition(self.module, name)
        if symbol.is_free() or symbol.is_nonlocal():
            outer = scope.parent
            while outer is not None and outer is not self.module:
                if outer.kind != "class":
                    found = outer.symbols.get(name)
                    if found is not None and found.is_local() and not found.is_free():
                        return self.definition(outer, name)
                outer = outer.parent
            return self.definition(self.module, name)
        return self.definition(scope, name)


def _ancestors(scope: Scope | None):
    while scope is not None:
        yield scope
        scope = scope.parent


def _all_names(tree: ast.Module) -> set[str]:
    """The strings of `__all__` at module level (assigned, augmented, extended or appended)."""
    out: set[str] = set()
    for node in tree.body:
        value = None
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                value = node.value
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "__all__":
                value = node.value
        if value is not None:
            out.update(n.value for n in ast.walk(value) if isinstance(n, ast.Constant) and isinstance(n.value, str))
    return out


def _keeps_signature(decorator: ast.AST) -> bool:
    if isinstance(decorator, ast.Call):
        decorator = decorator.func
    if isinstance(decorator, ast.Name):
        return decorator.id in _KEEP_SIGNATURE
    return isinstance(decorator, ast.Attribute) and decorator.attr in _KEEP_SIGNATURE


def analyze(source: str | bytes | PythonSource, *, rename_parameters: bool = True) -> ModuleScopes:
    """Scopes, occurrences and definitions of a module, with the never-rename rules applied. With
    `rename_parameters=False` the parameters that callers may pass by keyword, of functions defined at module or
    class level (reachable from outside the file), are frozen; lambdas' and nested functions' are not."""
    source = read_python(source)
    tree = source.tree
    try:
        table = symtable.symtable(source.text, "<source>", "exec")
    except (SyntaxError, ValueError) as error:  # pragma: no cover - the tree parsed already
        raise CodeSyntaxError(f"source: expected Python code that compiles, got {error}") from None
    walker = _Walker(table, source)
    walker.module.node = tree
    walker.visit_all(tree.body, walker.module)
    resolver = _Resolver(walker.module)
    calls: list[Occurrence] = []
    for occurrence in walker.occurrences:
        if occurrence.role == "keyword":
            calls.append(occurrence)
            continue
        definition = resolver.resolve(occurrence.scope, occurrence.name)
        occurrence.definition = definition
        definition.occurrences.append(occurrence)
    definitions = list(resolver.definitions.values())
    _resolve_keywords(calls, walker, resolver)
    _freeze(definitions, walker, tree, calls, rename_parameters)
    definitions.sort(key=lambda d: d.first)
    return ModuleScopes(source, walker.occurrences, definitions, walker.scopes)


def _resolve_keywords(calls: list[Occurrence], walker: _Walker, resolver: _Resolver) -> None:
    """A keyword argument names the parameter of the function called when the callee is a name bound once, by a
    def, in the file (then it follows the parameter's renaming; `known_callee`); else it stays as it is."""
    for occurrence in calls:
        call = occurrence.call
        if call is None or not isinstance(call.func, ast.Name):
            continue
        callee = walker.name_occurrence[id(call.func)].definition
        if callee is None or callee.scope is None:
            continue
        bindings = [o for o in callee.occurrences if o.role in BINDING_ROLES]
        if len(bindings) != 1 or bindings[0].role != "def":
            continue
        function = bindings[0].node
        occurrence.known_callee = True
        names = {arg.arg for arg in (*function.args.args, *function.args.kwonlyargs)}  # type: ignore[attr-defined]
        if occurrence.name in names:
            inner = walker.scope_of_def[id(function)]
            parameter = resolver.definitions[(id(inner), occurrence.name)]
            occurrence.definition = parameter
            parameter.occurrences.append(occurrence)


def _freeze(
    definitions: list[Definition], walker: _Walker, tree: ast.Module, calls: list[Occurrence], rename_parameters: bool
) -> None:
    module = walker.module
    exported = _all_names(tree)
    unresolved_keywords = {o.name for o in calls if not o.known_callee}
    for definition in definitions:
        name, scope = definition.name, definition.scope
        binding = [o for o in definition.occurrences if o.role in BINDING_ROLES]
        if binding:
            first = min(binding, key=lambda o: o.position)
            definition.kind = {"def": "FUNC", "class": "CLASS"}.get(first.role, "VAR")
        if walker.has_type_params:
            definition.freeze("the file uses type parameters (Python 3.12 syntax)")
        if name in KEYWORDS:
            definition.freeze("a soft keyword")
        if name.startswith("__"):
            definition.freeze("a dunder or private name")
        if name in BUILTIN_NAMES:
            definition.freeze("a builtin name")
        if scope is None or not binding:
            definition.freeze("not defined in the file")
        if any(o.role == "import" for o in binding):
            definition.freeze("imported")
        if scope is not None and scope.kind == "class":
            definition.freeze("a class attribute")
        if scope is module:
            if name in exported:
                definition.freeze("listed in __all__")
            if module.star_import:
                definition.freeze("the module has a star import")
            if walker.dynamic_globals:
                definition.freeze("the file calls globals()/eval/exec")
        if (scope is not None and scope.dynamic) or any(o.scope.dynamic for o in definition.occurrences):
            definition.freeze("used in a scope that calls locals()/vars()/dir()/eval/exec")
        if any(o.debug for o in definition.occurrences):
            definition.freeze("named in a self-documenting f-string field {name=}")
        if name in walker.string_annotations:
            definition.freeze("named in a string annotation")
        for occurrence in binding:
            if occurrence.role == "param" and occurrence.index == 1:
                _freeze_parameter(definition, occurrence, unresolved_keywords, rename_parameters)


def _freeze_parameter(
    definition: Definition, occurrence: Occurrence, unresolved_keywords: set[str], rename_parameters: bool
) -> None:
    """A parameter that callers may pass by keyword (not positional-only, not *args/**kwargs)."""
    if definition.name in unresolved_keywords:
        definition.freeze("passed by keyword to a call the file cannot resolve")
    function = occurrence.scope.node
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return  # a lambda's
    if not all(_keeps_signature(decorator) for decorator in function.decorator_list):
        definition.freeze("a parameter of a decorated function")
    outer = occurrence.scope.parent
    if not rename_parameters and outer is not None and outer.kind in ("module", "class"):
        definition.freeze("a parameter callers may pass by keyword (rename_parameters=False)")


# Positions ----------------------------------------------------------------------------------------------------


def locate(source: PythonSource, occurrence: Occurrence) -> tuple[int, int] | None:
    """The [start, end) character offsets of an occurrence's identifier in the text, or None when the text there
    is not the name (NFKC-normalised identifiers, positions the parser gets wrong in f-strings)."""
    node, name, text = occurrence.node, occurrence.name, source.text
    role = occurrence.role
    start: int | None
    if role in ("load", "store", "del"):
        start, end = source.node_span(node)
        return (start, end) if text[start:end] == name else None
    if role in ("param", "keyword"):
        start = source.ast_offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
    elif role in ("def", "class"):
        begin = source.ast_offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        match = _NAME_AFTER_KEYWORD.match(text, begin)
        start = match.end() if match else None
    elif role == "except":
        kind = node.type  # type: ignore[attr-defined]
        begin = source.node_span(kind)[1]
        match = _NAME_AFTER_AS.match(text, begin)
        start = match.end() if match else None
    elif role == "capture" and isinstance(node, ast.MatchMapping):
        begin, end = source.node_span(node)
        found = [m for m in re.finditer(r"\*\*(?:\s|\\)*(" + re.escape(name) + r")\b", text[begin:end])]
        start = begin + found[-1].start(1) if found else None
    elif role == "capture":
        end = source.node_span(node)[1]
        start = end - len(name)
    elif role in ("global", "nonlocal"):
        begin, end = source.node_span(node)
        spans = [m.start() for m in _WORD.finditer(text, begin, end)]
        if len(spans) != len(node.names) + 1:  # type: ignore[attr-defined]
            return None
        start = spans[occurrence.index + 1]
    else:
        return None
    if start is None or text[start : start + len(name)] != name:
        return None
    return start, start + len(name)
