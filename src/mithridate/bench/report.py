"""The benchmark's outputs: a Markdown table per setting, the targets checked, JSON, and a bar chart."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["TARGETS", "check_targets", "suite_rate", "write_outputs"]

SUITE = "corruption suite"
"""The summary row of the corruption group: corruptions per second over all 19 (total time, not a mean of rates)."""

TARGETS = (
    # (device, size, policy row, peer, minimum ratio mithridate / peer)
    ("cpu", 32, "policy:TrivialAugmentWide", "torchvision", 10.0),
    ("cpu", 32, "policy:TrivialAugmentWide", "albumentations", 5.0),
    ("cpu", 32, "policy:TrivialAugmentWide", "kornia", 1.0),
    ("cpu", 224, "policy:TrivialAugmentWide", "albumentations", 1.5),
    ("cpu", 224, "policy:TrivialAugmentWide", "kornia", 1.0),
    ("cpu", None, SUITE, "imagecorruptions", 10.0),
    ("cuda", 32, "policy:TrivialAugmentWide", "kornia", 10.0),
)
"""The issue's targets, as ratios within one table (same inputs, same run)."""

GPU_RATE_TARGET = 2_000_000
"""Per-sample TrivialAugmentWide at 32x32 on an H100/H200: images per second."""


def _rate(results: dict, key: str) -> float | None:
    entry = results.get(key) if isinstance(results, dict) else None
    return entry.get("img_per_s") if isinstance(entry, dict) else None


def suite_rate(results: dict, corruptions: list[str]) -> float | None:
    """Corrupted images per second over the whole suite: len / sum of seconds per image; None if one is missing."""
    rates = [_rate(results, f"corruption:{name}") for name in corruptions]
    if not rates or any(rate is None or rate <= 0 for rate in rates):
        return None
    return len(rates) / sum(1.0 / rate for rate in rates)


def _with_suite(result: dict) -> dict:
    """Each table's per-library results with the corruption-suite row added where complete."""
    corruptions = [case["name"] for case in result["cases"] if case["group"] == "corruption"]
    for table in result["tables"]:
        for results in table["libraries"].values():
            rate = suite_rate(results, corruptions) if corruptions else None
            if rate is not None:
                results[SUITE] = {"img_per_s": rate, "note": f"all {len(corruptions)} corruptions, total time"}
    return result


def _short(rate: float) -> str:
    if rate >= 1e6:
        return f"{rate / 1e6:.2f}M"
    if rate >= 1e4:
        return f"{rate / 1e3:.0f}k"
    if rate >= 1e3:
        return f"{rate / 1e3:.1f}k"
    return f"{rate:.0f}" if rate >= 10 else f"{rate:.2g}"


def check_targets(result: dict) -> list[dict]:
    """Every target that applies to this run, with the measured ratio and whether it is met."""
    device = result["settings"]["device"]
    checks = []
    for target_device, size, row, peer, minimum in TARGETS:
        if target_device != device:
            continue
        for table in result["tables"]:
            if size is not None and table["size"] != size:
                continue
            ours = _rate(table["libraries"].get("mithridate", {}), row)
            theirs = _rate(table["libraries"].get(peer, {}), row)
            if ours is None or theirs is None:
                continue
            ratio = ours / theirs
            checks.append({
                "what": f"{row.split(':')[-1]} {table['size']}x{table['size']}, {table['threads']} thread(s): "
                f"mithridate / {peer} >= {minimum:g}",
                "ratio": round(ratio, 2),
                "met": ratio >= minimum,
            })  # fmt: skip
    if device == "cuda":
        for table in result["tables"]:
            ours = _rate(table["libraries"].get("mithridate", {}), "policy:TrivialAugmentWide")
            if table["size"] == 32 and ours is not None:
                checks.append({
                    "what": f"TrivialAugmentWide 32x32, N={table['batch']}: >= {GPU_RATE_TARGET:,} img/s",
                    "ratio": round(ours / GPU_RATE_TARGET, 2),
                    "met": ours >= GPU_RATE_TARGET,
                })  # fmt: skip
    return checks


def _cell(results: dict, key: str, ours: float | None, notes: dict[str, int]) -> str:
    """One table cell: median (min–max), mithridate's speed-up in bold (`ours` None for its own column), notes."""
    entry = results.get(key)
    if not isinstance(entry, dict):
        return "–"
    if "error" in entry:
        mark = notes.setdefault(f"failed: {entry['error']}", len(notes) + 1)
        return f"failed [{mark}]"
    rate = entry["img_per_s"]
    text = _short(rate)
    low, high = entry.get("min_img_per_s"), entry.get("max_img_per_s")
    if low is not None and high is not None and _short(low) != _short(high):
        text += f" ({_short(low)}–{_short(high)})"
    if ours is not None and rate > 0:
        text += f" **{ours / rate:.2f}x**"
    if entry.get("note"):
        text += f" [{notes.setdefault(entry['note'], len(notes) + 1)}]"
    return text


