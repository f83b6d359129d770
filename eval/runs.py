"""What produced a run (``run.json``), saved runs read back, and comparisons of two runs.

``run.json`` (written beside metrics.json) records the gold file (path, sha256, items),
the index (folder, sha256 of its manifest.json, corpus sha256), the embedder, each
configuration's retriever, answerer and reranker, the thresholds the answer depends on,
the code version (``git describe --always --dirty`` where the code is a git checkout,
else the package version), k, the bootstrap settings, then the seconds spent answering,
beyond answering and on the statistics, and the date. All but these last four are the
same for the same inputs.

A saved run is an output folder of ``ragqa eval`` (its primary configuration) or one
``per_question[_<config>].jsonl`` file in it; ``load_saved`` reads the results, the
qrels and run.json back. ``compare_saved`` pairs two runs question by question (the
same gold file is required: its sha256 must match, else ``RunMismatchError`` says
which files differ) and lists the questions that changed.

Left out: runs from other tools (read their TREC files with ir-measures instead).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.columns import Ranking, changed, compare_results
from eval.metrics import CitationResult, QuestionResult, RetrievedPassage
from eval.stats import LEVEL, RESAMPLES, SEED, Difference
from eval.trec import library_ranking, read_qrels
from rag.errors import RagError

RUN_FILE = "run.json"
# the 0/1 per-question values whose changes a comparison lists
CHANGE_KEYS = ("retrieval.hit@1", "retrieval.hit@5", "citation.accuracy", "refusal.accuracy")


class RunMismatchError(RagError):
    """Two saved runs cannot be compared (another gold file, other questions)."""


@dataclass(frozen=True)
class ConfigInfo:
    """How one configuration answered."""

    name: str
    retriever: str
    answerer: str
    reranker: str | None = None


@dataclass(frozen=True)
class Provenance:
    """What produced a run (run.json)."""

    gold_path: str
    gold_sha256: str
    n_items: int
    index_dir: str | None
    index_manifest_sha256: str | None
    corpus_sha256: str | None
    embedder: str
    configs: tuple[ConfigInfo, ...]
    thresholds: tuple[tuple[str, float], ...]
    code_version: str
    k: int
    resamples: int = RESAMPLES
    seed: int = SEED
    level: float = LEVEL
    limit: int | None = None
    answering_s: float | None = None  # the ask calls (sum of the latencies)
    beyond_answering_s: float | None = None  # the rest: scoring, statistics, files, plots
    statistics_s: float | None = None  # library ranking, intervals and comparisons
    created_utc: str | None = None

    def to_json(self) -> dict:
        record = asdict(self)
        record["thresholds"] = dict(self.thresholds)
        return record

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Provenance:
        values = {f.name: record[f.name] for f in fields(cls) if f.name in record}
        values["configs"] = tuple(ConfigInfo(**c) for c in record.get("configs", ()))
        values["thresholds"] = tuple(sorted(dict(record.get("thresholds", {})).items()))
        return cls(**values)


def sha256_of(path: str | Path) -> str:
    """The sha256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def code_version() -> str:
    """``git describe --always --dirty`` of the checkout this code runs from, else the
    installed package version."""
    root = Path(__file__).resolve().parent.parent
    try:
        described = subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty"],
                                   capture_output=True, text=True, timeout=10, check=True)
        if described.stdout.strip():
            return f"git {described.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"ragqa {version('ragqa')}"
    except PackageNotFoundError:
        return "unknown"


def thresholds() -> tuple[tuple[str, float], ...]:
    """The constants an answer depends on: refusal bars, fusion weights and depth."""
    from rag.answer import decide, offline
    from rag.search import figures, fusion
    from rag.search.backends import local

    found = {
        "answer.REFUSAL_THRESHOLD": offline.REFUSAL_THRESHOLD,
        "answer.REFUSAL_COVERAGE": offline.REFUSAL_COVERAGE,
        "answer.REFUSAL_PROMINENCE": offline.REFUSAL_PROMINENCE,
        "answer.KEYWORD_COVERAGE": offline.KEYWORD_COVERAGE,
        "answer.SUBJECT_SHARE": offline.SUBJECT_SHARE,
        "answer.ANSWER_THRESHOLD": decide.ANSWER_THRESHOLD,
        "answer.MODEL_BIAS": decide.MODEL.bias,
        "answer.MAX_CITATIONS": offline.MAX_CITATIONS,
        "search.RRF_K": fusion.RRF_K,
        "search.CANDIDATES": local.CANDIDATES,
        "search.FIGURE_DEPTH": figures.FIGURE_DEPTH,
    }
    return tuple(sorted((name, float(value)) for name, value in found.items()))


