"""Token-level code ops through Pygments (`code.lexed`): lexing tiles real files (npm's JavaScript, C headers, shell
scripts); renaming is a bijection applied at every identifier occurrence, keeps programs running the same (node,
gcc, bash) and npm files passing `node --check`; faulty code's bounds; format noise keeps the token stream;
determinism per (seed, epoch, index) through the policy; bad input."""

from __future__ import annotations

import glob
import itertools
import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pygments.lexer import Lexer
from pygments.token import Text

from mithridate.code import CodeSyntaxError, OpPolicy, SampleDraws
from mithridate.code.lexed import (
    OPS,
    LexedFaulty,
    LexedFormat,
    LexedRename,
    code_units,
    read_lexed,
    renamable,
)
from mithridate.dose import Dose
from mithridate.text.strings import apply_edits

NPM = "/usr/lib/node_modules/npm"
NODE = shutil.which("node")
GCC = shutil.which("gcc")
BASH = shutil.which("bash")


def _sample(paths: list[str], k: int, seed: int) -> list[tuple[str, str]]:
    random.Random(seed).shuffle(paths)
    out = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if 0 < len(text) < 60_000:
            out.append((path, text))
        if len(out) == k:
            break
    return out


def _shell_scripts() -> list[str]:
    out = []
    for path in sorted(glob.glob("/usr/bin/*")):
        try:
            with open(path, "rb") as handle:
                first = handle.readline(80)
        except OSError:
            continue
        if first.startswith(b"#!") and first.rstrip().endswith((b"/sh", b"/bash", b" sh", b" bash")):
            out.append(path)
    return out


JS = _sample(sorted(glob.glob(f"{NPM}/**/*.js", recursive=True)), 30, 0) if os.path.isdir(NPM) else []
HEADERS = _sample(sorted(glob.glob("/usr/include/*.h")), 30, 1) if os.path.isdir("/usr/include") else []
SHELL = _sample(_shell_scripts(), 20, 2) if os.path.isdir("/usr/bin") else []
REAL = [("javascript", text) for _, text in JS] + [("c", text) for _, text in HEADERS]
REAL += [("bash", text) for _, text in SHELL]
need_js = pytest.mark.skipif(not JS, reason=f"no JavaScript files under {NPM}")
need_real = pytest.mark.skipif(not REAL, reason="no npm JavaScript, C headers or shell scripts on this machine")
need_node = pytest.mark.skipif(NODE is None or not JS, reason="node or npm's JavaScript files not found")
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def draws(seed: int, rate: float = 1.0, strength: float = 1.0) -> SampleDraws:
    def uniform(count: int, sub: int) -> np.ndarray:
        return np.random.default_rng([seed, sub]).random(count).astype(np.float32).astype(np.float64)

    return SampleDraws(uniform, rate, strength)


def stream(language: str, text: str) -> list[tuple[object, str]]:
    return read_lexed(text, language).stream()


# Lexing ------------------------------------------------------------------------------------------------------------


@need_real
def test_lexing_tiles_real_files_and_their_variants():
    for language, text in REAL:
        for variant in (text, text.rstrip("\n"), text.replace("\n", "\r\n"), text + "\n\n"):
            tokens = read_lexed(variant, language).tokens
            assert "".join(token.string for token in tokens) == variant
            assert all(a.end == b.start for a, b in itertools.pairwise(tokens))
            assert not tokens or (tokens[0].start == 0 and tokens[-1].end == len(variant))


def test_lexing_keeps_the_last_line_and_crlf_as_they_are():
    source = read_lexed("let a = 1;\r\n// end", "javascript")
    assert source.tokens[-1].string == "// end" and source.tokens[-1].end == len(source.text)
    assert any(token.string == "\r\n" for token in source.tokens)
    assert read_lexed("", "c").tokens == () and read_lexed("\n", "c").stream() == []
    assert read_lexed("int x;", filename="a.c").language == "c"


class SkippingLexer(Lexer):
    """A lexer that leaves spaces out of its tokens (as a few Pygments lexers do with some input)."""

    name = "skipping"
    aliases = ("skipping",)

    def get_tokens_unprocessed(self, text):
        for k, char in enumerate(text):
            if char != " ":
                yield k, Text, char


