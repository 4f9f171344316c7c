"""The fake GitHub when the base branch moves under a session: ``push`` webhooks, merging a branch
(``POST /merges``), updating a pull request's branch, and protection that requires pull requests
to be up to date. Driven through githubkit; payloads are checked against githubkit's models."""

from __future__ import annotations

import base64

import githubkit_schemas.latest.models as models
import httpx
import pytest
from githubkit import AppAuthStrategy, GitHub
from githubkit.exception import RequestFailed

from tests.fakes.github import FakeGitHub
from tests.fakes.webhooks import example

REPO = "octo/widgets"
BRANCH = "component-bot/1-widgets"
ZERO = "0" * 40
FILES = {"README.md": "# widgets\n", "src/widget.py": "def widget():\n    return 1\n", "docs/old.md": "old\n"}
OUT_OF_DATE = "Head branch is out of date. Review and try the merge again."


@pytest.fixture
def fake() -> FakeGitHub:
    fake = FakeGitHub()
    fake.add_repo(REPO, files=FILES, installation_id=42)
    fake.set_permission(REPO, "maria", "write")
    return fake


@pytest.fixture
async def gh(fake: FakeGitHub):
    app = GitHub(
        AppAuthStrategy(fake.app_id, fake.private_key_pem),
        async_transport=httpx.ASGITransport(app=fake.app),
        http_cache=False,
        auto_retry=False,
    )
    async with app, app.with_auth(app.auth.as_installation(42)) as inst:
        yield inst


def person(fake: FakeGitHub, login: str) -> GitHub:
    fake.add_token(f"{login}-token", login)
    return GitHub(f"{login}-token", async_transport=httpx.ASGITransport(app=fake.app), http_cache=False,
                  auto_retry=False)


async def expect_error(coro, status: int) -> dict:
    with pytest.raises(RequestFailed) as info:
        await coro
    assert info.value.response.status_code == status, info.value.response.text
    return info.value.response.json()


def session_pr(fake: FakeGitHub, draft: bool = False):
    """A session's pull request: one commit on BRANCH, opened against main."""
    fake.push(REPO, BRANCH, {"src/gadget.py": "def gadget():\n    return 2\n"}, message="Add gadget", author="maria")
    repo = fake.repo(REPO)
    return fake.create_pull(repo, BRANCH, "main", "Gadget", "", draft, fake.user("maria"))


def pushes(fake: FakeGitHub) -> list[dict]:
    payloads = fake.events_of("push")
    for payload in payloads:
        models.WebhookPush.model_validate(payload)
    return payloads


# -- push webhooks ------------------------------------------------------------------------------
def test_a_repository_created_for_a_test_queues_no_push(fake):
    assert fake.events_of("push") == []


def test_a_human_push_to_a_new_then_existing_branch(fake):
    main = fake.repo(REPO).branches["main"]
    first = fake.push(REPO, "feature", {"new.txt": "n\n", "docs/old.md": None}, message="Start", author="maria")
    second = fake.push(REPO, "feature", {"README.md": "# widgets!\n"}, message="Polish", author="maria")
    created, updated = pushes(fake)

    assert (created["ref"], created["before"], created["after"]) == ("refs/heads/feature", ZERO, first)
    flags = (created["created"], created["deleted"], created["forced"], created["base_ref"])
    assert flags == (True, False, False, None)
    assert created["compare"] == "https://github.com/octo/widgets/compare/feature"
    [commit] = created["commits"]
    assert (commit["id"], commit["message"], commit["distinct"]) == (first, "Start", True)
    assert (commit["added"], commit["removed"], commit["modified"]) == (["new.txt"], ["docs/old.md"], [])
    assert commit["author"] == {"name": "maria", "email": fake.user("maria").email, "username": "maria"}
    assert created["head_commit"]["id"] == first and main not in [c["id"] for c in created["commits"]]

    assert (updated["before"], updated["after"], updated["created"], updated["forced"]) == (first, second, False, False)
    assert updated["compare"] == f"https://github.com/octo/widgets/compare/{first[:12]}...{second[:12]}"
    assert [(c["id"], c["modified"]) for c in updated["commits"]] == [(second, ["README.md"])]
    assert updated["pusher"] == {"name": "maria", "email": fake.user("maria").email}
    assert updated["sender"]["login"] == "maria" and updated["installation"]["id"] == 42