def config_info(name: str, pipeline: Any) -> ConfigInfo:
    """Retriever, answerer and reranker of a configuration run on ``pipeline``."""
    if name == "baseline":
        return ConfigInfo(name, "baseline: 500-character chunks, dense, flat FAISS",
                          "top chunk, never refuses")
    answerer = str(getattr(getattr(pipeline, "answerer", None), "name", None) or "offline")
    llm = getattr(pipeline, "llm", None)
    if llm is not None and getattr(llm, "model", None) and llm.model not in answerer:
        answerer += f" (language model {llm.model})"
    reranker = getattr(pipeline, "reranker", None)
    reranker_name = None if reranker is None else str(
        getattr(reranker, "name", None) or type(reranker).__name__)
    return ConfigInfo(name, name, answerer, reranker_name)


def provenance_for(pipeline: Any, gold_path: str | Path, n_items: int, names: Sequence[str],
                   k: int, resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL,
                   limit: int | None = None) -> Provenance:
    """The provenance of a run of ``names`` on ``pipeline`` (any attribute may be absent)."""
    index_dir = getattr(pipeline, "index_dir", None)
    manifest_path = Path(index_dir) / "manifest.json" if index_dir is not None else None
    manifest = getattr(pipeline, "manifest", None)
    return Provenance(
        gold_path=str(gold_path), gold_sha256=sha256_of(gold_path), n_items=n_items,
        index_dir=None if index_dir is None else str(index_dir),
        index_manifest_sha256=sha256_of(manifest_path)
        if manifest_path is not None and manifest_path.is_file() else None,
        corpus_sha256=getattr(manifest, "corpus_sha256", None),
        embedder=str(getattr(getattr(pipeline, "embedder", None), "name", "unknown")),
        configs=tuple(config_info(name, pipeline) for name in names),
        thresholds=thresholds(), code_version=code_version(), k=k, resamples=resamples,
        seed=seed, level=level, limit=limit)


