"""The code corpus (`mithridate.data.code`): functions and methods read from real files as `ast` sees them, the
names hidden (the sources still compile), decorators kept, the split by module file, the verb and bug labels
(balanced, seeded), the standard library's corpus, data strings, and clear errors."""

from __future__ import annotations

import ast
import sysconfig
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mithridate.data.code import (
    HIDDEN_NAME,
    CodeFunction,
    bug_dataset,
    common_verbs,
    extract_functions,
    hide_name,
    is_code_data,
    load_code_splits,
    load_functions,
    name_verb,
    parse_code_data,
    python_files,
    split_modules,
    split_name,
    verb_dataset,
)
from mithridate.data.datasets import DatasetError

MODULE = '''"""A module."""
import functools


def get_value(x):
    """get_value returns x; get_value(get_value(1)) == 1."""
    return get_value(x - 1) if x > 0 else x


class Reader:
    """A class."""

    @functools.lru_cache()
    def readLine(self, n):
        text = """
not indented
        """
        return self.readLine(n) + text

    async def closeAll(self):
        await self.flush()

    class Inner:
        def skipped(self):
            return 1


def __getattr__(name):
    return name
'''


def write_package(root: Path, modules: int = 10) -> Path:
    """A folder of modules, each with a few functions of known verbs, and excluded folders."""
    for i in range(modules):
        body = "".join(
            f"def {verb}_{kind}{i}(x):\n    return x + {i} * {j}\n\n\n"
            for j, (verb, kind) in enumerate((v, k) for v in ("get", "set", "make") for k in ("a", "b"))
        )
        path = root / ("sub" if i % 2 else "") / f"m{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    for excluded in ("tests", "test", "__pycache__"):
        (root / excluded).mkdir(exist_ok=True)
        (root / excluded / "t.py").write_text("def get_t():\n    return 1\n")
    return root


def test_functions_and_methods_as_ast_sees_them():
    functions, skipped = extract_functions(MODULE, "m.py")
    assert not skipped
    assert [f.qualname for f in functions] == ["get_value", "Reader.readLine", "Reader.closeAll", "__getattr__"]
    tree = ast.parse(MODULE)
    for function in functions:
        parsed = ast.parse(function.source)  # every segment compiles alone
        (node,) = parsed.body
        assert node.name == HIDDEN_NAME and function.name in function.qualname
        assert function.name not in function.source.replace(HIDDEN_NAME, "")
    get_value = functions[0].source
    assert get_value.startswith("def FUNC(x):") and "return FUNC(x - 1)" in get_value
    assert '"""FUNC returns x; FUNC(FUNC(1)) == 1."""' in get_value
    read_line = functions[1].source
    assert read_line.startswith("@functools.lru_cache()\ndef FUNC(self, n):\n")  # decorator kept, dedented
    assert "\nnot indented\n" in read_line and "self.FUNC(n)" in read_line
    # dedented exactly: the segment equals the module's lines without the method's indentation
    method = tree.body[3].body[1]
    lines = MODULE.splitlines(keepends=True)[method.decorator_list[0].lineno - 1 : method.end_lineno]
    expected = "".join(line[4:] if line.startswith("    ") else line for line in lines)
    assert hide_name(expected, "readLine") == read_line
    assert isinstance(ast.parse(functions[2].source).body[0], ast.AsyncFunctionDef)


def test_names_hidden_without_touching_longer_words():
    assert hide_name("get(get_x, xget, get)  # get", "get") == "FUNC(get_x, xget, FUNC)  # FUNC"
    assert hide_name("caf\u00e9 = caf\u00e9s", "caf\u00e9") == "FUNC = caf\u00e9s"
    functions, _ = extract_functions(MODULE, "m.py", hide=False)
    assert functions[0].source.startswith("def get_value(x):")


