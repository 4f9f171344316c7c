"""The fake GitHub, driven through githubkit exactly as the bot drives the real one.

Every response is read through ``.parsed_data`` (githubkit's strict pydantic models), so a
missing field in the fake's shapes fails here first.
"""

from __future__ import annotations

import base64
import io
import json
import tarfile

import githubkit_schemas.latest.models as models
import httpx
import jwt
import pytest
from githubkit import AppAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy
from githubkit.exception import GraphQLFailed, RequestError, RequestFailed
from githubkit.webhooks import verify

from tests.fakes.github import FakeGitHub
from tests.fakes.gitstore import ObjectStore, object_sha

REPO = "octo/widgets"
FILES = {
    "README.md": "# widgets\n",
    "docs/design.md": "The design.\n",
    "tests/test_widget.py": "def test_it():\n    assert True\n",
}


def client(fake: FakeGitHub, auth) -> GitHub:
    return GitHub(
        auth,
        async_transport=httpx.ASGITransport(app=fake.app),
        http_cache=False,
        auto_retry=False,
        timeout=10,
        cache_strategy=MemCacheStrategy(),
    )


@pytest.fixture
def fake() -> FakeGitHub:
    fake = FakeGitHub()
    fake.add_repo(REPO, files=FILES, installation_id=42)
    fake.set_permission(REPO, "maria", "write")
    fake.set_permission(REPO, "rick", "read")
    return fake


@pytest.fixture
async def app_gh(fake: FakeGitHub):
    gh = client(fake, AppAuthStrategy(fake.app_id, fake.private_key_pem))
    async with gh:
        yield gh


@pytest.fixture
async def gh(app_gh: GitHub):
    inst = app_gh.with_auth(app_gh.auth.as_installation(42))
    async with inst:
        yield inst


def webhook_model(event: str, action: str | None):
    """githubkit's model for one (event, action), e.g. WebhookPullRequestReviewSubmitted
    (WebhookPush for ``push``, which has no action).

    Validating with the specific model is much faster than githubkit's ``parse_obj`` (which
    builds the union of every action's model on first use)."""
    name = f"{event}_{action}" if action else event
    camel = "".join(part.capitalize() for part in name.split("_"))
    return getattr(models, f"Webhook{camel}")


async def expect_error(coro, status: int) -> dict:
    with pytest.raises(RequestFailed) as info:
        await coro
    assert info.value.response.status_code == status, info.value.response.text
    return info.value.response.json()


def test_every_described_operation_has_a_handler():
    from tests.fakes.openapi import load_spec
    from tests.fakes.rest import HANDLERS

    assert set(load_spec().by_id) == set(HANDLERS)
    assert "@octokit/openapi@" in load_spec().source


# -- auth -----------------------------------------------------------------------------------
async def test_app_jwt_then_installation_token_then_repo_routes(fake, app_gh, gh):
    app = (await app_gh.rest.apps.async_get_authenticated()).parsed_data
    assert (app.id, app.slug) == (fake.app_id, "component-bot-test")
    installation = (await app_gh.rest.apps.async_get_repo_installation("octo", "widgets")).parsed_data
    assert installation.id == 42 and installation.app_slug == "component-bot-test"

    repo = (await gh.rest.repos.async_get("octo", "widgets")).parsed_data
    await gh.rest.issues.async_list_labels_for_repo("octo", "widgets")
    assert repo.full_name == REPO and repo.default_branch == "main"
    mints = fake.calls_to("POST", "/app/installations/42/access_tokens")
    assert len(mints) == 1 and mints[0].status == 201  # the token is cached by githubkit
    token = fake.calls_to("GET", "/repos/octo/widgets")[0].headers["authorization"]
    assert token.startswith("token ghs_")


