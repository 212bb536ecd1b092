"""The report toolkit (`mithridate.experiments.report`): every report page extends one base template (the
same style sheet and script), untrusted text is escaped wherever it lands, and the table helpers.

The garbage and synthetic reports are written here from made-up results (no model is trained), so that
each of their templates is rendered in full."""

from __future__ import annotations

import dataclasses
import re
import zlib
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest

from mithridate.experiments.engine import Record, summarize_grid
from mithridate.experiments.records import SweepSpec
from mithridate.experiments.report import (
    TEMPLATES,
    Cell,
    GridFigure,
    Row,
    Section,
    environment,
    html_table,
    run_section,
    text_table,
    write_grid_report,
    write_report,
)
from mithridate.experiments.studies import garbage, synthetic
from mithridate.experiments.summary import summarize
from test_summary_report import sweep

ATTACK = "<script>alert('x')</script>"
ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
IMG = "<img src=x onerror=alert(1)>"  # no slash: fits where a slash means something (corruption/severity)
PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "p", "code", "b", "div", "script"}
CONTENT_TAGS = {"table", "thead", "tbody", "tr", "th", "td", "span", "figure", "img", "figcaption", "dl", "dt", "dd"}


def _block(tag: str, text: str) -> str:
    (block,) = re.findall(rf"<{tag}>(.*?)</{tag}>", text, flags=re.S)
    return block


BASE = (TEMPLATES / "base.html.j2").read_text(encoding="utf-8")
BASE_STYLE, BASE_SCRIPT = _block("style", BASE), _block("script", BASE)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def _check_page(path: Path, title: str, figures: int) -> str:
    """The page has the base's style sheet and script (once each), its title, only the toolkit's tags, no
    event-handler attribute, and `figures` embedded figures."""
    text = path.read_text(encoding="utf-8")
    assert _block("style", text) == BASE_STYLE and _block("script", text) == BASE_SCRIPT
    assert text.startswith("<!DOCTYPE html>\n") and text.count("<h1>") == 1
    assert f"<title>{title}</title>" in text and '<p class="sub">' in text
    tags = _tags(text)
    assert {tag for tag, _ in tags} <= PAGE_TAGS | CONTENT_TAGS, {tag for tag, _ in tags} - PAGE_TAGS - CONTENT_TAGS
    assert not [(tag, name) for tag, attrs in tags for name in attrs if name.startswith("on")]
    assert sum(tag == "script" for tag, _ in tags) == 1
    images = [attrs for tag, attrs in tags if tag == "img"]
    assert len(images) == figures and all(attrs["src"].startswith("data:image/png;base64,") for attrs in images)
    return text


# Templates --------------------------------------------------------------------------------------------


def _parent(name: str) -> str | None:
    source = environment().loader.get_source(environment(), name)[0]
    extends = list(environment().parse(source).find_all(jinja2.nodes.Extends))
    return extends[0].template.value if extends else None


REPORT_TEMPLATES = sorted(
    path.name for path in TEMPLATES.glob("*.html.j2") if path.name not in ("base.html.j2", "macros.html.j2")
)


def test_the_report_templates_are_the_expected_ones() -> None:
    assert REPORT_TEMPLATES == ["garbage.html.j2", "grid.html.j2", "sweep.html.j2", "synthetic.html.j2"]


@pytest.mark.parametrize("name", REPORT_TEMPLATES)
def test_every_report_template_extends_the_base(name: str) -> None:
    chain = [name]
    while (parent := _parent(chain[-1])) is not None:
        chain.append(parent)
    assert chain[-1] == "base.html.j2", chain
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    assert "<style" not in source and "<script" not in source  # the base's only


def test_the_environment_escapes_and_refuses_undefined_names() -> None:
    template = environment().from_string("{{ value }}")
    assert template.render(value=ATTACK) == ESCAPED
    with pytest.raises(jinja2.UndefinedError):
        template.render()


# The pages --------------------------------------------------------------------------------------------


def _figure():
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 2))
    figure.add_subplot().plot([0, 1], [1, 0])
    return figure


def test_the_sweep_report_escapes_untrusted_text(tmp_path: Path) -> None:
    spec = SweepSpec(data=f"runs/{ATTACK}", policy=f"ta_wide{ATTACK}", doses=(0.0, 1.0), seeds=2)
    records = sweep(spec, {0.0: [0.80, 0.82], 1.0: [0.85, 0.86]}, corruption_accuracy={f"{IMG}/1": 0.5})
    records[0] = dataclasses.replace(records[0], versions={ATTACK: ATTACK}, sweep_id=ATTACK)
    path = write_report(tmp_path / ATTACK.replace("/", "_"), summarize(records, spec), records, title=ATTACK)
    text = _check_page(path, ESCAPED, figures=3)
    assert "alert('x')" not in text and "alert(1)" not in text.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    # the title, data and policy twice each (the subtitle and the spec), the software's name and version, the sweep id
    assert text.count(ESCAPED) == 9
    assert text.count("&lt;img src=x onerror=alert(1)&gt;") == 1  # the corruption's row


