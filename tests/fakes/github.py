"""A stateful fake of GitHub (REST, GraphQL, codeload and Actions log hosts) as an ASGI app.

Serve it to githubkit in-process::

    fake = FakeGitHub()
    fake.add_repo("octo/widgets", files={"README.md": "hi"}, installation_id=42)
    gh = GitHub(AppAuthStrategy(fake.app_id, fake.private_key_pem),
                async_transport=httpx.ASGITransport(app=fake.app), http_cache=False, auto_retry=False)
    inst = gh.with_auth(gh.auth.as_installation(42))

``fake.app_id`` is unique per fake: githubkit caches JWTs and installation tokens process-wide,
keyed by app id, so a reused id would hand one test's token to the next test's fake.

Every request is matched and validated against GitHub's own REST description (trimmed copy in
tests/fixtures/github-openapi): unknown routes answer 404, bodies that do not match the
operation's schema 422, as GitHub does. Responses are checked against the documented response
schema too (``validate_responses``), so a shape mistake in the fake fails loudly. GraphQL
documents are validated against GitHub's published schema (tests/fixtures/github-graphql) and
executed over the same state (tests/fakes/graphql.py lists what is implemented);
``fake.graphql_points`` totals their rate-limit cost.

State: ``fake.repo("octo/widgets")`` has ``.branches``, ``.commits``, ``.issues``, ``.comments``
(per issue number), ``.reactions``, ``.labels``, ``.pulls``, ``.reviews``, ``.review_comments``,
``.check_runs``, ``.workflow_runs``, ``.jobs`` and ``.git`` (the object store; shas are real
git shas). ``fake.read_file`` / ``fake.tree_files`` read a ref's files, ``fake.contains`` whether
one commit or ref is in another's history, ``fake.calls`` / ``fake.calls_to`` the recorded
requests, ``fake.events`` / ``fake.events_of`` the webhooks.

Helpers that play the humans and CI change the state directly: ``add_repo``, ``push``,
``set_permission``, ``protect``, ``add_issue``, ``label_issue``, ``add_issue_comment``,
``add_pr_comment``, ``add_review``, ``resolve_review_thread``, ``add_check_run``,
``complete_check_run``, ``manifest_code``, ``inject_error``. Webhooks GitHub would send for a
change (in an installed repository) are queued; ``webhook_sink`` receives them after each API
request, or when a test calls ``await fake.deliver_webhooks()``. Every branch or tag update
(a human's ``push``, a REST ref update, GraphQL ``createCommitOnBranch``, a merge) sends GitHub's
``push`` webhook, through the one path (``set_ref``) that also synchronizes pull requests and
runs Actions. ``protect(..., strict=True)`` makes the base refuse pull requests that are behind.

GitHub Actions (tests/fakes/actions.py): ``configure_actions(repo, command=...)`` makes every
branch update run the command on the new head's checkout and publish a workflow run, a job with
the real output as its log and a ``github-actions`` check run, with their webhooks;
``actions_runs`` lists what ran, ``finish_actions()`` completes runs held with ``auto=False``.
``add_repo_from_dir`` loads a fixture repository (tests/fixtures/repos) from disk.

Auth is GitHub's: App routes want the app's JWT (RS256, checked against the key pair behind
``fake.private_key_pem``), repository routes a token: an installation token minted through
``POST /app/installations/{id}/access_tokens`` (1 h), or a static one from ``add_token``
(``"token"`` is the app's bot by default). Missing or bad tokens get 401; a valid installation
token on a repository outside its installation gets what GitHub gives: 404 for a private
repository, 403 "Resource not accessible by integration" for writes to a public one.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import secrets
import tarfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import actions, shapes
from .actions import ActionsConfig, ActionsRun
from .gitstore import Commit, FileEntry, Signature, diff_trees, three_way_merge
from .openapi import Operation, load_spec
from .state import (
    App,
    CheckRun,
    CheckSuite,
    Clock,
    Ids,
    Installation,
    Issue,
    IssueComment,
    Job,
    Label,
    Protection,
    PullRequest,
    Reaction,
    Repo,
    Review,
    ReviewComment,
    Token,
    User,
    WorkflowRun,
    parse_time,
)
from .webhooks import build_payload, signed_delivery

API_HOST = "api.github.com"
CODELOAD_HOST = "codeload.github.com"
LOGS_HOST = "productionresultssa0.blob.core.windows.net"
API_VERSIONS = ("2022-11-28", "2026-03-10")
ACTIONS_APP_ID = 15368
DOCS = "https://docs.github.com/rest"
WEBHOOK_SECRET = "fake-webhook-secret"
JWT_EXPIRED = (
    "'Expiration time' claim ('exp') must be a numeric value "
    "representing the future time at which the assertion expires"
)
APP_PERMISSIONS = {
    "actions": "read",
    "checks": "write",
    "contents": "write",
    "issues": "write",
    "metadata": "read",
    "pull_requests": "write",
}
APP_EVENTS = [
    "check_run",
    "check_suite",
    "issue_comment",
    "issues",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "push",
    "workflow_run",
]
WebhookSink = Callable[[str, dict[str, Any]], Awaitable[Any]]


@lru_cache(maxsize=1)
def _key_pair() -> tuple[str, Any]:
    """One RSA key pair per test process (generating one per fake would slow the suite)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    return pem, key.public_key()


_app_ids = iter(range(910_001, 10**9))


class ApiError(Exception):
    """An error answer in GitHub's shape: ``{"message", "documentation_url", "status"}`` (+ ``errors``)."""

    def __init__(
        self, status: int, message: str, errors: list[dict] | None = None, documentation_url: str | None = None
    ):
        super().__init__(f"{status} {message}")
        self.status, self.message, self.errors, self.documentation_url = status, message, errors, documentation_url


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def validation_failed(*errors: dict) -> ApiError:
    return ApiError(422, "Validation Failed", list(errors))


@dataclass
class Call:
    method: str
    host: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    status: int | None = None


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    media_type: str = "application/json; charset=utf-8"


@dataclass
class Ctx:
    """One API request, as the handlers see it."""

    fake: FakeGitHub
    op: Operation
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    url: str
    accept: str = ""
    token: Token | None = None
    actor: User | None = None
    repo: Repo | None = None

    def int_param(self, name: str) -> int:
        return int(self.params[name])

    @property
    def via_app(self) -> App | None:
        return self.fake.gh_app if self.token is not None and self.token.as_app else None


@dataclass
class Delivery:
    id: int
    guid: str
    event: str
    action: str | None
    payload: dict[str, Any]
    installation_id: int | None
    repository_id: int | None
    delivered_at: datetime
    status_code: int = 0
    redelivery: bool = False
    duration: float = 0.01

    @property
    def status(self) -> str:
        return "OK" if 200 <= self.status_code < 300 else f"Invalid HTTP Response: {self.status_code}"


