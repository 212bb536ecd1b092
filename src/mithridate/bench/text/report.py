"""The text benchmark's outputs: a Markdown table per thread count, the targets checked, and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from .cases import PEERS

__all__ = ["DENOISING_TARGET", "check_text_targets", "text_markdown", "write_text_outputs"]

STRING_RATIO = 10.0
"""mithridate / nlpaug on every matching string op, one thread."""

MASK_RATIO = 1.0
"""mithridate's masking / transformers' collator, one thread."""

DENOISING_TARGET = 10_000_000
"""XLM denoising noise (the xlm preset), real tokens per second on one thread."""


def _rate_key(unit: str) -> str:
    return f"{unit}_per_s"


def _rate(results: dict, key: str, suffix: str = "") -> float | None:
    entry = results.get(key) if isinstance(results, dict) else None
    if not isinstance(entry, dict) or "unit" not in entry:
        return None
    return entry.get(f"{suffix}{_rate_key(entry['unit'])}")


def check_text_targets(result: dict) -> list[dict]:
    """Every target that applies to this run (one-thread tables), with the measured ratio and whether it is met."""
    checks = []
    for table in result["tables"]:
        if table["threads"] != 1:
            continue
        ours_results = table["libraries"].get("mithridate", {})
        for key, (peer, call) in PEERS.items():
            ours = _rate(ours_results, key)
            theirs = _rate(table["libraries"].get(peer, {}), key)
            if ours is None or theirs is None or theirs <= 0:
                continue
            minimum = STRING_RATIO if key.startswith("string:") else MASK_RATIO
            ratio = ours / theirs
            checks.append({
                "what": f"{key.split(':', 1)[1]}, 1 thread: mithridate / {peer} {call} >= {minimum:g}",
                "ratio": round(ratio, 2),
                "met": ratio >= minimum,
            })  # fmt: skip
        xlm = _rate(ours_results, "token:xlm")
        if xlm is not None:
            checks.append({
                "what": f"xlm denoising noise, 1 thread: >= {DENOISING_TARGET / 1e6:g}M tokens/s",
                "ratio": round(xlm / DENOISING_TARGET, 3),
                "met": xlm >= DENOISING_TARGET,
            })  # fmt: skip
    return checks


def _short(rate: float) -> str:
    if rate >= 1e6:
        return f"{rate / 1e6:.2f}M"
    if rate >= 1e4:
        return f"{rate / 1e3:.0f}k"
    if rate >= 1e3:
        return f"{rate / 1e3:.1f}k"
    return f"{rate:.0f}" if rate >= 10 else f"{rate:.2g}"


def _cell(entry: object, notes: dict[str, int]) -> str:
    """A rate cell: median (min–max), a note's number."""
    if not isinstance(entry, dict):
        return "–"
    if "error" in entry:
        mark = notes.setdefault(f"failed: {entry['error']}", len(notes) + 1)
        return f"failed [{mark}]"
    unit = entry["unit"]
    text = _short(entry[_rate_key(unit)])
    low, high = entry.get(f"min_{_rate_key(unit)}"), entry.get(f"max_{_rate_key(unit)}")
    if low is not None and high is not None and _short(low) != _short(high):
        text += f" ({_short(low)}–{_short(high)})"
    if entry.get("note"):
        text += f" [{notes.setdefault(entry['note'], len(notes) + 1)}]"
    return text


def _work(key: str, ours: dict, theirs: object) -> str:
    """What each side did, so that the ratio compares the same work: edits per sentence, masked share."""
    theirs = theirs if isinstance(theirs, dict) else {}
    if key.startswith("string:") and "edits_per_sentence" in ours:
        kind = ours.get("edit", "edits")
        text = f"{ours['edits_per_sentence']:.2f}"
        if "edits_per_sentence" in theirs:
            text += f" vs {theirs['edits_per_sentence']:.2f}"
        rate = f"{ours['rate']:g} per {ours['rate_unit']}"
        params = theirs.get("params")
        if params:
            rate += "; nlpaug " + ", ".join(f"{name} {value:.4g}" for name, value in params.items())
        return f"{kind}/sentence {text} ({rate})"
    if "masked" in ours:
        text = f"masked {ours['masked']:.1%}"
        if "masked" in theirs:
            text += f" vs {theirs['masked']:.1%}"
        if "per_sample_reproducible" in ours:
            text += "; per-sample reproducible" if ours["per_sample_reproducible"] else "; NOT per-sample reproducible"
        return text
    if "output_tokens" in ours:
        return f"`{ours['policy']}`: {ours['output_tokens']:,} tokens out"
    return ""


