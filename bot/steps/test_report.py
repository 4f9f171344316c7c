"""The test report of RunTests: for each failed check, its output, annotations and, for GitHub
Actions jobs, the failing parts of the job log — one text, capped, for the agent — with what
could be read of its failures, so RunTests can decide whose failure it is (bot/core/attribution.py).
Also which tests the jobs' logs list as run, to see that the component's own tests ran."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from bot.cilogs import ListedTest, ParsedLog, failure_signature, parse_log, render, truncate_utf8
from bot.core.attribution import CheckOutcome, FailingTest, Verdict
from bot.github.repository import Repository

ACTIONS_SLUG = "github-actions"


@dataclass
class CheckFailure:
    name: str
    conclusion: str | None
    url: str | None
    text: str
    signature: str
    outcome: CheckOutcome
    listed: tuple[ListedTest, ...] = ()
    verdict: Verdict | None = None

    @property
    def failing_tests(self) -> list[str]:
        return [f.test_id for f in self.outcome.failures]


@dataclass
class TestReport:
    counted: list[CheckFailure]
    excused: list[CheckFailure] = field(default_factory=list)

    def text(self, max_bytes: int) -> str:
        sections = [f"### Check `{f.name}`: {f.conclusion}, counted against this change: "
                    f"{f.verdict.why if f.verdict else 'its failures could not be attributed'}\n{f.text}"
                    for f in self.counted]
        sections += [f"Check `{f.name}` also fails, but is not counted: {f.verdict.why}."
                     for f in self.excused if f.verdict]
        return truncate_utf8("\n\n".join(sections), max_bytes)

    @property
    def signature(self) -> str:
        joined = "|".join(sorted(f"{f.name}:{f.signature}" for f in self.counted))
        return hashlib.sha256(joined.encode()).hexdigest()[:16]

    @property
    def failing_tests(self) -> list[str]:
        return [test for f in self.counted for test in f.failing_tests]

    def verdicts(self) -> list[dict[str, Any]]:
        """Per failed check, whether it was counted and why: kept in the step's result."""
        return [{"name": f.name, "counted": f.verdict.counted, "why": f.verdict.why}
                for f in (*self.counted, *self.excused) if f.verdict]


async def describe_failure(repository: Repository, run: dict[str, Any], max_bytes: int) -> CheckFailure:
    output = run.get("output") or {}
    parts = [p for p in ((output.get("title") or "").strip(), (output.get("summary") or "").strip()) if p]
    if (output.get("text") or "").strip():
        parts.append(output["text"].strip())
    annotations = await repository.annotations(run["id"]) if output.get("annotations_count") else []
    if annotations:
        parts.append("Annotations:\n" + "\n".join(
            f"- {a.get('path')}:{a.get('start_line')}: {a.get('annotation_level')}: "
            f"{(a.get('title') or '').strip()} {(a.get('message') or '').strip()}".rstrip() for a in annotations))
    signature_source = "\n".join(parts)
    parsed = await job_log(repository, run, max_bytes)
    if parsed is not None:
        parts.append(render(parsed, max_bytes=max_bytes))
        signature_source = failure_signature(parsed)
    elif is_actions(run):
        parts.append("(The job's log could not be read.)")
    failures = tuple(FailingTest(f.test_id, f.file, f.kind) for f in parsed.failures) if parsed else ()
    text = truncate_utf8("\n\n".join(parts) or "(the check reported no details)", max_bytes)
    return CheckFailure(
        name=run["name"], conclusion=run.get("conclusion"), url=run.get("html_url"), text=text,
        signature=hashlib.sha256(f"{run['name']}|{run.get('conclusion')}|{signature_source}".encode())
        .hexdigest()[:16],
        outcome=CheckOutcome(run["name"], failures, read=bool(failures)),
        listed=parsed.listed_tests if parsed else (),
    )


async def listed_tests(repository: Repository, run: dict[str, Any]) -> tuple[ListedTest, ...]:
    """The tests a (passing) Actions job's log lists as run; () when it lists none or is not Actions."""
    parsed = await job_log(repository, run, max_bytes=1_000)
    return parsed.listed_tests if parsed else ()


async def job_log(repository: Repository, run: dict[str, Any], max_bytes: int) -> ParsedLog | None:
    """The parsed log of an Actions job, or None (another app's check, or no log)."""
    if not is_actions(run):
        return None
    text = await repository.job_log(run["id"])
    return parse_log(text, max_bytes=max_bytes) if text and text.strip() else None


def is_actions(run: dict[str, Any]) -> bool:
    return (run.get("app") or {}).get("slug") == ACTIONS_SLUG