def test_a_lexer_that_does_not_tile_is_refused():
    assert read_lexed("ab\n", lexer=SkippingLexer()).stream() == [(Text, "a"), (Text, "b")]
    with pytest.raises(ValueError, match="'skipping': its tokens do not tile"):
        read_lexed("a b\n", lexer=SkippingLexer())
    with pytest.raises(TypeError, match="pygments Lexer"):
        read_lexed("a", lexer="c")  # type: ignore[arg-type]


# Renaming ----------------------------------------------------------------------------------------------------------


def _check_renaming(language: str, text: str, op: LexedRename, seed: int, rate: float = 1.0) -> str:
    source = op.parse(text) if language == op.lexer_language else read_lexed(text, language)
    mapping = op.mapping(source, draws(seed, rate))
    edits = op.edits(source, draws(seed, rate))
    out = apply_edits(text, edits)
    words = set(re.findall(r"[A-Za-z_]\w*", text))
    assert len(set(mapping.values())) == len(mapping)  # a bijection onto fresh names
    assert not set(mapping.values()) & words
    assert {edit.text for edit in edits} == set(mapping.values())
    for edit in edits:  # each edit replaces one whole occurrence of an old name by its new name
        old = text[edit.start : edit.end]
        assert mapping[old] == edit.text
    before, after = read_lexed(text, language).tokens, read_lexed(out, language).tokens
    assert len(before) == len(after)
    significant = [(a, b) for a, b in zip(before, after, strict=True) if not a.blank]
    for a, b in significant:
        if a.string != b.string:  # renamed: the same kind of token, the mapped name (after a shell `$`)
            assert b.string.lstrip("$") == mapping[a.string.lstrip("$")]
    syntax = [b for _, b in significant if "Comment" not in str(b.type)]
    for k, token in enumerate(syntax):  # what is left of an old name is a property (after ., ->, key, member)
        if token.string in mapping and token.name:
            prev = syntax[k - 1].string if k else ""
            follow = syntax[k + 1].string if k + 1 < len(syntax) else ""
            assert prev in (".", "?.", "->", ">", "::", "{", ",", ";", "}", "static", "get", "set", "async", "*") or (
                follow in (":", "(", "::") or language == "c"
            ), (token.string, prev, follow)
    return out


@need_real
@SETTINGS
@given(st.integers(0, len(REAL) - 1 if REAL else 0), st.integers(0, 2**16), st.sampled_from(["dobf", "plausible"]))
def test_renaming_is_a_consistent_bijection_on_real_files(k, seed, style):
    language, text = REAL[k]
    _check_renaming(language, text, LexedRename(language, style=style), seed)


@need_node
def test_renamed_npm_files_still_pass_node_check(tmp_path):
    checked = 0
    for k, (_, text) in enumerate(JS[:6]):
        original = tmp_path / f"{k}.js"
        original.write_text(text)
        if subprocess.run([NODE, "--check", str(original)], capture_output=True).returncode != 0:
            continue
        for style in ("dobf", "plausible"):
            renamed = tmp_path / f"{k}_{style}.js"
            out = _check_renaming("javascript", text, LexedRename(style=style), k)
            assert out != text or not renamable(read_lexed(text, "javascript"))
            renamed.write_text(out)
            result = subprocess.run([NODE, "--check", str(renamed)], capture_output=True, text=True)
            assert result.returncode == 0, result.stderr
            checked += 1
    assert checked >= 6


JS_PROGRAM = """\
const {a, b: c} = {a: 1, b: 2};
let total = 0, other = 5;
function add(left, right = 3) { return left + right; }
class Counter extends Object {
  constructor(start) { super(); this.count = start; }
  step(by) { this.count += by; return this.count; }
  static make(n) { return new Counter(n); }
}
const square = (value) => value * value;
const twice = fn => (x) => fn(fn(x));
const config = {add, total: 7, label: `sum ${add(1, 2)}`, nested: {square}};
for (const item of [1, 2, 3]) { total += square(item); }
try { throw new Error("boom"); } catch (error) { console.log(error.message); }
outer: for (let i = 0; i < 3; i++) { for (let j = 0; j < 3; j++) { if (j === 1) continue outer; total += j; } }
const counter = Counter.make(2);
console.log(a, c, total, other, add(4), counter.step(3), twice(square)(3), config.total, config.label);
console.log(JSON.stringify(config), typeof config.add, config.nested.square(5));
"""

