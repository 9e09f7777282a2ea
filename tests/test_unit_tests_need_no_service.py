"""Issue 13 point 7: the pure tests (check digits, formatting, period rules, signing, JPKI parsing, presenters) run on
a machine without PostgreSQL, Redis or pcscd. Here: ``pytest tests/unit`` in a child process whose environment names
no database, no Redis and a pcscd socket that does not exist."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.processes import ROOT


def test_pytest_tests_unit_passes_without_any_service(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env["PCSCLITE_CSOCK_NAME"] = str(tmp_path / "no-pcscd.comm")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/unit", "-q"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    summary = run.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
