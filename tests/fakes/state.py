"""The fake GitHub's state: plain dataclasses, no HTTP and no JSON shapes (see shapes.py)."""

from __future__ import annotations

import base64
import itertools
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .gitstore import Commit, ObjectStore

PERMISSIONS = ("none", "read", "triage", "write", "maintain", "admin")


def node_id(prefix: str, number: int) -> str:
    """A node id in GitHub's current format, e.g. ``I_kwDOAB3x`` (prefix + msgpack-ish id)."""
    packed = base64.urlsafe_b64encode(b"\x93\x00\xce" + struct.pack(">I", number % 2**32)).decode().rstrip("=")
    return f"{prefix}_kwDO{packed}"


def parse_time(value: str | None) -> datetime | None:
    """GitHub's ISO 8601 timestamps ("2026-01-05T12:00:00Z")."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


class Clock:
    """Deterministic time: starts at a fixed instant and moves one second per tick."""

    def __init__(self, start: datetime = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def tick(self, seconds: int = 1) -> datetime:
        self.current += timedelta(seconds=seconds)
        return self.current


class Ids:
    """Global id sequences per kind of object (GitHub ids are global, not per repository)."""

    BASES = {
        "user": 5000,
        "repo": 700000,
        "issue": 1_000_000,
        "pull": 2_000_000,
        "comment": 3_000_000,
        "reaction": 4_000_000,
        "label": 5_000_000,
        "review": 6_000_000,
        "review_comment": 7_000_000,
        "check_suite": 8_000_000,
        "check_run": 9_000_000,
        "workflow_run": 10_000_000,
        "workflow": 11_000_000,
        "delivery": 12_000_000,
        "ruleset": 13_000,
        "installation": 100,
    }

    def __init__(self) -> None:
        self._counters = {kind: itertools.count(base + 1) for kind, base in self.BASES.items()}

    def next(self, kind: str) -> int:
        return next(self._counters[kind])


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # User | Bot | Organization
    name: str | None = None

    @property
    def node_id(self) -> str:
        prefix = {"Bot": "BOT", "Organization": "O"}.get(self.type, "U")
        return node_id(prefix, self.id)

    @property
    def email(self) -> str:
        return f"{self.id}+{self.login}@users.noreply.github.com"


@dataclass
class App:
    id: int
    slug: str
    name: str
    owner: User
    bot: User
    client_id: str
    created_at: datetime
    description: str = ""
    external_url: str = "https://example.com"
    permissions: dict[str, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)


@dataclass
class Installation:
    id: int
    app: App
    account: User
    repositories: set[str] = field(default_factory=set)  # full names
    created_at: datetime | None = None


@dataclass
class Token:
    token: str
    login: str  # the acting user
    installation_id: int | None = None  # None: not limited to one installation's repositories
    repositories: set[str] | None = None  # None: all of the installation's repositories
    expires_at: datetime | None = None
    as_app: bool = False  # acts as the app's installation (comments "via" the app, may create check runs)


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class Reaction:
    id: int
    subject: tuple[str, int]  # ("issue", number) | ("issue_comment", id) | ("pull_request_review_comment", id)
    user: User
    content: str
    created_at: datetime


@dataclass
class IssueComment:
    id: int
    issue_number: int
    user: User
    body: str
    created_at: datetime
    updated_at: datetime
    via_app: App | None = None


@dataclass
class Issue:
    number: int
    id: int
    title: str
    body: str | None
    user: User
    created_at: datetime
    updated_at: datetime
    labels: list[str] = field(default_factory=list)  # label names, in order added
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    closed_by: User | None = None
    locked: bool = False
    via_app: App | None = None


@dataclass
class PullRequest:
    number: int
    id: int
    issue: Issue
    head_ref: str
    head_sha: str
    base_ref: str
    draft: bool = False
    maintainer_can_modify: bool = False
    merged: bool = False
    merged_at: datetime | None = None
    merged_by: User | None = None
    merge_commit_sha: str | None = None
    requested_reviewers: list[User] = field(default_factory=list)
    base_sha_when_closed: str | None = None

    @property
    def state(self) -> str:
        return self.issue.state


@dataclass
class Review:
    id: int
    pull_number: int
    user: User
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED | PENDING
    body: str
    commit_id: str
    submitted_at: datetime


@dataclass
class ReviewComment:
    id: int
    pull_number: int
    review_id: int
    user: User
    body: str
    path: str
    line: int | None
    commit_id: str
    diff_hunk: str
    created_at: datetime
    updated_at: datetime
    side: str = "RIGHT"
    in_reply_to_id: int | None = None  # always the thread's root comment, as on GitHub
    via_app: App | None = None
    resolved: bool = False  # on a thread's root comment: the thread's resolution state
    resolved_by: User | None = None


@dataclass
class CheckSuite:
    id: int
    app: App
    head_sha: str
    head_branch: str | None
    created_at: datetime
    updated_at: datetime
    before: str | None = None


@dataclass
class CheckRun:
    id: int
    suite_id: int
    app: App
    head_sha: str
    name: str
    status: str
    conclusion: str | None
    started_at: datetime
    completed_at: datetime | None
    output: dict[str, Any] = field(default_factory=dict)  # title, summary, text
    annotations: list[dict[str, Any]] = field(default_factory=list)
    details_url: str | None = None
    external_id: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class WorkflowRun:
    id: int
    workflow_id: int
    suite_id: int
    name: str
    path: str
    head_sha: str
    head_branch: str | None
    run_number: int
    event: str
    actor: User
    created_at: datetime
    updated_at: datetime


@dataclass
class Job:
    id: int  # the same number as its check run, as on GitHub
    run_id: int
    name: str
    log: str = ""
    steps: list[dict[str, Any]] | None = None  # the REST "steps" (None: one step mirroring the check run)


@dataclass
class Protection:
    required_checks: tuple[str, ...] = ()
    required_approving_reviews: int = 0
    rulesets: bool = True  # True: repository rules (the current way); False: classic branch protection
    strict: bool = False  # "Require branches to be up to date before merging"
    ruleset_id: int = 0

    @property
    def requires_up_to_date(self) -> bool:
        """GitHub documents that the up-to-date policy has no effect without a required check."""
        return self.strict and bool(self.required_checks)


@dataclass
class Repo:
    id: int
    owner: User
    name: str
    private: bool
    default_branch: str
    created_at: datetime
    installation_id: int | None = None
    description: str | None = None
    git: ObjectStore = field(default_factory=ObjectStore)
    refs: dict[str, str] = field(default_factory=dict)  # "refs/heads/main" -> sha
    issues: dict[int, Issue] = field(default_factory=dict)  # pull requests' issues too
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    comments: dict[int, list[IssueComment]] = field(default_factory=dict)  # by issue number
    labels: dict[str, Label] = field(default_factory=dict)  # by lower-case name
    reactions: list[Reaction] = field(default_factory=list)
    permissions: dict[str, str] = field(default_factory=dict)  # login -> role
    reviews: dict[int, list[Review]] = field(default_factory=dict)  # by pull number
    review_comments: dict[int, list[ReviewComment]] = field(default_factory=dict)  # by pull number
    check_suites: dict[int, CheckSuite] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    workflow_runs: dict[int, WorkflowRun] = field(default_factory=dict)
    jobs: dict[int, Job] = field(default_factory=dict)
    protections: dict[str, Protection] = field(default_factory=dict)
    pushed_at: datetime | None = None
    tree_entry_limit: int | None = None  # more entries: a recursive tree comes back `truncated`, as GitHub's do
    _numbers: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    @property
    def node_id(self) -> str:
        return node_id("R", self.id)

    @property
    def branches(self) -> dict[str, str]:
        return {ref[len("refs/heads/") :]: sha for ref, sha in self.refs.items() if ref.startswith("refs/heads/")}

    @property
    def commits(self) -> dict[str, Commit]:
        return self.git.commits

    def next_number(self) -> int:
        return next(self._numbers)

    def find_comment(self, comment_id: int) -> IssueComment | None:
        return next((c for cs in self.comments.values() for c in cs if c.id == comment_id), None)

    def find_review_comment(self, comment_id: int) -> ReviewComment | None:
        return next((c for cs in self.review_comments.values() for c in cs if c.id == comment_id), None)

    def review_threads(self, pull_number: int) -> list[list[ReviewComment]]:
        """A pull request's review threads in order: each a root comment followed by its replies."""
        comments = self.review_comments.get(pull_number, [])
        roots = [c for c in comments if c.in_reply_to_id is None]
        return [[root, *(c for c in comments if c.in_reply_to_id == root.id)] for root in roots]

    def reactions_to(self, kind: str, subject_id: int) -> list[Reaction]:
        return [r for r in self.reactions if r.subject == (kind, subject_id)]

    def role_of(self, login: str) -> str:
        if login == self.owner.login:
            return "admin"
        return self.permissions.get(login, "none" if self.private else "read")
