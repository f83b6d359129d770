"""Load test of the ``/ask`` API (``tests/load.py``) at a CI size, and the full size on demand.

The small run starts a real ``ragqa serve`` on a free 127.0.0.1 port, asks each of 8
gold questions serially, then 4 concurrent clients × 5 questions, and requires no errors
and answers identical to the serial ones. The full run (32 × 25) is marked ``slow`` and
runs only with ``RAGQA_LOAD_FULL=1``.
"""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("gradio_client")

from load import failed, run_load  # noqa: E402  (tests/ is on sys.path under pytest)


def _check(report: dict, capsys) -> None:
    latency = report["latency_ms"]
    line = (
        f"load {report['clients']}x{report['questions_each']}: "
        f"{report['total_requests']} requests, {report['errors']} errors, "
        f"{report['mismatches']} mismatches, p50 {latency['p50']} ms, p95 {latency['p95']} ms, "
        f"max {latency['max']} ms, {report['throughput_rps']} req/s, "
        f"wall {report['wall_s']} s, load {report['loadavg_end']}"
    )
    with capsys.disabled():
        print("\n" + line)
    details = json.dumps(
        {
            key: report.get(key)
            for key in ("error_details", "mismatch_details", "server_log_tail")
        },
        ensure_ascii=False,
        indent=2,
    )
    assert report["total_requests"] == report["clients"] * report["questions_each"]
    assert report["errors"] == 0, details
    assert report["mismatches"] == 0, details
    assert report["server_alive_after_load"], details
    assert not failed(report)
    assert report["ok_requests"] == report["total_requests"]


def test_small_load_gives_the_serial_answers(built_index, capsys):
    report = run_load(4, 5, index=built_index, pool_size=8, run_timeout=600)
    assert report["question_types"] == {
        "citizen": 2,
        "clause": 2,
        "fact": 2,
        "unanswerable": 2,
    }
    _check(report, capsys)


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("RAGQA_LOAD_FULL") != "1", reason="full load test: set RAGQA_LOAD_FULL=1"
)
def test_full_load_gives_the_serial_answers(built_index, capsys):
    report = run_load(32, 25, index=built_index)
    _check(report, capsys)