C_PROGRAM = """\
#include <stdio.h>
#define SCALE(v) ((v) * factor)
static int factor = 3;
struct point { int x, y; };
typedef struct point point_t;
static int norm1(const struct point *p) { return p->x + p->y; }
int accumulate(int *values, int count) {
  int sum = 0;
  for (int i = 0; i < count; i++) sum += SCALE(values[i]);
  return sum;
}
int main(void) {
  int data[3] = {1, 2, 3};
  struct point origin = {.x = 4, .y = 5};
  point_t copy = origin;
  printf("%d %d %d\\n", accumulate(data, 3), norm1(&origin), copy.x);
  return 0;
}
"""

SHELL_PROGRAM = """\
greeting="hello"
count=0
for word in a b c; do count=$((count + 1)); done
name=world
message="$greeting, ${name}!"
suffix=x; suffix+=y
export EXPORTED=1
echo "$message $count ${#name} $suffix $EXPORTED"
"""


@pytest.mark.parametrize(
    "language, program, command, suffix, expected_names",
    [
        # not: a, add, square (shorthand properties), c, other (declared where the table does not look), console
        ("javascript", JS_PROGRAM, "node", ".js",
         "total left right Counter start by n value twice fn x config item error i j counter"),
        # not: factor (in a macro), x, y (members), main, copy (declared after a typedef name)
        ("c", C_PROGRAM, "gcc", ".c", "point point_t norm1 p accumulate values count sum i data origin"),
        # not: word (a bare word in `for`), EXPORTED
        ("bash", SHELL_PROGRAM, "bash", ".sh", "greeting count name message suffix"),
    ],
)  # fmt: skip
def test_renamed_programs_behave_the_same(tmp_path, language, program, command, suffix, expected_names):
    tool = shutil.which(command)
    if tool is None:
        pytest.skip(f"{command} not found")

    def run(text: str, name: str) -> str:
        path = tmp_path / f"{name}{suffix}"
        path.write_text(text)
        if command == "gcc":
            subprocess.run([tool, "-std=c99", "-o", str(tmp_path / name), str(path)], check=True, capture_output=True)
            return subprocess.run([str(tmp_path / name)], capture_output=True, text=True, check=True).stdout
        return subprocess.run([tool, str(path)], capture_output=True, text=True, check=True).stdout

    expected = run(program, "original")
    everything = [item.name for item in renamable(read_lexed(program, language))]
    assert everything == expected_names.split()
    for seed, (style, rate) in enumerate([("dobf", 1.0), ("plausible", 1.0), ("dobf", 0.5), ("plausible", 0.5)]):
        op = LexedRename(language, style=style)
        mapping = op.mapping(op.parse(program), draws(seed, rate))
        assert set(mapping) <= set(everything) and (len(mapping) == len(everything)) == (rate == 1.0)
        out = _check_renaming(language, program, op, seed, rate)
        assert run(out, f"renamed{seed}") == expected, out


def test_renaming_rules_on_a_small_file():
    text = "const {a} = o; let x = a.x; function f(p) { return {x: p, y}; }\nexport const e = x; g(x);\n"
    names = {item.name: item.kind for item in renamable(read_lexed(text, "javascript"))}
    assert names == {"x": "VAR", "f": "FUNC", "p": "VAR"}  # a: shorthand, e: exported, g: never declared
    item = next(item for item in renamable(read_lexed(text, "javascript")) if item.name == "x")
    assert [text[s:e] for s, e in item.spans] == ["x"] * 3 and len(item.spans) == 3  # not a.x, not the key x
    assert renamable(read_lexed("def f(x):\n    return x\n", "ruby")) == []


# Faulty code -------------------------------------------------------------------------------------------------------