def text_markdown(result: dict) -> str:
    """The whole run as Markdown: machine, inputs, one table per thread count, notes, targets."""
    machine, inputs = result["machine"], result["inputs"]
    present = {name: info for name, info in result["libraries"].items() if not info["skipped"]}
    lines = [
        "# mithridate bench: text",
        "",
        f"Machine: {machine['cpu']} (lscpu model name), {machine['cores']} cores; {machine['os']}; "
        f"Python {machine['python']}; {machine['date']}.",
        "Versions: " + ", ".join(f"{name} {info.get('version', '?')}" for name, info in present.items())
        + f", tokenizers {machine.get('tokenizers', '?')}, torch {machine['torch']}.",
        "",
        f"Inputs: {inputs['source']}; mean {inputs['mean_characters']:g} characters, {inputs['mean_words']:g} words. "
        f"Tokens: {inputs['tokenizer']}; {inputs['tokens']:,} tokens with [CLS] and [SEP] (mean "
        f"{inputs['mean_tokens']:g}, longest {inputs['max_tokens']}), in {inputs['batches']} batches of "
        f"{inputs['batch']} sentences, each padded to its longest.",
        "",
        "Median of the repetitions (min–max in brackets): sentences per second for string noise (one call on the",
        "list of sentences; nlpaug's `augment(list)` loops over them), real tokens per second (padding not counted)",
        "for token noise, on every batch. **ours / peer**: how many times faster mithridate is on the same inputs in",
        "the same run. Peers' rates are set so that they do the same work: nlpaug edits as many units per sentence",
        "(its aug_word_p / aug_p matched to mithridate's measured count, clamps lifted), transformers masks 15%.",
        "One process per library; the objects alive before a case is timed are frozen out of the garbage collector",
        "(`gc.freeze`), the same for every library.",
    ]  # fmt: skip
    skipped = {name: info["skipped"] for name, info in result["libraries"].items() if info["skipped"]}
    if skipped:
        lines += ["", "Skipped: " + "; ".join(f"{name} ({why})" for name, why in skipped.items()) + "."]
    for table in result["tables"]:
        notes: dict[str, int] = {}
        ours_results = table["libraries"].get("mithridate", {})
        lines += [
            "",
            f"## {table['threads']} thread(s), N={inputs['sentences']:,}",
            "",
            "| case | unit/s | mithridate | peer | **ours / peer** | same work |",
            "|---|---|---:|---:|---:|---|",
        ]
        for case in result["cases"]:
            key = f"{case['group']}:{case['name']}"
            ours = ours_results.get(key)
            peer = PEERS.get(key, (None, None))[0]
            theirs = table["libraries"].get(peer, {}).get(key) if peer else None
            if ours is None and theirs is None:
                continue
            ratio = "–"
            ours_rate, theirs_rate = _rate(ours_results, key), _rate(table["libraries"].get(peer, {}), key)
            if ours_rate and theirs_rate:
                ratio = f"**{ours_rate / theirs_rate:.2f}x**"
            peer_cell = "–" if peer is None else (f"{peer}: " + _cell(theirs, notes) if theirs else f"{peer}: –")
            work = _work(key, ours if isinstance(ours, dict) else {}, theirs)
            cells = [case["label"], case["unit"], _cell(ours, notes), peer_cell, ratio, work]
            lines.append("| " + " | ".join(cells) + " |")
        if notes:
            lines += [""] + [f"[{number}] {text}" for text, number in notes.items()]
    checks = result.get("targets") or check_text_targets(result)
    if checks:
        lines += ["", "## Targets", ""]
        lines += [f"- {'met' if c['met'] else '**not met**'}: {c['what']} (measured {c['ratio']:g})" for c in checks]
    lines += ["", f"Total time of the run: {result['seconds']:.0f} s.", ""]
    return "\n".join(lines)


def write_text_outputs(result: dict, out_dir: Path, name: str) -> dict[str, Path]:
    """Write NAME.md and NAME.json under out_dir; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result["targets"] = check_text_targets(result)
    paths = {"markdown": out_dir / f"{name}.md", "json": out_dir / f"{name}.json"}
    paths["markdown"].write_text(text_markdown(result))
    paths["json"].write_text(json.dumps(result, indent=1, default=str))
    return paths