def test_push_payload_carries_the_push_shape_of_the_repository(fake):
    fake.push(REPO, "main", {"a.txt": "a\n"})
    [payload] = pushes(fake)
    repository = payload["repository"]
    assert isinstance(repository["created_at"], int) and isinstance(repository["pushed_at"], int)
    assert repository["url"] == "https://github.com/octo/widgets" and repository["full_name"] == REPO
    assert repository["owner"]["name"] == "octo" and repository["master_branch"] == "main"
    assert "action" not in payload


def test_org_repository_push_names_the_organization(fake):
    fake.add_repo("acme/tools", installation_id=42, owner_type="Organization")
    fake.push("acme/tools", "main", {"a.txt": "a\n"})
    [payload] = pushes(fake)
    assert payload["repository"]["organization"] == "acme" and payload["organization"]["login"] == "acme"


def test_no_push_for_a_repository_the_app_is_not_installed_on(fake):
    fake.add_repo("someone/else", installation_id=None)
    fake.push("someone/else", "main", {"a.txt": "a\n"})
    assert fake.events_of("push") == []


async def test_ref_api_pushes_create_force_and_delete(fake, gh):
    rest = gh.rest.git
    main = fake.repo(REPO).branches["main"]
    await rest.async_create_ref("octo", "widgets", ref="refs/heads/copy", sha=main)
    moved = fake.push(REPO, "copy", {"a.txt": "a\n"})
    await rest.async_update_ref("octo", "widgets", "heads/copy", sha=main, force=True)
    await rest.async_delete_ref("octo", "widgets", "heads/copy")
    await rest.async_create_ref("octo", "widgets", ref="refs/tags/v1", sha=main)
    created, _, forced, deleted, tag = pushes(fake)

    assert (created["created"], created["commits"], created["base_ref"]) == (True, [], "refs/heads/main")
    assert created["head_commit"]["id"] == main and not created["head_commit"]["distinct"]
    assert created["sender"]["login"] == "component-bot-test[bot]"
    assert created["pusher"]["name"] == "component-bot-test[bot]"
    assert (forced["before"], forced["after"], forced["forced"], forced["commits"]) == (moved, main, True, [])
    assert (deleted["deleted"], deleted["after"], deleted["head_commit"], deleted["commits"]) == (True, ZERO, None, [])
    assert deleted["compare"] == f"https://github.com/octo/widgets/compare/{main[:12]}...000000000000"
    assert (tag["ref"], tag["created"], tag["base_ref"]) == ("refs/tags/v1", True, "refs/heads/main")


async def test_update_ref_to_the_same_commit_sends_no_push(fake, gh):
    main = fake.repo(REPO).branches["main"]
    await gh.rest.git.async_update_ref("octo", "widgets", "heads/main", sha=main)
    assert fake.events_of("push") == []


async def test_create_commit_on_branch_sends_a_push_committed_by_github(fake, gh):
    session_pr(fake)
    head = fake.repo(REPO).branches[BRANCH]
    contents = base64.b64encode(b"x = 1\n").decode()
    await gh.async_graphql(
        """mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }""",
        {
            "input": {
                "branch": {"repositoryNameWithOwner": REPO, "branchName": BRANCH},
                "message": {"headline": "More"},
                "fileChanges": {"additions": [{"path": "x.py", "contents": contents}]},
                "expectedHeadOid": head,
            }
        },
    )
    payload = pushes(fake)[-1]
    [commit] = payload["commits"]
    assert (payload["before"], commit["added"]) == (head, ["x.py"])
    assert payload["sender"]["login"] == "component-bot-test[bot]"
    assert commit["committer"] == {"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"}
    assert commit["author"]["username"] == "component-bot-test[bot]"


def test_vendored_push_example_is_a_real_payload():
    payload = example("push")
    models.WebhookPush.model_validate(payload)
    assert payload["ref"].startswith("refs/") and "installation" in payload