def test_segments_that_do_not_parse_alone_are_left_out():
    text = "def f(x):\n    return (x +\n1)\n"  # the continuation line is less indented than the def: fine
    assert [f.qualname for f in extract_functions(text, "m.py")[0]] == ["f"]
    indented_string = 'class A:\n    def f(self):\n        return """\n    x"""\n'
    functions, skipped = extract_functions(indented_string, "m.py")
    assert [f.qualname for f in functions] == ["A.f"] and not skipped  # the string loses 4 spaces, still parses


@pytest.mark.parametrize(
    ("name", "words", "verb"),
    [
        ("getHTTPResponse_now", ["get", "http", "response", "now"], "get"),
        ("_read_line", ["read", "line"], "read"),
        ("__init__", ["init"], None),
        ("__getattr__", ["getattr"], None),
        ("visit_Name", ["visit", "name"], "visit"),
        ("toXML2", ["to", "xml", "2"], "to"),
        ("_2d", ["2", "d"], "d"),
        ("__", [], None),
        ("isinstance_of", ["isinstance", "of"], "isinstance"),
    ],
)
def test_split_name_and_verb(name, words, verb):
    assert split_name(name) == words
    assert name_verb(name) == verb


@settings(max_examples=100, deadline=None)
@given(st.lists(st.from_regex(r"[a-z]{2,6}", fullmatch=True), min_size=1, max_size=4))
def test_snake_and_camel_case_give_the_same_words(words):  # (one-letter words would read as an acronym: aBC)
    camel = words[0] + "".join(w.capitalize() for w in words[1:])
    assert split_name("_".join(words)) == split_name(camel) == words


def test_folder_corpus_split_and_verbs(tmp_path):
    root = write_package(tmp_path / "pkg")
    files = python_files(root)
    assert [p.relative_to(root).as_posix() for p in files][:3] == ["m0.py", "m2.py", "m4.py"]
    assert not any(part in ("tests", "test", "__pycache__") for p in files for part in p.parts)
    corpus = load_functions(root)
    assert len(corpus.functions) == 60 and len(corpus.modules) == 10 and not corpus.skipped
    train_modules, test_modules = split_modules(corpus.modules, 0.3, seed=1)
    assert len(test_modules) == 3 and not train_modules & test_modules
    assert split_modules(corpus.modules, 0.3, seed=1) == (train_modules, test_modules)
    assert split_modules(corpus.modules, 0.3, seed=2) != (train_modules, test_modules)
    train, test = load_code_splits(root, verbs=3, test_fraction=0.3)
    assert train.classes == ["get", "make", "set"] == test.classes  # ties broken by the verb
    assert not set(train.modules) & set(test.modules)
    assert len(train) + len(test) == 60
    for source in train.sources:
        assert source.startswith("def FUNC(x):")  # the verb is nowhere in the source
        assert all(verb not in source for verb in train.classes)
    assert torch.equal(load_code_splits(root, verbs=3, test_fraction=0.3)[0].labels, train.labels)
    assert is_code_data(root) and is_code_data(f"{root}:bug") and not is_code_data(tmp_path / "none")


def test_verbs_are_counted_on_the_given_functions():
    functions = [CodeFunction("def FUNC(): pass\n", "m.py", n, n) for n in ("get_a", "get_b", "set_a", "__init__")]
    assert common_verbs(functions, 5) == ["get", "set"]
    dataset = verb_dataset(functions, ["set"])
    assert dataset.qualnames == ["set_a"] and dataset.labels.tolist() == [0]


def swap_plus(source: str, key: int) -> str | None:
    """A toy injector: the first '+' becomes '-' (None where there is none)."""
    return source.replace("+", "-", 1) if "+" in source else None


