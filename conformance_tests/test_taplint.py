"""STILTS taplint and votlint against the real server (gunicorn, Celery, PostgreSQL + pgsphere).

Zero errors in every stage. The remaining warnings and their reasons: docs/conformance.md.
"""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("stilts") is None,
                                reason="STILTS is not installed (scripts/setup.sh installs it)")


def test_taplint_reports_no_errors(live_archive):
    out = subprocess.run(["stilts", "taplint", f"tapurl={live_archive}/tap", "report=EW"],
                         capture_output=True, text=True, timeout=900)
    report = out.stdout + out.stderr
    errors = [line for line in report.splitlines() if line.startswith("E-")]
    totals = re.search(r"Totals: Errors: (\d+); Warnings: (\d+)", report)
    assert totals is not None, report[-3000:]
    assert errors == [] and totals.group(1) == "0", "\n".join(errors[:40])
    print(f"taplint: {totals.group(1)} errors, {totals.group(2)} warnings")
    for line in report.splitlines():
        if line.startswith("W-"):
            print("  " + line[:200])
