"""REST handlers of the fake GitHub, one per operationId of GitHub's REST description.

Each handler takes the request context (already routed, validated and authenticated) and
returns a ``Reply`` or raises ``ApiError``; status codes and messages are GitHub's.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from . import shapes
from .github import (
    CODELOAD_HOST,
    LOGS_HOST,
    WEBHOOK_SECRET,
    ApiError,
    Ctx,
    Delivery,
    FakeGitHub,
    Reply,
    not_found,
    validation_failed,
)
from .gitstore import TREE_MODE, Commit, FileEntry, Signature, three_way_merge
from .state import PullRequest, Repo, parse_time

HANDLERS: dict[str, Callable[[Ctx], Reply]] = {}
CLOSING_KEYWORDS = re.compile(r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s+#(\d+)", re.I)
PASSING = ("success", "neutral", "skipped")
HEAD_SHA_MISMATCH = "expected head sha didn\u2019t match current head ref."  # GitHub's typographic apostrophe


def operation(operation_id: str):
    def register(fn: Callable[[Ctx], Reply]) -> Callable[[Ctx], Reply]:
        HANDLERS[operation_id] = fn
        return fn

    return register


# -- helpers ---------------------------------------------------------------------------------
def paginate(
    ctx: Ctx,
    items: list[Any],
    *,
    key: str | None = None,
    default: int = 30,
    maximum: int = 100,
    extra: dict[str, Any] | None = None,
) -> Reply:
    """A page of ``items`` (as a list, or as ``{"total_count", key: [...]}``) with a Link header."""
    per_page = min(max(query_int(ctx, "per_page", default), 1), maximum)
    page = max(query_int(ctx, "page", 1), 1)
    chunk = items[(page - 1) * per_page : page * per_page]
    last = max((len(items) + per_page - 1) // per_page, 1)
    links = []
    if page < last:
        links += [(page + 1, "next"), (last, "last")]
    if page > 1:
        links += [(1, "first"), (page - 1, "prev")]
    headers = {"link": ", ".join(f'<{page_url(ctx.url, p)}>; rel="{rel}"' for p, rel in links)} if links else {}
    body = chunk if key is None else {"total_count": len(items), key: chunk, **(extra or {})}
    return Reply(200, body, headers)


def query_int(ctx: Ctx, name: str, default: int) -> int:
    """GitHub ignores a paging parameter it cannot read."""
    value = ctx.query.get(name, "")
    return int(value) if value.isdigit() else default


def page_url(url: str, page: int) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query["page"] = str(page)
    return urlunsplit(parts._replace(query=urlencode(query)))


def require_push(ctx: Ctx) -> None:
    """Writes need write access: the app's token, or a person's token with write access."""
    if ctx.via_app is not None:
        return
    if ctx.repo.role_of(ctx.actor.login) not in ("write", "maintain", "admin"):
        raise ApiError(403, "Must have admin rights to Repository.")


def get_issue(ctx: Ctx, number: int | None = None):
    issue = ctx.repo.issues.get(number if number is not None else ctx.int_param("issue_number"))
    if issue is None:
        raise not_found()
    return issue


def get_pull(ctx: Ctx) -> PullRequest:
    pr = ctx.repo.pulls.get(ctx.int_param("pull_number"))
    if pr is None:
        raise not_found()
    return pr


def resolve_or_404(ctx: Ctx, ref: str) -> str:
    sha = ctx.fake.resolve(ctx.repo, ref)
    if sha is None:
        raise not_found()
    return sha


# == App =========================================================================================
@operation("apps/get-authenticated")
def get_app(ctx: Ctx) -> Reply:
    return Reply(200, shapes.app(ctx.fake.gh_app) | {"installations_count": len(ctx.fake.installations)})


@operation("apps/create-installation-access-token")
def create_installation_token(ctx: Ctx) -> Reply:
    fake = ctx.fake
    inst = fake.installations.get(ctx.int_param("installation_id"))
    if inst is None:
        raise not_found()
    body = ctx.body or {}
    wanted: set[str] | None = None
    if body.get("repositories") or body.get("repository_ids"):
        by_name = {f"{inst.account.login}/{n}".lower() for n in body.get("repositories", [])}
        by_id = {r.full_name.lower() for r in fake.repos.values() if r.id in body.get("repository_ids", [])}
        wanted = by_name | by_id
        if not wanted <= inst.repositories or len(by_id) != len(body.get("repository_ids", [])):
            raise ApiError(
                422,
                "There is at least one repository that does not exist or is not accessible to the parent installation.",
            )
    token = fake.mint_token(inst, wanted)
    permissions = body.get("permissions") or dict(fake.gh_app.permissions)
    out: dict[str, Any] = {
        "token": token.token,
        "expires_at": token.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "permissions": permissions,
        "repository_selection": "selected",
    }
    if wanted is not None:
        out["repositories"] = [shapes.repository(fake.repo(name)) for name in sorted(wanted)]
    return Reply(201, out)


@operation("apps/get-repo-installation")
def get_repo_installation(ctx: Ctx) -> Reply:
    if ctx.repo.installation_id is None:
        raise not_found()
    return Reply(200, shapes.installation(ctx.fake.installations[ctx.repo.installation_id]))


def delivery_item(d) -> dict[str, Any]:
    return {
        "id": d.id,
        "guid": d.guid,
        "delivered_at": shapes.ts(d.delivered_at),
        "redelivery": d.redelivery,
        "duration": d.duration,
        "status": d.status,
        "status_code": d.status_code,
        "event": d.event,
        "action": d.action,
        "installation_id": d.installation_id,
        "repository_id": d.repository_id,
        "throttled_at": None,
    }


@operation("apps/list-webhook-deliveries")
def list_deliveries(ctx: Ctx) -> Reply:
    items = sorted(ctx.fake.deliveries, key=lambda d: -d.id)
    status = ctx.query.get("status")
    if status == "success":
        items = [d for d in items if 200 <= d.status_code < 300]
    elif status == "failure":
        items = [d for d in items if not 200 <= d.status_code < 300]
    elif status:
        raise ApiError(
            422, f'Invalid request.\n\nFor \'status\', "{status}" is not a member of ["success", "failure"].'
        )
    per_page = min(max(query_int(ctx, "per_page", 30), 1), 100)
    cursor = ctx.query.get("cursor")
    if cursor:
        match = re.fullmatch(r"v1_(\d+)", cursor)
        if not match:
            raise ApiError(400, "Invalid cursor")
        items = [d for d in items if d.id <= int(match.group(1))]
    page, rest = items[:per_page], items[per_page:]
    headers = {}
    if rest:
        parts = urlsplit(ctx.url)
        query = dict(parse_qsl(parts.query)) | {"per_page": str(per_page), "cursor": f"v1_{rest[0].id}"}
        headers["link"] = f'<{urlunsplit(parts._replace(query=urlencode(query)))}>; rel="next"'
    return Reply(200, [delivery_item(d) for d in page], headers)


def find_delivery(ctx: Ctx):
    delivery = next((d for d in ctx.fake.deliveries if d.id == ctx.int_param("delivery_id")), None)
    if delivery is None:
        raise not_found()
    return delivery


@operation("apps/get-webhook-delivery")
def get_delivery(ctx: Ctx) -> Reply:
    d = find_delivery(ctx)
    headers, body = ctx.fake.signed_delivery(d.event, d.payload)
    return Reply(
        200,
        delivery_item(d)
        | {
            "url": "",
            "request": {"headers": headers, "payload": d.payload},
            "response": {"headers": {"Content-Type": "application/json"}, "payload": ""},
        },
    )


@operation("apps/redeliver-webhook-delivery")
def redeliver(ctx: Ctx) -> Reply:
    d = find_delivery(ctx)
    fake = ctx.fake
    again = Delivery(
        fake.ids.next("delivery"),
        d.guid,
        d.event,
        d.action,
        d.payload,
        d.installation_id,
        d.repository_id,
        fake.clock.tick(),
        redelivery=True,
    )
    fake.pending_webhooks.append(again)
    fake.events.append((d.event, d.payload))
    return Reply(202, {})


@operation("apps/create-from-manifest")
def create_from_manifest(ctx: Ctx) -> Reply:
    fake = ctx.fake
    manifest = fake.manifest_codes.pop(ctx.params["code"], None)
    if manifest is None:
        raise not_found()
    app = shapes.app(fake.gh_app)
    app.update({k: manifest[k] for k in ("name", "description") if k in manifest})
    if "url" in manifest:
        app["external_url"] = manifest["url"]
    if "default_permissions" in manifest:
        app["permissions"] = dict(manifest["default_permissions"])
    if "default_events" in manifest:
        app["events"] = list(manifest["default_events"])
    return Reply(
        201,
        app
        | {
            "client_id": fake.gh_app.client_id,
            "client_secret": "fake" + uuid.uuid4().hex,
            "webhook_secret": WEBHOOK_SECRET,
            "pem": fake.private_key_pem,
        },
    )


# == Repositories ================================================================================
@operation("repos/get")
def get_repo(ctx: Ctx) -> Reply:
    role = "write" if ctx.via_app is not None else ctx.repo.role_of(ctx.actor.login)
    return Reply(200, shapes.repository(ctx.repo, role=role))


@operation("repos/get-collaborator-permission-level")
def get_permission(ctx: Ctx) -> Reply:
    user = ctx.fake.users.get(ctx.params["username"].lower())
    if user is None:
        raise not_found()
    return Reply(200, shapes.collaborator_permission(ctx.repo, user))


def require_administration_read(ctx: Ctx) -> None:
    """Classic branch protection is repository administration: an app needs the ``administration``
    permission (which the component bot does not ask for), a person admin rights."""
    if ctx.via_app is not None:
        if ctx.via_app.permissions.get("administration") not in ("read", "write"):
            raise ApiError(403, "Resource not accessible by integration")
    elif ctx.repo.role_of(ctx.actor.login) != "admin":
        raise ApiError(403, "Must have admin rights to Repository.")


@operation("repos/get-status-checks-protection")
def get_status_checks_protection(ctx: Ctx) -> Reply:
    require_administration_read(ctx)
    branch = ctx.params["branch"]
    protection = ctx.repo.protections.get(branch)
    if protection is None or protection.rulesets:
        raise ApiError(404, "Branch not protected")
    if not protection.required_checks and not protection.strict:
        raise ApiError(404, "Required status checks not enabled")
    return Reply(200, shapes.status_check_policy(ctx.repo, branch, protection))


@operation("repos/get-branch-rules")
def get_branch_rules(ctx: Ctx) -> Reply:
    """Rulesets are readable with the metadata permission every app has."""
    protection = ctx.repo.protections.get(ctx.params["branch"])
    rules = shapes.branch_rules(ctx.repo, protection) if protection is not None and protection.rulesets else []
    return paginate(ctx, rules)


# == Git data ====================================================================================
@operation("git/get-ref")
def get_ref(ctx: Ctx) -> Reply:
    ref = "refs/" + ctx.params["ref"]
    if ref not in ctx.repo.refs:
        raise not_found()
    return Reply(200, shapes.git_ref(ctx.repo, ref))


def valid_ref_name(ref: str) -> bool:
    """A fully qualified ref name git accepts (``refs/<kind>/<name>``)."""
    well_formed = re.fullmatch(r"refs/[^/\s]+/[^\s~^:?*\[\\]+", ref) is not None
    return well_formed and not ref.endswith((".lock", "/")) and ".." not in ref


@operation("git/create-ref")
def create_ref(ctx: Ctx) -> Reply:
    require_push(ctx)
    ref, sha = ctx.body["ref"], ctx.body["sha"]
    if not valid_ref_name(ref):
        raise ApiError(422, f"{ref} is not a valid ref name.")
    if ref in ctx.repo.refs:
        raise ApiError(422, "Reference already exists")
    if sha not in ctx.repo.git.commits:
        raise ApiError(422, "Object does not exist")
    ctx.fake.set_ref(ctx.repo, ref, sha, ctx.actor)
    return Reply(201, shapes.git_ref(ctx.repo, ref), {"location": f"{shapes.API}/repos/{ctx.repo.full_name}/git/{ref}"})


@operation("git/update-ref")
def update_ref(ctx: Ctx) -> Reply:
    require_push(ctx)
    ref, sha = "refs/" + ctx.params["ref"], ctx.body["sha"]
    repo = ctx.repo
    if ref not in repo.refs:
        raise ApiError(422, "Reference does not exist")
    if sha not in repo.git.commits:
        raise ApiError(422, "Object does not exist")
    if not ctx.body.get("force", False) and not repo.git.is_ancestor(repo.refs[ref], sha):
        raise ApiError(422, "Update is not a fast forward")
    ctx.fake.set_ref(repo, ref, sha, ctx.actor)
    return Reply(200, shapes.git_ref(repo, ref))


@operation("git/delete-ref")
def delete_ref(ctx: Ctx) -> Reply:
    require_push(ctx)
    ref = "refs/" + ctx.params["ref"]
    if ref not in ctx.repo.refs:
        raise ApiError(422, "Reference does not exist")
    ctx.fake.set_ref(ctx.repo, ref, None, ctx.actor)
    return Reply(204)


@operation("git/get-commit")
def get_git_commit(ctx: Ctx) -> Reply:
    sha = ctx.params["commit_sha"]
    if sha not in ctx.repo.git.commits:
        raise not_found()
    return Reply(200, shapes.git_commit(ctx.repo, sha))


def parse_signature(raw: dict[str, Any] | None, fallback_date) -> Signature | None:
    if not raw:
        return None
    date = raw.get("date")
    when = parse_time(date) if date else fallback_date
    return Signature(raw.get("name", ""), raw.get("email", ""), when)


@operation("git/create-commit")
def create_git_commit(ctx: Ctx) -> Reply:
    require_push(ctx)
    repo, body, fake = ctx.repo, ctx.body, ctx.fake
    if body["tree"] not in repo.git.trees:
        raise ApiError(422, "Tree SHA does not exist")
    parents = tuple(body.get("parents", []))
    for parent in parents:
        if parent not in repo.git.commits:
            raise ApiError(422, "Parent SHA does not exist or is not a commit object")
    now = fake.clock.tick()
    author = parse_signature(body.get("author"), now)
    committer = parse_signature(body.get("committer"), now)
    verified = author is None and committer is None and "signature" not in body
    if author is None:
        author = Signature(ctx.actor.login, ctx.actor.email, now)
    if committer is None:
        committer = Signature("GitHub", "noreply@github.com", now) if verified else author
    sha = repo.git.put_commit(Commit(body["tree"], parents, author, committer, body["message"], verified))
    return Reply(
        201, shapes.git_commit(repo, sha), {"location": f"{shapes.API}/repos/{repo.full_name}/git/commits/{sha}"}
    )


@operation("git/get-tree")
def get_tree(ctx: Ctx) -> Reply:
    repo, sha = ctx.repo, ctx.params["tree_sha"]
    if sha not in repo.git.trees:
        commit_sha = sha if sha in repo.git.commits else ctx.fake.resolve(repo, sha)
        if commit_sha is None:
            raise not_found()
        sha = repo.git.commits[commit_sha].tree
    return Reply(200, shapes.git_tree(repo, sha, recursive="recursive" in ctx.query))


@operation("git/create-tree")
def create_tree(ctx: Ctx) -> Reply:
    require_push(ctx)
    repo, body = ctx.repo, ctx.body
    files: dict[str, FileEntry] = {}
    if body.get("base_tree"):
        if body["base_tree"] not in repo.git.trees:
            raise ApiError(422, "base_tree is not a valid tree oid")
        files = repo.git.flatten(body["base_tree"])
    for entry in body["tree"]:
        apply_tree_entry(repo, files, entry)
    try:
        sha = repo.git.tree_from_files(files)
    except ValueError:
        raise ApiError(422, "GitRPC::BadObjectState") from None
    return Reply(
        201,
        shapes.git_tree(repo, sha, recursive=False),
        {"location": f"{shapes.API}/repos/{repo.full_name}/git/trees/{sha}"},
    )


def apply_tree_entry(repo: Repo, files: dict[str, FileEntry], entry: dict[str, Any]) -> None:
    path = entry.get("path")
    if (
        not path
        or path.startswith("/")
        or path.endswith("/")
        or "//" in path
        or any(p in (".", "..", ".git") for p in path.split("/"))
    ):
        raise ApiError(422, "tree.path contains a malformed path component")
    mode = entry.get("mode", "100644")
    kind = entry.get("type", "tree" if mode == TREE_MODE else "blob")
    if "content" in entry and "sha" in entry:
        raise ApiError(422, "Must supply either tree.sha or tree.content, not both")
    if "content" in entry:
        if kind != "blob" or mode == TREE_MODE:
            raise ApiError(422, "tree.content can only be used for blobs")
        drop_path(files, path)
        files[path] = FileEntry(path, mode, repo.git.put_blob(entry["content"].encode()))
    elif "sha" in entry and entry["sha"] is None:
        drop_path(files, path)
    elif "sha" in entry:
        sha = entry["sha"]
        if kind == "tree":
            if sha not in repo.git.trees:
                raise ApiError(422, f"tree.sha {sha} is not a valid tree")
            drop_path(files, path)
            for sub, e in repo.git.flatten(sha).items():
                files[f"{path}/{sub}"] = FileEntry(f"{path}/{sub}", e.mode, e.sha)
        else:
            if kind == "blob" and sha not in repo.git.blobs:
                raise ApiError(422, f"tree.sha {sha} is not a valid blob")
            drop_path(files, path)
            files[path] = FileEntry(path, mode, sha)
    else:
        raise ApiError(422, "Must supply tree.sha or tree.content. Request will be rejected if both are present.")


def drop_path(files: dict[str, FileEntry], path: str) -> None:
    files.pop(path, None)
    for key in [k for k in files if k.startswith(path + "/")]:
        del files[key]


@operation("git/create-blob")
def create_blob(ctx: Ctx) -> Reply:
    require_push(ctx)
    encoding = ctx.body.get("encoding", "utf-8")
    if encoding not in ("utf-8", "base64"):
        raise ApiError(422, "encoding must be either utf-8 or base64")
    content = ctx.body["content"]
    data = base64.b64decode(content) if encoding == "base64" else content.encode()
    sha = ctx.repo.git.put_blob(data)
    url = f"{shapes.API}/repos/{ctx.repo.full_name}/git/blobs/{sha}"
    return Reply(201, {"url": url, "sha": sha}, {"location": url})


@operation("git/get-blob")
def get_blob(ctx: Ctx) -> Reply:
    sha = ctx.params["file_sha"]
    if sha not in ctx.repo.git.blobs:
        raise not_found()
    return Reply(200, shapes.blob(ctx.repo, sha))


# == Contents and archives =======================================================================
@operation("repos/get-content")
def get_content(ctx: Ctx) -> Reply:
    repo = ctx.repo
    ref = ctx.query.get("ref") or repo.default_branch
    sha = ctx.fake.resolve(repo, ref)
    if sha is None:
        raise ApiError(404, f"No commit found for the ref {ref}")
    path = ctx.params["path"].strip("/")
    entry = repo.git.lookup(repo.git.commits[sha].tree, path)
    if entry is None:
        raise not_found()
    if entry.mode == TREE_MODE:
        items = [
            shapes.content_item(repo, ref, f"{path}/{e.name}" if path else e.name, e.mode, e.sha, False)
            for e in repo.git.trees[entry.sha]
        ]
        return Reply(200, items)
    if "application/vnd.github.raw" in ctx.accept and entry.mode != "160000":
        return Reply(200, content=repo.git.blobs[entry.sha], media_type="application/vnd.github.raw")
    item = shapes.content_item(repo, ref, path, entry.mode, entry.sha, True)
    if item.get("size", 0) > 1024 * 1024:
        item["content"], item["encoding"] = "", "none"
    return Reply(200, item)


@operation("repos/download-tarball-archive")
def download_tarball(ctx: Ctx) -> Reply:
    repo, ref = ctx.repo, ctx.params["ref"]
    resolve_or_404(ctx, ref)
    full_ref = (
        ref
        if re.fullmatch(r"[0-9a-f]{40}", ref) or ref.startswith("refs/")
        else (f"refs/heads/{ref}" if f"refs/heads/{ref}" in repo.refs else ref)
    )
    url = f"https://{CODELOAD_HOST}/{repo.full_name}/legacy.tar.gz/{quote(full_ref)}"
    if repo.private:
        url += f"?token={ctx.fake.signed_url_token(repo.full_name, full_ref)}"
    return Reply(302, None, {"location": url})


def codeload(fake: FakeGitHub, path: str, query: dict[str, str]) -> Reply:
    match = re.fullmatch(r"/([^/]+)/([^/]+)/legacy\.tar\.gz/(.+)", path)
    repo = fake.repos.get(f"{match.group(1)}/{match.group(2)}".lower()) if match else None
    if repo is None:
        return Reply(404, content=b"404: Not Found", media_type="text/plain; charset=utf-8")
    ref = match.group(3)
    if repo.private and query.get("token") != fake.signed_url_token(repo.full_name, ref):
        return Reply(404, content=b"404: Not Found", media_type="text/plain; charset=utf-8")
    sha = fake.resolve(repo, ref)
    if sha is None:
        return Reply(404, content=b"404: Not Found", media_type="text/plain; charset=utf-8")
    top = f"{repo.owner.login}-{repo.name}-{sha[:7]}"
    return Reply(
        200,
        content=fake.tarball(repo, sha),
        media_type="application/x-gzip",
        headers={"content-disposition": f"attachment; filename={top}.tar.gz", "etag": f'"{sha}"'},
    )


@operation("repos/compare-commits-with-basehead")
def compare(ctx: Ctx) -> Reply:
    repo, fake = ctx.repo, ctx.fake
    base_ref, sep, head_ref = ctx.params["basehead"].partition("...")
    if not sep:
        raise not_found()
    base, head = (resolve_or_404(ctx, ref.split(":", 1)[-1]) for ref in (base_ref, head_ref))
    merge_base = repo.git.merge_base(base, head)
    if merge_base is None:
        raise ApiError(404, f"No common ancestor between {base_ref} and {head_ref}.")
    ahead = repo.git.commits_between(base, head)
    behind = repo.git.commits_between(head, base)
    status = "identical" if base == head else "ahead" if not behind else "behind" if not ahead else "diverged"
    page = paginate(ctx, repo.git.commits_between(merge_base, head), default=250, maximum=250)
    changes = fake.diff(repo, merge_base, head)
    api = f"{shapes.API}/repos/{repo.full_name}"
    web = f"{shapes.WEB}/{repo.full_name}"
    basehead = ctx.params["basehead"]
    body = {
        "url": f"{api}/compare/{basehead}",
        "html_url": f"{web}/compare/{basehead}",
        "permalink_url": f"{web}/compare/{repo.owner.login}:{base[:7]}...{repo.owner.login}:{head[:7]}",
        "diff_url": f"{web}/compare/{basehead}.diff",
        "patch_url": f"{web}/compare/{basehead}.patch",
        "base_commit": shapes.commit(fake, repo, base),
        "merge_base_commit": shapes.commit(fake, repo, merge_base),
        "status": status,
        "ahead_by": len(ahead),
        "behind_by": len(behind),
        "total_commits": len(repo.git.commits_between(merge_base, head)),
        "commits": [shapes.commit(fake, repo, sha) for sha in page.json],
        "files": [shapes.diff_entry(repo, change, head) for change in changes[:300]],
    }
    return Reply(200, body, page.headers)


@operation("repos/merge")
def merge_branch(ctx: Ctx) -> Reply:
    """``POST /merges``: always a merge commit (never a fast-forward); 204 when ``base`` already
    contains ``head``. Branch protection on ``base`` is not enforced here."""
    require_push(ctx)
    repo, fake, body = ctx.repo, ctx.fake, ctx.body
    base, head = body["base"], body["head"]
    if base not in repo.branches:
        raise ApiError(404, "Base does not exist")
    head_sha = fake.resolve(repo, head)
    if head_sha is None:
        raise ApiError(404, "Head does not exist")
    if repo.git.is_ancestor(head_sha, repo.branches[base]):
        return Reply(204)
    message = body.get("commit_message") or f"Merge {head} into {base}"
    sha = fake.merge_into_branch(repo, base, head_sha, message, ctx.actor)
    if sha is None:
        raise ApiError(409, "Merge conflict")
    out = shapes.commit(fake, repo, sha, fake.diff(repo, repo.commits[sha].parents[0], sha))
    return Reply(201, out, {"location": out["url"]})


# == Issues ======================================================================================
@operation("issues/get")
def get_issue_op(ctx: Ctx) -> Reply:
    issue = get_issue(ctx)
    return Reply(200, shapes.issue(ctx.repo, issue, ctx.repo.pulls.get(issue.number)))


@operation("issues/update")
def update_issue(ctx: Ctx) -> Reply:
    require_push(ctx)
    repo, fake, body = ctx.repo, ctx.fake, ctx.body or {}
    issue = get_issue(ctx)
    fake.edit_issue_text(issue, body)
    if "labels" in body:
        names = [x if isinstance(x, str) else x["name"] for x in body["labels"]]
        for name in list(issue.labels):
            if name.lower() not in (n.lower() for n in names):
                fake.remove_label(repo, issue, name, ctx.actor)
        fake.add_labels(repo, issue, names, ctx.actor)
    if "state" in body:
        if body["state"] not in ("open", "closed"):
            raise validation_failed({"resource": "Issue", "code": "invalid", "field": "state"})
        fake.set_issue_state(repo, issue, body["state"], body.get("state_reason"), ctx.actor)
    return Reply(200, shapes.issue(repo, issue, repo.pulls.get(issue.number)))


@operation("issues/list-comments")
def list_comments(ctx: Ctx) -> Reply:
    issue = get_issue(ctx)
    comments = ctx.repo.comments.get(issue.number, [])
    since = ctx.query.get("since")
    if since:
        comments = [c for c in comments if c.updated_at >= parse_time(since)]
    return paginate(ctx, [shapes.issue_comment(ctx.repo, c) for c in comments])


@operation("issues/create-comment")
def create_comment(ctx: Ctx) -> Reply:
    issue = get_issue(ctx)
    if issue.locked:
        raise ApiError(403, "Unable to create comment because issue is locked.")
    comment = ctx.fake.create_comment(ctx.repo, issue.number, ctx.body["body"], ctx.actor, ctx.via_app)
    out = shapes.issue_comment(ctx.repo, comment)
    return Reply(201, out, {"location": out["url"]})


def get_comment(ctx: Ctx):
    comment = ctx.repo.find_comment(ctx.int_param("comment_id"))
    if comment is None:
        raise not_found()
    return comment


@operation("issues/get-comment")
def get_comment_op(ctx: Ctx) -> Reply:
    return Reply(200, shapes.issue_comment(ctx.repo, get_comment(ctx)))


@operation("issues/update-comment")
def update_comment(ctx: Ctx) -> Reply:
    comment = get_comment(ctx)
    if comment.user.login != ctx.actor.login:
        require_push(ctx)
    ctx.fake.edit_comment(ctx.repo, comment, ctx.body["body"], ctx.actor)
    return Reply(200, shapes.issue_comment(ctx.repo, comment))


@operation("issues/delete-comment")
def delete_comment(ctx: Ctx) -> Reply:
    comment = get_comment(ctx)
    if comment.user.login != ctx.actor.login:
        require_push(ctx)
    ctx.repo.comments[comment.issue_number].remove(comment)
    return Reply(204)


def react(ctx: Ctx, subject: tuple[str, int]) -> Reply:
    reaction, created = ctx.fake.add_reaction(ctx.repo, subject, ctx.actor, ctx.body["content"])
    return Reply(201 if created else 200, shapes.reaction(reaction))


@operation("reactions/create-for-issue")
def react_issue(ctx: Ctx) -> Reply:
    return react(ctx, ("issue", get_issue(ctx).number))


@operation("reactions/create-for-issue-comment")
def react_issue_comment(ctx: Ctx) -> Reply:
    return react(ctx, ("issue_comment", get_comment(ctx).id))


@operation("reactions/create-for-pull-request-review-comment")
def react_review_comment(ctx: Ctx) -> Reply:
    comment = ctx.repo.find_review_comment(ctx.int_param("comment_id"))
    if comment is None:
        raise not_found()
    return react(ctx, ("pull_request_review_comment", comment.id))


@operation("issues/add-labels")
def add_labels(ctx: Ctx) -> Reply:
    require_push(ctx)
    issue = get_issue(ctx)
    names = [x if isinstance(x, str) else x["name"] for x in ctx.body.get("labels", [])]
    ctx.fake.add_labels(ctx.repo, issue, names, ctx.actor)
    return Reply(200, [shapes.label(ctx.repo, ctx.repo.labels[n.lower()]) for n in issue.labels])


@operation("issues/remove-label")
def remove_label(ctx: Ctx) -> Reply:
    require_push(ctx)
    issue = get_issue(ctx)
    name = ctx.params["name"]
    if name.lower() not in (n.lower() for n in issue.labels):
        raise ApiError(404, "Label does not exist")
    ctx.fake.remove_label(ctx.repo, issue, name, ctx.actor)
    return Reply(200, [shapes.label(ctx.repo, ctx.repo.labels[n.lower()]) for n in issue.labels])


@operation("issues/list-labels-for-repo")
def list_labels(ctx: Ctx) -> Reply:
    return paginate(ctx, [shapes.label(ctx.repo, lb) for lb in ctx.repo.labels.values()])


@operation("issues/create-label")
def create_label(ctx: Ctx) -> Reply:
    require_push(ctx)
    name = ctx.body["name"]
    color = ctx.body.get("color", "ededed").lstrip("#")
    if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
        raise validation_failed({"resource": "Label", "code": "invalid", "field": "color"})
    if name.lower() in ctx.repo.labels:
        raise validation_failed({"resource": "Label", "code": "already_exists", "field": "name"})
    label = ctx.fake.ensure_label(ctx.repo, name, color.lower(), ctx.body.get("description"))
    out = shapes.label(ctx.repo, label)
    return Reply(201, out, {"location": out["url"]})


@operation("issues/get-label")
def get_label(ctx: Ctx) -> Reply:
    label = ctx.repo.labels.get(ctx.params["name"].lower())
    if label is None:
        raise not_found()
    return Reply(200, shapes.label(ctx.repo, label))


# == Pull requests ===============================================================================
def head_branch(ctx: Ctx, head: str) -> str:
    owner, sep, branch = head.partition(":")
    if sep and owner.lower() != ctx.repo.owner.login.lower():
        return ""  # forks are not modelled
    return branch if sep else head


@operation("pulls/create")
def create_pull(ctx: Ctx) -> Reply:
    require_push(ctx)
    repo, fake, body = ctx.repo, ctx.fake, ctx.body
    head, base = head_branch(ctx, body["head"]), body["base"]
    if base not in repo.branches:
        raise validation_failed({"resource": "PullRequest", "field": "base", "code": "invalid"})
    if head not in repo.branches:
        raise validation_failed({"resource": "PullRequest", "field": "head", "code": "invalid"})
    if not body.get("title"):
        raise validation_failed({"resource": "PullRequest", "field": "title", "code": "missing_field"})
    for pr in repo.pulls.values():
        if pr.head_ref == head and pr.base_ref == base and pr.state == "open":
            raise validation_failed(
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": f"A pull request already exists for {repo.owner.login}:{head}.",
                }
            )
    if not repo.git.commits_between(repo.branches[base], repo.branches[head]):
        raise validation_failed(
            {"resource": "PullRequest", "code": "custom", "message": f"No commits between {base} and {head}"}
        )
    pr = fake.create_pull(
        repo,
        head,
        base,
        body["title"],
        body.get("body"),
        bool(body.get("draft", False)),
        ctx.actor,
        bool(body.get("maintainer_can_modify", False)),
        ctx.via_app,
    )
    out = shapes.pull_request(fake, repo, pr)
    return Reply(201, out, {"location": out["url"]})


@operation("pulls/list")
def list_pulls(ctx: Ctx) -> Reply:
    repo = ctx.repo
    state = ctx.query.get("state", "open")
    pulls = [pr for pr in repo.pulls.values() if state == "all" or pr.state == state]
    if "head" in ctx.query:
        owner, _, branch = ctx.query["head"].partition(":")
        pulls = [pr for pr in pulls if owner.lower() == repo.owner.login.lower() and pr.head_ref == branch]
    if "base" in ctx.query:
        pulls = [pr for pr in pulls if pr.base_ref == ctx.query["base"]]
    sort = ctx.query.get("sort", "created")
    key = (
        (lambda pr: pr.issue.updated_at)
        if sort in ("updated", "popularity", "long-running")
        else (lambda pr: pr.issue.created_at)
    )
    default_direction = "desc" if sort in ("created", "updated") else "asc"
    pulls.sort(key=key, reverse=ctx.query.get("direction", default_direction) == "desc")
    return paginate(ctx, [shapes.pull_request(ctx.fake, repo, pr, full=False) for pr in pulls])


@operation("pulls/get")
def get_pull_op(ctx: Ctx) -> Reply:
    return Reply(200, shapes.pull_request(ctx.fake, ctx.repo, get_pull(ctx)))


@operation("pulls/update")
def update_pull(ctx: Ctx) -> Reply:
    require_push(ctx)
    repo, fake, body = ctx.repo, ctx.fake, ctx.body or {}
    pr = get_pull(ctx)
    fake.edit_issue_text(pr.issue, body)
    if "base" in body:
        if body["base"] not in repo.branches:
            raise validation_failed({"resource": "PullRequest", "field": "base", "code": "invalid"})
        pr.base_ref = body["base"]
    if "maintainer_can_modify" in body:
        pr.maintainer_can_modify = body["maintainer_can_modify"]
    if "state" in body:
        if pr.merged and body["state"] == "open":
            raise validation_failed(
                {"resource": "PullRequest", "code": "custom", "message": "Cannot reopen a merged pull request"}
            )
        fake.set_issue_state(repo, pr.issue, body["state"], None, ctx.actor)
    return Reply(200, shapes.pull_request(fake, repo, pr))


def protection_violations(fake: FakeGitHub, repo: Repo, pr: PullRequest) -> list[str]:
    protection = repo.protections.get(pr.base_ref)
    if protection is None:
        return []
    problems = []
    runs = [r for r in repo.check_runs.values() if r.head_sha == pr.head_sha]
    for name in protection.required_checks:
        latest = max((r for r in runs if r.name == name), key=lambda r: r.id, default=None)
        if latest is None:
            problems.append(f'Required status check "{name}" is expected.')
        elif latest.status != "completed":
            problems.append(f'Required status check "{name}" is in progress.')
        elif latest.conclusion not in PASSING:
            problems.append(f'Required status check "{name}" is failing.')
    approvals = {
        rv.user.login
        for rv in repo.reviews.get(pr.number, [])
        if rv.state == "APPROVED" and repo.role_of(rv.user.login) in ("write", "maintain", "admin")
    }
    needed = protection.required_approving_reviews
    if len(approvals) < needed:
        reviews = "reviews are" if needed > 1 else "review is"
        problems.append(f"At least {needed} approving {reviews} required by reviewers with write access.")
    return problems


@operation("pulls/merge")
def merge_pull(ctx: Ctx) -> Reply:
    require_push(ctx)
    repo, fake, body = ctx.repo, ctx.fake, ctx.body or {}
    pr = get_pull(ctx)
    if pr.merged or pr.state != "open":
        raise ApiError(405, "Pull Request is not mergeable")
    if body.get("sha") and body["sha"] != pr.head_sha:
        raise ApiError(409, "Head branch was modified. Review and try the merge again.")
    if pr.draft:
        raise ApiError(405, "Pull Request is still a draft")
    if fake.behind_strict_base(repo, pr):
        raise ApiError(405, "Head branch is out of date. Review and try the merge again.")
    problems = protection_violations(fake, repo, pr)
    if problems:
        protection = repo.protections[pr.base_ref]
        if protection.rulesets:
            message = "Repository rule violations found\n\n" + "\n".join(problems) + "\n\n"
        else:
            message = "\n".join(problems)
        raise ApiError(405, message)
    merged = fake.merged_files(repo, pr) if pr.base_ref in repo.branches else None
    if merged is None:
        raise ApiError(405, "Pull Request is not mergeable")
    sha = make_merge_commit(ctx, pr, merged, body.get("merge_method", "merge"), body)
    finish_merge(ctx, pr, sha)
    return Reply(200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"})


def make_merge_commit(ctx: Ctx, pr: PullRequest, merged: dict[str, FileEntry], method: str, body: dict) -> str:
    repo, fake = ctx.repo, ctx.fake
    base_sha = repo.branches[pr.base_ref]
    now = fake.clock.tick()
    author = Signature(ctx.actor.login, ctx.actor.email, now)
    github = Signature("GitHub", "noreply@github.com", now)
    tree = repo.git.tree_from_files(merged)
    pr_commits = repo.git.commits_between(base_sha, pr.head_sha)
    if method == "merge":
        title = body.get("commit_title") or f"Merge pull request #{pr.number} from {repo.owner.login}/{pr.head_ref}"
        message = body.get("commit_message", pr.issue.title)
        return repo.git.put_commit(Commit(tree, (base_sha, pr.head_sha), author, github, f"{title}\n\n{message}", True))
    if method == "squash":
        title = body.get("commit_title") or f"{pr.issue.title} (#{pr.number})"
        default_message = "\n\n".join(f"* {repo.git.commits[c].message}" for c in pr_commits)
        message = body.get("commit_message", default_message)
        return repo.git.put_commit(
            Commit(tree, (base_sha,), author, github, f"{title}\n\n{message}".rstrip() + "\n", True)
        )
    head = base_sha  # rebase: replay each commit of the PR on top of the base
    for sha in pr_commits:
        original = repo.git.commits[sha]
        parent_files = repo.git.flatten(repo.git.commits[original.parents[0]].tree) if original.parents else {}
        replayed = three_way_merge(
            parent_files, repo.git.flatten(repo.git.commits[head].tree), repo.git.flatten(original.tree)
        )
        if replayed is None:
            raise ApiError(405, "This branch can't be rebased")
        head = repo.git.put_commit(
            Commit(repo.git.tree_from_files(replayed), (head,), original.author, github, original.message, True)
        )
    return head


def finish_merge(ctx: Ctx, pr: PullRequest, sha: str) -> None:
    repo, fake = ctx.repo, ctx.fake
    now = fake.clock.tick()
    pr.merged, pr.merged_at, pr.merged_by, pr.merge_commit_sha = True, now, ctx.actor, sha
    fake.set_ref(repo, f"refs/heads/{pr.base_ref}", sha, ctx.actor)
    fake.set_issue_state(repo, pr.issue, "closed", None, ctx.actor)
    pr.base_sha_when_closed = sha
    if pr.base_ref == repo.default_branch:
        for number in CLOSING_KEYWORDS.findall(pr.issue.body or ""):
            issue = repo.issues.get(int(number))
            if issue is not None and int(number) not in repo.pulls and issue.state == "open":
                fake.set_issue_state(repo, issue, "closed", "completed", ctx.actor)


@operation("pulls/update-branch")
def update_pull_branch(ctx: Ctx) -> Reply:
    """GitHub's "Update branch" button: merges the base branch's head into the pull request's
    branch. GitHub answers 202 and merges in the background; the fake merges before answering."""
    require_push(ctx)
    repo, fake = ctx.repo, ctx.fake
    pr = get_pull(ctx)
    expected = (ctx.body or {}).get("expected_head_sha")
    if expected is not None and expected != pr.head_sha:
        raise ApiError(422, HEAD_SHA_MISMATCH)
    if pr.state != "open":
        raise ApiError(422, "Pull request is not open.")
    if pr.head_ref not in repo.branches:
        raise ApiError(422, "head ref does not exist")
    base_sha = repo.branches.get(pr.base_ref)
    if base_sha is None or repo.git.is_ancestor(base_sha, pr.head_sha):
        raise ApiError(422, "There are no new commits on the base branch.")
    message = f"Merge branch '{pr.base_ref}' into {pr.head_ref}"
    if fake.merge_into_branch(repo, pr.head_ref, base_sha, message, ctx.actor) is None:
        raise ApiError(422, "merge conflict between base and head")
    url = f"{shapes.WEB}/{repo.full_name}/pull/{pr.number}"
    return Reply(202, {"message": "Updating pull request branch.", "url": url})


@operation("pulls/list-requested-reviewers")
def list_requested_reviewers(ctx: Ctx) -> Reply:
    pr = get_pull(ctx)
    return Reply(200, {"users": [shapes.user(u) for u in pr.requested_reviewers], "teams": []})


@operation("pulls/request-reviewers")
def request_reviewers(ctx: Ctx) -> Reply:
    require_push(ctx)
    repo, fake = ctx.repo, ctx.fake
    pr = get_pull(ctx)
    logins = (ctx.body or {}).get("reviewers", [])
    if pr.issue.user.login in logins:
        raise ApiError(422, "Review cannot be requested from pull request author.")
    users = [fake.users.get(login.lower()) for login in logins]
    if any(u is None or repo.role_of(u.login) in ("none", "read") for u in users):
        raise ApiError(
            422,
            "Reviews may only be requested from collaborators. One or more of the users or teams you "
            f"specified is not a collaborator of the {repo.full_name} repository.",
        )
    for u in users:
        if u.login not in (x.login for x in pr.requested_reviewers):
            pr.requested_reviewers.append(u)
            fake.emit(
                repo,
                "pull_request",
                "review_requested",
                ctx.actor,
                number=pr.number,
                pull_request=shapes.pull_request(fake, repo, pr),
                requested_reviewer=shapes.user(u),
            )
    return Reply(201, shapes.pull_request(fake, repo, pr, full=False))


@operation("pulls/list-reviews")
def list_reviews(ctx: Ctx) -> Reply:
    pr = get_pull(ctx)
    return paginate(ctx, [shapes.review(ctx.repo, rv) for rv in ctx.repo.reviews.get(pr.number, [])])


@operation("pulls/list-comments-for-review")
def list_review_comments_for_review(ctx: Ctx) -> Reply:
    pr = get_pull(ctx)
    review_id = ctx.int_param("review_id")
    if not any(rv.id == review_id for rv in ctx.repo.reviews.get(pr.number, [])):
        raise not_found()
    comments = [c for c in ctx.repo.review_comments.get(pr.number, []) if c.review_id == review_id]
    return paginate(ctx, [shapes.review_comment(ctx.repo, c) for c in comments])


@operation("pulls/list-review-comments")
def list_review_comments(ctx: Ctx) -> Reply:
    pr = get_pull(ctx)
    comments = list(ctx.repo.review_comments.get(pr.number, []))
    if ctx.query.get("direction") == "desc":
        comments.reverse()
    return paginate(ctx, [shapes.review_comment(ctx.repo, c) for c in comments])


@operation("pulls/create-reply-for-review-comment")
def reply_review_comment(ctx: Ctx) -> Reply:
    pr = get_pull(ctx)
    parent = ctx.repo.find_review_comment(ctx.int_param("comment_id"))
    if parent is None or parent.pull_number != pr.number:
        raise not_found()
    comment = ctx.fake.reply_to_review_comment(ctx.repo, pr, parent.id, ctx.body["body"], ctx.actor, ctx.via_app)
    out = shapes.review_comment(ctx.repo, comment)
    return Reply(201, out, {"location": out["url"]})


# == Checks ======================================================================================
def checks_app(ctx: Ctx):
    if ctx.via_app is None:
        raise ApiError(403, "You must authenticate via a GitHub App.")
    return ctx.via_app


@operation("checks/create")
def create_check_run(ctx: Ctx) -> Reply:
    app = checks_app(ctx)
    repo, fake, body = ctx.repo, ctx.fake, ctx.body
    if body["head_sha"] not in repo.git.commits:
        raise validation_failed(
            {
                "resource": "CheckRun",
                "code": "invalid",
                "field": "head_sha",
                "message": f"No commit found for SHA: {body['head_sha']}",
            }
        )
    conclusion = body.get("conclusion")
    status = "completed" if conclusion else body.get("status", "queued")
    if status == "completed" and not conclusion:
        raise validation_failed({"resource": "CheckRun", "code": "missing_field", "field": "conclusion"})
    output = dict(body.get("output") or {})
    annotations = output.pop("annotations", [])
    run = fake.create_check_run(
        repo,
        app,
        body["head_sha"],
        body["name"],
        status,
        conclusion,
        output,
        annotations,
        sender=app.bot,
        details_url=body.get("details_url"),
        external_id=body.get("external_id"),
        started_at=parse_time(body.get("started_at")),
        completed_at=parse_time(body.get("completed_at")),
    )
    run.actions = body.get("actions", [])
    return Reply(201, shapes.check_run(repo, run))


def get_check_run(ctx: Ctx):
    run = ctx.repo.check_runs.get(ctx.int_param("check_run_id"))
    if run is None:
        raise not_found()
    return run


@operation("checks/get")
def get_check_run_op(ctx: Ctx) -> Reply:
    return Reply(200, shapes.check_run(ctx.repo, get_check_run(ctx)))


@operation("checks/update")
def update_check_run(ctx: Ctx) -> Reply:
    app = checks_app(ctx)
    run = get_check_run(ctx)
    if run.app.id != app.id:
        raise ApiError(
            403, f"Invalid app_id `{app.id}` - check run can only be modified by the GitHub App that created it."
        )
    body = dict(ctx.body)
    if "output" in body:
        output = dict(body.pop("output"))
        run.annotations += output.pop("annotations", [])
        run.output.update(output)
    if "actions" in body:
        run.actions = body.pop("actions")
    ctx.fake.update_check_run(ctx.repo, run, body, sender=app.bot)
    return Reply(200, shapes.check_run(ctx.repo, run))


@operation("checks/list-annotations")
def list_annotations(ctx: Ctx) -> Reply:
    run = get_check_run(ctx)
    return paginate(ctx, [shapes.annotation(ctx.repo, run, a) for a in run.annotations])


def ref_sha(ctx: Ctx) -> str:
    sha = ctx.fake.resolve(ctx.repo, ctx.params["ref"])
    if sha is None:
        raise validation_failed(
            {
                "resource": "Commit",
                "field": "ref",
                "code": "invalid",
                "message": f"No commit found for SHA: {ctx.params['ref']}",
            }
        )
    return sha


@operation("checks/list-for-ref")
def list_check_runs(ctx: Ctx) -> Reply:
    sha = ref_sha(ctx)
    runs = [r for r in ctx.repo.check_runs.values() if r.head_sha == sha]
    q = ctx.query
    if "check_name" in q:
        runs = [r for r in runs if r.name == q["check_name"]]
    if "status" in q:
        runs = [r for r in runs if r.status == q["status"]]
    if "app_id" in q:
        runs = [r for r in runs if str(r.app.id) == q["app_id"]]
    if q.get("filter", "latest") == "latest":
        latest = {}
        for r in sorted(runs, key=lambda r: r.id):
            latest[(r.app.id, r.name)] = r
        runs = list(latest.values())
    runs.sort(key=lambda r: -r.id)
    return paginate(ctx, [shapes.check_run(ctx.repo, r) for r in runs], key="check_runs")


@operation("checks/list-suites-for-ref")
def list_check_suites(ctx: Ctx) -> Reply:
    sha = ref_sha(ctx)
    suites = [s for s in ctx.repo.check_suites.values() if s.head_sha == sha]
    if "app_id" in ctx.query:
        suites = [s for s in suites if str(s.app.id) == ctx.query["app_id"]]
    if "check_name" in ctx.query:
        names = {r.suite_id for r in ctx.repo.check_runs.values() if r.name == ctx.query["check_name"]}
        suites = [s for s in suites if s.id in names]
    return paginate(ctx, [shapes.check_suite(ctx.repo, s) for s in suites], key="check_suites")


@operation("checks/get-suite")
def get_check_suite(ctx: Ctx) -> Reply:
    suite = ctx.repo.check_suites.get(ctx.int_param("check_suite_id"))
    if suite is None:
        raise not_found()
    return Reply(200, shapes.check_suite(ctx.repo, suite))


# == Actions =====================================================================================
@operation("actions/get-workflow-run")
def get_workflow_run(ctx: Ctx) -> Reply:
    run = ctx.repo.workflow_runs.get(ctx.int_param("run_id"))
    if run is None:
        raise not_found()
    return Reply(200, shapes.workflow_run(ctx.repo, run))


@operation("actions/get-job-for-workflow-run")
def get_job(ctx: Ctx) -> Reply:
    job = ctx.repo.jobs.get(ctx.int_param("job_id"))
    if job is None:
        raise not_found()
    return Reply(200, shapes.job(ctx.repo, job))


@operation("actions/list-workflow-runs-for-repo")
def list_workflow_runs(ctx: Ctx) -> Reply:
    repo, q = ctx.repo, ctx.query
    runs = sorted(repo.workflow_runs.values(), key=lambda w: -w.id)
    shaped = [shapes.workflow_run(repo, w) for w in runs]
    for key in ("head_sha", "branch", "event", "status"):
        if key in q:
            field_name = "head_branch" if key == "branch" else key
            shaped = [w for w in shaped if w[field_name] == q[key] or (key == "status" and w["conclusion"] == q[key])]
    return paginate(ctx, shaped, key="workflow_runs")


@operation("actions/list-jobs-for-workflow-run")
def list_jobs(ctx: Ctx) -> Reply:
    repo = ctx.repo
    run_id = ctx.int_param("run_id")
    if run_id not in repo.workflow_runs:
        raise not_found()
    jobs = [shapes.job(repo, j) for j in repo.jobs.values() if j.run_id == run_id]
    return paginate(ctx, jobs, key="jobs")


@operation("actions/download-job-logs-for-workflow-run")
def download_job_logs(ctx: Ctx) -> Reply:
    repo, fake = ctx.repo, ctx.fake
    job_id = ctx.int_param("job_id")
    if job_id not in repo.jobs:
        raise not_found()
    now = fake.clock.now()
    query = urlencode(
        {
            "rsct": "text/plain",
            "se": shapes.ts(now + timedelta(minutes=1)),
            "sig": fake.signed_url_token(repo.id, job_id),
            "sp": "r",
            "spr": "https",
            "sr": "b",
            "st": shapes.ts(now),
            "sv": "2025-01-05",
        }
    )
    storage = fake.logs_base_url or f"https://{LOGS_HOST}"
    url = f"{storage}/actions-results/{repo.id}/workflow-job-run-{job_id}/logs/job/job-logs.txt?{query}"
    return Reply(302, None, {"location": url})


def job_log_blob(fake: FakeGitHub, path: str, query: dict[str, str]) -> Reply:
    match = re.fullmatch(r"/actions-results/(\d+)/workflow-job-run-(\d+)/logs/job/job-logs\.txt", path)
    repo = next((r for r in fake.repos.values() if match and r.id == int(match.group(1))), None)
    if (
        repo is None
        or int(match.group(2)) not in repo.jobs
        or query.get("sig") != fake.signed_url_token(repo.id, int(match.group(2)))
    ):
        return Reply(
            403,
            content=b'<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code></Error>',
            media_type="application/xml",
        )
    return Reply(200, content=repo.jobs[int(match.group(2))].log.encode(), media_type="text/plain")
