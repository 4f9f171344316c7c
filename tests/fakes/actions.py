"""GitHub Actions for the fake GitHub: a configured command really runs on a pushed commit.

``fake.configure_actions("octo/stack", command=["python", "-m", "pytest", "-q"])`` makes every
update of a branch ref (the bot's ``PATCH``/``POST /git/refs``, a merge, a human's ``fake.push``)
check the new head commit out into a temporary directory, run the command there and publish the
result as Actions does: a workflow run (event ``push``), one job whose log is the real output in
the job-log format, and a check run by the ``github-actions`` app named like the job.

Design: with ``auto=True`` (the default) the run happens synchronously inside the ref update, so
when ``PATCH /git/refs`` (or ``fake.push``) returns the check run is already completed and all
webhooks are queued. With ``auto=False`` the run is started (workflow run and check run
``in_progress``) and held; ``await fake.finish_actions()`` executes the held runs and completes
them. Webhooks, in order::

    workflow_run.requested, check_run.created (queued), workflow_run.in_progress   # at the push
    check_run.completed, check_suite.completed, workflow_run.completed             # when it ends

Like GitHub: pushes by ``github-actions[bot]`` and head commits whose message says ``[skip ci]``
(``[ci skip]``, ``[no ci]``, ``[skip actions]``, ``[actions skip]``) start no run; every run has
its own check suite; a failing command's check run has a ``failure`` annotation "Process completed
with exit code N." on path ``.github``; a command that outlives ``timeout`` is killed and the job
is ``cancelled``.

The command runs with the tests' own interpreter (``python``/``python3`` mean ``sys.executable``,
whose directory leads ``PATH``), a clean environment (``CI``, ``GITHUB_*`` and ``RUNNER_*``
variables, ``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1`` since a runner would not have this suite's pytest
plugins, plus ``env``), stdin closed, stdout and stderr interleaved. The checkout lives at
``<tmp>/work/<repo>/<repo>``; the job log shows it as ``/home/runner/work/<repo>/<repo>`` (the
hosted runners' workspace), ``ActionsRun.output`` keeps the raw output.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import shapes
from .state import CheckRun, CheckSuite, Repo, User, WorkflowRun

if TYPE_CHECKING:
    from .github import FakeGitHub

RUNNER_WORK = "/home/runner/work"
SKIP_MARKERS = ("[skip ci]", "[ci skip]", "[no ci]", "[skip actions]", "[actions skip]")
CHECKOUT = "actions/checkout@v4"
CHECKOUT_SHA = "08eba0b27e820071cde6df949e0beb9ba4906955"


@dataclass
class ActionsConfig:
    """One workflow with one job of one ``run`` step, as ``configure_actions`` set it up."""

    repo: str
    command: tuple[str, ...] | str
    job_name: str = "test"
    workflow_name: str = "tests"
    branches: tuple[str, ...] | None = None  # None: every branch; else glob patterns, "!" negates
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 120.0
    auto: bool = True
    workflow_path: str = ""

    @property
    def command_line(self) -> str:
        """The step's command as the workflow (and the log's ``Run …`` header) shows it."""
        return self.command if isinstance(self.command, str) else shlex.join(self.command)

    def runs_on(self, branch: str) -> bool:
        """GitHub's ``on.push.branches`` filter: ``*`` stops at ``/``, ``**`` does not, ``!`` excludes;
        the last matching pattern decides."""
        if self.branches is None:
            return True
        verdict = False
        for pattern in self.branches:
            negated = pattern.startswith("!")
            if _glob(pattern[1:] if negated else pattern).fullmatch(branch):
                verdict = not negated
        return verdict


@dataclass
class ActionsRun:
    """One execution of a configured workflow (``fake.actions_runs``)."""

    repo: str
    workflow_name: str
    job_name: str
    branch: str
    head_sha: str
    command: tuple[str, ...] | str
    workflow_run_id: int
    check_run_id: int  # also the job id, as on GitHub
    check_suite_id: int
    actor: str
    status: str = "in_progress"  # in_progress (held) | completed
    conclusion: str | None = None  # success | failure | cancelled
    exit_code: int | None = None  # None while held, and when the timeout killed the command
    output: str = ""  # the command's stdout and stderr, interleaved, as printed
    log: str = ""  # the job log as GET /actions/jobs/{id}/logs serves it
    timed_out: bool = False
    duration: float = 0.0  # wall-clock seconds the command took

    @property
    def job_id(self) -> int:
        return self.check_run_id


@dataclass
class Result:
    exit_code: int | None
    output: str
    timed_out: bool
    duration: float
    workspace: str  # where the checkout was (for rewriting paths in the log)


def _glob(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def should_run(fake: FakeGitHub, repo: Repo, sha: str, sender: User) -> bool:
    if sender.login == fake.actions_app.bot.login:  # GITHUB_TOKEN pushes trigger no workflow
        return False
    message = repo.git.commits[sha].message.lower()
    return not any(marker in message for marker in SKIP_MARKERS) and "skip-checks: true" not in message


# -- the lifecycle ---------------------------------------------------------------------------
def start(
    fake: FakeGitHub, repo: Repo, config: ActionsConfig, branch: str, before: str | None, sha: str, sender: User
) -> ActionsRun:
    """Queue the workflow run and its job and start the job (webhooks: workflow_run.requested,
    check_run.created, workflow_run.in_progress)."""
    now = fake.clock.tick()
    suite = CheckSuite(fake.ids.next("check_suite"), fake.actions_app, sha, branch, now, now, before=before)
    repo.check_suites[suite.id] = suite
    previous = [w for w in repo.workflow_runs.values() if w.path == config.workflow_path]
    workflow_id = previous[0].workflow_id if previous else fake.ids.next("workflow")
    wf = WorkflowRun(
        fake.ids.next("workflow_run"),
        workflow_id,
        suite.id,
        config.workflow_name,
        config.workflow_path,
        sha,
        branch,
        len(previous) + 1,
        "push",
        sender,
        now,
        now,
    )
    repo.workflow_runs[wf.id] = wf
    emit_workflow_run(fake, repo, wf, "requested", sender)
    check = fake.create_check_run(
        repo,
        fake.actions_app,
        sha,
        config.job_name,
        "queued",
        None,
        {},
        [],
        sender=sender,
        workflow=config.workflow_name,
        suite=suite,
    )
    job = repo.jobs[check.id]
    check.status, check.started_at = "in_progress", fake.clock.tick()
    job.steps = steps(config, check, phase="running")
    emit_workflow_run(fake, repo, wf, "in_progress", sender)
    run = ActionsRun(
        repo.full_name,
        config.workflow_name,
        config.job_name,
        branch,
        sha,
        config.command,
        wf.id,
        check.id,
        suite.id,
        sender.login,
    )
    fake.actions_runs.append(run)
    return run


def emit_workflow_run(fake: FakeGitHub, repo: Repo, wf: WorkflowRun, action: str, sender: User) -> None:
    fake.emit(
        repo,
        "workflow_run",
        action,
        sender,
        workflow_run=shapes.workflow_run(repo, wf),
        workflow=fake._workflow_shape(repo, wf),
    )


def checkout(repo: Repo, sha: str) -> dict[str, tuple[str, bytes]]:
    """The commit's files: path -> (git mode, content)."""
    return {
        path: (entry.mode, repo.git.blobs.get(entry.sha, b""))
        for path, entry in repo.git.flatten(repo.git.commits[sha].tree).items()
        if entry.mode != "160000"  # submodules are not checked out (no submodules: true)
    }