def test_the_grid_report_escapes_untrusted_text(tmp_path: Path) -> None:
    class Spec:
        def spec_hash(self) -> str:
            return ATTACK

    @dataclasses.dataclass
    class Record:
        versions: dict[str, str]

    path = write_grid_report(
        tmp_path / "out",
        title=ATTACK,
        subtitle=ATTACK,
        sections=[
            (ATTACK, html_table([ATTACK, "b"], [[ATTACK, Cell(ATTACK, tag=ATTACK, note=ATTACK, style=ATTACK)]])),
            Section(ATTACK, text=ATTACK, legend=ATTACK),
        ],
        figures=[GridFigure("line.png", _figure(), ATTACK, ATTACK)],
        payload={"x": ATTACK},
        run=run_section(Spec(), [Record({"mithridate": ATTACK})]),
    )
    text = _check_page(path, ESCAPED, figures=1)
    assert "alert('x')" not in text
    # the title twice; the subtitle; the first section's heading, header, cell, and the second cell's text, tag,
    # note and style; the second section's heading, text and legend; the figure's alt and caption; the run's
    # spec hash and versions
    assert text.count(ESCAPED) == 17


def _record(spec, cell: dict, seed: int, metrics: dict[str, float]) -> Record:
    return Record(spec.experiment, spec.spec_hash(), cell, seed, metrics, 0.1, {"python": "3"}, "t0", "t1")


def _score(cell: dict, seed: int) -> float:
    """A made-up accuracy in [0.5, 1), fixed by the cell and the seed."""
    return 0.5 + (zlib.crc32(repr((sorted(cell.items()), seed)).encode()) % 1000) / 2000


def test_the_garbage_report_renders_with_the_base(tmp_path: Path) -> None:
    config = garbage.GarbageConfig(datasets=("wine",), kinds=("gaussian", "id"), ks=(0, 13), models=("knn",), seeds=2)
    spec = config.spec()
    records = []
    for cell in config.cells():
        for seed in range(config.seeds):
            metrics = {"all/knn": _score(cell, seed), "probe/knn": _score(cell, seed + 9), "kept": 10.0}
            metrics |= {"kept_real": 0.8} | ({"kept_random": 0.1} if cell["k"] else {})
            records.append(_record(spec, cell, seed, metrics))
    summary = garbage.GarbageSummary(spec, summarize_grid(records), records)
    path = garbage.write_garbage_report(tmp_path, summary, config)
    text = _check_page(path, "Garbage in, garbage out: random features", figures=2)
    assert "<code>mithridate garbage</code>" in text and "<dt>selector</dt>" in text
    assert (tmp_path / "results.json").is_file() and (tmp_path / "garbage_wine.png").is_file()


def test_the_synthetic_report_renders_with_the_base(tmp_path: Path) -> None:
    config = synthetic.SyntheticConfig(
        digits_variants=("plain",),
        tabular_variants=("smote",),
        models=("logreg",),
        seeds=2,
        shares=(0.0, 1.0),
        digits_added=(0, 100),
        tabular_added=(0, 50),
    )
    spec = config.spec()
    records = [
        _record(spec, cell, seed, {"accuracy/logreg": _score(cell, seed), "n_real": 1.0, "n_synthetic": 1.0})
        for cell in config.cells()
        for seed in range(config.seeds)
    ]
    summary = synthetic.SyntheticSummary(spec, summarize_grid(records), records)
    path = synthetic.write_synthetic_report(tmp_path, summary, config)
    text = _check_page(path, "Synthetic data: at what mix does it help?", figures=3)
    assert "<code>mithridate synthetic</code>" in text and "<code>ta_wide-s0.5</code>" in text
    assert "Best synthetic mix against real only" in text


# Tables -----------------------------------------------------------------------------------------------


def test_html_table_takes_text_cells_and_rows() -> None:
    table = html_table(["a", Cell("b", classes=("best",))], [["1", "2"], Row((Cell("3"), Cell("4")), "best")])
    assert table.header == (Cell("a"), Cell("b", classes=("best",)))
    assert table.rows == (Row((Cell("1"), Cell("2"))), Row((Cell("3"), Cell("4")), "best"))
    assert table.classes(0, table.header[0]) == "l" and table.classes(1, table.header[1]) == "best"


def test_text_table_aligns_columns() -> None:
    assert text_table(["a", "bb"], [["x", "1"], ["yy", "22"]]) == "a   bb\nx    1\nyy  22"
    assert text_table(["a", "b"], [["x", "y"]], left=(0, 1)) == "a  b\nx  y"