# -- POST /repos/{owner}/{repo}/merges ------------------------------------------------------------
async def test_merging_the_base_into_a_session_branch_then_again(fake, gh):
    pr = session_pr(fake)
    moved_main = fake.push(REPO, "main", {"README.md": "# widgets, v2\n"}, message="Main moves")
    branch_head = fake.repo(REPO).branches[BRANCH]
    fake.events.clear()

    response = await gh.rest.repos.async_merge("octo", "widgets", base=BRANCH, head="main",
                                               commit_message="Merge main into the session")
    assert response.status_code == 201
    merged = response.parsed_data
    repo = fake.repo(REPO)
    assert repo.branches[BRANCH] == merged.sha and [p.sha for p in merged.parents] == [branch_head, moved_main]
    assert merged.commit.message == "Merge main into the session"
    assert merged.commit.author.name == "component-bot-test[bot]" and merged.commit.verification.verified
    assert [f.filename for f in merged.files] == ["README.md"]
    files = fake.tree_files(REPO, BRANCH)
    assert files["README.md"] == "# widgets, v2\n" and "src/gadget.py" in files
    assert fake.contains(REPO, "main", BRANCH) and not fake.contains(REPO, BRANCH, "main")
    assert repo.pulls[pr.number].head_sha == merged.sha

    [push] = pushes(fake)
    assert (push["ref"], push["before"], push["after"]) == (f"refs/heads/{BRANCH}", branch_head, merged.sha)
    assert [(c["id"], c["distinct"]) for c in push["commits"]] == [(moved_main, False), (merged.sha, True)]
    assert not push["forced"] and push["head_commit"]["modified"] == ["README.md"]
    [sync] = fake.events_of("pull_request", "synchronize")
    assert sync["after"] == merged.sha and sync["sender"]["login"] == "component-bot-test[bot]"

    again = await gh.rest.repos.async_merge("octo", "widgets", base=BRANCH, head="main")
    assert (again.status_code, again.content) == (204, b"")
    assert repo.branches[BRANCH] == merged.sha and len(fake.events_of("push")) == 1


async def test_merge_by_sha_with_the_default_message(fake, gh):
    session_pr(fake)
    moved_main = fake.push(REPO, "main", {"other.txt": "o\n"})
    merged = (await gh.rest.repos.async_merge("octo", "widgets", base=BRANCH, head=moved_main)).parsed_data
    assert merged.commit.message == f"Merge {moved_main} into {BRANCH}"


async def test_merge_that_fast_forwards_still_makes_a_merge_commit(fake, gh):
    main = fake.repo(REPO).branches["main"]
    fake.push(REPO, "ahead", {"a.txt": "a\n"})
    merged = (await gh.rest.repos.async_merge("octo", "widgets", base="main", head="ahead")).parsed_data
    assert merged.parents[0].sha == main and len(merged.parents) == 2


async def test_merge_conflict_is_409_and_changes_nothing(fake, gh):
    session_pr(fake)
    fake.push(REPO, BRANCH, {"README.md": "# ours\n"})
    fake.push(REPO, "main", {"README.md": "# theirs\n"})
    refs, events = dict(fake.repo(REPO).refs), len(fake.events)
    body = await expect_error(gh.rest.repos.async_merge("octo", "widgets", base=BRANCH, head="main"), 409)
    assert body["message"] == "Merge conflict"
    assert (fake.repo(REPO).refs, len(fake.events)) == (refs, events)


async def test_merge_with_a_missing_base_or_head_is_404(fake, gh):
    body = await expect_error(gh.rest.repos.async_merge("octo", "widgets", base="nope", head="main"), 404)
    assert body["message"] == "Base does not exist"
    body = await expect_error(gh.rest.repos.async_merge("octo", "widgets", base="main", head="nope"), 404)
    assert body["message"] == "Head does not exist"


async def test_merge_needs_write_access(fake):
    fake.set_permission(REPO, "rick", "read")
    fake.push(REPO, "ahead", {"a.txt": "a\n"})
    async with person(fake, "rick") as rick:
        await expect_error(rick.rest.repos.async_merge("octo", "widgets", base="main", head="ahead"), 403)