@need_real
@SETTINGS
@given(st.integers(0, len(REAL) - 1 if REAL else 0), st.integers(0, 2**16), st.floats(0.0, 2.0))
def test_faulty_code_moves_no_unit_more_than_k_places(k, seed, strength):
    language, text = REAL[k]
    op = LexedFaulty(language, word_dropout=0.0, word_blank=0.0)
    source = op.parse(text)
    units = code_units(source)
    start_of = {start: i for i, (start, _) in enumerate(units)}
    edits = op.edits(source, draws(seed, strength=strength))
    slots = {edit.start: edit for edit in edits}
    assert set(slots) <= set(start_of)
    permutation = [start_of[slots[start].origin] if start in slots else i for i, (start, _) in enumerate(units)]
    assert sorted(permutation) == list(range(len(units)))
    assert all(abs(new - old) < 3.0 * strength + 1e-9 or new == old for new, old in enumerate(permutation))
    moved = [text[edit.origin : edit.origin + len(edit.text)] for edit in edits]
    assert moved == [edit.text for edit in edits]  # each slot receives a whole unit, copied from its origin
    assert sorted(edit.text for edit in edits) == sorted(text[edit.start : edit.end] for edit in edits)
    assert len(apply_edits(text, edits)) == len(text)


@need_real
@SETTINGS
@given(st.integers(0, len(REAL) - 1 if REAL else 0), st.integers(0, 2**16))
def test_faulty_code_drops_and_blanks_at_its_rates_and_keeps_one(k, seed):
    language, text = REAL[k]
    op = LexedFaulty(language, mask="<blank>")
    source = op.parse(text)
    units = code_units(source)
    edits = op.edits(source, draws(seed))
    dropped = sum(edit.text == "" for edit in edits)
    blanked = sum(edit.text == "<blank>" for edit in edits)
    n = len(units)
    assert abs(dropped - 0.1 * n) <= 5 * (0.1 * 0.9 * n) ** 0.5 + 2
    assert abs(blanked - 0.27 * n) <= 5 * (0.27 * 0.73 * n) ** 0.5 + 2
    starts = {start for start, _ in units}
    assert all(edit.start in starts and (edit.start, edit.end) in set(units) for edit in edits)  # slots only
    tiny = op.parse("a + b;")
    for s in range(20):
        out = op.edits(tiny, draws(s, strength=100.0))
        assert sum(edit.text == "" for edit in out) == len(code_units(tiny)) - 1  # all drop but one


def test_code_units_keep_literals_and_preprocessor_lines_whole():
    js = read_lexed("let s = `a ${b + c} d`; // note\nf('x y');", "javascript")
    assert [js.text[s:e] for s, e in code_units(js)] == [
        "let", "s", "=", "`a ${b + c} d`", ";", "// note", "f", "(", "'x y'", ")", ";"
    ]  # fmt: skip
    c = read_lexed("#include <stdio.h>\nint x;\n", "c")
    assert next(c.text[s:e] for s, e in code_units(c)).startswith("#include <stdio.h>")


# Format noise ------------------------------------------------------------------------------------------------------


@need_real
@SETTINGS
@given(st.integers(0, len(REAL) - 1 if REAL else 0), st.integers(0, 2**16), st.floats(0.05, 1.0))
def test_format_noise_keeps_the_token_stream(k, seed, rate):
    language, text = REAL[k]
    op = LexedFormat(language)
    source = op.parse(text)
    edits = op.edits(source, draws(seed, rate=rate))
    out = apply_edits(text, edits)
    assert stream(language, out) == stream(language, text)
    assert all(edit.text.isspace() or edit.text == "" for edit in edits)
    assert all(text[edit.start : edit.end].isspace() or edit.start == edit.end for edit in edits)


@need_node
def test_formatted_npm_files_pass_node_check_and_change(tmp_path):
    changed = 0
    for k, (_, text) in enumerate(JS[:4]):
        op = LexedFormat()
        out = apply_edits(text, op.edits(op.parse(text), draws(k, rate=0.5)))
        changed += out != text
        path = tmp_path / f"{k}.js"
        path.write_text(out)
        original = tmp_path / f"{k}_original.js"
        original.write_text(text)
        if subprocess.run([NODE, "--check", str(original)], capture_output=True).returncode == 0:
            result = subprocess.run([NODE, "--check", str(path)], capture_output=True, text=True)
            assert result.returncode == 0, result.stderr
    assert changed == 4


