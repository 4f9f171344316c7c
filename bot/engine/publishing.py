"""What a session shows on GitHub: the status comment on its issue, the `component-bot` check run
on its head commit, the issue's state label, the pull request's readiness and summary once
Finalize has verified the checks, and a comment that asks people for attention.

All best effort: a failure to show something is logged and never stops the session. The session
remembers what it last showed (hashed), so only what changed is sent, and all of it in one GraphQL
request (each field answered on its own, bot/github/mutations.py). Through REST instead, part by
part, when the session lacks a node id (recorded before it kept them, or after a crash left it
unsure whether something was created) or GitHub lacks a mutation (an older GitHub Enterprise).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from bot.core.orchestrator import Step
from bot.core.record import SessionRecord
from bot.core.results import FinalizeResult
from bot.github import checkrun, labels, pulls
from bot.github.client import GitHubApps
from bot.github.comments import Comments
from bot.github.errors import GITHUB_ERRORS, best_effort, describe
from bot.github.mutations import Answers, BatchRejected, Mutation, send
from bot.github.repository import Repository
from bot.render.status import (
    attention_marker,
    render_attention,
    render_status,
    status_comment_url,
    status_headline,
    status_marker,
)
from bot.render.timeline import render_timeline
from bot.store.models import Session, SessionStatus

log = logging.getLogger(__name__)

Save = Callable[..., Awaitable[None]]
CREATING = "creating"  # the status comment is about to be created: it may exist after a crash
STATE_LABEL = {
    SessionStatus.running.value: "component:in-progress",
    SessionStatus.waiting_for_checks.value: "component:in-progress",
    SessionStatus.paused.value: "component:in-progress",
    SessionStatus.needs_human.value: "component:needs-human",
    SessionStatus.awaiting_review.value: "component:ready",
    SessionStatus.completed.value: "component:implemented",
}
CONCLUSIONS = {
    SessionStatus.awaiting_review.value: "success",
    SessionStatus.completed.value: "success",
    SessionStatus.needs_human.value: "neutral",
    SessionStatus.cancelled.value: "neutral",
    SessionStatus.failed.value: "failure",
}
VERIFIED = (SessionStatus.awaiting_review.value, SessionStatus.completed.value)


@dataclass(frozen=True)
class View:
    """What the session should show now; None for a part it has nothing to show in."""

    status: str
    check: dict[str, Any] | None  # the check run, as a REST body
    label: str | None
    pull: FinalizeResult | None  # the PR's summary and readiness, once Finalize has verified the checks

    @property
    def check_digest(self) -> str:
        return digest(json.dumps(self.check, sort_keys=True))

    @property
    def pull_digest(self) -> str:
        return digest(f"{self.pull.pr_body}\n{self.pull.draft}") if self.pull else ""


@dataclass(frozen=True)
class Changed:
    status: bool
    check: bool
    label: bool
    pull: bool

    def __bool__(self) -> bool:
        return self.status or self.check or self.label or self.pull


class Publisher:
    def __init__(self, apps: GitHubApps, settings: Settings) -> None:
        self.apps, self.settings = apps, settings

    def repository(self, session: Session) -> Repository:
        return self.apps.repository(session.installation_id, session.repository_full_name)

    async def comments(self, session: Session) -> Comments:
        return await self.repository(session).comments()

    def view(self, session: Session, record: SessionRecord, current: str | None) -> View:
        status = render_status(session, record, max_fix_iterations=record.config.max_fix_iterations,
                               html_base=self.settings.html_url, current=current)
        finalized = record.last_result(Step.Finalize)
        pull = FinalizeResult.from_dict(finalized) if finalized and session.status in VERIFIED else None
        return View(status, self.check_body(session, record, current), STATE_LABEL.get(session.status),
                    pull if pull is not None and pull.pr_body else None)

    def check_body(self, session: Session, record: SessionRecord, current: str | None) -> dict[str, Any] | None:
        """Our check run on the head, once the head is a commit of the session's PR."""
        if not session.head_sha or not session.pr_number:
            return None
        body: dict[str, Any] = {"external_id": f"session-{session.id}",
                                "output": {"title": status_headline(session, current)[:250],
                                           "summary": check_summary(session, record)[:checkrun.MAX_TEXT]}}
        url = status_comment_url(session, self.settings.html_url)
        if url:
            body["details_url"] = url
        conclusion = CONCLUSIONS.get(session.status)
        body.update(status="completed", conclusion=conclusion) if conclusion else body.update(status="in_progress")
        return body

    async def show(self, session: Session, record: SessionRecord, current: str | None, save: Save) -> None:
        """Show the session's state, sending only what changed; `save` remembers what was shown."""
        view = self.view(session, record, current)
        changed = Changed(
            status=digest(view.status) != session.status_digest,
            check=view.check is not None and (session.check_run_sha != session.head_sha
                                              or view.check_digest != session.check_run_digest),
            label=view.label != session.state_label,
            pull=view.pull is not None and view.pull_digest != session.pr_digest)
        if not changed:
            return
        async with best_effort("show the session's state on GitHub"):
            left = changed
            if session.repository_node_id and session.issue_node_id:
                try:
                    left = await GraphQLShow(self, session, view, save).send(changed)
                except BatchRejected as exc:
                    log.warning("GitHub refused the publishing mutations (%s); showing through REST", exc)
            await RestShow(self, session, view, save).send(left)

    async def ask_for_attention(self, session: Session, record: SessionRecord, status: str, reason: str,
                                number: int) -> None:
        """A new comment on the PR, or on the issue before there is one (editing the status comment
        notifies nobody); once per stop."""
        marker = attention_marker(session.id, record.entries[-1].seq if record.entries else 0)
        async with best_effort("ask for attention"):
            await (await self.comments(session)).post_once(number, marker,
                                                           render_attention(session, record, status, reason))


