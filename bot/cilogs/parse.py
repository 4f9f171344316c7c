"""CI job logs -> a compact list of test failures for Claude.

A GitHub Actions job log is the runner's output with a timestamp on every line, ANSI
colours and `##[group]` markers. `parse_log` cleans it, recognises the test runner
(pytest, ExUnit, Jest, Vitest, go test, cargo test) and extracts each failing test with
its location, message and a short traceback, and every test the log names as having run.
When the runner's failures are not there (a build step failed, or the runner never
started) it looks for build errors (see `builds`), and failing that keeps an excerpt of the
lines around error markers near the end of the log.

Logs can be huge, so a log over 2 MB is parsed through a bounded view of it (see
`common.bounded_view`): a 50 MB log takes well under a second. `render` applies the hard
byte cap.
"""

from __future__ import annotations

import hashlib
from itertools import islice

from bot.cilogs import builds, cargo, exunit, gotest, jest, pytest, vitest
from bot.cilogs.common import (
    Runner,
    bounded_view,
    cap_line,
    clean_log,
    excerpt,
    merge_listed,
    normalize,
    unique_failures,
)
from bot.cilogs.report import DEFAULT_MAX_BYTES, ParsedLog

_MAX_FAILURES = 300
_SIGNAL_COUNT_LIMIT = 3
_MIN_RUNNER_SCORE = 4
_DETECT_HEAD_CHARS = 100_000
_DETECT_TAIL_CHARS = 400_000

_RUNNERS: dict[str, Runner] = {
    runner.name: runner
    for runner in (
        pytest.RUNNER,
        exunit.RUNNER,
        jest.RUNNER,
        vitest.RUNNER,
        gotest.RUNNER,
        cargo.RUNNER,
    )
}
"""In detection's tie-break order: on equal scores the first runner wins."""
_MARKERS = {name: runner.markers for name, runner in _RUNNERS.items()}


def parse_log(text: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedLog:
    """Detect the test runner in a CI log and extract its failures and listed tests.

    `max_bytes` is the cap `render(parsed)` applies. When the runner yields no failures
    (a build step failed, a crash before any test ran), build errors are looked for, then
    the excerpt is filled as for an unknown runner, so the report is never empty-handed.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    view, detected = bounded_view(text, _detect_runner, _MARKERS)
    cleaned = clean_log(view)
    runner_name = detected or _detect_runner(cleaned)
    lines = [cap_line(line) for line in cleaned.split("\n")]
    runner = _RUNNERS.get(runner_name)
    failures, summary = runner.parse(lines) if runner else ([], None)
    listed = merge_listed(runner.list_tests(lines)) if runner else ()
    if not failures and (found := builds.parse(lines)):
        runner_name, failures, build_summary = found
        summary = build_summary or summary
    unique = unique_failures(failures)
    kept = tuple(unique[:_MAX_FAILURES])
    return ParsedLog(
        runner=runner_name,
        failures=kept,
        summary=summary,
        excerpt="" if kept else excerpt(lines),
        omitted_failures=len(unique) - len(kept),
        max_bytes=max_bytes,
        listed_tests=listed,
    )


def failure_signature(parsed: ParsedLog) -> str:
    """A stable hash of the failures, blind to timings, addresses and temp paths.

    Two runs whose failing tests fail with the same messages get the same signature,
    which is how the fix loop notices that a fix changed nothing (a stall). Without
    parsed failures the normalized excerpt stands in for them. Neither the failures'
    kind nor the listed tests count: they follow from the failures.
    """
    if parsed.failures:
        items = sorted({(normalize(f.test_id), normalize(f.message)) for f in parsed.failures})
        payload = "\n".join(f"{test_id}\x1f{message}" for test_id, message in items)
    else:
        payload = "\n".join(normalize(line) for line in parsed.excerpt.splitlines())
    digest = hashlib.sha256(f"{parsed.runner}\x1e{payload}".encode())
    return digest.hexdigest()


def _detect_runner(text: str) -> str:
    """The runner whose banner, block and summary lines show up most, or "unknown".

    Only the start and the end of the text are looked at: that is where runners print
    their banner and their summary, and it keeps detection cheap on big logs.
    """
    if len(text) > _DETECT_HEAD_CHARS + _DETECT_TAIL_CHARS:
        text = text[:_DETECT_HEAD_CHARS] + "\n" + text[-_DETECT_TAIL_CHARS:]
    scores: dict[str, int] = {}
    for name, runner in _RUNNERS.items():
        for weight, pattern in runner.signals:
            count = sum(1 for _ in islice(pattern.finditer(text), _SIGNAL_COUNT_LIMIT))
            scores[name] = scores.get(name, 0) + weight * count
    best = max(scores, key=lambda name: scores[name])
    return best if scores[best] >= _MIN_RUNNER_SCORE else "unknown"
