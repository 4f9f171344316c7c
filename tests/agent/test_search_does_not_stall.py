"""The agent's search cannot stall the process: webhooks are answered while it runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHILD_TIMEOUT_SECONDS = 90


def test_a_webhook_is_answered_while_the_agent_searches_with_a_catastrophic_pattern(tmp_path):
    """`(a+)+$` against a line of 40 `a`s and a `!` (and a glob of 20 stars against a long file
    name) backtrack for ever on Python's `re`. Run on the event loop, that search would freeze
    every webhook and every session; here a signed `ping` must be answered within 1 s while it runs.

    Hang guard: the scenario (tests/agent/stall_scenario.py, the harness's whole bot with a
    scripted agent calling the real Toolbox) runs in a child process. A stalled `re` holds the
    GIL inside C code and ignores signals, so nothing in the stalled process, not even a watchdog
    thread, could end it; `subprocess.run(timeout=...)` kills the child from outside instead, and
    this test fails with a message rather than hanging CI.
    """
    try:
        child = subprocess.run(
            [sys.executable, "-m", "tests.agent.stall_scenario", str(tmp_path)],
            cwd=ROOT, capture_output=True, text=True, timeout=CHILD_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
        pytest.fail(f"the scenario was still running after {CHILD_TIMEOUT_SECONDS} s and was killed: the search "
                    f"stalled the event loop, and the ping was never answered\n{stderr[-3000:]}")
    assert child.returncode == 0, child.stderr[-3000:]
    outcome = json.loads(child.stdout.strip().splitlines()[-1])

    assert outcome["ping_status"] == 202
    assert outcome["ping_seconds"] < 1
    assert outcome["regex"].startswith("No matches for '(a+)+$'")
    assert outcome["glob"].startswith("No matches for 'a' in files matching")