# -- PUT /repos/{owner}/{repo}/pulls/{pull_number}/update-branch ----------------------------------
async def test_update_branch_merges_the_base_into_the_pull_request(fake, gh):
    pr = session_pr(fake)
    old_head = pr.head_sha
    moved_main = fake.push(REPO, "main", {"README.md": "# moved\n"})
    response = await gh.rest.pulls.async_update_branch("octo", "widgets", pr.number, expected_head_sha=old_head)
    assert response.status_code == 202
    assert response.parsed_data.message == "Updating pull request branch."
    assert response.parsed_data.url == f"https://github.com/octo/widgets/pull/{pr.number}"

    repo = fake.repo(REPO)
    head = repo.branches[BRANCH]
    assert repo.commits[head].parents == (old_head, moved_main) and repo.pulls[pr.number].head_sha == head
    assert repo.commits[head].message == f"Merge branch 'main' into {BRANCH}"
    assert fake.contains(REPO, "main", BRANCH)
    assert fake.events_of("pull_request", "synchronize")[-1]["after"] == head
    assert pushes(fake)[-1]["after"] == head

    body = await expect_error(gh.rest.pulls.async_update_branch("octo", "widgets", pr.number), 422)
    assert body["message"] == "There are no new commits on the base branch."


async def test_update_branch_with_a_stale_expected_head_is_422(fake, gh):
    pr = session_pr(fake)
    fake.push(REPO, "main", {"README.md": "# moved\n"})
    body = await expect_error(
        gh.rest.pulls.async_update_branch("octo", "widgets", pr.number, expected_head_sha="0" * 40), 422
    )
    assert body["message"] == "expected head sha didn\u2019t match current head ref."
    assert fake.repo(REPO).branches[BRANCH] == pr.head_sha


async def test_update_branch_with_a_conflict_is_422(fake, gh):
    pr = session_pr(fake)
    fake.push(REPO, BRANCH, {"README.md": "# ours\n"})
    fake.push(REPO, "main", {"README.md": "# theirs\n"})
    head = fake.repo(REPO).branches[BRANCH]
    body = await expect_error(gh.rest.pulls.async_update_branch("octo", "widgets", pr.number), 422)
    assert body["message"] == "merge conflict between base and head"
    assert fake.repo(REPO).branches[BRANCH] == head


async def test_update_branch_of_a_closed_or_headless_pull_request_is_422(fake, gh):
    pr = session_pr(fake)
    fake.push(REPO, "main", {"README.md": "# moved\n"})
    await gh.rest.git.async_delete_ref("octo", "widgets", f"heads/{BRANCH}")
    body = await expect_error(gh.rest.pulls.async_update_branch("octo", "widgets", pr.number), 422)
    assert body["message"] == "head ref does not exist"
    await gh.rest.pulls.async_update("octo", "widgets", pr.number, state="closed")
    await expect_error(gh.rest.pulls.async_update_branch("octo", "widgets", pr.number), 422)


# -- protection that requires up-to-date branches -------------------------------------------------
async def test_strict_protection_refuses_a_pull_request_behind_its_base(fake, gh):
    pr = session_pr(fake)
    fake.protect(REPO, "main", required_checks=["test"], strict=True)
    fake.add_check_run(REPO, pr.head_sha, "test")
    fake.push(REPO, "main", {"README.md": "# moved\n"})
    assert (await gh.rest.pulls.async_get("octo", "widgets", pr.number)).parsed_data.mergeable_state == "behind"
    body = await expect_error(gh.rest.pulls.async_merge("octo", "widgets", pr.number), 405)
    assert body["message"] == OUT_OF_DATE

    await gh.rest.pulls.async_update_branch("octo", "widgets", pr.number)
    head = fake.repo(REPO).branches[BRANCH]
    assert (await gh.rest.pulls.async_get("octo", "widgets", pr.number)).parsed_data.mergeable_state == "clean"
    body = await expect_error(gh.rest.pulls.async_merge("octo", "widgets", pr.number), 405)
    assert 'Required status check "test" is expected.' in body["message"]  # the new head has not been tested
    fake.add_check_run(REPO, head, "test")
    assert (await gh.rest.pulls.async_merge("octo", "widgets", pr.number)).parsed_data.merged


