"""Check runs and GitHub Actions job logs, as RunTests reads them."""

from __future__ import annotations

import logging
from typing import Any

from githubkit import GitHub
from githubkit.exception import RequestFailed

log = logging.getLogger(__name__)

MAX_ANNOTATIONS = 30


async def check_runs_on(gh: GitHub, owner: str, repo: str, sha: str) -> list[dict[str, Any]]:
    """Every check run on the commit (the latest of each re-run), all pages."""
    return [run async for run in gh.rest.paginate(
        gh.rest.checks.async_list_for_ref, map_func=lambda r: r.json()["check_runs"],
        owner=owner, repo=repo, ref=sha, filter_="latest", per_page=100,
    )]


async def job_log(gh: GitHub, owner: str, repo: str, job_id: int) -> str | None:
    """An Actions job's log (an Actions check run's id is its job's id; the API redirects to it), or None."""
    try:
        response = await gh.rest.actions.async_download_job_logs_for_workflow_run(owner, repo, job_id)
    except RequestFailed as exc:
        log.info("could not download the log of job %s: %s", job_id, exc.response.status_code)
        return None
    return response.content.decode("utf-8", errors="replace")


async def annotations(gh: GitHub, owner: str, repo: str, run_id: int) -> list[dict[str, Any]]:
    try:
        response = await gh.rest.checks.async_list_annotations(owner, repo, run_id, per_page=MAX_ANNOTATIONS)
    except RequestFailed as exc:
        log.info("no annotations for check run %s: %s", run_id, exc.response.status_code)
        return []
    return response.json()[:MAX_ANNOTATIONS]