def test_format_noise_changes_the_indentation_unit_and_spacing():
    text = "function f(a) {\n  if (a) {\n    return a+1;\n  }\n}\n"
    op = LexedFormat()
    outs = {apply_edits(text, op.edits(op.parse(text), draws(s, rate=1.0))) for s in range(12)}
    assert any("\n\tif" in out for out in outs) and any("\n    if" in out for out in outs)
    assert any("a + 1" in out or "a+ 1" in out or "a +1" in out for out in outs)
    assert all(stream("javascript", out) == stream("javascript", text) for out in outs)
    shell = "if true; then\n  x=1\nfi\n"
    for s in range(10):  # a shell keeps its spacing (x = 1 is another command): only layout changes
        out = apply_edits(shell, LexedFormat("bash").edits(read_lexed(shell, "bash"), draws(s, rate=1.0)))
        assert "x=1" in out


# Policies, determinism, parameters, bad input ------------------------------------------------------------------------


@need_js
@pytest.mark.parametrize("op", [LexedRename(), LexedFaulty(), LexedFormat()])
def test_draws_depend_only_on_seed_epoch_and_index(op):
    sources = [text for _, text in JS[:8]]
    policy = OpPolicy(op, seed=7, dose=Dose(1.0, 1.0))
    whole = policy(sources, index=list(range(8)), epoch=1)
    assert policy(sources[2:5][::-1], index=[4, 3, 2], epoch=1) == whole[2:5][::-1]
    assert OpPolicy(op, seed=7, dose=Dose(1.0, 1.0))(sources, index=list(range(8)), epoch=1) == whole
    assert policy(sources, index=list(range(8)), epoch=2) != whole
    assert sum(out != text for out, text in zip(whole, sources, strict=True)) >= 6


def test_ops_table_streams_and_params():
    assert set(OPS) == {"lexed_rename", "lexed_faulty", "lexed_format"}
    streams = [op.stream for op in OPS.values()]
    assert len(set(streams)) == 3 and min(streams) >= 0xC4_0000
    assert all(op.language == "any" for op in OPS.values())
    assert LexedRename().params() == {} and LexedRename("c", style="plausible").params() == {
        "language": "c", "style": "plausible"}  # fmt: skip
    assert LexedFaulty(mask="[M]", word_shuffle=2).params() == {"mask": "[M]", "word_shuffle": 2.0}
    assert LexedFormat("c") == LexedFormat("c") != LexedFormat()


def test_bad_input_is_named():
    op = LexedRename()
    assert op.parse(b"let x = 1;").text == "let x = 1;"
    with pytest.raises(CodeSyntaxError, match="UTF-8"):
        op.parse(b"let x = '\xff';")
    with pytest.raises(TypeError, match="str or bytes, got NoneType"):
        op.parse(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown Pygments lexer 'javascrpt'; did you mean: javascript"):
        LexedRename("javascrpt")
    with pytest.raises(ValueError, match="style"):
        LexedRename(style="random")
    with pytest.raises(ValueError, match="mask"):
        LexedFaulty(mask=" ")
    with pytest.raises(ValueError, match="word_dropout"):
        LexedFaulty(word_dropout=1.5)
    with pytest.raises(TypeError, match="language"):
        LexedFormat(3)  # type: ignore[arg-type]
    for cls in (LexedRename, LexedFaulty, LexedFormat):
        empty = cls().parse("")
        assert cls().sites(empty) == 0 and cls().edits(empty, draws(0)) == []
    out = OpPolicy(LexedFaulty(), seed=0, on_error="pass").augment([b"let x = '\xff';"], index=[0])
    assert out[0].error and "encoding" in out[0].error and not out[0].edits


def test_inputs_are_not_mutated():
    text = "let a = 1;\nfunction f(b) { return a + b; }\n"
    source = read_lexed(text, "javascript")
    tokens = source.tokens
    for op in (LexedRename(), LexedFaulty(), LexedFormat()):
        op.edits(source, draws(3))
    assert source.text == text and source.tokens == tokens