def markdown(result: dict) -> str:
    """The whole run as Markdown: machine, one table per setting, notes, targets."""
    machine = result["machine"]
    libraries = [name for name, info in result["libraries"].items() if not info["skipped"]]
    lines = [
        f"# mithridate bench: {result['settings']['device']}",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores"
        + (f", GPU {machine['gpu']}" if machine.get("gpu") else "")
        + f"; {machine['os']}; Python {machine['python']}; {machine['date']}.",
        "Versions: " + ", ".join(f"{name} {info.get('version', '?')}" for name, info in result["libraries"].items()
                                 if not info["skipped"]) + ".",
        "",
        "Images per second, median of the repetitions (min–max in brackets); **bold**: how many times faster",
        "mithridate is on the same inputs in the same run. Per-image libraries loop over the images in Python",
        "as a Dataset transform does; batch libraries take the whole batch in one call.",
    ]  # fmt: skip
    skipped = {name: info["skipped"] for name, info in result["libraries"].items() if info["skipped"]}
    if skipped:
        lines += ["", "Skipped: " + "; ".join(f"{name} ({why})" for name, why in skipped.items()) + "."]
    keys = [f"{case['group']}:{case['name']}" for case in result["cases"]]
    labels = {f"{case['group']}:{case['name']}": case["label"] for case in result["cases"]}
    if any(key.startswith("corruption:") for key in keys):
        index = max(i for i, key in enumerate(keys) if key.startswith("corruption:")) + 1
        keys.insert(index, SUITE)
        labels[SUITE] = "**corruption suite** (all 19, total time)"
    for table in result["tables"]:
        notes: dict[str, int] = {}
        header = [f"{name} ({result['libraries'][name]['mode']})" for name in libraries]
        lines += [
            "",
            f"## {table['size']}x{table['size']}, N={table['batch']}, {table['threads']} thread(s), {table['inputs']}",
            "",
            "| case | " + " | ".join(header) + " |",
            "|---|" + "---:|" * len(header),
        ]
        for key in keys:
            ours = _rate(table["libraries"].get("mithridate", {}), key)
            cells = [
                _cell(table["libraries"].get(name, {}), key, None if name == "mithridate" else ours, notes)
                for name in libraries
            ]
            if all(cell == "–" for cell in cells):
                continue
            lines.append(f"| {labels[key]} | " + " | ".join(cells) + " |")
        if notes:
            lines += [""] + [f"[{number}] {text}" for text, number in notes.items()]
    checks = check_targets(result)
    if checks:
        lines += ["", "## Targets", ""]
        lines += [f"- {'met' if c['met'] else '**not met**'}: {c['what']} (measured {c['ratio']:g})" for c in checks]
    lines += ["", f"Total time of the run: {result['seconds']:.0f} s.", ""]
    return "\n".join(lines)


def _chart(result: dict, path: Path) -> None:
    """Grouped bars per setting (policies, corruption suite, copy), log scale, ratios printed on peers' bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = ["policy:TrivialAugmentWide", "policy:RandAugment(2, 9)", "policy:AugMix", SUITE, "reference:copy"]
    names = {"policy:TrivialAugmentWide": "TrivialAugmentWide", "policy:RandAugment(2, 9)": "RandAugment(2, 9)",
             "policy:AugMix": "AugMix", SUITE: "corruption suite", "reference:copy": "copy (memory bound)"}  # fmt: skip
    tables = result["tables"]
    libraries = [name for name, info in result["libraries"].items() if not info["skipped"]]
    colours = dict(zip(libraries, plt.get_cmap("tab10").colors, strict=False))
    figure, axes = plt.subplots(len(tables), 1, figsize=(11, 3.6 * max(len(tables), 1)), squeeze=False)
    for axis, table in zip(axes[:, 0], tables, strict=True):
        present = [row for row in rows if any(_rate(table["libraries"].get(lib, {}), row) for lib in libraries)]
        width = 0.8 / max(len(libraries), 1)
        labelled: set[str] = set()
        for j, library in enumerate(libraries):
            results = table["libraries"].get(library, {})
            for i, row in enumerate(present):
                rate = _rate(results, row)
                if not rate:
                    continue
                x = i + (j - (len(libraries) - 1) / 2) * width
                axis.bar(x, rate, width, color=colours[library], label=None if library in labelled else library)
                labelled.add(library)
                ours = _rate(table["libraries"].get("mithridate", {}), row)
                if library != "mithridate" and row != "reference:copy" and ours:
                    axis.text(x, rate * 1.08, f"{ours / rate:.1f}x", ha="center", va="bottom", fontsize=7, rotation=90)
        axis.set_yscale("log")
        axis.set_xticks(range(len(present)), [names[row] for row in present])
        axis.set_ylabel("images / s")
        axis.set_title(f"{table['size']}x{table['size']}, N={table['batch']}, {table['threads']} thread(s) "
                       "(labels: mithridate's speed-up over that library)", fontsize=9)  # fmt: skip
        if labelled:
            axis.legend(fontsize=7, ncol=len(labelled), loc="upper left")
        axis.margins(y=0.25)
    machine = result["machine"]
    figure.suptitle(f"mithridate bench ({machine.get('gpu') or machine['cpu']})", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_outputs(result: dict, out_dir: Path, name: str) -> dict[str, Path]:
    """Write NAME.md, NAME.json and NAME.png under out_dir; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = _with_suite(result)
    result["targets"] = check_targets(result)
    paths = {"markdown": out_dir / f"{name}.md", "json": out_dir / f"{name}.json", "chart": out_dir / f"{name}.png"}
    paths["markdown"].write_text(markdown(result))
    paths["json"].write_text(json.dumps(result, indent=1, default=str))
    _chart(result, paths["chart"])
    return paths