class GraphQLShow:
    """The changed parts that GraphQL can say, in one request; returns the parts left to REST."""

    def __init__(self, publisher: Publisher, session: Session, view: View, save: Save) -> None:
        self.publisher, self.session, self.view, self.save = publisher, session, view, save
        self.gh = publisher.apps.installation(session.installation_id)

    async def send(self, changed: Changed) -> Changed:
        s = self.session
        status = changed.status and (s.status_comment_node_id is not None
                                     or (s.status_comment_id is None and s.status_digest is None))
        check = changed.check and (s.check_run_sha != s.head_sha or s.check_run_node_id is not None)
        pull = changed.pull and s.pr_node_id is not None
        label_mutations, label_now = await self.label_mutations() if changed.label else ([], False)
        label = bool(label_mutations)
        mutations = [*(await self.status_mutations() if status else []),
                     *(await self.check_mutations() if check else []),
                     *label_mutations,
                     *(self.pull_mutations() if pull else [])]
        answers = await send(self.gh, mutations)
        for alias, error in answers.errors.items():
            log.warning("GitHub refused %s of the session's state: %s", alias, error)
        if status:
            await self.save(**self.status_shown(answers))
            if self.session.status_comment_node_id is None and self.session.status_digest is None:  # deleted
                again = await send(self.gh, await self.status_mutations())
                await self.save(**self.status_shown(again))
        if check:
            await self.save(**self.check_shown(answers))
        if label and label_now:
            await self.save(**self.label_shown(answers))
        elif label:
            await self.labels_created(answers)
        if pull and not any(answers.error(a) for a in ("ready", "summary")):
            await self.save(pr_digest=self.view.pull_digest)
        return Changed(changed.status and not status, changed.check and not check, changed.label and not label,
                       changed.pull and not pull)

    async def status_mutations(self) -> list[Mutation]:
        s, body = self.session, self.view.status
        if s.status_comment_node_id:
            return [Mutation("status", "updateIssueComment", {"id": s.status_comment_node_id, "body": body})]
        await self.save(status_digest=CREATING)
        return [Mutation("status", "addComment", {"subjectId": s.issue_node_id, "body": body},
                         "commentEdge { node { id databaseId } }")]

    def status_shown(self, answers: Answers) -> dict[str, Any]:
        made, error = answers.get("status"), answers.error("status")
        if made and "commentEdge" in made:
            node = made["commentEdge"]["node"]
            return {"status_comment_id": node["databaseId"], "status_comment_node_id": node["id"],
                    "status_digest": digest(self.view.status)}
        if made:
            return {"status_digest": digest(self.view.status)}
        if error is not None and error.type == "NOT_FOUND" and self.session.status_comment_node_id:
            return {"status_comment_id": None, "status_comment_node_id": None, "status_digest": None}  # deleted
        return {}

    async def check_mutations(self) -> list[Mutation]:
        s, body = self.session, self.view.check
        if s.check_run_sha == s.head_sha:
            return [checkrun.update_mutation("check", s.repository_node_id, s.check_run_node_id,
                                             completing(body))]
        mutations = []
        if s.check_run_node_id:
            mutations.append(checkrun.update_mutation("superseded", s.repository_node_id, s.check_run_node_id,
                                                      checkrun.superseded(s.head_sha)))
        # remembered before it is created, so a retry looks for it instead of making another
        await self.save(check_run_sha=s.head_sha, check_run_id=None, check_run_node_id=None, check_run_digest=None)
        return [*mutations, checkrun.create_mutation("check", s.repository_node_id, s.head_sha, completing(body))]

    def check_shown(self, answers: Answers) -> dict[str, Any]:
        made, error = answers.get("check"), answers.error("check")
        if made and "databaseId" in (made.get("checkRun") or {}):
            run = made["checkRun"]
            return {"check_run_id": run["databaseId"], "check_run_node_id": run["id"],
                    "check_run_digest": self.view.check_digest}
        if made:
            return {"check_run_digest": self.view.check_digest}
        if error is not None and error.type == "NOT_FOUND":  # gone: make a new one next time
            return {"check_run_sha": None, "check_run_id": None, "check_run_node_id": None, "check_run_digest": None}
        return {}

    async def label_mutations(self) -> tuple[list[Mutation], bool]:
        """The state label switched, or (the first time in a repository) the labels created, to be
        switched by the session's next publishing request: (mutations, whether they switch it)."""
        s, wanted, known = self.session, self.view.label, self.publisher.apps.label_ids
        ids = known.of(s.repository_full_name)
        if ids is None:
            try:
                ids = await known.read(self.gh, s.owner, s.repo)
            except GITHUB_ERRORS as exc:
                log.warning("could not read the state labels (%s); setting the label through REST", describe(exc))
                return [], False
        if wanted is None or wanted in ids:
            return labels.switch_mutations(s.issue_node_id, wanted, ids), True
        return labels.create_mutations(s.repository_node_id, [n for n in labels.STATE_LABELS if n not in ids]), False

    async def labels_created(self, answers: Answers) -> None:
        """A session that is about to wait shows its label now; a running one at its next publishing."""
        s = self.session
        self.publisher.apps.label_ids.remember_created(s.repository_full_name, answers)
        ids = self.publisher.apps.label_ids.of(s.repository_full_name) or {}
        if s.status != SessionStatus.running.value and self.view.label in ids:
            switched = await send(self.gh, labels.switch_mutations(s.issue_node_id, self.view.label, ids))
            await self.save(**self.label_shown(switched))

    def label_shown(self, answers: Answers) -> dict[str, Any]:
        error = answers.error("labelOn") or answers.error("labelsOff")
        if error is None:
            return {"state_label": self.view.label}
        if error.type == "NOT_FOUND":  # a label deleted since: created again next time
            self.publisher.apps.label_ids.forget(self.session.repository_full_name)
        return {}

    def pull_mutations(self) -> list[Mutation]:
        node, pull = self.session.pr_node_id, self.view.pull
        ready = [Mutation("ready", "markPullRequestReadyForReview", {"pullRequestId": node})] if pull.draft else []
        return [*ready, Mutation("summary", "updatePullRequest", {"pullRequestId": node, "body": pull.pr_body})]


