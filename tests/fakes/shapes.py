"""GitHub's JSON shapes for the fake's state objects.

Every builder returns the complete object GitHub documents (all fields githubkit's pydantic
models require), with URLs in GitHub's patterns. ``API`` and ``WEB`` are GitHub.com's hosts.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .gitstore import Commit, FileChange, Signature, diff_trees, unified_patch
from .state import (
    App,
    CheckRun,
    CheckSuite,
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
    User,
    WorkflowRun,
    node_id,
)

if TYPE_CHECKING:
    from .github import FakeGitHub

API = "https://api.github.com"
WEB = "https://github.com"
REACTION_CONTENTS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")
ROLE_PERMISSIONS = {  # role -> the legacy "permission" GitHub reports next to role_name
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}
ROLE_ORDER = ("none", "read", "triage", "write", "maintain", "admin")
ZERO_SHA = "0" * 40
PUSH_COMMITS_LIMIT = 2048  # the most commits GitHub puts in one push payload


def ts(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


# -- users and apps ------------------------------------------------------------------------
def user(u: User | None) -> dict[str, Any] | None:
    if u is None:
        return None
    api = f"{API}/users/{quote(u.login)}"
    if u.type == "Bot":
        html = f"{WEB}/apps/{u.login.removesuffix('[bot]')}"
    else:
        html = f"{WEB}/{u.login}"
    return {
        "login": u.login,
        "id": u.id,
        "node_id": u.node_id,
        "avatar_url": f"https://avatars.githubusercontent.com/{'in/' if u.type == 'Bot' else 'u/'}{u.id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": html,
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": u.type,
        "user_view_type": "public",
        "site_admin": False,
    }


def app(a: App) -> dict[str, Any]:
    return {
        "id": a.id,
        "slug": a.slug,
        "node_id": node_id("A", a.id),
        "client_id": a.client_id,
        "owner": user(a.owner),
        "name": a.name,
        "description": a.description,
        "external_url": a.external_url,
        "html_url": f"{WEB}/apps/{a.slug}",
        "created_at": ts(a.created_at),
        "updated_at": ts(a.created_at),
        "permissions": dict(a.permissions),
        "events": list(a.events),
        "installations_count": 1,
    }


def installation(i: Installation) -> dict[str, Any]:
    return {
        "id": i.id,
        "client_id": i.app.client_id,
        "account": user(i.account),
        "repository_selection": "selected",
        "access_tokens_url": f"{API}/app/installations/{i.id}/access_tokens",
        "repositories_url": f"{API}/installation/repositories",
        "html_url": f"{WEB}/settings/installations/{i.id}",
        "app_id": i.app.id,
        "app_slug": i.app.slug,
        "target_id": i.account.id,
        "target_type": i.account.type,
        "permissions": dict(i.app.permissions),
        "events": list(i.app.events),
        "created_at": ts(i.created_at),
        "updated_at": ts(i.created_at),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


# -- repositories --------------------------------------------------------------------------
def repository(r: Repo, role: str | None = None) -> dict[str, Any]:
    """The full repository object; ``role`` (the caller's) adds ``permissions`` as GitHub does."""
    api = f"{API}/repos/{r.full_name}"
    web = f"{WEB}/{r.full_name}"
    out: dict[str, Any] = {
        "id": r.id,
        "node_id": r.node_id,
        "name": r.name,
        "full_name": r.full_name,
        "private": r.private,
        "owner": user(r.owner),
        "html_url": web,
        "description": r.description,
        "fork": False,
        "url": api,
        "forks_url": f"{api}/forks",
        "keys_url": f"{api}/keys{{/key_id}}",
        "collaborators_url": f"{api}/collaborators{{/collaborator}}",
        "teams_url": f"{api}/teams",
        "hooks_url": f"{api}/hooks",
        "issue_events_url": f"{api}/issues/events{{/number}}",
        "events_url": f"{api}/events",
        "assignees_url": f"{api}/assignees{{/user}}",
        "branches_url": f"{api}/branches{{/branch}}",
        "tags_url": f"{api}/tags",
        "blobs_url": f"{api}/git/blobs{{/sha}}",
        "git_tags_url": f"{api}/git/tags{{/sha}}",
        "git_refs_url": f"{api}/git/refs{{/sha}}",
        "trees_url": f"{api}/git/trees{{/sha}}",
        "statuses_url": f"{api}/statuses/{{sha}}",
        "languages_url": f"{api}/languages",
        "stargazers_url": f"{api}/stargazers",
        "contributors_url": f"{api}/contributors",
        "subscribers_url": f"{api}/subscribers",
        "subscription_url": f"{api}/subscription",
        "commits_url": f"{api}/commits{{/sha}}",
        "git_commits_url": f"{api}/git/commits{{/sha}}",
        "comments_url": f"{api}/comments{{/number}}",
        "issue_comment_url": f"{api}/issues/comments{{/number}}",
        "contents_url": f"{api}/contents/{{+path}}",
        "compare_url": f"{api}/compare/{{base}}...{{head}}",
        "merges_url": f"{api}/merges",
        "archive_url": f"{api}/{{archive_format}}{{/ref}}",
        "downloads_url": f"{api}/downloads",
        "issues_url": f"{api}/issues{{/number}}",
        "pulls_url": f"{api}/pulls{{/number}}",
        "milestones_url": f"{api}/milestones{{/number}}",
        "notifications_url": f"{api}/notifications{{?since,all,participating}}",
        "labels_url": f"{api}/labels{{/name}}",
        "releases_url": f"{api}/releases{{/id}}",
        "deployments_url": f"{api}/deployments",
        "created_at": ts(r.created_at),
        "updated_at": ts(r.pushed_at or r.created_at),
        "pushed_at": ts(r.pushed_at or r.created_at),
        "git_url": f"git://github.com/{r.full_name}.git",
        "ssh_url": f"git@github.com:{r.full_name}.git",
        "clone_url": f"{web}.git",
        "svn_url": web,
        "homepage": None,
        "size": sum(len(b) for b in r.git.blobs.values()) // 1024,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": None,
        "has_issues": True,
        "has_projects": True,
        "has_downloads": True,
        "has_wiki": True,
        "has_pages": False,
        "has_discussions": False,
        "forks_count": 0,
        "mirror_url": None,
        "archived": False,
        "disabled": False,
        "open_issues_count": sum(1 for i in r.issues.values() if i.state == "open"),
        "license": None,
        "allow_forking": True,
        "is_template": False,
        "web_commit_signoff_required": False,
        "topics": [],
        "visibility": "private" if r.private else "public",
        "forks": 0,
        "open_issues": sum(1 for i in r.issues.values() if i.state == "open"),
        "watchers": 0,
        "default_branch": r.default_branch,
        "allow_squash_merge": True,
        "allow_merge_commit": True,
        "allow_rebase_merge": True,
        "allow_auto_merge": False,
        "delete_branch_on_merge": False,
        "allow_update_branch": False,
        "use_squash_pr_title_as_default": False,
        "squash_merge_commit_message": "COMMIT_MESSAGES",
        "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
        "merge_commit_message": "PR_TITLE",
        "merge_commit_title": "MERGE_MESSAGE",
        "network_count": 0,
        "subscribers_count": 0,
    }
    if role is not None:
        out["permissions"] = permission_flags(role)
    if r.owner.type == "Organization":
        out["organization"] = user(r.owner)
    return out


def permission_flags(role: str) -> dict[str, bool]:
    level = ROLE_ORDER.index(role)
    return {
        "admin": level >= ROLE_ORDER.index("admin"),
        "maintain": level >= ROLE_ORDER.index("maintain"),
        "push": level >= ROLE_ORDER.index("write"),
        "triage": level >= ROLE_ORDER.index("triage"),
        "pull": level >= ROLE_ORDER.index("read"),
    }


def collaborator_permission(r: Repo, u: User) -> dict[str, Any]:
    role = r.role_of(u.login)
    return {
        "permission": ROLE_PERMISSIONS[role],
        "role_name": role,
        "user": {**user(u), "permissions": permission_flags(role), "role_name": role},
    }


def status_check_policy(r: Repo, branch: str, p: Protection) -> dict[str, Any]:
    """Classic branch protection's required status checks (``checks[].app_id`` is None: the
    fake does not tie a required check to the app that reports it)."""
    url = f"{API}/repos/{r.full_name}/branches/{quote(branch, safe='')}/protection/required_status_checks"
    return {
        "url": url,
        "strict": p.strict,
        "contexts": list(p.required_checks),
        "checks": [{"context": name, "app_id": None} for name in p.required_checks],
        "contexts_url": f"{url}/contexts",
    }


def branch_rules(r: Repo, p: Protection) -> list[dict[str, Any]]:
    """The active rules of a ruleset protection, as ``GET /repos/{owner}/{repo}/rules/branches/{b}``
    lists them."""
    rules = []
    if p.required_checks or p.strict:
        checks = {
            "strict_required_status_checks_policy": p.strict,
            "required_status_checks": [{"context": name} for name in p.required_checks],
            "do_not_enforce_on_create": False,
        }
        rules.append(ruleset_rule(r, p.ruleset_id, "required_status_checks", checks))
    if p.required_approving_reviews:
        reviews = {
            "required_approving_review_count": p.required_approving_reviews,
            "dismiss_stale_reviews_on_push": False,
            "require_code_owner_review": False,
            "require_last_push_approval": False,
            "required_review_thread_resolution": False,
            "allowed_merge_methods": ["merge", "squash", "rebase"],
        }
        rules.append(ruleset_rule(r, p.ruleset_id, "pull_request", reviews))
    return rules


def ruleset_rule(r: Repo, ruleset_id: int, kind: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": kind,
        "ruleset_source_type": "Repository",
        "ruleset_source": r.full_name,
        "ruleset_id": ruleset_id,
        "parameters": parameters,
    }


# -- push webhooks -------------------------------------------------------------------------
def push_repository(r: Repo) -> dict[str, Any]:
    """The repository as ``push`` webhooks carry it, an older shape than the REST one:
    ``created_at`` and ``pushed_at`` are epoch seconds, ``url`` is the page on github.com, the
    owner has a ``name`` and ``email`` and ``organization`` is the organization's login."""
    out = repository(r)
    owner_email = None if r.owner.type == "Organization" else r.owner.email
    out.update(
        {
            "url": f"{WEB}/{r.full_name}",
            "created_at": int(r.created_at.timestamp()),
            "pushed_at": int((r.pushed_at or r.created_at).timestamp()),
            "owner": {"name": r.owner.login, "email": owner_email, **user(r.owner)},
            "stargazers": 0,
            "master_branch": r.default_branch,
            "custom_properties": {},
        }
    )
    if r.owner.type == "Organization":
        out["organization"] = r.owner.login
    return out


def push_details(
    fake: FakeGitHub,
    r: Repo,
    ref: str,
    before: str | None,
    after: str | None,
    pushed: list[str],
    elsewhere: set[str],
    pusher: User,
) -> dict[str, Any]:
    """The keys of a ``push`` payload other than repository, sender and installation.

    ``pushed``: the commits the push brought, oldest first. ``elsewhere``: the commits another
    branch or tag already had; GitHub marks those not ``distinct``."""
    created, deleted = before is None, after is None
    web = f"{WEB}/{r.full_name}"
    if deleted:
        compare = f"{web}/compare/{before[:12]}...{ZERO_SHA[:12]}"
    elif created:
        compare = f"{web}/compare/{quote(ref.split('/', 2)[2])}" if elsewhere else f"{web}/commit/{after}"
    else:
        compare = f"{web}/compare/{before[:12]}...{after[:12]}"
    same_commit = (other for other, sha in r.refs.items() if other != ref and sha == after)
    return {
        "ref": ref,
        "before": before or ZERO_SHA,
        "after": after or ZERO_SHA,
        "created": created,
        "deleted": deleted,
        "forced": not created and not deleted and not r.git.is_ancestor(before, after),
        "base_ref": next((o for o in same_commit if o.startswith("refs/heads/")), None) if created else None,
        "compare": compare,
        "commits": [push_commit(fake, r, sha, sha not in elsewhere) for sha in pushed[:PUSH_COMMITS_LIMIT]],
        "head_commit": None if deleted else push_commit(fake, r, after, after not in elsewhere),
        "pusher": {"name": pusher.login, "email": pusher.email},
    }


def push_commit(fake: FakeGitHub, r: Repo, sha: str, distinct: bool) -> dict[str, Any]:
    """A commit of a push payload, with the paths it added, removed and modified (against its
    first parent)."""
    c = r.git.commits[sha]
    parent_files = r.git.flatten(r.git.commits[c.parents[0]].tree) if c.parents else {}
    changes = diff_trees(parent_files, r.git.flatten(c.tree))
    return {
        "id": sha,
        "tree_id": c.tree,
        "distinct": distinct,
        "message": c.message,
        "timestamp": ts(c.committer.date),
        "url": f"{WEB}/{r.full_name}/commit/{sha}",
        "author": push_person(fake, c.author),
        "committer": push_person(fake, c.committer),
        "added": [ch.path for ch in changes if ch.status == "added"],
        "removed": [ch.path for ch in changes if ch.status == "removed"],
        "modified": [ch.path for ch in changes if ch.status == "modified"],
    }


def push_person(fake: FakeGitHub, s: Signature) -> dict[str, Any]:
    """A push commit's author or committer; ``username`` when the email is a GitHub account's
    (GitHub's own signature is the ``web-flow`` account's)."""
    out = {"name": s.name, "email": s.email}
    account = "web-flow" if s.email == "noreply@github.com" else getattr(fake.user_by_email(s.email), "login", None)
    if account is not None:
        out["username"] = account
    return out


# -- git data ------------------------------------------------------------------------------
def git_ref(r: Repo, ref: str) -> dict[str, Any]:
    sha = r.refs[ref]
    return {
        "ref": ref,
        "node_id": node_id("REF", int(hashlib.sha1(f"{r.id}:{ref}".encode()).hexdigest()[:7], 16)),
        "url": f"{API}/repos/{r.full_name}/git/{quote(ref)}",
        "object": {"sha": sha, "type": "commit", "url": f"{API}/repos/{r.full_name}/git/commits/{sha}"},
    }


def signature(s: Signature) -> dict[str, Any]:
    return {"name": s.name, "email": s.email, "date": ts(s.date)}


def verification(c: Commit) -> dict[str, Any]:
    if c.verified:
        return {
            "verified": True,
            "reason": "valid",
            "signature": "-----BEGIN PGP SIGNATURE-----\n\nwsBcBAABCAAQBQJfake\n-----END PGP SIGNATURE-----\n",
            "payload": c.git_bytes().decode(),
            "verified_at": ts(c.committer.date),
        }
    return {"verified": False, "reason": "unsigned", "signature": None, "payload": None, "verified_at": None}


def git_commit(r: Repo, sha: str) -> dict[str, Any]:
    c = r.git.commits[sha]
    api = f"{API}/repos/{r.full_name}"
    return {
        "sha": sha,
        "node_id": node_id("C", int(sha[:7], 16)),
        "url": f"{api}/git/commits/{sha}",
        "html_url": f"{WEB}/{r.full_name}/commit/{sha}",
        "author": signature(c.author),
        "committer": signature(c.committer),
        "tree": {"sha": c.tree, "url": f"{api}/git/trees/{c.tree}"},
        "message": c.message,
        "parents": [
            {"sha": p, "url": f"{api}/git/commits/{p}", "html_url": f"{WEB}/{r.full_name}/commit/{p}"}
            for p in c.parents
        ],
        "verification": verification(c),
    }


def git_tree(r: Repo, tree_sha: str, recursive: bool) -> dict[str, Any]:
    api = f"{API}/repos/{r.full_name}/git"
    entries = []
    for path, e in r.git.walk(tree_sha, recursive):
        entry = {"path": path, "mode": e.mode, "type": e.type, "sha": e.sha}
        if e.type == "blob":
            entry["size"] = len(r.git.blobs[e.sha])
            entry["url"] = f"{api}/blobs/{e.sha}"
        elif e.type == "tree":
            entry["url"] = f"{api}/trees/{e.sha}"
        entries.append(entry)
    limit = r.tree_entry_limit if recursive else None
    truncated = limit is not None and len(entries) > limit
    return {"sha": tree_sha, "url": f"{api}/trees/{tree_sha}", "tree": entries[:limit] if truncated else entries,
            "truncated": truncated}


def blob(r: Repo, sha: str) -> dict[str, Any]:
    data = r.git.blobs[sha]
    return {
        "sha": sha,
        "node_id": node_id("B", int(sha[:7], 16)),
        "size": len(data),
        "url": f"{API}/repos/{r.full_name}/git/blobs/{sha}",
        "content": encode_base64(data),
        "encoding": "base64",
    }


def encode_base64(data: bytes) -> str:
    """Base64 wrapped at 60 characters per line, as GitHub sends file contents."""
    text = base64.b64encode(data).decode()
    return "".join(text[i : i + 60] + "\n" for i in range(0, len(text), 60))


def content_item(r: Repo, ref: str, path: str, mode: str, sha: str, with_content: bool) -> dict[str, Any]:
    api = f"{API}/repos/{r.full_name}"
    kind = {"040000": "dir", "120000": "symlink", "160000": "submodule"}.get(mode, "file")
    url = f"{api}/contents/{quote(path)}?ref={quote(ref, safe='')}"
    git_url = f"{api}/git/{'trees' if kind == 'dir' else 'blobs'}/{sha}"
    html_url = f"{WEB}/{r.full_name}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{quote(path)}"
    download = f"https://raw.githubusercontent.com/{r.full_name}/{ref}/{quote(path)}" if kind == "file" else None
    out = {
        "type": kind,
        "size": len(r.git.blobs[sha]) if kind in ("file", "symlink") else 0,
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "url": url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": download,
        "_links": {"self": url, "git": git_url, "html": html_url},
    }
    if with_content and kind == "file":
        out["content"] = encode_base64(r.git.blobs[sha])
        out["encoding"] = "base64"
    return out


def commit(fake: FakeGitHub, r: Repo, sha: str, changes: list[FileChange] | None = None) -> dict[str, Any]:
    """The REST 'commit' object (as in compare and list-commits)."""
    c = r.git.commits[sha]
    api = f"{API}/repos/{r.full_name}"
    gc = git_commit(r, sha)
    out = {
        "sha": sha,
        "node_id": gc["node_id"],
        "commit": {
            "author": gc["author"],
            "committer": gc["committer"],
            "message": c.message,
            "tree": gc["tree"],
            "url": gc["url"],
            "comment_count": 0,
            "verification": gc["verification"],
        },
        "url": f"{api}/commits/{sha}",
        "html_url": f"{WEB}/{r.full_name}/commit/{sha}",
        "comments_url": f"{api}/commits/{sha}/comments",
        "author": user(fake.user_by_email(c.author.email)),
        "committer": user(fake.user_by_email(c.committer.email)),
        "parents": [
            {"sha": p, "url": f"{api}/commits/{p}", "html_url": f"{WEB}/{r.full_name}/commit/{p}"} for p in c.parents
        ],
    }
    if changes is not None:
        out["files"] = [diff_entry(r, ch, sha) for ch in changes]
        out["stats"] = {
            "additions": sum(f["additions"] for f in out["files"]),
            "deletions": sum(f["deletions"] for f in out["files"]),
            "total": sum(f["changes"] for f in out["files"]),
        }
    return out


def diff_entry(r: Repo, change: FileChange, head_sha: str) -> dict[str, Any]:
    before = r.git.blobs[change.old.sha] if change.old else b""
    after = r.git.blobs[change.new.sha] if change.new else b""
    patch, additions, deletions = unified_patch(before, after)
    sha = (change.new or change.old).sha
    path = quote(change.path)
    out = {
        "sha": sha,
        "filename": change.path,
        "status": change.status,
        "additions": additions,
        "deletions": deletions,
        "changes": additions + deletions,
        "blob_url": f"{WEB}/{r.full_name}/blob/{head_sha}/{path}",
        "raw_url": f"{WEB}/{r.full_name}/raw/{head_sha}/{path}",
        "contents_url": f"{API}/repos/{r.full_name}/contents/{path}?ref={head_sha}",
    }
    if patch is not None:
        out["patch"] = patch
    return out


# -- issues --------------------------------------------------------------------------------
def label(r: Repo, lb: Label) -> dict[str, Any]:
    return {
        "id": lb.id,
        "node_id": node_id("LA", lb.id),
        "url": f"{API}/repos/{r.full_name}/labels/{quote(lb.name)}",
        "name": lb.name,
        "color": lb.color,
        "default": lb.default,
        "description": lb.description,
        "archived_at": None,
        "archived_by": None,
    }


def reaction_rollup(r: Repo, url: str, reactions: list[Reaction]) -> dict[str, Any]:
    rollup: dict[str, Any] = {"url": f"{url}/reactions", "total_count": len(reactions)}
    rollup.update({content: sum(1 for x in reactions if x.content == content) for content in REACTION_CONTENTS})
    return rollup


def reaction(x: Reaction) -> dict[str, Any]:
    return {
        "id": x.id,
        "node_id": node_id("REA", x.id),
        "user": user(x.user),
        "content": x.content,
        "created_at": ts(x.created_at),
    }


def author_association(r: Repo, u: User) -> str:
    if u.login == r.owner.login:
        return "OWNER"
    if u.type == "Bot":
        return "NONE"
    if r.role_of(u.login) in ("write", "maintain", "admin", "triage"):
        return "COLLABORATOR"
    return "CONTRIBUTOR" if not r.private else "NONE"


def issue(r: Repo, i: Issue, pr: PullRequest | None = None) -> dict[str, Any]:
    api = f"{API}/repos/{r.full_name}/issues/{i.number}"
    out = {
        "id": i.id,
        "node_id": node_id("I", i.id),
        "url": api,
        "repository_url": f"{API}/repos/{r.full_name}",
        "labels_url": f"{api}/labels{{/name}}",
        "comments_url": f"{api}/comments",
        "events_url": f"{api}/events",
        "html_url": f"{WEB}/{r.full_name}/{'pull' if pr else 'issues'}/{i.number}",
        "number": i.number,
        "state": i.state,
        "state_reason": i.state_reason,
        "title": i.title,
        "body": i.body,
        "user": user(i.user),
        "labels": [label(r, r.labels[name.lower()]) for name in i.labels],
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "locked": i.locked,
        "active_lock_reason": None,
        "comments": len(r.comments.get(i.number, [])),
        "closed_at": ts(i.closed_at),
        "created_at": ts(i.created_at),
        "updated_at": ts(i.updated_at),
        "closed_by": user(i.closed_by),
        "author_association": author_association(r, i.user),
        "type": None,
        "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
        "issue_dependencies_summary": {"blocked_by": 0, "blocking": 0, "total_blocked_by": 0, "total_blocking": 0},
        "timeline_url": f"{api}/timeline",
        "pinned_comment": None,
        "performed_via_github_app": app(i.via_app) if i.via_app else None,
        "reactions": reaction_rollup(r, api, r.reactions_to("issue", i.number)),
    }
    if pr is not None:
        pulls = f"{API}/repos/{r.full_name}/pulls/{i.number}"
        out["draft"] = pr.draft
        out["pull_request"] = {
            "url": pulls,
            "html_url": out["html_url"],
            "diff_url": f"{out['html_url']}.diff",
            "patch_url": f"{out['html_url']}.patch",
            "merged_at": ts(pr.merged_at),
        }
    return out


def issue_comment(r: Repo, c: IssueComment) -> dict[str, Any]:
    api = f"{API}/repos/{r.full_name}/issues/comments/{c.id}"
    kind = "pull" if c.issue_number in r.pulls else "issues"
    return {
        "id": c.id,
        "node_id": node_id("IC", c.id),
        "url": api,
        "html_url": f"{WEB}/{r.full_name}/{kind}/{c.issue_number}#issuecomment-{c.id}",
        "body": c.body,
        "user": user(c.user),
        "created_at": ts(c.created_at),
        "updated_at": ts(c.updated_at),
        "issue_url": f"{API}/repos/{r.full_name}/issues/{c.issue_number}",
        "author_association": author_association(r, c.user),
        "performed_via_github_app": app(c.via_app) if c.via_app else None,
        "reactions": reaction_rollup(r, api, r.reactions_to("issue_comment", c.id)),
        "pin": None,
        "minimized": None,
    }


# -- pull requests -------------------------------------------------------------------------
def branch_end(r: Repo, ref: str, sha: str) -> dict[str, Any]:
    return {
        "label": f"{r.owner.login}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": user(r.owner),
        "repo": repository(r),
    }


def pull_request(fake: FakeGitHub, r: Repo, pr: PullRequest, full: bool = True) -> dict[str, Any]:
    i = pr.issue
    api = f"{API}/repos/{r.full_name}/pulls/{pr.number}"
    issue_api = f"{API}/repos/{r.full_name}/issues/{pr.number}"
    html = f"{WEB}/{r.full_name}/pull/{pr.number}"
    base_sha = pr.base_sha_when_closed or r.branches.get(pr.base_ref, pr.head_sha)
    out: dict[str, Any] = {
        "url": api,
        "id": pr.id,
        "node_id": node_id("PR", pr.id),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue_api,
        "commits_url": f"{api}/commits",
        "review_comments_url": f"{api}/comments",
        "review_comment_url": f"{API}/repos/{r.full_name}/pulls/comments{{/number}}",
        "comments_url": f"{issue_api}/comments",
        "statuses_url": f"{API}/repos/{r.full_name}/statuses/{pr.head_sha}",
        "number": pr.number,
        "state": i.state,
        "locked": i.locked,
        "title": i.title,
        "user": user(i.user),
        "body": i.body,
        "labels": [label(r, r.labels[name.lower()]) for name in i.labels],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": ts(i.created_at),
        "updated_at": ts(i.updated_at),
        "closed_at": ts(i.closed_at),
        "merged_at": ts(pr.merged_at),
        "merge_commit_sha": pr.merge_commit_sha,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [user(u) for u in pr.requested_reviewers],
        "requested_teams": [],
        "head": branch_end(r, pr.head_ref, pr.head_sha),
        "base": branch_end(r, pr.base_ref, base_sha),
        "_links": {
            "self": {"href": api},
            "html": {"href": html},
            "issue": {"href": issue_api},
            "comments": {"href": f"{issue_api}/comments"},
            "review_comments": {"href": f"{api}/comments"},
            "review_comment": {"href": f"{API}/repos/{r.full_name}/pulls/comments{{/number}}"},
            "commits": {"href": f"{api}/commits"},
            "statuses": {"href": f"{API}/repos/{r.full_name}/statuses/{pr.head_sha}"},
        },
        "author_association": author_association(r, i.user),
        "auto_merge": None,
        "draft": pr.draft,
    }
    if full:
        out.update(pull_request_details(fake, r, pr, base_sha))
    return out


def pull_request_details(fake: FakeGitHub, r: Repo, pr: PullRequest, base_sha: str) -> dict[str, Any]:
    """The fields only the single-PR endpoints (and webhooks) carry."""
    merge_base = r.git.merge_base(base_sha, pr.head_sha) or base_sha
    commits = r.git.commits_between(base_sha, pr.head_sha)
    changes = fake.diff(r, merge_base, pr.head_sha)
    stats = [
        unified_patch(r.git.blobs[c.old.sha] if c.old else b"", r.git.blobs[c.new.sha] if c.new else b"")
        for c in changes
    ]
    mergeable = None if pr.merged else fake.mergeable(r, pr)
    return {
        "merged": pr.merged,
        "mergeable": mergeable,
        "rebaseable": mergeable,
        "mergeable_state": mergeable_state(fake, r, pr, mergeable),
        "merged_by": user(pr.merged_by),
        "comments": len(r.comments.get(pr.number, [])),
        "review_comments": len(r.review_comments.get(pr.number, [])),
        "maintainer_can_modify": pr.maintainer_can_modify,
        "commits": len(commits),
        "additions": sum(s[1] for s in stats),
        "deletions": sum(s[2] for s in stats),
        "changed_files": len(changes),
    }


def mergeable_state(fake: FakeGitHub, r: Repo, pr: PullRequest, mergeable: bool | None) -> str:
    if mergeable is None:
        return "unknown"
    if not mergeable:
        return "dirty"
    return "behind" if fake.behind_strict_base(r, pr) else "clean"


def review(r: Repo, rv: Review) -> dict[str, Any]:
    pulls = f"{API}/repos/{r.full_name}/pulls/{rv.pull_number}"
    html = f"{WEB}/{r.full_name}/pull/{rv.pull_number}#pullrequestreview-{rv.id}"
    return {
        "id": rv.id,
        "node_id": node_id("PRR", rv.id),
        "user": user(rv.user),
        "body": rv.body,
        "state": rv.state,
        "html_url": html,
        "pull_request_url": pulls,
        "author_association": author_association(r, rv.user),
        "_links": {"html": {"href": html}, "pull_request": {"href": pulls}},
        "submitted_at": ts(rv.submitted_at),
        "commit_id": rv.commit_id,
    }


def review_comment(r: Repo, c: ReviewComment) -> dict[str, Any]:
    api = f"{API}/repos/{r.full_name}/pulls/comments/{c.id}"
    pulls = f"{API}/repos/{r.full_name}/pulls/{c.pull_number}"
    html = f"{WEB}/{r.full_name}/pull/{c.pull_number}#discussion_r{c.id}"
    out = {
        "url": api,
        "pull_request_review_id": c.review_id,
        "id": c.id,
        "node_id": node_id("PRRC", c.id),
        "diff_hunk": c.diff_hunk,
        "path": c.path,
        "commit_id": c.commit_id,
        "original_commit_id": c.commit_id,
        "user": user(c.user),
        "body": c.body,
        "created_at": ts(c.created_at),
        "updated_at": ts(c.updated_at),
        "html_url": html,
        "pull_request_url": pulls,
        "author_association": author_association(r, c.user),
        "_links": {"self": {"href": api}, "html": {"href": html}, "pull_request": {"href": pulls}},
        "reactions": reaction_rollup(r, api, r.reactions_to("pull_request_review_comment", c.id)),
        "start_line": None,
        "original_start_line": None,
        "start_side": None,
        "line": c.line,
        "original_line": c.line,
        "side": c.side,
        "original_position": c.line,
        "position": c.line,
        "subject_type": "line" if c.line else "file",
    }
    if c.in_reply_to_id is not None:
        out["in_reply_to_id"] = c.in_reply_to_id
    return out


# -- checks and actions --------------------------------------------------------------------
def pr_refs(r: Repo, sha: str) -> list[dict[str, Any]]:
    """The minimal pull-request objects check runs, suites and workflow runs carry."""
    out = []
    for pr in r.pulls.values():
        if pr.head_sha == sha and pr.state == "open":
            base_sha = r.branches.get(pr.base_ref, "")
            small_repo = {"id": r.id, "url": f"{API}/repos/{r.full_name}", "name": r.name}
            out.append(
                {
                    "id": pr.id,
                    "number": pr.number,
                    "url": f"{API}/repos/{r.full_name}/pulls/{pr.number}",
                    "head": {"ref": pr.head_ref, "sha": pr.head_sha, "repo": small_repo},
                    "base": {"ref": pr.base_ref, "sha": base_sha, "repo": small_repo},
                }
            )
    return out


def suite_status(runs: list[CheckRun]) -> tuple[str, str | None]:
    if not runs:
        return "queued", None
    if any(run.status != "completed" for run in runs):
        return ("in_progress" if any(run.status == "in_progress" for run in runs) else "queued"), None
    conclusions = {run.conclusion for run in runs}
    for worst in ("action_required", "cancelled", "timed_out", "failure", "stale"):
        if worst in conclusions:
            return "completed", "failure" if worst == "stale" else worst
    if conclusions <= {"skipped"}:
        return "completed", "skipped"
    return "completed", "success" if "success" in conclusions else "neutral"


def check_suite(r: Repo, s: CheckSuite, with_repository: bool = True) -> dict[str, Any]:
    runs = [run for run in r.check_runs.values() if run.suite_id == s.id]
    status, conclusion = suite_status(runs)
    head = r.git.commits.get(s.head_sha)
    out = {
        "id": s.id,
        "node_id": node_id("CS", s.id),
        "head_branch": s.head_branch,
        "head_sha": s.head_sha,
        "status": status,
        "conclusion": conclusion,
        "url": f"{API}/repos/{r.full_name}/check-suites/{s.id}",
        "before": s.before or "0" * 40,
        "after": s.head_sha,
        "pull_requests": pr_refs(r, s.head_sha),
        "app": app(s.app),
        "created_at": ts(s.created_at),
        "updated_at": ts(max([s.updated_at] + [run.completed_at or run.started_at for run in runs])),
        "rerequestable": True,
        "runs_rerequestable": True,
        "latest_check_runs_count": len(runs),
        "check_runs_url": f"{API}/repos/{r.full_name}/check-suites/{s.id}/check-runs",
        "head_commit": simple_commit(s.head_sha, head) if head else None,
    }
    if with_repository:
        out["repository"] = repository(r)
    return out


def simple_commit(sha: str, c: Commit) -> dict[str, Any]:
    return {
        "id": sha,
        "tree_id": c.tree,
        "message": c.message,
        "timestamp": ts(c.committer.date),
        "author": {"name": c.author.name, "email": c.author.email},
        "committer": {"name": c.committer.name, "email": c.committer.email},
    }


def check_run(r: Repo, run: CheckRun) -> dict[str, Any]:
    api = f"{API}/repos/{r.full_name}/check-runs/{run.id}"
    suite = r.check_suites[run.suite_id]
    return {
        "id": run.id,
        "name": run.name,
        "node_id": node_id("CR", run.id),
        "head_sha": run.head_sha,
        "external_id": run.external_id or "",
        "url": api,
        "html_url": f"{WEB}/{r.full_name}/runs/{run.id}",
        "details_url": run.details_url or f"{WEB}/{r.full_name}/runs/{run.id}",
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": ts(run.started_at),
        "completed_at": ts(run.completed_at),
        "output": {
            "title": run.output.get("title"),
            "summary": run.output.get("summary"),
            "text": run.output.get("text"),
            "annotations_count": len(run.annotations),
            "annotations_url": f"{api}/annotations",
        },
        "check_suite": {"id": suite.id},
        "app": app(run.app),
        "pull_requests": pr_refs(r, run.head_sha),
    }


def annotation(r: Repo, run: CheckRun, a: dict[str, Any]) -> dict[str, Any]:
    return {
        "path": a["path"],
        "start_line": a["start_line"],
        "end_line": a["end_line"],
        "start_column": a.get("start_column"),
        "end_column": a.get("end_column"),
        "annotation_level": a.get("annotation_level"),
        "title": a.get("title"),
        "message": a.get("message"),
        "raw_details": a.get("raw_details"),
        "blob_href": f"{WEB}/{r.full_name}/blob/{run.head_sha}/{quote(a['path'])}",
    }


def workflow_run(r: Repo, w: WorkflowRun) -> dict[str, Any]:
    api = f"{API}/repos/{r.full_name}/actions/runs/{w.id}"
    suite = r.check_suites[w.suite_id]
    runs = [run for run in r.check_runs.values() if run.suite_id == suite.id]
    status, conclusion = suite_status(runs)
    head = r.git.commits[w.head_sha]
    return {
        "id": w.id,
        "name": w.name,
        "node_id": node_id("WFR", w.id),
        "head_branch": w.head_branch,
        "head_sha": w.head_sha,
        "path": w.path,
        "display_title": head.message.splitlines()[0] if head.message else w.name,
        "run_number": w.run_number,
        "event": w.event,
        "status": status,
        "conclusion": conclusion,
        "workflow_id": w.workflow_id,
        "check_suite_id": suite.id,
        "check_suite_node_id": node_id("CS", suite.id),
        "url": api,
        "html_url": f"{WEB}/{r.full_name}/actions/runs/{w.id}",
        "pull_requests": pr_refs(r, w.head_sha),
        "created_at": ts(w.created_at),
        "updated_at": ts(max([w.updated_at] + [run.completed_at or run.started_at for run in runs])),
        "actor": user(w.actor),
        "triggering_actor": user(w.actor),
        "run_attempt": 1,
        "referenced_workflows": [],
        "run_started_at": ts(w.created_at),
        "jobs_url": f"{api}/jobs",
        "logs_url": f"{api}/logs",
        "check_suite_url": f"{API}/repos/{r.full_name}/check-suites/{suite.id}",
        "artifacts_url": f"{api}/artifacts",
        "cancel_url": f"{api}/cancel",
        "rerun_url": f"{api}/rerun",
        "previous_attempt_url": None,
        "workflow_url": f"{API}/repos/{r.full_name}/actions/workflows/{w.workflow_id}",
        "head_commit": simple_commit(w.head_sha, head),
        "repository": repository(r),
        "head_repository": repository(r),
        "head_repository_id": r.id,
    }


def job(r: Repo, j: Job) -> dict[str, Any]:
    run = r.check_runs[j.id]
    w = r.workflow_runs[j.run_id]
    api = f"{API}/repos/{r.full_name}"
    steps = [dict(step) for step in j.steps] if j.steps is not None else [
        {
            "name": "Run tests",
            "status": run.status,
            "conclusion": run.conclusion,
            "number": 1,
            "started_at": ts(run.started_at),
            "completed_at": ts(run.completed_at),
        }
    ]
    return {
        "id": j.id,
        "run_id": j.run_id,
        "workflow_name": w.name,
        "head_branch": w.head_branch,
        "run_url": f"{api}/actions/runs/{j.run_id}",
        "run_attempt": 1,
        "node_id": node_id("CR", j.id),
        "head_sha": run.head_sha,
        "url": f"{api}/actions/jobs/{j.id}",
        "html_url": f"{WEB}/{r.full_name}/actions/runs/{j.run_id}/job/{j.id}",
        "status": run.status,
        "conclusion": run.conclusion,
        "created_at": ts(w.created_at),
        "started_at": ts(run.started_at),
        "completed_at": ts(run.completed_at),
        "name": j.name,
        "steps": steps,
        "check_run_url": f"{api}/check-runs/{j.id}",
        "labels": ["ubuntu-latest"],
        "runner_id": 1,
        "runner_name": "GitHub Actions 1",
        "runner_group_id": 0,
        "runner_group_name": "GitHub Actions",
    }