async def test_bad_credentials_are_401(fake):
    async with client(fake, "not-a-token") as bad:
        body = await expect_error(bad.rest.repos.async_get("octo", "widgets"), 401)
    assert body["message"] == "Bad credentials"
    forged = jwt.encode({"iss": str(fake.app_id), "iat": 0, "exp": 600}, "not-the-app-key-" * 4, algorithm="HS256")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url="https://api.github.com") as raw:
        assert (await raw.get("/app", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
        assert (await raw.get("/repos/octo/widgets")).json()["message"] == "Requires authentication"


async def test_expired_installation_token_is_401(fake, gh):
    await gh.rest.repos.async_get("octo", "widgets")
    for token in fake.tokens.values():
        token.expires_at = token.expires_at and token.expires_at.replace(year=2000)
    await expect_error(gh.rest.repos.async_get("octo", "widgets"), 401)


async def test_static_tokens_act_as_the_bot_or_as_a_person(fake):
    issue = fake.add_issue(REPO, "Hello", "")
    async with client(fake, "token") as bot:  # FakeGitHub()'s default token is the app's bot
        comment = (await bot.rest.issues.async_create_comment("octo", "widgets", issue.number, body="hi")).parsed_data
        assert comment.user.login == "component-bot-test[bot]" and comment.performed_via_github_app.id == fake.app_id
    fake.add_token("rick-token", "rick")
    async with client(fake, "rick-token") as rick:
        comment = (
            await rick.rest.issues.async_create_comment("octo", "widgets", issue.number, body="me too")
        ).parsed_data
        assert comment.user.login == "rick" and comment.performed_via_github_app is None
        await expect_error(rick.rest.issues.async_add_labels("octo", "widgets", issue.number, labels=["x"]), 403)
        sha = fake.repo(REPO).branches["main"]
        body = await expect_error(rick.rest.checks.async_create("octo", "widgets", name="x", head_sha=sha), 403)
        assert body["message"] == "You must authenticate via a GitHub App."


async def test_installation_token_only_opens_its_repositories(fake, gh):
    fake.add_repo("someone/secret", private=True, installation_id=None)
    await expect_error(gh.rest.repos.async_get("someone", "secret"), 404)


async def test_unknown_route_and_method_are_404(gh):
    body = await expect_error(gh.arequest("GET", "/repos/octo/widgets/no-such-thing"), 404)
    assert body["message"] == "Not Found" and body["documentation_url"].startswith("https://docs.github.com")
    await expect_error(gh.arequest("PUT", "/repos/octo/widgets/issues/1/comments"), 404)


async def test_malformed_body_is_rejected_like_github(fake, gh):
    issue = fake.add_issue(REPO, "Widget", "please")
    body = await expect_error(
        gh.arequest("POST", f"/repos/octo/widgets/issues/{issue.number}/comments", json={"body": 42}), 422
    )
    assert body["message"] == "Invalid request.\n\nFor 'properties/body', 42 is not a string."
    body = await expect_error(gh.arequest("POST", "/repos/octo/widgets/git/refs", json={"ref": "refs/heads/x"}), 422)
    assert body["message"] == 'Invalid request.\n\n"sha" wasn\'t supplied.'
    assert fake.repo(REPO).comments == {}


# -- git data -------------------------------------------------------------------------------
def test_git_objects_hash_like_git():
    store = ObjectStore()
    assert store.put_blob(b"hi\n") == "45b983be36b73c0788dc9cbcb76cbb80fc7bb057"  # git hash-object
    assert object_sha("blob", b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    from tests.fakes.gitstore import FileEntry

    tree = store.tree_from_files(
        [FileEntry("a", "100644", store.put_blob(b"hi\n")), FileEntry("d/b", "100644", store.put_blob(b"x"))]
    )
    assert tree == "f0503869cc8406330cc18e0cc5bacc45a06a5274"  # git write-tree of the same files


async def test_commit_cycle_with_base_tree_inline_content_and_fast_forward(fake, gh):
    rest = gh.rest.git
    head = (await rest.async_get_ref("octo", "widgets", "heads/main")).parsed_data.object_.sha
    base_commit = (await rest.async_get_commit("octo", "widgets", head)).parsed_data
    tree = (
        await rest.async_create_tree(
            "octo",
            "widgets",
            base_tree=base_commit.tree.sha,
            tree=[
                {"path": "src/widgets/core.py", "mode": "100644", "type": "blob", "content": "X = 1\n"},
                {"path": "docs/design.md", "mode": "100644", "type": "blob", "sha": None},
            ],
        )
    ).parsed_data
    commit = (
        await rest.async_create_commit("octo", "widgets", message="Implement widgets", tree=tree.sha, parents=[head])
    ).parsed_data
    assert commit.verification.verified and commit.verification.reason == "valid"
    assert commit.author.name == "component-bot-test[bot]"
    ref = (await rest.async_update_ref("octo", "widgets", "heads/main", sha=commit.sha)).parsed_data
    assert ref.object_.sha == commit.sha

    files = fake.tree_files(REPO, "main")
    assert files["src/widgets/core.py"] == "X = 1\n" and "docs/design.md" not in files
    listing = (await rest.async_get_tree("octo", "widgets", commit.sha, recursive="1")).parsed_data
    paths = {e.path: e.type for e in listing.tree}
    assert paths["src"] == "tree" and paths["src/widgets"] == "tree" and paths["src/widgets/core.py"] == "blob"
    content = (await gh.rest.repos.async_get_content("octo", "widgets", "src/widgets/core.py", ref="main")).parsed_data
    assert base64.b64decode(content.content) == b"X = 1\n"

    # a commit that does not descend from main's head is refused unless forced
    stray = (
        await rest.async_create_commit("octo", "widgets", message="stray", tree=tree.sha, parents=[head])
    ).parsed_data
    body = await expect_error(rest.async_update_ref("octo", "widgets", "heads/main", sha=stray.sha), 422)
    assert body["message"] == "Update is not a fast forward"
    await rest.async_update_ref("octo", "widgets", "heads/main", sha=stray.sha, force=True)
    assert fake.repo(REPO).branches["main"] == stray.sha


async def test_refs_blobs_and_authored_commits(fake, gh):
    rest = gh.rest.git
    main = fake.repo(REPO).branches["main"]
    created = (await rest.async_create_ref("octo", "widgets", ref="refs/heads/feature", sha=main)).parsed_data
    assert created.ref == "refs/heads/feature"
    body = await expect_error(rest.async_create_ref("octo", "widgets", ref="refs/heads/feature", sha=main), 422)
    assert body["message"] == "Reference already exists"
    await expect_error(rest.async_get_ref("octo", "widgets", "heads/missing"), 404)

    blob = (
        await rest.async_create_blob(
            "octo", "widgets", content=base64.b64encode(b"\x00bin").decode(), encoding="base64"
        )
    ).parsed_data
    assert blob.sha == object_sha("blob", b"\x00bin")
    assert base64.b64decode((await rest.async_get_blob("octo", "widgets", blob.sha)).parsed_data.content) == b"\x00bin"
    tree = (
        await rest.async_create_tree(
            "octo", "widgets", tree=[{"path": "bin/data", "mode": "100644", "type": "blob", "sha": blob.sha}]
        )
    ).parsed_data
    authored = (
        await rest.async_create_commit(
            "octo",
            "widgets",
            message="m",
            tree=tree.sha,
            parents=[main],
            author={"name": "Ann", "email": "ann@example.com", "date": "2026-01-01T00:00:00Z"},
        )
    ).parsed_data
    assert not authored.verification.verified and authored.committer.name == "Ann"

    await rest.async_delete_ref("octo", "widgets", "heads/feature")
    assert "feature" not in fake.repo(REPO).branches
    await expect_error(rest.async_delete_ref("octo", "widgets", "heads/feature"), 422)


async def test_contents_of_files_directories_and_missing_paths(gh):
    directory = (await gh.rest.repos.async_get_content("octo", "widgets", "docs")).parsed_data
    assert [item.name for item in directory] == ["design.md"]
    raw = await gh.arequest(
        "GET", "/repos/octo/widgets/contents/docs/design.md", headers={"Accept": "application/vnd.github.raw+json"}
    )
    assert raw.content == b"The design.\n"
    await expect_error(gh.rest.repos.async_get_content("octo", "widgets", "nope.md"), 404)


async def test_tarball_redirects_to_codeload_with_github_layout(fake, gh):
    sha = fake.repo(REPO).branches["main"]
    response = await gh.rest.repos.async_download_tarball_archive("octo", "widgets", "main")
    assert response.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as tar:
        names = tar.getnames()
        assert tar.pax_headers["comment"] == sha
        top = f"octo-widgets-{sha[:7]}"
        assert f"{top}/docs/design.md" in names
        assert tar.extractfile(f"{top}/README.md").read() == b"# widgets\n"
    redirect = fake.calls_to("GET", "/repos/octo/widgets/tarball/main")[0]
    assert redirect.status == 302 and fake.calls[-1].host == "codeload.github.com"


async def test_private_tarball_redirect_carries_a_token(fake, gh):
    fake.add_repo("octo/private", files={"a.txt": "a"}, private=True, installation_id=42)
    response = await gh.rest.repos.async_download_tarball_archive("octo", "private", "main")
    assert response.status_code == 200 and "token=" in str(response.url)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as raw:
        assert (
            await raw.get("https://codeload.github.com/octo/private/legacy.tar.gz/refs/heads/main")
        ).status_code == 404


async def test_compare_reports_commits_and_unified_diffs(fake, gh):
    fake.push(REPO, "feature", {"README.md": "# widgets\nmore\n", "new.txt": "n\n"}, message="Feature")
    fake.push(REPO, "main", {"other.txt": "o\n"}, message="Main moves")
    cmp = (await gh.rest.repos.async_compare_commits("octo", "widgets", "main...feature")).parsed_data
    assert (cmp.status, cmp.ahead_by, cmp.behind_by) == ("diverged", 1, 1)
    assert [c.commit.message for c in cmp.commits] == ["Feature"]
    files = {f.filename: f for f in cmp.files}
    assert files["README.md"].status == "modified" and files["README.md"].patch == "@@ -1 +1,2 @@\n # widgets\n+more"
    assert (files["new.txt"].status, files["new.txt"].additions) == ("added", 1)
    identical = (await gh.rest.repos.async_compare_commits("octo", "widgets", "main...main")).parsed_data
    assert identical.status == "identical" and identical.files == []


# -- issues ---------------------------------------------------------------------------------
async def test_issue_comments_reactions_and_labels(fake, gh):
    issue = fake.add_issue(REPO, "Implement widgets", "Design: docs/design.md", user="maria")
    n = issue.number
    got = (await gh.rest.issues.async_get("octo", "widgets", n)).parsed_data
    assert got.title == "Implement widgets" and got.user.login == "maria"

    comment = (await gh.rest.issues.async_create_comment("octo", "widgets", n, body="On it")).parsed_data
    assert comment.user.type == "Bot" and comment.performed_via_github_app.slug == "component-bot-test"
    edited = (await gh.rest.issues.async_update_comment("octo", "widgets", comment.id, body="Done")).parsed_data
    assert edited.body == "Done"
    assert (await gh.rest.issues.async_get_comment("octo", "widgets", comment.id)).parsed_data.body == "Done"

    first = await gh.rest.reactions.async_create_for_issue_comment("octo", "widgets", comment.id, content="eyes")
    again = await gh.rest.reactions.async_create_for_issue_comment("octo", "widgets", comment.id, content="eyes")
    assert (first.status_code, again.status_code) == (201, 200) and first.parsed_data.id == again.parsed_data.id
    assert (await gh.rest.reactions.async_create_for_issue("octo", "widgets", n, content="+1")).status_code == 201
    assert len(fake.repo(REPO).reactions) == 2

    labels = (await gh.rest.issues.async_add_labels("octo", "widgets", n, labels=["implement-component"])).parsed_data
    assert [lb.name for lb in labels] == ["implement-component"]
    body = await expect_error(gh.rest.issues.async_create_label("octo", "widgets", name="implement-component"), 422)
    assert body["errors"] == [{"resource": "Label", "code": "already_exists", "field": "name"}]
    created = (await gh.rest.issues.async_create_label("octo", "widgets", name="bot:done", color="0e8a16")).parsed_data
    assert (await gh.rest.issues.async_get_label("octo", "widgets", "bot:done")).parsed_data.id == created.id
    assert (await gh.rest.issues.async_remove_label("octo", "widgets", n, "implement-component")).parsed_data == []
    await expect_error(gh.rest.issues.async_remove_label("octo", "widgets", n, "implement-component"), 404)

    closed = (await gh.rest.issues.async_update("octo", "widgets", n, state="closed", body="new")).parsed_data
    assert closed.state == "closed" and closed.state_reason == "completed" and closed.body == "new"
    await gh.rest.issues.async_delete_comment("octo", "widgets", comment.id)
    await expect_error(gh.rest.issues.async_get_comment("octo", "widgets", comment.id), 404)


async def test_pagination_with_link_headers(fake, gh):
    issue = fake.add_issue(REPO, "Chatty", "")
    for i in range(7):
        fake.add_issue_comment(REPO, issue.number, f"comment {i}")
    page = await gh.rest.issues.async_list_comments("octo", "widgets", issue.number, per_page=3)
    assert 'rel="next"' in page.headers["link"] and len(page.parsed_data) == 3
    bodies = [
        c.body
        async for c in gh.rest.paginate(
            gh.rest.issues.async_list_comments, owner="octo", repo="widgets", issue_number=issue.number, per_page=3
        )
    ]
    assert bodies == [f"comment {i}" for i in range(7)]


async def test_collaborator_permissions(gh):
    async def role(login: str) -> tuple[str, str]:
        data = (await gh.rest.repos.async_get_collaborator_permission_level("octo", "widgets", login)).parsed_data
        return data.permission, data.role_name

    assert await role("octo") == ("admin", "admin")
    assert await role("maria") == ("write", "write")
    assert await role("rick") == ("read", "read")
    await expect_error(gh.rest.repos.async_get_collaborator_permission_level("octo", "widgets", "nobody"), 404)


async def test_fake_checks_its_own_responses_against_the_openapi_schemas(fake, gh, monkeypatch):
    from tests.fakes import shapes

    fake.ensure_label(fake.repo(REPO), "bug")
    broken = shapes.label
    monkeypatch.setattr(shapes, "label", lambda repo, lb: {k: v for k, v in broken(repo, lb).items() if k != "color"})
    with pytest.raises(RequestError, match="off-schema"):  # githubkit wraps the fake's AssertionError
        await gh.rest.issues.async_get_label("octo", "widgets", "bug")


async def test_injected_errors_fail_the_next_matching_request(fake, gh):
    fake.inject_error("GET", "/repos/octo/widgets", 502, "Server Error")
    await expect_error(gh.rest.repos.async_get("octo", "widgets"), 502)
    assert (await gh.rest.repos.async_get("octo", "widgets")).status_code == 200


# -- pull requests --------------------------------------------------------------------------
async def open_pr(fake: FakeGitHub, gh: GitHub, branch: str = "component-bot/1-widgets", body: str = "Closes #1"):
    fake.push(REPO, branch, {"src/widget.py": "def widget():\n    return 1\n"}, message="Add widget", author="maria")
    return (
        await gh.rest.pulls.async_create(
            "octo", "widgets", head=branch, base="main", title="Widgets", body=body, draft=True
        )
    ).parsed_data


async def test_pull_request_create_duplicate_list_and_merge(fake, gh):
    issue = fake.add_issue(REPO, "Implement widgets", "")
    pr = await open_pr(fake, gh, body=f"Closes #{issue.number}")
    assert pr.draft and pr.number == issue.number + 1 and pr.head.ref == "component-bot/1-widgets"
    body = await expect_error(
        gh.rest.pulls.async_create("octo", "widgets", head="component-bot/1-widgets", base="main", title="Again"), 422
    )
    assert body["errors"][0]["message"] == "A pull request already exists for octo:component-bot/1-widgets."

    listed = (
        await gh.rest.pulls.async_list("octo", "widgets", head="octo:component-bot/1-widgets", state="open")
    ).parsed_data
    assert [p.number for p in listed] == [pr.number]
    full = (await gh.rest.pulls.async_get("octo", "widgets", pr.number)).parsed_data
    assert (full.commits, full.changed_files, full.additions, full.mergeable) == (1, 1, 2, True)

    body = await expect_error(gh.rest.pulls.async_merge("octo", "widgets", pr.number, sha="0" * 40), 409)
    assert body["message"] == "Head branch was modified. Review and try the merge again."
    await expect_error(gh.rest.pulls.async_merge("octo", "widgets", pr.number), 405)  # still a draft
    await gh.rest.pulls.async_update("octo", "widgets", pr.number, title="Widgets!")
    fake.repo(REPO).pulls[pr.number].draft = False

    fake.protect(REPO, "main", required_checks=["test"])
    body = await expect_error(gh.rest.pulls.async_merge("octo", "widgets", pr.number, sha=pr.head.sha), 405)
    assert body["message"].startswith("Repository rule violations found")
    assert 'Required status check "test" is expected.' in body["message"]
    fake.add_check_run(REPO, pr.head.sha, "test", "completed", "success")

    merged = (
        await gh.rest.pulls.async_merge("octo", "widgets", pr.number, sha=pr.head.sha, merge_method="squash")
    ).parsed_data
    assert merged.merged and merged.message == "Pull Request successfully merged"
    repo = fake.repo(REPO)
    assert repo.branches["main"] == merged.sha and repo.commits[merged.sha].message.startswith("Widgets! (#")
    assert fake.read_file(REPO, "main", "src/widget.py") == "def widget():\n    return 1\n"
    response = await gh.rest.pulls.async_get("octo", "widgets", pr.number)
    assert response.parsed_data.merged and response.parsed_data.state == "closed"
    assert response.json()["merge_commit_sha"] == merged.sha  # not in githubkit's 2026-03-10 model
    assert repo.issues[issue.number].state == "closed"  # "Closes #N" on the default branch


async def test_merge_commit_has_both_parents(fake, gh):
    pr = await open_pr(fake, gh)
    await gh.rest.pulls.async_update("octo", "widgets", pr.number, state="open")
    fake.repo(REPO).pulls[pr.number].draft = False
    base = fake.repo(REPO).branches["main"]
    merged = (await gh.rest.pulls.async_merge("octo", "widgets", pr.number)).parsed_data
    assert fake.repo(REPO).commits[merged.sha].parents == (base, pr.head.sha)


async def test_reviews_review_comments_and_replies(fake, gh):
    pr = await open_pr(fake, gh)
    requested = (
        await gh.rest.pulls.async_request_reviewers("octo", "widgets", pr.number, reviewers=["octo"])
    ).parsed_data
    assert [u.login for u in requested.requested_reviewers] == ["octo"]
    await expect_error(gh.rest.pulls.async_request_reviewers("octo", "widgets", pr.number, reviewers=["rick"]), 422)
    review = fake.add_review(
        REPO,
        pr.number,
        "octo",
        "CHANGES_REQUESTED",
        "Please rename",
        comments=[{"path": "src/widget.py", "line": 1, "body": "Call it make_widget"}],
    )
    assert (await gh.rest.pulls.async_list_requested_reviewers("octo", "widgets", pr.number)).parsed_data.users == []

    reviews = (await gh.rest.pulls.async_list_reviews("octo", "widgets", pr.number)).parsed_data
    assert [(r.id, r.state) for r in reviews] == [(review.id, "CHANGES_REQUESTED")]
    in_review = (
        await gh.rest.pulls.async_list_comments_for_review("octo", "widgets", pr.number, review.id)
    ).parsed_data
    assert [c.body for c in in_review] == ["Call it make_widget"]
    reply = (
        await gh.rest.pulls.async_create_reply_for_review_comment(
            "octo", "widgets", pr.number, in_review[0].id, body="Renamed"
        )
    ).parsed_data
    assert reply.in_reply_to_id == in_review[0].id and reply.path == "src/widget.py"
    everything = (await gh.rest.pulls.async_list_review_comments("octo", "widgets", pr.number)).parsed_data
    assert [c.body for c in everything] == ["Call it make_widget", "Renamed"]
    reaction = await gh.rest.reactions.async_create_for_pull_request_review_comment(
        "octo", "widgets", reply.id, content="rocket"
    )
    assert reaction.status_code == 201


# -- checks and actions ---------------------------------------------------------------------
async def test_check_runs_suites_and_annotations(fake, gh):
    sha = fake.repo(REPO).branches["main"]
    mine = (
        await gh.rest.checks.async_create(
            "octo",
            "widgets",
            name="component-bot",
            head_sha=sha,
            status="in_progress",
            output={"title": "Working", "summary": "…"},
        )
    ).parsed_data
    done = (
        await gh.rest.checks.async_update(
            "octo",
            "widgets",
            mine.id,
            conclusion="success",
            output={
                "title": "Done",
                "summary": "ok",
                "annotations": [
                    {"path": "README.md", "start_line": 1, "end_line": 1, "annotation_level": "notice", "message": "hi"}
                ],
            },
        )
    ).parsed_data
    assert (done.status, done.conclusion, done.output.annotations_count) == ("completed", "success", 1)
    fake.add_check_run(REPO, sha, "test", "completed", "failure", output={"title": "1 failed", "summary": "boom"})

    runs = (await gh.rest.checks.async_list_for_ref("octo", "widgets", "main")).parsed_data
    assert {r.name for r in runs.check_runs} == {"component-bot", "test"} and runs.total_count == 2
    only_actions = (await gh.rest.checks.async_list_for_ref("octo", "widgets", sha, app_id=15368)).parsed_data
    assert [r.name for r in only_actions.check_runs] == ["test"]
    named = (await gh.rest.checks.async_list_for_ref("octo", "widgets", sha, check_name="component-bot")).parsed_data
    assert [r.id for r in named.check_runs] == [mine.id]
    suites = (await gh.rest.checks.async_list_suites_for_ref("octo", "widgets", sha)).parsed_data
    assert sorted(s.conclusion for s in suites.check_suites) == ["failure", "success"]
    assert (await gh.rest.checks.async_get("octo", "widgets", mine.id)).parsed_data.output.title == "Done"
    notes = (await gh.rest.checks.async_list_annotations("octo", "widgets", mine.id)).parsed_data
    assert notes[0].message == "hi" and notes[0].blob_href.endswith("/README.md")

    body = await expect_error(
        gh.rest.checks.async_update("octo", "widgets", only_actions.check_runs[0].id, status="queued"), 403
    )
    assert "can only be modified by the GitHub App that created it" in body["message"]


async def test_workflow_runs_jobs_and_log_redirect(fake, gh):
    sha = fake.repo(REPO).branches["main"]
    run = fake.add_check_run(REPO, sha, "pytest", "completed", "failure", log="FAILED tests/test_widget.py::test_it\n")
    runs = (await gh.rest.actions.async_list_workflow_runs_for_repo("octo", "widgets", head_sha=sha)).parsed_data
    assert runs.total_count == 1 and runs.workflow_runs[0].conclusion == "failure"
    jobs = (
        await gh.rest.actions.async_list_jobs_for_workflow_run("octo", "widgets", runs.workflow_runs[0].id)
    ).parsed_data
    assert [j.id for j in jobs.jobs] == [run.id] and jobs.jobs[0].conclusion == "failure"
    log = await gh.rest.actions.async_download_job_logs_for_workflow_run("octo", "widgets", run.id)
    assert log.text == "FAILED tests/test_widget.py::test_it\n"
    assert fake.calls_to("GET", f"/repos/octo/widgets/actions/jobs/{run.id}/logs")[0].status == 302
    assert fake.calls[-1].host == "productionresultssa0.blob.core.windows.net"


async def test_ci_finishing_a_queued_run_announces_completion(fake, gh):
    sha = fake.repo(REPO).branches["main"]
    run = fake.add_check_run(REPO, sha, "pytest", "queued", None)
    assert fake.events_of("check_run", "completed") == []
    fake.complete_check_run(REPO, run.id, "success", log="1 passed\n")
    [completed] = fake.events_of("check_run", "completed")
    assert completed["check_run"]["conclusion"] == "success"
    assert fake.events_of("workflow_run", "completed")[0]["workflow_run"]["conclusion"] == "success"
    got = (await gh.rest.checks.async_get("octo", "widgets", run.id)).parsed_data
    assert (got.status, got.conclusion) == ("completed", "success")


# -- graphql, app endpoints -----------------------------------------------------------------
async def test_graphql_ready_for_review_and_back(fake, gh):
    pr = await open_pr(fake, gh)
    mutation = """mutation($id: ID!) { markPullRequestReadyForReview(input: {pullRequestId: $id}) {
        pullRequest { id isDraft number } } }"""
    data = await gh.async_graphql(mutation, {"id": pr.node_id})
    assert data["markPullRequestReadyForReview"]["pullRequest"] == {
        "id": pr.node_id,
        "isDraft": False,
        "number": pr.number,
    }
    assert not fake.repo(REPO).pulls[pr.number].draft
    await gh.async_graphql(
        "mutation($id: ID!) { convertPullRequestToDraft(input: {pullRequestId: $id}) { clientMutationId } }",
        {"id": pr.node_id},
    )
    assert fake.repo(REPO).pulls[pr.number].draft
    with pytest.raises(GraphQLFailed):
        await gh.async_graphql("query { viewer { login } }")
    with pytest.raises(GraphQLFailed):
        await gh.async_graphql(mutation, {"id": "PR_nope"})


async def test_webhook_deliveries_and_redelivery(fake, app_gh):
    seen = []

    async def sink(event, payload):
        seen.append(event)
        return 500 if len(seen) == 2 else 202

    fake.webhook_sink = sink
    fake.add_issue(REPO, "One", "")
    fake.add_issue(REPO, "Two", "")
    fake.add_issue(REPO, "Three", "")
    await fake.deliver_webhooks()
    page = await app_gh.rest.apps.async_list_webhook_deliveries(per_page=2)
    assert len(page.parsed_data) == 2 and 'rel="next"' in page.headers["link"]
    failed = (await app_gh.rest.apps.async_list_webhook_deliveries(status="failure")).parsed_data
    assert [d.status_code for d in failed] == [500]
    everything = [d async for d in app_gh.rest.paginate(app_gh.rest.apps.async_list_webhook_deliveries, per_page=2)]
    assert len(everything) == 3
    detail = (await app_gh.rest.apps.async_get_webhook_delivery(failed[0].id)).parsed_data
    assert detail.event == "issues" and detail.request.headers.model_extra["X-GitHub-Event"] == "issues"
    response = await app_gh.rest.apps.async_redeliver_webhook_delivery(failed[0].id)
    assert response.status_code == 202 and seen == ["issues"] * 4
    assert fake.deliveries[-1].guid == failed[0].guid and fake.deliveries[-1].redelivery


async def test_manifest_code_converts_once(fake):
    code = fake.manifest_code({"name": "My Bot", "url": "https://example.com/bot"})
    async with client(fake, None) as unauth:
        created = (await unauth.rest.apps.async_create_from_manifest(code)).parsed_data
        assert created.name == "My Bot" and created.pem == fake.private_key_pem and created.webhook_secret
        assert created.id == fake.app_id and created.slug == "component-bot-test"
        await expect_error(unauth.rest.apps.async_create_from_manifest(code), 404)
    assert "authorization" not in fake.calls[-1].headers


# -- webhooks -------------------------------------------------------------------------------
async def test_state_changes_reach_the_sink_as_parseable_payloads(fake, gh):
    received: list[tuple[str, dict]] = []

    async def sink(event: str, payload: dict) -> None:
        received.append((event, payload))

    fake.webhook_sink = sink
    issue = fake.add_issue(REPO, "Implement widgets", "", user="maria", labels=["implement-component"])
    fake.add_issue_comment(REPO, issue.number, "/implement", user="maria")
    pr = await open_pr(fake, gh, body=f"Closes #{issue.number}")
    fake.push(REPO, "component-bot/1-widgets", {"src/widget.py": "def widget():\n    return 2\n"})
    fake.add_review(
        REPO, pr.number, "octo", "APPROVED", "LGTM", comments=[{"path": "src/widget.py", "line": 1, "body": "nice"}]
    )
    fake.add_check_run(REPO, fake.repo(REPO).branches["component-bot/1-widgets"], "test")
    await gh.rest.pulls.async_update("octo", "widgets", pr.number, state="closed")
    await fake.deliver_webhooks()

    kinds = [(e, p.get("action")) for e, p in received]
    for expected in [
        ("issues", "opened"),
        ("issues", "labeled"),
        ("issue_comment", "created"),
        ("pull_request", "opened"),
        ("pull_request", "synchronize"),
        ("pull_request_review", "submitted"),
        ("pull_request_review_comment", "created"),
        ("check_run", "completed"),
        ("check_suite", "completed"),
        ("workflow_run", "completed"),
        ("pull_request", "closed"),
    ]:
        assert expected in kinds, expected
    for event, payload in received:
        webhook_model(event, payload.get("action")).model_validate(payload)  # githubkit's models accept them
        assert payload["installation"]["id"] == 42 and payload["repository"]["full_name"] == REPO
    labeled = fake.events_of("issues", "labeled")[0]
    assert labeled["label"]["name"] == "implement-component" and labeled["sender"]["login"] == "maria"
    sync = fake.events_of("pull_request", "synchronize")[0]
    assert sync["after"] == fake.repo(REPO).branches["component-bot/1-widgets"]


async def test_human_pr_comments_and_review_comment_replies(fake, gh):
    pr = await open_pr(fake, gh)
    conversation = fake.add_pr_comment(REPO, pr.number, "@component-bot-test please explain", user="maria")
    on_line = fake.add_pr_comment(REPO, pr.number, "Why 1?", user="maria", path="src/widget.py", line=2)
    fake.add_pr_comment(REPO, pr.number, "Because.", user="octo", in_reply_to=on_line.id)
    comments = (await gh.rest.issues.async_list_comments("octo", "widgets", pr.number)).parsed_data
    assert [c.id for c in comments] == [conversation.id]
    threads = (await gh.rest.pulls.async_list_review_comments("octo", "widgets", pr.number)).parsed_data
    assert [c.body for c in threads] == ["Why 1?", "Because."]
    assert not threads[0].in_reply_to_id and threads[1].in_reply_to_id == on_line.id
    assert threads[0].diff_hunk.startswith("@@ ") and threads[0].line == 2
    created = fake.events_of("issue_comment", "created")[-1]
    assert created["issue"]["pull_request"]["url"].endswith(f"/pulls/{pr.number}")
    review_comments = fake.events_of("pull_request_review_comment", "created")
    assert [p["comment"]["body"] for p in review_comments] == ["Why 1?", "Because."]
    for payload in review_comments:
        webhook_model("pull_request_review_comment", "created").model_validate(payload)


def test_signed_delivery_verifies(fake):
    payload = json.loads(json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}))
    headers, body = fake.signed_delivery("ping", payload, "s3cret")
    assert verify("s3cret", body, headers["X-Hub-Signature-256"])
    assert headers["X-GitHub-Event"] == "ping" and headers["User-Agent"].startswith("GitHub-Hookshot/")
    assert len(headers["X-GitHub-Delivery"]) == 36


def test_vendored_examples_are_real_payloads():
    from tests.fakes.webhooks import example

    ping = example("ping")
    assert "zen" in ping and "hook" in ping
    assert example("issues.labeled")["action"] == "labeled"