async def test_without_strict_protection_a_pull_request_behind_merges(fake, gh):
    pr = session_pr(fake)
    fake.protect(REPO, "main", required_checks=["test"])
    fake.add_check_run(REPO, pr.head_sha, "test")
    fake.push(REPO, "main", {"README.md": "# moved\n"})
    assert (await gh.rest.pulls.async_merge("octo", "widgets", pr.number)).parsed_data.merged


async def test_strict_without_required_checks_has_no_effect(fake, gh):
    pr = session_pr(fake)
    fake.protect(REPO, "main", required_checks=(), strict=True)
    fake.push(REPO, "main", {"README.md": "# moved\n"})
    assert (await gh.rest.pulls.async_merge("octo", "widgets", pr.number)).parsed_data.merged


async def test_status_checks_protection_needs_the_administration_permission(fake, gh):
    fake.protect(REPO, "main", required_checks=["test"], strict=True, rulesets=False)
    body = await expect_error(gh.rest.repos.async_get_status_checks_protection("octo", "widgets", "main"), 403)
    assert body["message"] == "Resource not accessible by integration"

    fake.gh_app.permissions["administration"] = "read"
    policy = (await gh.rest.repos.async_get_status_checks_protection("octo", "widgets", "main")).parsed_data
    assert (policy.strict, policy.contexts, [c.context for c in policy.checks]) == (True, ["test"], ["test"])
    assert policy.url.endswith("/repos/octo/widgets/branches/main/protection/required_status_checks")


async def test_status_checks_protection_answers_404_like_github(fake, gh):
    fake.gh_app.permissions["administration"] = "read"
    body = await expect_error(gh.rest.repos.async_get_status_checks_protection("octo", "widgets", "main"), 404)
    assert body["message"] == "Branch not protected"
    fake.protect(REPO, "main", required_checks=["test"], strict=True)  # a ruleset: invisible to classic protection
    body = await expect_error(gh.rest.repos.async_get_status_checks_protection("octo", "widgets", "main"), 404)
    assert body["message"] == "Branch not protected"
    fake.protect(REPO, "main", required_checks=(), required_approving_reviews=1, rulesets=False)
    body = await expect_error(gh.rest.repos.async_get_status_checks_protection("octo", "widgets", "main"), 404)
    assert body["message"] == "Required status checks not enabled"


async def test_status_checks_protection_for_people_needs_admin_rights(fake):
    fake.protect(REPO, "main", required_checks=["test"], rulesets=False)
    async with person(fake, "octo") as owner, person(fake, "maria") as writer:
        policy = (await owner.rest.repos.async_get_status_checks_protection("octo", "widgets", "main")).parsed_data
        assert policy.strict is False
        await expect_error(writer.rest.repos.async_get_status_checks_protection("octo", "widgets", "main"), 403)


async def test_branch_rules_show_a_strict_ruleset_to_the_app(fake, gh):
    assert (await gh.rest.repos.async_get_branch_rules("octo", "widgets", "main")).parsed_data == []
    fake.protect(REPO, "main", required_checks=["test"], required_approving_reviews=1, strict=True)
    rules = (await gh.rest.repos.async_get_branch_rules("octo", "widgets", "main")).parsed_data
    checks = next(r for r in rules if r.type == "required_status_checks")
    assert checks.parameters.strict_required_status_checks_policy is True
    assert [c.context for c in checks.parameters.required_status_checks] == ["test"]
    assert checks.ruleset_source == REPO
    reviews = next(r for r in rules if r.type == "pull_request")
    assert reviews.parameters.required_approving_review_count == 1
    assert (await gh.rest.repos.async_get_branch_rules("octo", "widgets", "other")).parsed_data == []


def test_contains_follows_history_by_ref_or_sha(fake):
    main = fake.repo(REPO).branches["main"]
    feature = fake.push(REPO, "feature", {"a.txt": "a\n"})
    assert fake.contains(REPO, main, "feature") and fake.contains(REPO, "main", feature[:10])
    assert not fake.contains(REPO, "feature", "main")
    with pytest.raises(KeyError):
        fake.contains(REPO, "main", "no-such-branch")