class FakeGitHub:
    def __init__(
        self,
        *,
        app_slug: str = "component-bot-test",
        app_name: str = "Component Bot (test)",
        tokens: dict[str, str] | None = None,
        validate_responses: bool = True,
    ) -> None:
        """``tokens`` maps static tokens to the login they act as. A token acting as the app's bot
        user behaves like an installation token with access to every repository: by default
        ``GitHub("token", ...)`` is the bot."""
        self.spec = load_spec()
        self.clock = Clock()
        self.ids = Ids()
        self.validate_responses = validate_responses
        self.users: dict[str, User] = {}
        self.repos: dict[str, Repo] = {}
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, Token] = {}
        self.calls: list[Call] = []
        self.graphql_points = 0  # GitHub's GraphQL rate-limit points spent, all tokens together
        self.graphql_missing: set[str] = set()
        # Where job logs are stored; served over HTTP (tests/test_serve_blackbox.py), the fake's own URL.
        self.logs_base_url: str | None = None  # mutations this GitHub lacks (an older GitHub Enterprise Server)
        self.events: list[tuple[str, dict[str, Any]]] = []  # every webhook GitHub would have sent
        self.pending_webhooks: list[Delivery] = []
        self.deliveries: list[Delivery] = []
        self.webhook_sink: WebhookSink | None = None
        self.manifest_codes: dict[str, dict[str, Any]] = {}
        self.injected_errors: list[tuple[str, str, ApiError]] = []
        self.injected_field_errors: list[tuple[str, str, str]] = []  # (mutation, type, message)
        self.rate_limited: tuple[float, Callable[[], float], bool] | None = None  # (reset, clock, secondary)
        self.actions_configs: dict[str, dict[str, ActionsConfig]] = {}  # repo (lower) -> workflow path -> config
        self.actions_runs: list[ActionsRun] = []  # every Actions run, in order (held ones in_progress)
        self.held_actions: list[ActionsRun] = []  # runs started with auto=False, not finished yet
        self._run_configs: dict[int, ActionsConfig] = {}  # workflow run id -> the config it ran with
        self.private_key_pem, self._public_key = _key_pair()
        self.app_id = next(_app_ids)  # unique: githubkit caches JWTs and tokens per app id, process-wide
        self.app_slug = app_slug
        github_org = self.user("github", type="Organization")
        self.bot = self.user(f"{app_slug}[bot]", type="Bot")
        owner = self.user("component-bot-dev", type="Organization")
        self.gh_app = App(
            self.app_id,
            app_slug,
            app_name,
            owner,
            self.bot,
            f"Iv23li{self.app_id:08x}",
            self.clock.now(),
            description="Implements components from their design and tests.",
            permissions=dict(APP_PERMISSIONS),
            events=list(APP_EVENTS),
        )
        actions_bot = self.user("github-actions[bot]", type="Bot")
        self.actions_app = App(
            ACTIONS_APP_ID,
            "github-actions",
            "GitHub Actions",
            github_org,
            actions_bot,
            "Iv1.05c79e9ad1f6bdfa",
            self.clock.now(),
            description="Automate your workflow from idea to production",
            external_url="https://help.github.com/en/actions",
            permissions={"actions": "write", "checks": "write", "contents": "write", "metadata": "read"},
            events=["check_run", "check_suite", "push", "pull_request", "workflow_dispatch"],
        )
        self.other_apps: dict[str, App] = {}
        for token, login in (tokens if tokens is not None else {"token": self.bot.login}).items():
            self.add_token(token, login=login)
        self.app = Starlette(
            routes=[Route("/{path:path}", self._endpoint, methods=["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"])]
        )

    # =====================================================================================
    # Test-facing state helpers
    # =====================================================================================
    def user(self, login: str, type: str | None = None) -> User:
        """The user with this login, created on first use (``…[bot]`` logins are Bots)."""
        key = login.lower()
        if key not in self.users:
            kind = type or ("Bot" if login.endswith("[bot]") else "User")
            self.users[key] = User(login, self.ids.next("user"), kind)
        return self.users[key]

    def user_by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email == email), None)

    def add_token(self, token: str, login: str, installation_id: int | None = None) -> Token:
        """A static token acting as ``login`` (a person's token, or the bot's when ``login`` is the bot)."""
        self.user(login)
        self.tokens[token] = Token(token, login, installation_id, as_app=login.lower() == self.bot.login.lower())
        return self.tokens[token]

    def repo(self, full_name: str) -> Repo:
        return self.repos[full_name.lower()]

    def add_repo(
        self,
        full_name: str,
        files: dict[str, str | bytes] | None = None,
        *,
        default_branch: str = "main",
        installation_id: int | None = 42,
        private: bool = False,
        owner_type: str = "User",
        description: str | None = None,
    ) -> Repo:
        """A repository with an initial commit of ``files`` on ``default_branch``.

        ``installation_id`` installs the app on the repository (None: not installed). The initial
        commit predates the app's installation, so no ``push`` webhook is queued for it.
        """
        owner_login, name = full_name.split("/")
        owner = self.user(owner_login, type=owner_type)
        repo = Repo(
            self.ids.next("repo"),
            owner,
            name,
            private,
            default_branch,
            self.clock.now(),
            description=description,
        )
        self.repos[full_name.lower()] = repo
        self.push(
            repo, default_branch, files or {"README.md": f"# {name}\n"}, message="Initial commit", author=owner.login
        )
        if installation_id is not None:
            self.install(installation_id, owner, [repo])
        return repo

    def add_repo_from_dir(self, full_name: str, path: str | Path, **options: Any) -> Repo:
        """A repository whose initial commit holds the files under ``path`` (e.g. a fixture from
        tests/fixtures/repos); ``options`` as for ``add_repo``. Caches and VCS folders are skipped."""
        root = Path(path)
        skip = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
        files: dict[str, str | bytes] = {}
        for file in sorted(root.rglob("*")):
            rel = file.relative_to(root)
            if file.is_file() and not skip.intersection(rel.parts) and file.suffix != ".pyc":
                files[rel.as_posix()] = file.read_bytes()
        if not files:
            raise ValueError(f"no files under {root}")
        return self.add_repo(full_name, files=files, **options)

    def install(self, installation_id: int, account: User, repos: list[Repo]) -> Installation:
        inst = self.installations.get(installation_id)
        if inst is None:
            inst = Installation(installation_id, self.gh_app, account, created_at=self.clock.now())
            self.installations[installation_id] = inst
        for repo in repos:
            inst.repositories.add(repo.full_name.lower())
            repo.installation_id = installation_id
        return inst

    def _repo(self, repo: Repo | str) -> Repo:
        return repo if isinstance(repo, Repo) else self.repo(repo)

    def push(
        self,
        repo: Repo | str,
        branch: str,
        files: dict[str, str | bytes | None],
        *,
        message: str = "Update files",
        author: str = "alice",
    ) -> str:
        """A human's commit on ``branch`` (created if missing); ``None`` deletes a file. Returns the sha."""
        repo = self._repo(repo)
        ref = f"refs/heads/{branch}"
        parent = repo.refs.get(ref) or repo.refs.get(f"refs/heads/{repo.default_branch}")
        tree = self._tree_with_changes(repo, parent, files)
        who = self.user(author)
        sig = Signature(who.login, who.email, self.clock.tick())
        sha = repo.git.put_commit(Commit(tree, (parent,) if parent else (), sig, sig, message))
        self.set_ref(repo, ref, sha, sender=who)
        return sha

    def _tree_with_changes(self, repo: Repo, parent: str | None, files: dict[str, str | bytes | None]) -> str:
        """The parent commit's tree with ``files`` written (``None`` deletes); modes are kept."""
        current = repo.git.flatten(repo.git.commits[parent].tree) if parent else {}
        for path, content in files.items():
            if content is None:
                current.pop(path, None)
            else:
                data = content.encode() if isinstance(content, str) else content
                mode = current[path].mode if path in current else "100644"
                current[path] = FileEntry(path, mode, repo.git.put_blob(data))
        return repo.git.tree_from_files(current)

    def set_permission(self, repo: Repo | str, login: str, role: str) -> None:
        assert role in ("admin", "maintain", "write", "triage", "read", "none"), role
        self.user(login)
        self._repo(repo).permissions[login] = role

    def protect(
        self,
        repo: Repo | str,
        branch: str,
        required_checks: tuple[str, ...] | list[str] = ("test",),
        *,
        required_approving_reviews: int = 0,
        rulesets: bool = True,
        strict: bool = False,
    ) -> None:
        """Require checks (and approvals) before a pull request can merge into ``branch``.

        ``rulesets``: a repository ruleset (read through ``GET /repos/{o}/{r}/rules/branches/{b}``)
        rather than classic branch protection (``.../branches/{b}/protection/...``, which needs
        the ``administration`` permission). ``strict``: "Require branches to be up to date before
        merging": a pull request whose head does not contain the base branch's head cannot merge
        (GitHub ignores it when no check is required)."""
        self._repo(repo).protections[branch] = Protection(
            tuple(required_checks),
            required_approving_reviews,
            rulesets,
            strict=strict,
            ruleset_id=self.ids.next("ruleset"),
        )

    def add_issue(
        self, repo: Repo | str, title: str, body: str | None = "", *, user: str = "alice", labels: list[str] = ()
    ) -> Issue:
        repo = self._repo(repo)
        issue = self.create_issue(repo, title, body, self.user(user))
        for name in labels:
            self.label_issue(repo, issue.number, name, by=user)
        return issue

    def label_issue(self, repo: Repo | str, number: int, name: str, *, by: str = "alice") -> None:
        repo = self._repo(repo)
        self.add_labels(repo, repo.issues[number], [name], self.user(by))

    def edit_issue(self, repo: Repo | str, number: int, *, by: str, title: str | None = None,
                   body: str | None = None) -> None:
        """A human edits an issue's title or body, with GitHub's ``issues.edited`` webhook (``changes``)."""
        repo = self._repo(repo)
        issue = repo.issues[number]
        changes = {key: {"from": getattr(issue, key)} for key, value in (("title", title), ("body", body))
                   if value is not None}
        self.edit_issue_text(issue, {key: value for key, value in (("title", title), ("body", body))
                                     if value is not None})
        self._emit_issue_or_pull(repo, issue, "edited", self.user(by), changes=changes)

    def add_issue_comment(self, repo: Repo | str, number: int, body: str, *, user: str = "alice") -> IssueComment:
        return self.create_comment(self._repo(repo), number, body, self.user(user))

    def add_pr_comment(
        self,
        repo: Repo | str,
        number: int,
        body: str,
        *,
        user: str = "alice",
        path: str | None = None,
        line: int | None = None,
        in_reply_to: int | None = None,
    ) -> IssueComment | ReviewComment:
        """A human's comment on a PR: a conversation comment, or a review comment on ``path``
        (or a reply to review comment ``in_reply_to``)."""
        repo = self._repo(repo)
        if path is None and in_reply_to is None:
            return self.create_comment(repo, number, body, self.user(user))
        who = self.user(user)
        if in_reply_to is not None:
            return self.reply_to_review_comment(repo, repo.pulls[number], in_reply_to, body, who)
        review = self._new_review(repo, repo.pulls[number], who, "COMMENTED", "")
        comment = self._new_review_comment(repo, repo.pulls[number], review, who, path, line, body)
        self.emit(
            repo,
            "pull_request_review",
            "submitted",
            who,
            review=shapes.review(repo, review),
            pull_request=shapes.pull_request(self, repo, repo.pulls[number], full=False),
        )
        return comment

    def add_review(
        self,
        repo: Repo | str,
        number: int,
        user: str,
        state: str = "COMMENTED",
        body: str = "",
        comments: list[dict[str, Any]] = (),
    ) -> Review:
        """A submitted review: ``state`` APPROVED | CHANGES_REQUESTED | COMMENTED, with line comments
        ``[{"path", "line", "body"}]``."""
        repo = self._repo(repo)
        pr = repo.pulls[number]
        who = self.user(user)
        review = self._new_review(repo, pr, who, state.upper(), body)
        for c in comments:
            self._new_review_comment(repo, pr, review, who, c["path"], c.get("line"), c["body"], emit=False)
        pr.requested_reviewers = [u for u in pr.requested_reviewers if u.login != who.login]
        self.emit(
            repo,
            "pull_request_review",
            "submitted",
            who,
            review=shapes.review(repo, review),
            pull_request=shapes.pull_request(self, repo, pr, full=False),
        )
        for comment in repo.review_comments.get(pr.number, []):
            if comment.review_id == review.id:
                self._emit_review_comment(repo, pr, comment)
        return review

    def resolve_review_thread(
        self, repo: Repo | str, root_comment_id: int, resolved: bool = True, *, by: str = "alice"
    ) -> ReviewComment:
        """A person resolves (or unresolves) the review thread that starts with ``root_comment_id``."""
        repo = self._repo(repo)
        comment = repo.find_review_comment(root_comment_id)
        root = repo.find_review_comment(comment.in_reply_to_id) if comment.in_reply_to_id else comment
        self.set_thread_resolved(root, resolved, self.user(by))
        return root

    def add_check_run(
        self,
        repo: Repo | str,
        sha: str,
        name: str,
        status: str = "completed",
        conclusion: str | None = "success",
        *,
        output: dict[str, Any] | None = None,
        app_slug: str = "github-actions",
        log: str = "",
        workflow: str = "CI",
    ) -> CheckRun:
        """A check run made by another app (GitHub Actions by default, with a workflow run and
        a job whose id is the check run's id, and ``log`` as the job's log)."""
        repo = self._repo(repo)
        app = self._app_by_slug(app_slug)
        out = dict(output or {})
        annotations = out.pop("annotations", [])
        run = self.create_check_run(
            repo,
            app,
            sha,
            name,
            status,
            conclusion if status == "completed" else None,
            out,
            annotations,
            sender=app.bot,
            workflow=workflow if app is self.actions_app else None,
        )
        if app is self.actions_app:
            repo.jobs[run.id].log = log
        return run

    def complete_check_run(
        self,
        repo: Repo | str,
        run_id: int,
        conclusion: str,
        *,
        output: dict[str, Any] | None = None,
        log: str | None = None,
    ) -> CheckRun:
        """CI finishing a check run that was queued or in progress."""
        repo = self._repo(repo)
        run = repo.check_runs[run_id]
        out = dict(output or {})
        run.annotations += out.pop("annotations", [])
        run.output.update(out)
        if log is not None and run_id in repo.jobs:
            repo.jobs[run_id].log = log
        self.update_check_run(repo, run, {"status": "completed", "conclusion": conclusion}, sender=run.app.bot)
        return run

    def configure_actions(
        self,
        repo: Repo | str,
        command: Iterable[str] | str = ("python", "-m", "pytest", "-q"),
        job_name: str = "test",
        workflow_name: str = "tests",
        branches: Iterable[str] | str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
        *,
        auto: bool = True,
        workflow_path: str | None = None,
    ) -> ActionsConfig:
        """Run ``command`` as GitHub Actions would on every update of a branch of ``repo``.

        ``command``: argv (``python`` means the tests' interpreter) or a bash script line.
        ``branches``: None for every branch, or names / glob patterns (``*``, ``**``, ``!`` to
        exclude). ``auto=False`` holds each run in progress until ``await finish_actions()``.
        One config per workflow file (``workflow_path``, default ``.github/workflows/<name>.yml``):
        configuring the same workflow again replaces it, another workflow adds a second run per push.
        """
        repo = self._repo(repo)
        path = workflow_path or f".github/workflows/{workflow_name.lower().replace(' ', '-')}.yml"
        config = ActionsConfig(
            repo.full_name,
            command if isinstance(command, str) else tuple(command),
            job_name,
            workflow_name,
            (branches,) if isinstance(branches, str) else (tuple(branches) if branches is not None else None),
            dict(env or {}),
            float(timeout),
            auto,
            path,
        )
        self.actions_configs.setdefault(repo.full_name.lower(), {})[path] = config
        return config

    async def finish_actions(self, repo: Repo | str | None = None) -> list[ActionsRun]:
        """Execute the runs held by ``auto=False`` (of ``repo``, or all), in order, and complete
        them; then deliver the queued webhooks when a ``webhook_sink`` is set."""
        name = self._repo(repo).full_name if repo is not None else None
        done = []
        for run in [r for r in self.held_actions if name is None or r.repo == name]:
            self.held_actions.remove(run)
            repo_obj = self.repo(run.repo)
            config = self._run_configs[run.workflow_run_id]
            files = actions.checkout(repo_obj, run.head_sha)
            env = actions.job_env(self, repo_obj, run)
            result = await asyncio.to_thread(actions.execute, files, config, env, repo_obj.name)
            actions.finish(self, run, config, result)
            done.append(run)
        if self.webhook_sink is not None:
            await self.deliver_webhooks()
        return done

    def _run_actions(self, repo: Repo, branch: str, before: str | None, sha: str, sender: User) -> None:
        configs = self.actions_configs.get(repo.full_name.lower(), {})
        if not configs or not actions.should_run(self, repo, sha, sender):
            return
        for config in list(configs.values()):
            if not config.runs_on(branch):
                continue
            run = actions.start(self, repo, config, branch, before, sha, sender)
            self._run_configs[run.workflow_run_id] = config
            if not config.auto:
                self.held_actions.append(run)
                continue
            env = actions.job_env(self, repo, run)
            result = actions.execute(actions.checkout(repo, sha), config, env, repo.name)
            actions.finish(self, run, config, result)

    def manifest_code(self, manifest: dict[str, Any] | None = None) -> str:
        """A one-time code as GitHub's manifest flow hands back to ``redirect_url``."""
        code = secrets.token_hex(10)
        self.manifest_codes[code] = dict(manifest or {})
        return code

    def rate_limit(self, reset: float, *, clock: Callable[[], float] = time.time, secondary: bool = False) -> None:
        """Answer every API request made with an installation token as GitHub does when its rate
        limit is used up, until ``clock()`` reaches ``reset`` (epoch seconds): 403 with
        ``x-ratelimit-remaining: 0`` and ``x-ratelimit-reset``, or, ``secondary``, 403 with ``retry-after``."""
        self.rate_limited = (reset, clock, secondary)

    def _rate_limit_reply(self, request: Request, raw_path: str) -> Reply | None:
        if self.rate_limited is None or raw_path.startswith("/app"):
            return None  # the App's own routes (token minting) have a separate limit
        reset, clock, secondary = self.rate_limited
        if clock() >= reset:
            self.rate_limited = None
            return None
        if secondary:
            return Reply(403, {"message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                                          "before you try again.", "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api"},
                         headers={"retry-after": str(max(int(reset - clock()), 1))})
        return Reply(403, {"message": "API rate limit exceeded for installation ID 42.",
                           "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api"},
                     headers={"x-ratelimit-remaining": "0", "x-ratelimit-used": "5000",
                              "x-ratelimit-reset": str(int(reset))})

    def inject_error(self, method: str, path: str, status: int, message: str = "Server Error", times: int = 1) -> None:
        """Make the next ``times`` requests to ``method path`` fail with ``status``."""
        for _ in range(times):
            self.injected_errors.append((method.upper(), path, ApiError(status, message)))

    def inject_field_error(self, mutation: str, kind: str = "INTERNAL",
                           message: str = "Something went wrong while executing your query.", times: int = 1) -> None:
        """Make the next ``times`` runs of the GraphQL ``mutation`` fail as one field of its
        document (``null`` with an error at its path; the document's other fields still run)."""
        self.injected_field_errors.extend([(mutation, kind, message)] * times)

    def take_field_error(self, mutation: str) -> tuple[str, str] | None:
        for i, (name, kind, message) in enumerate(self.injected_field_errors):
            if name == mutation:
                del self.injected_field_errors[i]
                return kind, message
        return None

    # -- reading state ----------------------------------------------------------------------
    def resolve(self, repo: Repo | str, ref: str) -> str | None:
        """A commit sha for a branch, tag, full ref or (abbreviated) sha."""
        repo = self._repo(repo)
        for candidate in (ref, f"refs/heads/{ref}", f"refs/tags/{ref}", f"refs/{ref}"):
            if candidate in repo.refs:
                return repo.refs[candidate]
        if re.fullmatch(r"[0-9a-f]{7,40}", ref):
            matches = [sha for sha in repo.git.commits if sha.startswith(ref)]
            if len(matches) == 1:
                return matches[0]
        return None

    def tree_files(self, repo: Repo | str, ref: str) -> dict[str, str]:
        repo = self._repo(repo)
        sha = self.resolve(repo, ref)
        if sha is None:
            raise KeyError(ref)
        return {p: repo.git.blobs[e.sha].decode() for p, e in repo.git.flatten(repo.git.commits[sha].tree).items()}

    def read_file(self, repo: Repo | str, ref: str, path: str) -> str | None:
        return self.tree_files(repo, ref).get(path)

    def calls_to(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method.upper() and c.path == path]

    def contains(self, repo: Repo | str, ancestor: str, descendant: str) -> bool:
        """Whether ``descendant`` (a ref or sha) has ``ancestor`` (a ref or sha) in its history, e.g.
        whether a session branch has merged the base branch's current head."""
        repo = self._repo(repo)
        old, new = self.resolve(repo, ancestor), self.resolve(repo, descendant)
        if old is None or new is None:
            raise KeyError(ancestor if old is None else descendant)
        return repo.git.is_ancestor(old, new)

    def events_of(self, event: str, action: str | None = None) -> list[dict[str, Any]]:
        return [p for e, p in self.events if e == event and (action is None or p.get("action") == action)]

    def signed_delivery(
        self, event: str, payload: dict[str, Any], secret: str = WEBHOOK_SECRET
    ) -> tuple[dict[str, str], bytes]:
        return signed_delivery(event, payload, secret, app_id=self.app_id)

    # =====================================================================================
    # State changes shared by the API handlers and the helpers (they emit the webhooks)
    # =====================================================================================
    def set_ref(self, repo: Repo, ref: str, sha: str | None, sender: User) -> None:
        """Move (or delete, ``sha=None``) a ref. Every path that changes a branch or tag comes
        here, so each sends GitHub's ``push`` webhook; a branch update also synchronizes its open
        pull requests and runs the configured GitHub Actions workflows."""
        before = repo.refs.get(ref)
        if sha is None:
            repo.refs.pop(ref, None)
        else:
            repo.refs[ref] = sha
            repo.pushed_at = self.clock.tick()
        self._emit_push(repo, ref, before, sha, sender)
        if not ref.startswith("refs/heads/") or sha is None:
            return
        branch = ref[len("refs/heads/") :]
        for pr in repo.pulls.values():
            if pr.head_ref == branch and pr.state == "open" and pr.head_sha != sha:
                pr.head_sha = sha
                pr.issue.updated_at = self.clock.now()
                self.emit(
                    repo,
                    "pull_request",
                    "synchronize",
                    sender,
                    number=pr.number,
                    before=before,
                    after=sha,
                    pull_request=shapes.pull_request(self, repo, pr),
                )
        self._run_actions(repo, branch, before, sha, sender)

    def _emit_push(self, repo: Repo, ref: str, before: str | None, after: str | None, pusher: User) -> None:
        """GitHub's ``push`` webhook. Its ``commits`` are the commits the push brought: those after
        ``before`` for an update, those on no other branch or tag for a new ref."""
        if repo.installation_id is None or before == after or not ref.startswith(("refs/heads/", "refs/tags/")):
            return
        elsewhere = set().union(*(repo.git.ancestors(sha) for r, sha in repo.refs.items() if r != ref))
        if after is None:
            pushed = []
        elif before is None:
            pushed = [sha for sha in reversed(repo.git.topo_order(after)) if sha not in elsewhere]
        else:
            pushed = repo.git.commits_between(before, after)
        self.emit(
            repo,
            "push",
            None,
            pusher,
            repository=shapes.push_repository(repo),
            **shapes.push_details(self, repo, ref, before, after, pushed, elsewhere, pusher),
        )

    def merge_into_branch(self, repo: Repo, branch: str, head_sha: str, message: str, author: User) -> str | None:
        """Merge ``head_sha`` into ``branch`` as GitHub's merge endpoints do: a two-parent commit
        (the branch's head first) authored by ``author``, committed and signed by GitHub, that
        moves the branch as any ref update does. None when the file-level merge conflicts."""
        base_sha = repo.branches[branch]
        merged = self.merge_files(repo, base_sha, head_sha)
        if merged is None:
            return None
        now = self.clock.tick()
        commit = Commit(
            repo.git.tree_from_files(merged),
            (base_sha, head_sha),
            Signature(author.login, author.email, now),
            Signature("GitHub", "noreply@github.com", now),
            message,
            verified=True,
        )
        sha = repo.git.put_commit(commit)
        self.set_ref(repo, f"refs/heads/{branch}", sha, author)
        return sha

    def commit_on_branch(
        self, repo: Repo, branch: str, files: dict[str, bytes | None], message: str, author: User
    ) -> str:
        """A commit GitHub writes for an API client (GraphQL ``createCommitOnBranch``): its parent
        is the branch head, GitHub commits and signs it, and the branch moves as a REST ref update
        moves it. Returns the new sha."""
        ref = f"refs/heads/{branch}"
        parent = repo.refs[ref]
        now = self.clock.tick()
        tree = self._tree_with_changes(repo, parent, files)
        commit = Commit(
            tree,
            (parent,),
            Signature(author.login, author.email, now),
            Signature("GitHub", "noreply@github.com", now),
            message,
            verified=True,
        )
        sha = repo.git.put_commit(commit)
        self.set_ref(repo, ref, sha, author)
        return sha

    def create_issue(self, repo: Repo, title: str, body: str | None, author: User, via_app: App | None = None) -> Issue:
        now = self.clock.tick()
        issue = Issue(repo.next_number(), self.ids.next("issue"), title, body, author, now, now, via_app=via_app)
        repo.issues[issue.number] = issue
        self.emit(repo, "issues", "opened", author, issue=shapes.issue(repo, issue))
        return issue

    def ensure_label(self, repo: Repo, name: str, color: str = "ededed", description: str | None = None) -> Label:
        key = name.lower()
        if key not in repo.labels:
            repo.labels[key] = Label(self.ids.next("label"), name, color, description)
        return repo.labels[key]

    def add_labels(self, repo: Repo, issue: Issue, names: list[str], sender: User) -> None:
        for name in names:
            label = self.ensure_label(repo, name)
            if label.name.lower() in (n.lower() for n in issue.labels):
                continue
            issue.labels.append(label.name)
            issue.updated_at = self.clock.tick()
            self._emit_issue_or_pull(repo, issue, "labeled", sender, label=shapes.label(repo, label))

    def remove_label(self, repo: Repo, issue: Issue, name: str, sender: User) -> None:
        current = next(n for n in issue.labels if n.lower() == name.lower())
        issue.labels.remove(current)
        issue.updated_at = self.clock.tick()
        self._emit_issue_or_pull(
            repo, issue, "unlabeled", sender, label=shapes.label(repo, repo.labels[current.lower()])
        )

    def edit_issue_text(self, issue: Issue, changes: dict[str, Any]) -> None:
        """A new ``title`` and/or ``body`` for an issue or pull request (other keys are ignored)."""
        for key in ("title", "body"):
            if key in changes:
                setattr(issue, key, changes[key])
                issue.updated_at = self.clock.tick()

    def create_comment(
        self, repo: Repo, number: int, body: str, author: User, via_app: App | None = None
    ) -> IssueComment:
        now = self.clock.tick()
        comment = IssueComment(self.ids.next("comment"), number, author, body, now, now, via_app)
        repo.comments.setdefault(number, []).append(comment)
        issue = repo.issues[number]
        issue.updated_at = now
        self.emit(
            repo,
            "issue_comment",
            "created",
            author,
            issue=shapes.issue(repo, issue, repo.pulls.get(number)),
            comment=shapes.issue_comment(repo, comment),
        )
        return comment

    def edit_comment(self, repo: Repo, comment: IssueComment, body: str, sender: User) -> None:
        old = comment.body
        comment.body = body
        comment.updated_at = self.clock.tick()
        self.emit(
            repo,
            "issue_comment",
            "edited",
            sender,
            changes={"body": {"from": old}},
            issue=shapes.issue(repo, repo.issues[comment.issue_number], repo.pulls.get(comment.issue_number)),
            comment=shapes.issue_comment(repo, comment),
        )

    def add_reaction(self, repo: Repo, subject: tuple[str, int], user: User, content: str) -> tuple[Reaction, bool]:
        """``user``'s reaction (REST content, e.g. ``"+1"``); an identical one is not added twice.
        Returns the reaction and whether it is new."""
        for existing in repo.reactions_to(*subject):
            if existing.user.login == user.login and existing.content == content:
                return existing, False
        reaction = Reaction(self.ids.next("reaction"), subject, user, content, self.clock.tick())
        repo.reactions.append(reaction)
        return reaction, True

    def set_thread_resolved(self, root: ReviewComment, resolved: bool, sender: User) -> None:
        """GitHub also sends ``pull_request_review_thread`` webhooks for this; the app does not
        subscribe to them (``APP_EVENTS``), so none are queued."""
        root.resolved, root.resolved_by = resolved, sender if resolved else None

    def set_issue_state(self, repo: Repo, issue: Issue, state: str, reason: str | None, sender: User) -> None:
        if issue.state == state:
            return
        issue.state = state
        issue.updated_at = self.clock.tick()
        if state == "closed":
            issue.closed_at, issue.closed_by, issue.state_reason = issue.updated_at, sender, reason or "completed"
        else:
            issue.closed_at, issue.closed_by, issue.state_reason = None, None, "reopened"
        action = "closed" if state == "closed" else "reopened"
        pr = repo.pulls.get(issue.number)
        if pr is not None and state == "closed":
            pr.base_sha_when_closed = repo.branches.get(pr.base_ref)
        elif pr is not None:
            pr.base_sha_when_closed = None
        self._emit_issue_or_pull(repo, issue, action, sender)

    def create_pull(
        self,
        repo: Repo,
        head: str,
        base: str,
        title: str,
        body: str | None,
        draft: bool,
        author: User,
        maintainer_can_modify: bool = False,
        via_app: App | None = None,
    ) -> PullRequest:
        now = self.clock.tick()
        issue = Issue(repo.next_number(), self.ids.next("issue"), title, body, author, now, now, via_app=via_app)
        repo.issues[issue.number] = issue
        pr = PullRequest(
            issue.number, self.ids.next("pull"), issue, head, repo.branches[head], base, draft, maintainer_can_modify
        )
        repo.pulls[pr.number] = pr
        self.emit(
            repo, "pull_request", "opened", author, number=pr.number, pull_request=shapes.pull_request(self, repo, pr)
        )
        return pr

    def set_draft(self, repo: Repo, pr: PullRequest, draft: bool, sender: User) -> None:
        if pr.draft == draft:
            return
        pr.draft = draft
        pr.issue.updated_at = self.clock.tick()
        action = "converted_to_draft" if draft else "ready_for_review"
        self.emit(
            repo, "pull_request", action, sender, number=pr.number, pull_request=shapes.pull_request(self, repo, pr)
        )

    def diff(self, repo: Repo, base_sha: str, head_sha: str):
        return diff_trees(
            repo.git.flatten(repo.git.commits[base_sha].tree), repo.git.flatten(repo.git.commits[head_sha].tree)
        )

    def merged_files(self, repo: Repo, pr: PullRequest) -> dict[str, FileEntry] | None:
        return self.merge_files(repo, repo.branches[pr.base_ref], pr.head_sha)

    def merge_files(self, repo: Repo, ours: str, theirs: str) -> dict[str, FileEntry] | None:
        """The files of merging commit ``theirs`` into ``ours`` (None on a conflict)."""
        merge_base = repo.git.merge_base(ours, theirs)
        flat = lambda sha: repo.git.flatten(repo.git.commits[sha].tree) if sha else {}  # noqa: E731
        return three_way_merge(flat(merge_base), flat(ours), flat(theirs))

    def mergeable(self, repo: Repo, pr: PullRequest) -> bool:
        return pr.base_ref in repo.branches and self.merged_files(repo, pr) is not None

    def behind_strict_base(self, repo: Repo, pr: PullRequest) -> bool:
        """Whether a pull request's head lacks its base branch's head while the base requires
        branches to be up to date before merging (GitHub's ``mergeable_state: behind``)."""
        protection = repo.protections.get(pr.base_ref)
        if protection is None or not protection.requires_up_to_date or pr.base_ref not in repo.branches:
            return False
        return not repo.git.is_ancestor(repo.branches[pr.base_ref], pr.head_sha)

    def create_check_run(
        self,
        repo: Repo,
        app: App,
        head_sha: str,
        name: str,
        status: str,
        conclusion: str | None,
        output: dict[str, Any],
        annotations: list[dict[str, Any]],
        sender: User,
        workflow: str | None = None,
        details_url: str | None = None,
        external_id: str | None = None,
        started_at: datetime | None = None,
        suite: CheckSuite | None = None,
        completed_at: datetime | None = None,
    ) -> CheckRun:
        suite = suite or self._suite_for(repo, app, head_sha)
        now = self.clock.tick()
        run = CheckRun(
            self.ids.next("check_run"),
            suite.id,
            app,
            head_sha,
            name,
            status,
            conclusion,
            started_at or now,
            (completed_at or now) if status == "completed" else None,
            output,
            list(annotations),
            details_url,
            external_id,
        )
        repo.check_runs[run.id] = run
        if workflow is not None:
            wf = self._workflow_run_for(repo, suite, workflow, sender)
            repo.jobs[run.id] = Job(run.id, wf.id, name)
            run.details_url = f"{shapes.WEB}/{repo.full_name}/actions/runs/{wf.id}/job/{run.id}"
        self._emit_check_run(repo, run, "created", sender)
        if status == "completed":
            self._on_check_run_completed(repo, run, sender)
        return run

    def update_check_run(self, repo: Repo, run: CheckRun, changes: dict[str, Any], sender: User) -> None:
        was_completed = run.status == "completed"
        for key in ("name", "details_url", "external_id"):
            if key in changes:
                setattr(run, key, changes[key])
        if changes.get("started_at"):
            run.started_at = parse_time(changes["started_at"])
        if "conclusion" in changes:
            run.conclusion, run.status = changes["conclusion"], "completed"
        elif "status" in changes:
            run.status = changes["status"]
        if run.status == "completed" and not was_completed:
            run.completed_at = parse_time(changes.get("completed_at")) or self.clock.tick()
            self._on_check_run_completed(repo, run, sender)

    # -- internals of the above --------------------------------------------------------------
    def _app_by_slug(self, slug: str) -> App:
        if slug == "github-actions":
            return self.actions_app
        if slug == self.app_slug:
            return self.gh_app
        if slug not in self.other_apps:
            app_id = self.ids.next("user")
            self.other_apps[slug] = App(
                app_id,
                slug,
                slug,
                self.user(f"{slug}-org", type="Organization"),
                self.user(f"{slug}[bot]", type="Bot"),
                f"Iv1.{app_id:016x}",
                self.clock.now(),
                permissions={"checks": "write", "metadata": "read"},
                events=["check_run"],
            )
        return self.other_apps[slug]

    def _branch_of(self, repo: Repo, sha: str) -> str | None:
        return next((b for b, s in repo.branches.items() if s == sha), None)

    def _suite_for(self, repo: Repo, app: App, head_sha: str) -> CheckSuite:
        for suite in repo.check_suites.values():
            if suite.app.id == app.id and suite.head_sha == head_sha:
                return suite
        now = self.clock.now()
        parents = repo.git.commits[head_sha].parents
        suite = CheckSuite(
            self.ids.next("check_suite"),
            app,
            head_sha,
            self._branch_of(repo, head_sha),
            now,
            now,
            before=parents[0] if parents else None,
        )
        repo.check_suites[suite.id] = suite
        return suite

    def _workflow_run_for(self, repo: Repo, suite: CheckSuite, name: str, actor: User) -> WorkflowRun:
        for run in repo.workflow_runs.values():
            if run.suite_id == suite.id:
                return run
        number = sum(1 for r in repo.workflow_runs.values() if r.name == name) + 1
        workflow_id = next((r.workflow_id for r in repo.workflow_runs.values() if r.name == name), None)
        now = self.clock.now()
        pusher = self.user_by_email(repo.git.commits[suite.head_sha].author.email) or actor
        event = "pull_request" if shapes.pr_refs(repo, suite.head_sha) else "push"
        run = WorkflowRun(
            self.ids.next("workflow_run"),
            workflow_id or self.ids.next("workflow"),
            suite.id,
            name,
            f".github/workflows/{name.lower().replace(' ', '-')}.yml",
            suite.head_sha,
            suite.head_branch,
            number,
            event,
            pusher,
            now,
            now,
        )
        repo.workflow_runs[run.id] = run
        return run

    def _on_check_run_completed(self, repo: Repo, run: CheckRun, sender: User) -> None:
        self._emit_check_run(repo, run, "completed", sender)
        suite = repo.check_suites[run.suite_id]
        runs = [r for r in repo.check_runs.values() if r.suite_id == suite.id]
        if all(r.status == "completed" for r in runs):
            self.emit(
                repo,
                "check_suite",
                "completed",
                sender,
                check_suite=shapes.check_suite(repo, suite, with_repository=False),
            )
            for wf in repo.workflow_runs.values():
                if wf.suite_id == suite.id:
                    self.emit(
                        repo,
                        "workflow_run",
                        "completed",
                        sender,
                        workflow_run=shapes.workflow_run(repo, wf),
                        workflow=self._workflow_shape(repo, wf),
                    )

    def _workflow_shape(self, repo: Repo, wf: WorkflowRun) -> dict[str, Any]:
        api = f"{shapes.API}/repos/{repo.full_name}/actions/workflows/{wf.workflow_id}"
        return {
            "badge_url": f"{shapes.WEB}/{repo.full_name}/workflows/{quote(wf.name)}/badge.svg",
            "created_at": shapes.ts(repo.created_at),
            "html_url": f"{shapes.WEB}/{repo.full_name}/blob/{repo.default_branch}/{wf.path}",
            "id": wf.workflow_id,
            "name": wf.name,
            "node_id": f"W_kwDO{wf.workflow_id}",
            "path": wf.path,
            "state": "active",
            "updated_at": shapes.ts(repo.created_at),
            "url": api,
        }

    def _emit_check_run(self, repo: Repo, run: CheckRun, action: str, sender: User) -> None:
        payload_run = shapes.check_run(repo, run)
        payload_run["check_suite"] = shapes.check_suite(repo, repo.check_suites[run.suite_id], with_repository=False)
        self.emit(repo, "check_run", action, sender, check_run=payload_run)

    def _emit_issue_or_pull(self, repo: Repo, issue: Issue, action: str, sender: User, **extra: Any) -> None:
        pr = repo.pulls.get(issue.number)
        if pr is None:
            self.emit(repo, "issues", action, sender, issue=shapes.issue(repo, issue), **extra)
        else:
            self.emit(
                repo,
                "pull_request",
                action,
                sender,
                number=pr.number,
                pull_request=shapes.pull_request(self, repo, pr),
                **extra,
            )

    def _new_review(self, repo: Repo, pr: PullRequest, who: User, state: str, body: str) -> Review:
        review = Review(self.ids.next("review"), pr.number, who, state, body, pr.head_sha, self.clock.tick())
        repo.reviews.setdefault(pr.number, []).append(review)
        return review

    def _new_review_comment(
        self,
        repo: Repo,
        pr: PullRequest,
        review: Review,
        who: User,
        path: str,
        line: int | None,
        body: str,
        emit: bool = True,
        in_reply_to: int | None = None,
        via_app: App | None = None,
    ) -> ReviewComment:
        now = self.clock.tick()
        comment = ReviewComment(
            self.ids.next("review_comment"),
            pr.number,
            review.id,
            who,
            body,
            path,
            line,
            pr.head_sha,
            self._diff_hunk(repo, pr, path, line),
            now,
            now,
            in_reply_to_id=in_reply_to,
            via_app=via_app,
        )
        repo.review_comments.setdefault(pr.number, []).append(comment)
        if emit:
            self._emit_review_comment(repo, pr, comment)
        return comment

    def _emit_review_comment(self, repo: Repo, pr: PullRequest, comment: ReviewComment) -> None:
        self.emit(
            repo,
            "pull_request_review_comment",
            "created",
            comment.user,
            comment=shapes.review_comment(repo, comment),
            pull_request=shapes.pull_request(self, repo, pr, full=False),
        )

    def reply_to_review_comment(
        self, repo: Repo, pr: PullRequest, comment_id: int, body: str, who: User, via_app: App | None = None
    ) -> ReviewComment:
        parent = repo.find_review_comment(comment_id)
        root = parent.in_reply_to_id or parent.id
        review = self._new_review(repo, pr, who, "COMMENTED", "")
        return self._new_review_comment(
            repo, pr, review, who, parent.path, parent.line, body, in_reply_to=root, via_app=via_app
        )

    def _diff_hunk(self, repo: Repo, pr: PullRequest, path: str, line: int | None) -> str:
        text = self.read_file(repo, pr.head_sha, path) or ""
        lines = text.splitlines()
        end = min(line or len(lines), len(lines))
        start = max(1, end - 3)
        shown = lines[start - 1 : end]
        return f"@@ -{start},{len(shown)} +{start},{len(shown)} @@\n" + "\n".join(f" {x}" for x in shown)

    # =====================================================================================
    # Webhooks
    # =====================================================================================
    def emit(
        self,
        repo: Repo,
        event: str,
        action: str | None,
        sender: User,
        *,
        repository: dict[str, Any] | None = None,
        **objects: Any,
    ) -> None:
        """Queue the webhook GitHub would send the app for a change in ``repo`` (``repository``:
        the payload's repository object when the event has its own shape of it, as ``push`` has)."""
        if repo.installation_id is None:
            return
        org = shapes.user(repo.owner) if repo.owner.type == "Organization" else None
        if org is not None:
            org = {
                k: org[k]
                for k in (
                    "login",
                    "id",
                    "node_id",
                    "url",
                    "repos_url",
                    "events_url",
                    "hooks_url",
                    "issues_url",
                    "members_url",
                    "public_members_url",
                    "avatar_url",
                    "description",
                )
                if k in org
            } | self._org_extras(repo.owner)
        payload = build_payload(
            event,
            action,
            repository=repository or shapes.repository(repo),
            sender=shapes.user(sender),
            installation_id=repo.installation_id,
            organization=org,
            **objects,
        )
        self.events.append((event, payload))
        delivery = Delivery(
            self.ids.next("delivery"),
            str(uuid.uuid4()),
            event,
            action,
            payload,
            repo.installation_id,
            repo.id,
            self.clock.now(),
        )
        self.pending_webhooks.append(delivery)

    def _org_extras(self, org: User) -> dict[str, Any]:
        api = f"{shapes.API}/orgs/{org.login}"
        return {
            "url": api,
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events",
            "hooks_url": f"{api}/hooks",
            "issues_url": f"{api}/issues",
            "members_url": f"{api}/members{{/member}}",
            "public_members_url": f"{api}/public_members{{/member}}",
            "description": None,
        }

    async def deliver_webhooks(self) -> list[tuple[str, dict[str, Any]]]:
        """Deliver queued webhooks to ``webhook_sink`` (those its handlers cause too), in order."""
        delivered = []
        while self.pending_webhooks and self.webhook_sink is not None:
            delivery = self.pending_webhooks.pop(0)
            delivery.delivered_at = self.clock.now()
            self.deliveries.append(delivery)
            try:
                result = await self.webhook_sink(delivery.event, delivery.payload)
            except Exception:
                delivery.status_code = 500
                raise
            delivery.status_code = result if isinstance(result, int) else 200
            delivered.append((delivery.event, delivery.payload))
        return delivered

    # =====================================================================================
    # HTTP
    # =====================================================================================
    async def _endpoint(self, request: Request) -> Response:
        raw = await request.body()
        host = request.url.hostname or API_HOST
        query = dict(parse_qsl(request.url.query, keep_blank_values=True))
        try:
            body = json.loads(raw) if raw else None
            bad_json = False
        except ValueError:
            body, bad_json = None, True
        call = Call(request.method, host, request.url.path, query, body, dict(request.headers))
        self.calls.append(call)
        reply = self._handle(request, host, query, raw, body, bad_json)
        call.status = reply.status
        if self.webhook_sink is not None:
            await self.deliver_webhooks()
        return self._to_response(reply)

    def _to_response(self, reply: Reply) -> Response:
        headers = {
            "x-github-request-id": uuid.uuid4().hex[:20].upper(),
            "x-github-api-version-selected": API_VERSIONS[-1],
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-used": "1",
            "x-ratelimit-reset": str(int(time.time()) + 3600),
            "x-ratelimit-resource": "core",
            **reply.headers,
        }
        if reply.content is not None:
            return Response(reply.content, reply.status, headers, media_type=reply.media_type)
        if reply.json is None and reply.status in (204, 302, 304):
            return Response(b"", reply.status, headers)
        return Response(json.dumps(reply.json).encode(), reply.status, headers, media_type=reply.media_type)

    def _handle(
        self, request: Request, host: str, query: dict[str, str], raw: bytes, body: Any, bad_json: bool
    ) -> Reply:
        from . import graphql, rest

        method = request.method
        raw_path = request.scope.get("raw_path", request.url.path.encode()).decode().split("?")[0]
        try:
            if host == CODELOAD_HOST:
                return rest.codeload(self, request.url.path, query)
            if host == LOGS_HOST or request.url.path.startswith("/actions-results/"):
                return rest.job_log_blob(self, request.url.path, query)
            limited = self._rate_limit_reply(request, raw_path)
            if limited is not None:
                return limited
            for i, (m, p, error) in enumerate(self.injected_errors):
                if m == method and p == request.url.path:
                    del self.injected_errors[i]
                    raise error
            if method == "POST" and raw_path == "/graphql":
                return graphql.handle(self, request, body)
            matched = self.spec.match(method, raw_path)
            if matched is None:
                raise not_found()
            op, params = matched
        except ApiError as e:
            return self._error_reply(e, None)
        try:
            self._check_api_version(request)
            if bad_json:
                raise ApiError(400, "Problems parsing JSON")
            problems = op.check_request(query, body, has_body=bool(raw))
            if problems:
                raise ApiError(422, "Invalid request.\n\n" + "\n".join(problems))
            ctx = Ctx(self, op, params, query, body, str(request.url), request.headers.get("accept", ""))
            self._authenticate(ctx, request.headers.get("authorization"))
            reply = rest.HANDLERS[op.operation_id](ctx)
        except ApiError as e:
            return self._error_reply(e, op)
        self._check_reply(op, reply)
        return reply

    def _error_reply(self, e: ApiError, op: Operation | None) -> Reply:
        payload: dict[str, Any] = {"message": e.message}
        if e.errors:
            payload["errors"] = e.errors
        payload["documentation_url"] = e.documentation_url or (op.documentation_url if op else DOCS)
        payload["status"] = str(e.status)
        return Reply(e.status, payload)

    def _check_api_version(self, request: Request) -> None:
        version = request.headers.get("x-github-api-version")
        if version is not None and version not in API_VERSIONS:
            raise ApiError(400, f"API version {version} is not supported.")

    def _check_reply(self, op: Operation, reply: Reply) -> None:
        if not self.validate_responses or reply.content is not None or reply.json is None:
            return
        problems = op.check_response(reply.status, reply.json)
        if problems:
            raise AssertionError(
                f"fake GitHub answered {op.operation_id} {reply.status} off-schema:\n" + "\n".join(problems[:10])
            )

    # -- authentication ---------------------------------------------------------------------
    def _authenticate(self, ctx: Ctx, header: str | None) -> None:
        template = ctx.op.template
        if template.startswith("/app-manifests/"):
            return
        if template.startswith("/app") or template.endswith("/installation"):
            self._check_jwt(header)
            ctx.actor = self.bot
        else:
            ctx.token = self.check_token(header)
            ctx.actor = self.user(ctx.token.login)
        if "owner" in ctx.params and "repo" in ctx.params:
            ctx.repo = self._repo_for(ctx)

    def _check_jwt(self, header: str | None) -> None:
        if not header or not header.lower().startswith("bearer "):
            raise ApiError(401, "A JSON web token could not be decoded", documentation_url=DOCS)
        try:
            claims = jwt.decode(
                header.split(" ", 1)[1],
                self._public_key,
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"]},
                leeway=60,
            )
        except jwt.ExpiredSignatureError:
            raise ApiError(401, JWT_EXPIRED) from None
        except jwt.PyJWTError:
            raise ApiError(401, "A JSON web token could not be decoded") from None
        if str(claims["iss"]) not in (str(self.app_id), self.gh_app.client_id):
            raise ApiError(401, "A JSON web token could not be decoded")
        if claims["exp"] - claims["iat"] > 600 + 60:
            raise ApiError(401, "'Expiration time' claim ('exp') is too far in the future")

    def check_token(self, header: str | None) -> Token:
        if not header:
            raise ApiError(401, "Requires authentication")
        scheme, _, value = header.partition(" ")
        token = self.tokens.get(value.strip()) if scheme.lower() in ("token", "bearer") else None
        if token is None or (token.expires_at and token.expires_at <= datetime.now(UTC)):
            raise ApiError(401, "Bad credentials")
        return token

    def _repo_for(self, ctx: Ctx) -> Repo:
        repo = self.repos.get(f"{ctx.params['owner']}/{ctx.params['repo']}".lower())
        if repo is None:
            raise not_found()
        token = ctx.token
        if token is None or token.installation_id is None:
            return repo
        inst = self.installations[token.installation_id]
        allowed = token.repositories if token.repositories is not None else inst.repositories
        if repo.full_name.lower() in allowed:
            return repo
        if repo.private or ctx.op.method != "GET":
            raise not_found() if repo.private else ApiError(403, "Resource not accessible by integration")
        return repo

    def mint_token(self, installation: Installation, repositories: set[str] | None) -> Token:
        token = Token(
            "ghs_" + secrets.token_urlsafe(27).replace("-", "A").replace("_", "b")[:36],
            self.bot.login,
            installation.id,
            repositories,
            datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1),
            as_app=True,
        )
        self.tokens[token.token] = token
        return token

    # -- archives -----------------------------------------------------------------------------
    def tarball(self, repo: Repo, sha: str) -> bytes:
        """A gzip tar like GitHub's: top folder ``{owner}-{repo}-{shortsha}/``, pax comment = sha."""
        top = f"{repo.owner.login}-{repo.name}-{sha[:7]}"
        commit = repo.git.commits[sha]
        mtime = int(commit.committer.date.timestamp())
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT, pax_headers={"comment": sha}) as tar:
            self._add_dir(tar, f"{top}/", mtime)
            dirs_done = set()
            for path, entry in repo.git.walk(commit.tree):
                if entry.mode == "040000":
                    if path not in dirs_done:
                        self._add_dir(tar, f"{top}/{path}/", mtime)
                        dirs_done.add(path)
                    continue
                data = repo.git.blobs.get(entry.sha, b"")
                info = tarfile.TarInfo(f"{top}/{path}")
                info.mtime = mtime
                if entry.mode == "120000":
                    info.type, info.linkname = tarfile.SYMTYPE, data.decode()
                    tar.addfile(info)
                else:
                    info.size, info.mode = len(data), 0o775 if entry.mode == "100755" else 0o664
                    tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()

    @staticmethod
    def _add_dir(tar: tarfile.TarFile, name: str, mtime: int) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o775, mtime
        tar.addfile(info)

    def signed_url_token(self, *parts: Any) -> str:
        return hashlib.sha256(("/".join(map(str, parts)) + self.private_key_pem[-40:]).encode()).hexdigest()[:32]
