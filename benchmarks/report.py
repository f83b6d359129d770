"""results.json and results.md from the per-benchmark JSON files in benchmarks/results/."""

from __future__ import annotations

import json
import time
from pathlib import Path

from benchmarks.common import RESULTS, machine, write_json


def collect(folder: Path = RESULTS) -> dict:
    """Every benchmark's last record, in the order ``benchmarks.run`` lists them."""
    from benchmarks.run import NAMES

    records = {}
    for name in NAMES:
        path = folder / f"{name}.json"
        if path.exists():
            records[name] = json.loads(path.read_text(encoding="utf-8"))
    return records


def write_all(folder: Path = RESULTS) -> tuple[Path, Path]:
    records = collect(folder)
    combined = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "aims": [{"benchmark": name, **aim} for name, r in records.items() for aim in r["aims"]],
        "benchmarks": records,
    }
    write_json(folder / "results.json", combined)
    markdown = folder / "results.md"
    markdown.write_text(render(combined), encoding="utf-8")
    return folder / "results.json", markdown


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _met(met) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[met]


def render(combined: dict) -> str:
    m = combined["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Generated {combined['generated_at']} by `python -m benchmarks.run` "
        "(`.venv/bin/python`, from the repository root). Every figure carries the load "
        "average (1/5/15 min) when it was taken and the command that reproduces it; "
        "latencies are per question, medians are preferred, other processes may have shared "
        "the machine.",
        "",
        f"Machine: {m.get('cpus')} CPUs ({m.get('cpu', '?')}), {m.get('memory_gib', '?')} GiB, "
        f"Python {m.get('python')}, numpy {m.get('numpy')}, faiss {m.get('faiss')}, bm25s "
        f"{m.get('bm25s')}, gradio {m.get('gradio')}, gradio_client {m.get('gradio_client')}.",
        "",
        "## Aims",
        "",
        "| Aim | Target | Measured | Status | Command |",
        "|---|---|---|---|---|",
    ]
    for aim in combined["aims"]:
        lines.append(f"| {_cell(aim['aim'])} | {_cell(aim['target'])} | "
                     f"{_cell(aim['measured'])} | {_met(aim['met'])} | `{aim['command']}` |")
    for name, record in combined["benchmarks"].items():
        lines += [
            "",
            f"## {name}",
            "",
            f"`{record['command']}` — started {record['started_at']}, took "
            f"{record['seconds']} s, load {record['load_before']} before, "
            f"{record['load_after']} after.",
            "",
            "| Figure | Value | Unit | Load | Note | Command |",
            "|---|---|---|---|---|---|",
        ]
        for f in record["figures"]:
            load = "/".join(str(x) for x in f["load"])
            lines.append(f"| {_cell(f['figure'])} | {_cell(f['value'])} | {_cell(f['unit'])} | "
                         f"{load} | {_cell(f['note'])} | `{f['command']}` |")
        for note in record["notes"]:
            lines += ["", f"- {note}"]
        if record["details"].get("error"):
            lines += ["", f"**Failed:** {_cell(record['details']['error'])}"]
    return "\n".join(lines) + "\n"