def write_run_json(out_dir: str | Path, provenance: Provenance) -> Path:
    path = Path(out_dir) / RUN_FILE
    record = provenance.to_json()
    record["created_utc"] = record["created_utc"] or datetime.now(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def result_from_json(record: Mapping[str, Any]) -> QuestionResult:
    """A per_question.jsonl line back into a ``QuestionResult`` (unknown fields ignored,
    missing ones take their defaults).

    >>> r = QuestionResult("q", "fact", "?", (1,), 1, (CitationResult("p", "第一条", True),),
    ...                    False, ("a",), (), 5.0,
    ...                    (RetrievedPassage(1, "p", "t", "第一条", True),), None, (1,))
    >>> result_from_json(json.loads(json.dumps(r.to_json()))) == r
    True
    """
    values = {f.name: record[f.name] for f in fields(QuestionResult) if f.name in record}
    values["citations"] = tuple(CitationResult(**c) for c in record.get("citations", ()))
    values["top"] = tuple(RetrievedPassage(**p) for p in record.get("top", ()))
    for name in ("relevant_ranks", "keypoints_covered", "keypoints_missed", "place_ranks"):
        if name in values:
            values[name] = tuple(values[name])
    return QuestionResult(**values)


@dataclass(frozen=True)
class SavedRun:
    """One configuration of a saved run, read back."""

    path: str
    name: str
    results: tuple[QuestionResult, ...]
    qrels: Mapping[str, Sequence[str]] | None
    provenance: Provenance | None

    def ranking(self) -> Ranking | None:
        """Per-question ranking values from the library (None without a qrels file)."""
        return None if self.qrels is None else library_ranking(self.results, self.qrels)


def load_saved(path: str | Path) -> SavedRun:
    """A saved run: an output folder of ``ragqa eval`` (its primary configuration) or one
    of its ``per_question[_<config>].jsonl`` files."""
    path = Path(path)
    if path.is_dir():
        folder, suffix = path, ""
    elif path.is_file() and path.name.startswith("per_question") and path.suffix == ".jsonl":
        folder, suffix = path.parent, path.stem[len("per_question"):]
    else:
        raise RunMismatchError(
            f"no saved run at {str(path)!r}; give an output folder of 'ragqa eval' or a "
            f"per_question*.jsonl file in one")
    lines_path = folder / f"per_question{suffix}.jsonl"
    if not lines_path.is_file():
        raise RunMismatchError(f"{str(folder)!r} holds no per_question{suffix}.jsonl; give "
                               f"an output folder of 'ragqa eval'")
    try:
        results = tuple(result_from_json(json.loads(line)) for line in
                        lines_path.read_text(encoding="utf-8").splitlines() if line.strip())
    except (ValueError, TypeError, KeyError) as exc:
        raise RunMismatchError(f"{str(lines_path)!r} is not a per-question file of "
                               f"'ragqa eval' ({exc}); run the evaluation again") from None
    provenance = None
    if (folder / RUN_FILE).is_file():
        provenance = Provenance.from_json(
            json.loads((folder / RUN_FILE).read_text(encoding="utf-8")))
    name = suffix[1:] if suffix else (provenance.configs[0].name
                                      if provenance and provenance.configs else "run")
    qrels_path = folder / f"qrels{suffix}.trec"
    qrels = read_qrels(qrels_path) if qrels_path.is_file() else None
    return SavedRun(str(path), name, results, qrels, provenance)


@dataclass(frozen=True)
class Comparison:
    """``second − first`` for every metric, and the questions that changed."""

    first: str
    second: str
    differences: Mapping[str, Difference]
    changes: tuple[tuple[QuestionResult, QuestionResult, Mapping[str, tuple[int, int]]], ...]

    def to_json(self) -> dict:
        return {
            "first": self.first, "second": self.second, "difference": "second - first",
            "metrics": {key: asdict(d) for key, d in self.differences.items()},
            "changed": [{"id": a.id, "type": a.type, "question": a.question,
                         "changes": {key: list(pair) for key, pair in changes.items()}}
                        for a, _, changes in self.changes],
        }


def compare(first_name: str, first: Sequence[QuestionResult], second_name: str,
            second: Sequence[QuestionResult], first_ranking: Ranking | None = None,
            second_ranking: Ranking | None = None, resamples: int = RESAMPLES,
            seed: int = SEED, level: float = LEVEL) -> Comparison:
    """Pair two runs over the same questions (``RunMismatchError`` otherwise)."""
    try:
        differences = compare_results(first, second, first_ranking, second_ranking,
                                      resamples, seed, level)
    except ValueError as exc:
        raise RunMismatchError(f"cannot compare {first_name} with {second_name}: {exc}; "
                               f"run both on the same gold file") from None
    return Comparison(first_name, second_name, differences,
                      tuple(changed(first, second, CHANGE_KEYS)))


def compare_saved(first: SavedRun, second: SavedRun, resamples: int = RESAMPLES,
                  seed: int = SEED, level: float = LEVEL) -> Comparison:
    """Two saved runs; their gold files must be the same (by sha256)."""
    gold = [run.provenance.gold_sha256 if run.provenance else None for run in (first, second)]
    if None in gold:
        missing = first.path if gold[0] is None else second.path
        raise RunMismatchError(
            f"{missing!r} has no {RUN_FILE}, so its gold file is unknown; re-run "
            f"'ragqa eval' to record it")
    if gold[0] != gold[1]:
        a, b = first.provenance, second.provenance
        raise RunMismatchError(
            f"the runs were scored on different gold files: {a.gold_path!r} (sha256 "
            f"{gold[0][:12]}…) and {b.gold_path!r} (sha256 {gold[1][:12]}…); compare runs "
            f"of the same gold file")
    return compare(_label(first), first.results, _label(second), second.results,
                   first.ranking(), second.ranking(), resamples, seed, level)


def _label(run: SavedRun) -> str:
    return f"{run.name} ({run.path})"


def diff_saved(first: str | Path, second: str | Path, out_dir: str | Path,
               resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL) -> Path:
    """Compare two saved runs; write ``diff.md`` and ``diff.json`` into ``out_dir``."""
    from eval.report import render_comparison, render_provenance

    if resamples < 100:
        raise RunMismatchError(f"resamples must be at least 100, got {resamples}")
    a, b = load_saved(first), load_saved(second)
    comparison = compare_saved(a, b, resamples, seed, level)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# Comparison of two saved runs", "",
             f"- first (A): `{a.path}`, configuration {a.name}",
             f"- second (B): `{b.path}`, configuration {b.name}",
             f"- {len(a.results)} questions; {resamples:,} resamples, seed {seed}", ""]
    for label, run in (("A", a), ("B", b)):
        if run.provenance is not None:
            lines += [f"### {label}", ""] + render_provenance(run.provenance)[2:]
    lines += render_comparison(comparison)
    path = out / "diff.md"
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    record = {"first": a.provenance.to_json() if a.provenance else None,
              "second": b.provenance.to_json() if b.provenance else None,
              "resamples": resamples, "seed": seed, "level": level, **comparison.to_json()}
    path.with_suffix(".json").write_text(
        json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path