class RestShow:
    """The changed parts, through REST, one call each."""

    def __init__(self, publisher: Publisher, session: Session, view: View, save: Save) -> None:
        self.publisher, self.session, self.view, self.save = publisher, session, view, save
        self.gh = publisher.apps.installation(session.installation_id)

    async def send(self, changed: Changed) -> None:
        s = self.session
        if changed.status:
            async with best_effort("update the status comment"):
                await self.status()
        if changed.check:
            async with best_effort("update the component-bot check run"):
                await self.check()
        if changed.label:
            async with best_effort("set the issue's state label"):
                await labels.set_state_label(self.gh, s.owner, s.repo, s.issue_number, self.view.label)
                await self.save(state_label=self.view.label)
        if changed.pull:
            async with best_effort("mark the pull request ready and write its summary"):
                await self.pull()

    async def status(self) -> None:
        s = self.session
        may_exist = s.status_digest == CREATING or (s.status_comment_id is None and s.status_digest is not None)
        if s.status_comment_id is None and s.status_digest is None:
            await self.save(status_digest=CREATING)
        comment_id, node_id = await (await self.publisher.comments(s)).publish(
            s.issue_number, status_marker(s.id), self.view.status, s.status_comment_id, may_exist=may_exist)
        await self.save(status_comment_id=comment_id, status_comment_node_id=node_id or s.status_comment_node_id,
                        status_digest=digest(self.view.status))

    async def check(self) -> None:
        s, body = self.session, completing(self.view.check)
        same_head = s.check_run_sha == s.head_sha
        if same_head and s.check_run_id:
            await checkrun.update_check_run(self.gh, s.owner, s.repo, s.check_run_id, body)
            await self.save(check_run_digest=self.view.check_digest)
            return
        if not same_head:
            if s.check_run_id:
                async with best_effort("complete the previous check run"):
                    await checkrun.complete_superseded(self.gh, s.owner, s.repo, s.check_run_id, s.head_sha)
            await self.save(check_run_sha=s.head_sha, check_run_id=None, check_run_node_id=None,
                            check_run_digest=None)
        run_id, node_id = await checkrun.create_check_run(self.gh, s.owner, s.repo, s.head_sha,
                                                          self.publisher.settings.app_id, body, may_exist=same_head)
        await self.save(check_run_id=run_id, check_run_node_id=node_id, check_run_digest=self.view.check_digest)

    async def pull(self) -> None:
        s, pull = self.session, self.view.pull
        repository = self.publisher.repository(s)
        if pull.draft:
            await pulls.mark_ready(self.gh, s.pr_node_id or (await repository.pull(s.pr_number))["node_id"])
        await repository.update_pull_body(s.pr_number, pull.pr_body)
        await self.save(pr_digest=self.view.pull_digest)


def completing(body: dict[str, Any]) -> dict[str, Any]:
    """The check run's body as sent: a conclusion comes with the time it was reached."""
    return {**body, "completed_at": checkrun.now_iso()} if body.get("conclusion") else body


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def check_summary(session: Session, record: SessionRecord) -> str:
    """The timeline, after what Finalize verified of the spec (when it has run)."""
    spec = (record.last_result(Step.Finalize) or {}).get("spec")
    timeline = render_timeline(session, record.entries)
    return f"{spec}\n\n{timeline}" if spec else timeline