def test_bug_labels_are_balanced_seeded_and_true():
    functions = [CodeFunction(f"def FUNC(x):\n    return x + {i}\n", "m.py", f"f{i}", f"f{i}") for i in range(11)]
    functions.append(CodeFunction("def FUNC(x):\n    return x\n", "m.py", "g", "g"))  # no place for a bug
    dataset = bug_dataset(functions, swap_plus, seed=3)
    assert len(dataset) == 11 and "g" not in dataset.qualnames  # a function without a bug site is in neither class
    assert dataset.labels.sum() == 6 and dataset.classes == ["clean", "bug"]  # the larger half when odd
    for source, label, name in zip(dataset.sources, dataset.labels.tolist(), dataset.qualnames, strict=True):
        assert ("-" in source) == bool(label)
        original = next(f.source for f in functions if f.qualname == name)
        assert source == (original.replace("+", "-") if label else original)
    assert torch.equal(bug_dataset(functions, swap_plus, seed=3).labels, dataset.labels)
    assert not torch.equal(bug_dataset(functions, swap_plus, seed=4).labels, dataset.labels)
    seen = []
    bug_dataset(functions[:3], lambda s, k: seen.append(k), keys=[7, 8, 9])
    assert seen == [7, 8, 9]


def test_bug_splits_from_a_folder(tmp_path):
    root = write_package(tmp_path / "pkg")
    train, test = load_code_splits(f"{root}:bug", injector=swap_plus, test_fraction=0.3)
    assert (len(train), len(test)) == (42, 18)
    assert int(train.labels.sum()) == 21 and int(test.labels.sum()) == 9


def test_the_standard_library_corpus():
    corpus = load_functions("stdlib")
    assert load_functions("stdlib") is corpus  # read once per process
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    assert corpus.root == stdlib and len(corpus.functions) > 10_000
    modules = set(corpus.modules)
    assert "json/decoder.py" in modules and not any(m.split("/")[0] in ("test", "idlelib") for m in modules)
    assert not any("/tests/" in f"/{m}" for m in modules)
    assert len({f.source for f in corpus.functions}) == len(corpus.functions)  # copies left out
    decoder = next(f for f in corpus.functions if f.module == "json/decoder.py" and f.qualname == "JSONDecoder.decode")
    assert decoder.source.startswith("def FUNC(self, s, _w=WHITESPACE.match):")
    train, test = load_code_splits("stdlib")
    assert len(train.classes) == 20 and train.classes[0] == "get"
    assert not set(train.modules) & set(test.modules) and len(test) > 300


@pytest.mark.parametrize(
    ("data", "expected"),
    [("stdlib", ("stdlib", "verb")), ("stdlib:bug", ("stdlib", "bug")), ("/x/y:verb", ("/x/y", "verb")),
     ("/x/y", ("/x/y", "verb")), ("C:/code", ("C:/code", "verb"))],
)  # fmt: skip
def test_data_strings(data, expected):
    assert parse_code_data(data) == expected


def test_bad_input_gets_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="stdlib:LABEL with LABEL one of verb, bug"):
        parse_code_data("stdlib:names")
    with pytest.raises(DatasetError, match="no such folder"):
        load_functions(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "a.py").write_text("x = 1\n")
    with pytest.raises(DatasetError, match="expected Python files with functions, found none"):
        load_functions(tmp_path / "empty")
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "a.py").write_text("def get_a():\n    pass\n")
    with pytest.raises(DatasetError, match="at least 2 module files"):
        load_code_splits(tmp_path / "one")
    broken = write_package(tmp_path / "broken", 4)
    (broken / "py2.py").write_text("print 'hello'\n")
    corpus = load_functions(broken)
    assert ("py2.py", corpus.skipped[0][1]) == corpus.skipped[0] and "does not parse" in corpus.skipped[0][1]
    with pytest.raises(ValueError, match="bug labels need an injector"):
        load_code_splits(f"{broken}:bug")
    with pytest.raises(TypeError, match="injector: expected str or None"):
        bug_dataset(load_functions(broken).functions, lambda s, k: 3)
    with pytest.raises(ValueError, match=r"test_fraction: expected a number in \(0, 1\)"):
        split_modules(["a.py", "b.py"], 1.0)
    with pytest.raises(ValueError, match="verbs: expected an integer >= 2"):
        load_code_splits(broken, verbs=1)