def finish(fake: FakeGitHub, run: ActionsRun, config: ActionsConfig, result: Result) -> None:
    """Publish a finished command: job log and steps, check run output and annotations, and the
    completion webhooks (check_run, check_suite, workflow_run)."""
    repo = fake.repo(run.repo)
    check = repo.check_runs[run.check_run_id]
    wf = repo.workflow_runs[run.workflow_run_id]
    if result.timed_out:
        conclusion = "cancelled"
        minutes = f"{config.timeout / 60:g}"
        message = (
            "The job running on runner GitHub Actions 1 has exceeded the maximum execution time of "
            f"{minutes} minutes."
        )
        error_line = "##[error]The operation was canceled."
    elif result.exit_code == 0:
        conclusion, message, error_line = "success", None, None
    else:
        conclusion = "failure"
        message = f"Process completed with exit code {result.exit_code}."
        error_line = f"##[error]{message}"
    output = _runner_paths(result.output, result.workspace, repo.name)
    lines = log_lines(fake, repo, config, run, output, error_line)
    end = fake.clock.tick(1 + len(lines) // 10_000)
    run.log = stamp_lines(lines, check.started_at, end)
    run.status, run.conclusion, run.exit_code = "completed", conclusion, result.exit_code
    run.output, run.timed_out, run.duration = result.output, result.timed_out, result.duration
    repo.jobs[check.id].log = run.log
    if message is not None:
        check.output = {"title": None, "summary": message}
        line = workflow_line(repo, wf, config)
        check.annotations.append(
            {
                "path": ".github",
                "start_line": line,
                "end_line": line,
                "start_column": None,
                "end_column": None,
                "annotation_level": "failure",
                "title": "",
                "message": message,
                "raw_details": "",
            }
        )
    fake.update_check_run(repo, check, {"conclusion": conclusion, "completed_at": shapes.ts(end)}, sender=wf.actor)
    repo.jobs[check.id].steps = steps(config, check, phase="done")


# -- running the command ----------------------------------------------------------------------
def execute(files: dict[str, tuple[str, bytes]], config: ActionsConfig, env: dict[str, str], name: str) -> Result:
    """Write ``files`` to a temporary checkout and run the command there (safe in a thread)."""
    with tempfile.TemporaryDirectory(prefix="fake-actions-") as tmp:
        workspace = os.path.join(tmp, "work", name, name)
        home, temp = os.path.join(tmp, "home"), os.path.join(tmp, "runner-temp")
        for d in (workspace, home, temp):
            os.makedirs(d)
        materialize(workspace, files)
        full_env = {
            "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": home,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TZ": "UTC",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            # A runner has only what the workflow installs (pytest), not this suite's pytest plugins.
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "RUNNER_TEMP": temp,
            "GITHUB_WORKSPACE": workspace,
            **env,
            **config.env,
        }
        if isinstance(config.command, str):
            argv = [shutil.which("bash") or "/bin/sh", "-e", "-c", config.command]
        else:
            argv = list(config.command)
            if argv and argv[0] in ("python", "python3"):
                argv[0] = sys.executable
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv,
                cwd=workspace,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except FileNotFoundError:
            return Result(127, f"bash: line 1: {argv[0]}: command not found\n", False, 0.0, workspace)
        try:
            out, _ = proc.communicate(timeout=config.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, _ = proc.communicate()
            timed_out = True
        duration = time.monotonic() - started
        text = out.decode("utf-8", errors="replace")
        return Result(None if timed_out else proc.returncode, text, timed_out, duration, workspace)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def materialize(root: str, files: dict[str, tuple[str, bytes]]) -> None:
    base = os.path.realpath(root)
    for path, (mode, data) in files.items():
        target = os.path.realpath(os.path.join(root, path))
        if not target.startswith(base + os.sep):
            raise ValueError(f"unsafe path in tree: {path!r}")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if mode == "120000":
            os.symlink(data.decode(), target)
            continue
        with open(target, "wb") as fh:
            fh.write(data)
        if mode == "100755":
            os.chmod(target, 0o755)


def job_env(fake: FakeGitHub, repo: Repo, run: ActionsRun) -> dict[str, str]:
    """What a hosted runner puts into a ``run`` step's environment (those that matter here)."""
    wf = repo.workflow_runs[run.workflow_run_id]
    return {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKFLOW": run.workflow_name,
        "GITHUB_WORKFLOW_REF": f"{repo.full_name}/{wf.path}@refs/heads/{run.branch}",
        "GITHUB_JOB": run.job_name,
        "GITHUB_RUN_ID": str(wf.id),
        "GITHUB_RUN_NUMBER": str(wf.run_number),
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_REF": f"refs/heads/{run.branch}",
        "GITHUB_REF_NAME": run.branch,
        "GITHUB_REF_TYPE": "branch",
        "GITHUB_SHA": run.head_sha,
        "GITHUB_REPOSITORY": repo.full_name,
        "GITHUB_REPOSITORY_OWNER": repo.owner.login,
        "GITHUB_ACTOR": run.actor,
        "GITHUB_TRIGGERING_ACTOR": run.actor,
        "GITHUB_SERVER_URL": shapes.WEB,
        "GITHUB_API_URL": shapes.API,
        "GITHUB_GRAPHQL_URL": f"{shapes.API}/graphql",
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64",
        "RUNNER_NAME": "GitHub Actions 1",
        "RUNNER_ENVIRONMENT": "github-hosted",
        "ImageOS": "ubuntu24",
    }


def _runner_paths(text: str, workspace: str, name: str) -> str:
    """Show the temporary checkout as the hosted runner's workspace."""
    runner = f"{RUNNER_WORK}/{name}/{name}"
    for path in {os.path.realpath(workspace), workspace}:
        text = text.replace(path, runner)
    return text


# -- the job log and steps ------------------------------------------------------------------
def log_lines(
    fake: FakeGitHub, repo: Repo, config: ActionsConfig, run: ActionsRun, output: str, error_line: str | None
) -> list[str]:
    """The job log's lines (without timestamps), laid out like a hosted runner's log."""
    full, branch, sha = repo.full_name, run.branch, run.head_sha
    workspace = f"{RUNNER_WORK}/{repo.name}/{repo.name}"
    out = output.replace("\r\n", "\n").split("\n")
    if out and out[-1] == "":
        out.pop()
    env_block = ["env:", *(f"  {k}: {v}" for k, v in config.env.items())] if config.env else []
    return [
        "Current runner version: '2.329.0'",
        "##[group]Runner Image Provisioner",
        "Hosted Compute Agent",
        "Version: 20251016.436",
        "##[endgroup]",
        "##[group]Operating System",
        "Ubuntu",
        "24.04.3",
        "LTS",
        "##[endgroup]",
        "##[group]Runner Image",
        "Image: ubuntu-24.04",
        "Version: 20251112.124.1",
        "##[endgroup]",
        "##[group]GITHUB_TOKEN Permissions",
        "Contents: read",
        "Metadata: read",
        "##[endgroup]",
        "Secret source: Actions",
        "Prepare workflow directory",
        "Prepare all required actions",
        "Getting action download info",
        f"Download action repository '{CHECKOUT}' (SHA:{CHECKOUT_SHA})",
        f"Complete job name: {config.job_name}",
        f"##[group]Run {CHECKOUT}",
        "with:",
        f"  repository: {full}",
        "  token: ***",
        "  ssh-strict: true",
        "  persist-credentials: true",
        "  clean: true",
        "  fetch-depth: 1",
        "##[endgroup]",
        f"Syncing repository: {full}",
        "##[group]Getting Git version info",
        f"Working directory is '{workspace}'",
        "[command]/usr/bin/git version",
        "git version 2.51.2",
        "##[endgroup]",
        "##[group]Fetching the repository",
        "[command]/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules "
        f"--depth=1 origin +{sha}:refs/remotes/origin/{branch}",
        f" * [new ref]         {sha} -> origin/{branch}",
        "##[endgroup]",
        "##[group]Checking out the ref",
        f"[command]/usr/bin/git checkout --progress --force -B {branch} refs/remotes/origin/{branch}",
        f"Switched to a new branch '{branch}'",
        f"branch '{branch}' set up to track 'origin/{branch}'.",
        "##[endgroup]",
        "[command]/usr/bin/git log -1 --format=%H",
        sha,
        f"##[group]Run {config.command_line}",
        config.command_line,
        "shell: /usr/bin/bash -e {0}",
        *env_block,
        "##[endgroup]",
        *out,
        *([error_line] if error_line else []),
        "Post job cleanup.",
        "[command]/usr/bin/git version",
        "git version 2.51.2",
        "[command]/usr/bin/git config --local --name-only --get-regexp core\\.sshCommand",
        "Cleaning up orphan processes",
    ]


def stamp(moment: datetime) -> str:
    """A job-log timestamp: ISO 8601 with seven fractional digits, e.g. 2026-01-05T12:00:01.0000000Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


def stamp_lines(lines: list[str], start: datetime, end: datetime) -> str:
    """Prefix each line with its timestamp (spread from ``start`` to ``end``); a UTF-8 BOM first,
    as in logs downloaded from GitHub."""
    step = (end - start) / max(len(lines), 1)
    body = "".join(f"{stamp(start + step * n)} {line}\n" for n, line in enumerate(lines))
    return "\ufeff" + body


def steps(config: ActionsConfig, check: CheckRun, phase: str) -> list[dict[str, Any]]:
    """The job's steps as the REST API lists them, while the command runs or once it is done."""
    start, end = shapes.ts(check.started_at), shapes.ts(check.completed_at)
    done = phase == "done"
    names = ["Set up job", f"Run {CHECKOUT}", f"Run {config.command_line}", f"Post Run {CHECKOUT}", "Complete job"]
    out = []
    for number, name in enumerate(names, 1):
        if number <= 2:
            state = ("completed", "success", start, start)
        elif number == 3:
            state = ("completed", check.conclusion, start, end) if done else ("in_progress", None, start, None)
        else:
            state = ("completed", "success", end, end) if done else ("queued", None, None, None)
        status, conclusion, started_at, completed_at = state
        out.append(
            {
                "name": name,
                "status": status,
                "conclusion": conclusion,
                "number": number,
                "started_at": started_at,
                "completed_at": completed_at,
            }
        )
    return out


def workflow_line(repo: Repo, wf: WorkflowRun, config: ActionsConfig) -> int:
    """The line of the step in the workflow file (where Actions anchors the exit-code annotation),
    when the commit has the file; else 1."""
    path_entry = repo.git.flatten(repo.git.commits[wf.head_sha].tree).get(wf.path)
    if path_entry is None:
        return 1
    lines = repo.git.blobs[path_entry.sha].decode(errors="replace").splitlines()
    runs = [n for n, text in enumerate(lines, 1) if re.match(r"\s*(-\s*)?run:", text)]
    exact = [n for n in runs if config.command_line in lines[n - 1]]
    return (exact or runs or [1])[0]
