"""``make test`` from a fresh clone: the wall time of each of its steps.

Clones this repository's committed HEAD into benchmarks/results/tmp/maketest (only what
a newcomer gets: no ``.venv``, no ``.ragqa``, no generated test documents) and runs, in
the clone, what ``make test`` (and so ``.ci/run``) runs, one step at a time so each is
timed:

* install: ``make .venv/.test-installed browser fonts`` (a new virtual environment,
  the project with its extras, the CPU torch; Debian's Chromium and CJK fonts when
  missing). pip's own download cache is whatever this machine has: on a machine that
  never downloaded the wheels the install takes longer.
* checks: ``make test`` itself once the install is there: ruff, mypy and pytest (with
  the Makefile's workers), the commands of the ``test`` target.

The sum is ``make test``'s wall time. pytest's own summary line (passed, failed,
seconds) is recorded too, so the install, the static checks and the tests can be told
apart. The clone is removed afterwards unless a step failed.

Left out: repetitions (one run is 10 to 20 minutes on this machine, and the machine is
shared, so the load average is recorded with every figure).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from benchmarks.common import ROOT, TMP, Result, load_average, log

STEPS: tuple[tuple[str, list[str]], ...] = (
    ("install", ["make", ".venv/.test-installed", "browser", "fonts"]),
    ("checks", ["make", "test"]),  # installed now: ruff, mypy and pytest, as the Makefile says
)
STEP_TIMEOUT_S = 3600
# the last CI run before the shipped embeddings (issue "first answer within a minute")
BEFORE_S = 784.0
AIM_SHARE = 0.6  # at least 40 % faster
_SUMMARY = re.compile(r"=+ (.*(?:passed|failed).*) in ([0-9.]+)s")


def pytest_summary(output: str) -> tuple[str, float] | None:
    """pytest's last summary line: its counts and its seconds.

    >>> pytest_summary("...\\n===== 608 passed, 1 skipped, 3 warnings in 369.76s (0:06:09) ===")
    ('608 passed, 1 skipped, 3 warnings', 369.76)
    >>> pytest_summary("no summary") is None
    True
    """
    found = _SUMMARY.findall(output)
    return (found[-1][0], float(found[-1][1])) if found else None


def run(command: str, quick: bool = False) -> Result:
    result = Result("maketest", command)
    clone = TMP / "maketest"
    shutil.rmtree(clone, ignore_errors=True)
    TMP.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)],
                   check=True, timeout=300)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, check=True,
                          capture_output=True, text=True).stdout.strip()
    result.details["commit"] = head
    total = 0.0
    failed = None
    for name, argv in STEPS:
        log(f"maketest: {name}: {' '.join(argv)}")
        load = load_average()
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=clone, capture_output=True, text=True,
                              timeout=STEP_TIMEOUT_S)
        seconds = time.perf_counter() - started
        total += seconds
        result.figure(f"{name} wall time", round(seconds, 1), "s", load=load,
                      note=" ".join(argv))
        if name == "checks":
            summary = pytest_summary(done.stdout)
            if summary:
                result.details["pytest_summary"] = summary[0]
                result.details["pytest_seconds"] = summary[1]
        if done.returncode != 0:
            failed = name
            result.details["failed_step"] = name
            result.details["output_tail"] = (done.stdout + done.stderr)[-4000:]
            break
    result.figure("make test wall time (sum of the steps)", round(total, 1), "s")
    if failed is None:
        result.aim("make test at least 40 % faster than before the shipped embeddings",
                   f"<= {BEFORE_S * AIM_SHARE:.0f} s ({BEFORE_S:.0f} s before)",
                   f"{total:.0f} s", total <= BEFORE_S * AIM_SHARE)
        shutil.rmtree(clone, ignore_errors=True)
    else:
        result.notes.append(f"step {failed} failed; the clone is kept at {Path(clone)}")
    return result
