"""The test report of RunTests: for each failing check, its output, annotations and, for GitHub
Actions jobs, the failing parts of the job log — one text, capped, for the agent."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from githubkit import GitHub
from githubkit.exception import RequestFailed

from bot.cilogs import failure_signature, parse_log, render, truncate_utf8

log = logging.getLogger(__name__)

MAX_ANNOTATIONS = 30
ACTIONS_SLUG = "github-actions"


@dataclass
class CheckFailure:
    name: str
    conclusion: str | None
    url: str | None
    text: str
    signature: str
    failing_tests: list[str] = field(default_factory=list)
    failing_files: set[str] = field(default_factory=set)

    def touches(self, path: str) -> bool:
        """Whether a failing test lives in `path` (the component's test file)."""
        name = path.rsplit("/", 1)[-1]
        return any(f == path or f.endswith("/" + path) or f == name or f.endswith("/" + name)
                   for f in self.failing_files) or any(path in test for test in self.failing_tests)


@dataclass
class TestReport:
    failures: list[CheckFailure]
    pre_existing: list[str]

    def text(self, max_bytes: int) -> str:
        sections = [f"### Check `{f.name}`: {f.conclusion}\n{f.text}" for f in self.failures]
        if self.pre_existing:
            sections.append("Also failing on the default branch, so not caused by this change: "
                            + ", ".join(f"`{n}`" for n in self.pre_existing))
        return truncate_utf8("\n\n".join(sections), max_bytes)

    @property
    def signature(self) -> str:
        joined = "|".join(sorted(f"{f.name}:{f.signature}" for f in self.failures))
        return hashlib.sha256(joined.encode()).hexdigest()[:16]

    @property
    def failing_tests(self) -> list[str]:
        return [test for f in self.failures for test in f.failing_tests]


async def describe_failure(gh: GitHub, owner: str, repo: str, run: dict[str, Any], max_bytes: int) -> CheckFailure:
    output = run.get("output") or {}
    parts = [p for p in ((output.get("title") or "").strip(), (output.get("summary") or "").strip()) if p]
    if (output.get("text") or "").strip():
        parts.append(output["text"].strip())
    annotations = await _annotations(gh, owner, repo, run) if output.get("annotations_count") else []
    if annotations:
        parts.append("Annotations:\n" + "\n".join(annotations))
    signature_source = "\n".join(parts)
    failing_tests: list[str] = []
    failing_files: set[str] = set()
    if (run.get("app") or {}).get("slug") == ACTIONS_SLUG:
        log_text = await _job_log(gh, owner, repo, run["id"])
        if log_text:
            parsed = parse_log(log_text, max_bytes=max_bytes)
            parts.append(render(parsed, max_bytes=max_bytes))
            signature_source = failure_signature(parsed)
            failing_tests = [f.test_id for f in parsed.failures]
            failing_files = {f.file for f in parsed.failures if f.file} | {
                f.test_id.split("::", 1)[0] for f in parsed.failures if "::" in f.test_id}
    text = truncate_utf8("\n\n".join(parts) or "(the check reported no details)", max_bytes)
    return CheckFailure(
        name=run["name"], conclusion=run.get("conclusion"), url=run.get("html_url"), text=text,
        signature=hashlib.sha256(f"{run['name']}|{run.get('conclusion')}|{signature_source}".encode())
        .hexdigest()[:16],
        failing_tests=failing_tests,
        failing_files=failing_files,
    )


async def _annotations(gh: GitHub, owner: str, repo: str, run: dict[str, Any]) -> list[str]:
    try:
        response = await gh.rest.checks.async_list_annotations(owner, repo, run["id"], per_page=MAX_ANNOTATIONS)
    except RequestFailed as exc:
        log.info("no annotations for check run %s: %s", run["id"], exc.response.status_code)
        return []
    return [f"- {a.get('path')}:{a.get('start_line')}: {a.get('annotation_level')}: "
            f"{(a.get('title') or '').strip()} {(a.get('message') or '').strip()}".rstrip()
            for a in response.json()[:MAX_ANNOTATIONS]]


async def _job_log(gh: GitHub, owner: str, repo: str, job_id: int) -> str | None:
    """The job's log. An Actions check run's id is its job's id; the API redirects to the log."""
    try:
        response = await gh.rest.actions.async_download_job_logs_for_workflow_run(owner, repo, job_id)
    except RequestFailed as exc:
        log.info("could not download the log of job %s: %s", job_id, exc.response.status_code)
        return None
    return response.content.decode("utf-8", errors="replace")
