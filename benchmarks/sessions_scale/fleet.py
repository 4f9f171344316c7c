"""What the sessions_scale, chaos and restart benchmarks share: the bot scaled out (`serve --no-worker`
and `worker` processes on one PostgreSQL database), or the default single process (`serve` on a SQLite
file, `sqlite_file`), against the fake GitHub and a fake Claude, both served over real HTTP from this
process, as tests/jobs/test_processes.py does it, made to carry hundreds of sessions at once.

Everything of the fakes runs on this process's one event loop (the two uvicorn servers, the webhook
pump, the CI that answers each new head commit), so the fakes' state is only ever touched from one
thread. The webhooks the fake GitHub queues are delivered by a pump, signed, round-robin to the web
processes, as GitHub's Hookshot does: asynchronously, a few at a time, never inside the API call that
caused them.

Claude is tests/fakes/anthropic.py's FakeAnthropic, answering from the request itself (a `turn_fn`
that reads the component from the prompt): the first call of a step creates the component's file,
the call after the tool result ends the step. Every `/v1/messages` request is held `latency` seconds
by an ASGI wrapper (`await asyncio.sleep`: the other requests go on meanwhile) before the fake
answers it; the Claude fake notes when each request arrived, and for which component (`arrivals`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx
import psycopg
import uvicorn
from githubkit.webhooks import sign

from tests.fakes.anthropic import FakeAnthropic, Turn, tool_use_block
from tests.fakes.github import LOGS_HOST, FakeGitHub
from tests.harness import commit_writes, commits_on, status_comments
from tests.webhook_helpers import FIXTURES

SECRET = "bench-fleet-webhook-secret-5a1"
PASSING_LOG = (FIXTURES / "logs" / "pytest_rA_passing.log").read_text()
FAILING_LOG = (FIXTURES / "logs" / "pytest_rA_base_failure.log").read_text()
TRIGGER = "implement-component"
MAINTAINER = "maria"
COMPONENT = re.compile(r"tests/test_(comp\d+)\.py")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432"


# ----------------------------------------------------------------------------- the fake repositories


def component(index: int) -> str:
    return f"comp{index:04d}"


def issue_body(name: str) -> str:
    return f"### Component\n\n{name.capitalize()}\n\n### Design file\n\ndocs/{name}.md\n\n### Test file\n\ntests/test_{name}.py\n"


def impl(name: str, version: int = 1) -> str:
    cls = name.capitalize()
    return (f"class {cls}:\n    \"\"\"{cls}, version {version}.\"\"\"\n\n    def __init__(self):\n        self._items = []\n\n"
            f"    def push(self, x):\n        self._items.append(x)\n\n    def pop(self):\n        return self._items.pop()\n")


def check_log(log: str, name: str) -> str:
    """A fixture log with its component test file renamed to this component's."""
    return log.replace("tests/test_stack.py", f"tests/test_{name}.py").replace("tests/test_db.py", f"tests/test_{name}.py")


@dataclass
class Target:
    """One session to be: an issue in a repository, naming its own component."""

    repo: str
    number: int
    name: str


def make_github(sessions: int, repos: int, *, validate: bool) -> tuple[FakeGitHub, list[Target]]:
    """`repos` repositories (one installation each), the sessions spread evenly over them; each issue
    names its own component, design file and test file (so every branch and file differs)."""
    github = FakeGitHub(validate_responses=validate)
    per_repo = -(-sessions // repos)
    targets: list[Target] = []
    index = itertools.count(1)
    for r in range(repos):
        names = [component(next(index)) for _ in range(per_repo)][: max(0, sessions - len(targets))]
        if not names:
            break
        files: dict[str, str] = {"README.md": "# widgets\n", "widgets/__init__.py": ""}
        for name in names:
            files[f"docs/{name}.md"] = f"# {name.capitalize()}\n\nA LIFO stack: push, pop. pop on empty raises IndexError.\n"
            files[f"tests/test_{name}.py"] = (f"from widgets.{name} import {name.capitalize()}\n\n\ndef test_push_pop():\n"
                                              f"    s = {name.capitalize()}()\n    s.push(1)\n    assert s.pop() == 1\n")
        full_name = f"org-{r + 1:03d}/widgets"
        github.add_repo(full_name, files=files, installation_id=10_000 + r, owner_type="Organization")
        github.set_permission(full_name, MAINTAINER, "write")
        for name in names:
            issue = github.add_issue(full_name, f"Implement {name}", issue_body(name), user=MAINTAINER)
            targets.append(Target(full_name, issue.number, name))
    return github, targets


# ----------------------------------------------------------------------------- the fake Claude


def asked_component(body: dict[str, Any]) -> str:
    """The component a request is about (its prompt names the component's test file)."""
    found = COMPONENT.search(json.dumps(body["messages"][0]))
    return found.group(1) if found else "unknown"


def answers_tool_result(body: dict[str, Any]) -> bool:
    """Whether the request carries a tool's result: the step's second call, not its first."""
    last = body["messages"][-1]
    content = last.get("content") if isinstance(last.get("content"), list) else []
    return any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)


def respond(body: dict[str, Any]) -> Turn:
    """The model's answer, from the request alone: whichever session and step asks, in any order."""
    if answers_tool_result(body):
        return Turn.build(text="Done: the component is implemented.")
    name = asked_component(body)
    version = 2 if "fix the failing tests" in json.dumps(body["messages"][0]) else 1
    edit = tool_use_block("str_replace_based_edit_tool",
                          {"command": "create", "path": f"widgets/{name}.py", "file_text": impl(name, version)})
    return Turn.build([edit], text="Writing it.", stop_reason="tool_use")


@dataclass
class Arrival:
    """One `/v1/messages` request, as it reached the fake Claude."""

    at: float  # wall time it arrived
    component: str
    first_call: bool  # the step's first call (not the one after the tool result)
    answered: float | None = None  # wall time the fake answered it (the client may be gone by then)


async def read_body(receive: Callable) -> tuple[bytes, Callable]:
    """The request's body, and a `receive` that gives it again to the app behind."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> dict:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


class Claude:
    """FakeAnthropic answering by `respond`, each `/v1/messages` held `latency` seconds first."""

    def __init__(self, latency: float) -> None:
        self.fake = FakeAnthropic()
        self.latency = latency
        self.in_flight = 0
        self.peak_in_flight = 0
        self.arrivals: list[Arrival] = []
        self._refill()

    def _refill(self, count: int = 2000) -> None:
        for _ in range(count):
            self.fake.turn_fn(respond)

    async def app(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/messages":
            arrival = Arrival(time.time(), "unknown", first_call=True)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                body, receive = await read_body(receive)
                with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
                    request = json.loads(body)
                    arrival.component, arrival.first_call = asked_component(request), not answers_tool_result(request)
                self.arrivals.append(arrival)
                if self.latency:
                    await asyncio.sleep(self.latency)
                if self.fake.remaining < 500:
                    self._refill()
                await self.fake.app(scope, receive, send)
            finally:
                arrival.answered = time.time()
                self.in_flight -= 1
            return
        await self.fake.app(scope, receive, send)

    @property
    def calls(self) -> int:
        return len(self.fake.message_requests)

    def waiting(self, at: float) -> list[Arrival]:
        """The requests that had arrived and were not answered yet at wall time `at`."""
        return [a for a in self.arrivals if a.at <= at and (a.answered is None or a.answered > at)]


# ----------------------------------------------------------------------------- serving, in this loop


class _Server(uvicorn.Server):
    """uvicorn on the running loop, leaving this process's signals alone."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def serving(app: Any):
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning",
                                    lifespan="off", backlog=4096, timeout_keep_alive=60, interface="asgi3"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)


# ----------------------------------------------------------------------------- the database


def reset_database(name: str, server: str = DEFAULT_PG) -> str:
    """A fresh, empty database `name` (never `test`, which the test suite owns); its SQLAlchemy URL."""
    if name in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to use the database {name!r}")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.replace("postgresql://", "postgresql+psycopg://") + f"/{name}"


def libpq(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def reset_sqlite(path: Path) -> str:
    """A fresh SQLite file at `path` (none there yet, nor its WAL); its SQLAlchemy URL."""
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    return f"sqlite+aiosqlite:///{path.resolve()}"


def as_utc(value: datetime | str) -> datetime:
    """A timestamp as PostgreSQL (aware or naive) or SQLite (ISO text, UTC) returns it."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ----------------------------------------------------------------------------- /proc


def proc_cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def proc_rss(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) in bytes: now, and the process's peak."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    try:
        return int(values["VmRSS"].split()[0]) * 1024, int(values["VmHWM"].split()[0]) * 1024
    except KeyError:
        return None


def postgres_backends(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to `database` (its title names the database)."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres:") and f" {database} " in title:
                cpu = proc_cpu_seconds(int(entry.name))
                if cpu is not None:
                    found[int(entry.name)] = cpu
    return found


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (every process, ours and others'), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ----------------------------------------------------------------------------- the bot's processes


@dataclass
class Proc:
    name: str
    role: str  # web | worker
    popen: subprocess.Popen
    started: float
    peak_rss: int = 0
    last_cpu: float = 0.0
    ended: float | None = None
    killed: bool = False
    worker_id: int | None = None  # Procrastinate's id of a worker process, once it registered

    @property
    def pid(self) -> int:
        return self.popen.pid

    def sample(self) -> None:
        rss = proc_rss(self.pid)
        if rss is not None:
            self.peak_rss = max(self.peak_rss, rss[0], rss[1])
        cpu = proc_cpu_seconds(self.pid)
        if cpu is not None:
            self.last_cpu = cpu


@dataclass
class Fleet:
    """The fakes, the bot's processes and the pump between them. Use `async with Fleet(...)`."""

    sessions: int
    repos: int
    workdir: Path
    database: str = "bench_fleet"
    """The PostgreSQL database, created afresh (unless `sqlite_file`)."""
    sqlite_file: Path | None = None
    """The bot's database is this SQLite file instead, created afresh: the default one-process deployment,
    `serve` recording and running the sessions itself (start it with `web(..., runs_sessions=True)`)."""
    launcher: tuple[str, ...] = ()
    """A command the bot's processes are started under (e.g. `unshare --pid …`: each its own PID namespace)."""
    latency: float = 2.0
    concurrency: int = 50
    validate: bool = False
    red_first: bool = False
    """The first commit of each branch gets a failing check (the session fixes it once), later ones pass."""
    log_level: str = "INFO"
    deliver_concurrency: int = 16
    procs: list[Proc] = field(default_factory=list)
    web_urls: list[str] = field(default_factory=list)
    deliveries_sent: int = 0
    deliveries_failed: int = 0
    refused: Counter = field(default_factory=Counter)
    """Delivery attempts not accepted (then retried), by status code or the error's name."""
    checks_added: int = 0
    events: Counter = field(default_factory=Counter)

    async def __aenter__(self) -> Fleet:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.database_url = reset_sqlite(self.sqlite_file) if self.sqlite_file else reset_database(self.database)
        self.github, self.targets = make_github(self.sessions, self.repos, validate=self.validate)
        self.github.pending_webhooks.clear()  # the issues were opened before the app looked: no one is waiting
        self.claude = Claude(self.latency)
        self._stack = contextlib.AsyncExitStack()
        self.github_url = await self._stack.enter_async_context(serving(self.github.app))
        self.github.logs_base_url = self.github_url
        self.claude_url = await self._stack.enter_async_context(serving(self.claude.app))
        self.http = await self._stack.enter_async_context(httpx.AsyncClient(
            timeout=60, limits=httpx.Limits(max_connections=64, max_keepalive_connections=64)))
        self.env = {**os.environ, "APP_ID": str(self.github.app_id),
                    "PRIVATE_KEY": self.github.private_key_pem.replace("\n", "\\n"), "WEBHOOK_SECRET": SECRET,
                    "GITHUB_API_URL": self.github_url, "ANTHROPIC_API_KEY": "sk-ant-bench-key-000",
                    "ANTHROPIC_BASE_URL": self.claude_url, "DATABASE_URL": self.database_url, "LOG_FORMAT": "json",
                    "LOG_LEVEL": self.log_level, "WORKER_CONCURRENCY": str(self.concurrency)}
        migrate = subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], env=self.env, cwd=self.workdir,
                                 capture_output=True, text=True, check=False)
        if migrate.returncode:
            raise RuntimeError(f"migrate failed: {migrate.stdout}{migrate.stderr}")
        self.pg = None if self.sqlite_file else await psycopg.AsyncConnection.connect(
            libpq(self.database_url), autocommit=True)
        if self.pg is not None:
            self._stack.push_async_callback(self.pg.close)
        self._cycle = None
        self._seen_heads: set[tuple[str, str]] = set()
        self._names = {(t.repo, str(t.number)): t.name for t in self.targets}
        self._tasks = [asyncio.create_task(self._pump()), asyncio.create_task(self._ci()),
                       asyncio.create_task(self._sampler())]
        self._deliver_slots = asyncio.Semaphore(self.deliver_concurrency)
        self._delivering: set[asyncio.Task] = set()
        self._pg_cpu: dict[int, float] = {}
        self._cpu_start = self.cpu_snapshot()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.sample()
        await self.stop_all()
        pending = [*self._tasks, *self._delivering]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self._stack.aclose()

    # ----- processes

    def _spawn(self, name: str, role: str, *args: str) -> Proc:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - the child holds it
        popen = subprocess.Popen([*self.launcher, sys.executable, "-m", "bot.cli", *args], env=self.env, cwd=self.workdir,
                                 stdout=log, stderr=subprocess.STDOUT)
        log.close()
        proc = Proc(name, role, popen, time.monotonic())
        self.procs.append(proc)
        return proc

    async def web(self, name: str, *, runs_sessions: bool = False, port: int | None = None) -> Proc:
        """A `serve` process, once its /healthz answers: `--no-worker` unless `runs_sessions` (on SQLite it
        runs them itself). `port`: a port an earlier one served on (a restart), or a free one."""
        port = port or free_port()
        mode = () if runs_sessions else ("--no-worker",)
        proc = self._spawn(name, "web", "serve", *mode, "--host", "127.0.0.1", "--port", str(port))
        url = f"http://127.0.0.1:{port}"
        await self._until(lambda: self._healthy(url), 60, f"{name} /healthz")
        if url not in self.web_urls:
            self.web_urls.append(url)
            self._cycle = itertools.cycle(self.web_urls)
        return proc

    async def worker(self, name: str, *, wait: bool = True) -> Proc:
        """A worker process; with `wait`, until it has registered with Procrastinate (its id known)."""
        before = await self._worker_ids()
        proc = self._spawn(name, "worker", "worker", "--concurrency", str(self.concurrency))
        if wait:
            async def registered() -> bool:
                new = await self._worker_ids() - before - {p.worker_id for p in self.procs}
                if new:
                    proc.worker_id = max(new)
                return proc.worker_id is not None
            await self._until(registered, 60, f"{name} registered")
        return proc

    async def _worker_ids(self) -> set[int]:
        rows = await (await self.pg.execute("SELECT id FROM procrastinate_workers")).fetchall()
        return {r[0] for r in rows}

    def kill(self, proc: Proc) -> float:
        proc.sample()
        os.kill(proc.pid, signal.SIGKILL)
        killed_at = time.time()
        proc.popen.wait()
        proc.killed, proc.ended = True, time.monotonic()
        return killed_at

    async def stop_all(self) -> None:
        live = [p for p in self.procs if p.popen.poll() is None]
        for proc in live:
            proc.sample()
            proc.popen.terminate()
        deadline = time.monotonic() + 40
        for proc in live:
            while proc.popen.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            if proc.popen.poll() is None:
                proc.popen.kill()
                proc.popen.wait()
            proc.ended = proc.ended or time.monotonic()

    async def _healthy(self, url: str) -> bool:
        try:
            return (await self.http.get(f"{url}/healthz", timeout=2)).status_code == 200
        except httpx.HTTPError:
            return False

    @staticmethod
    async def _until(predicate: Callable, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"timed out waiting for {what}")

    # ----- driving

    def label_all(self) -> float:
        """Label every issue at once; the pump delivers the `issues.labeled` webhooks. Returns the wall time."""
        for target in self.targets:
            self.github.label_issue(target.repo, target.number, TRIGGER, by=MAINTAINER)
        return time.time()

    async def _pump(self) -> None:
        """GitHub's Hookshot: deliver what the fake queued, in order, a few at a time, round-robin."""
        while True:
            if not self.github.pending_webhooks or self._cycle is None:
                await asyncio.sleep(0.01)
                continue
            batch = list(self.github.pending_webhooks)
            self.github.pending_webhooks.clear()
            for delivery in batch:
                await self._deliver_slots.acquire()
                task = asyncio.create_task(self._deliver(delivery, next(self._cycle)))
                self._delivering.add(task)
                task.add_done_callback(self._delivering.discard)

    async def _deliver(self, delivery: Any, url: str) -> None:
        body = json.dumps(delivery.payload).encode()
        headers = {"X-GitHub-Event": delivery.event, "X-GitHub-Delivery": delivery.guid,
                   "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/bench",
                   "X-Hub-Signature-256": sign(SECRET, body, "sha256")}
        try:
            for attempt in range(5):  # a web process not up yet, or being restarted: ~7 s of retries
                try:
                    response = await self.http.post(f"{url}/api/github/webhooks", content=body, headers=headers)
                    delivery.status_code = response.status_code
                    if response.status_code in (200, 202):
                        self.deliveries_sent += 1
                        self.events[f"{delivery.event}.{delivery.action}" if delivery.action else delivery.event] += 1
                        return
                    self.refused[str(response.status_code)] += 1
                except httpx.HTTPError as exc:
                    self.refused[type(exc).__name__] += 1
                await asyncio.sleep(0.5 * (attempt + 1))
            self.deliveries_failed += 1
        finally:
            self.github.deliveries.append(delivery)
            self._deliver_slots.release()

    async def _ci(self) -> None:
        """GitHub Actions: a `test` check run on each new head of a bot pull request, at once."""
        while True:
            await asyncio.sleep(0.2)
            for repo in {t.repo for t in self.targets}:
                state = self.github.repo(repo)
                for pull in list(state.pulls.values()):
                    head = state.branches.get(pull.head_ref)
                    if head is None or (repo, head) in self._seen_heads:
                        continue
                    self._seen_heads.add((repo, head))
                    name = self._names.get((repo, pull.head_ref.split("/", 1)[-1].split("-", 1)[0]), "unknown")
                    red = self.red_first and len(commits_on(self.github, pull.head_ref, repo)) == 1
                    log = check_log(FAILING_LOG if red else PASSING_LOG, name)
                    self.github.add_check_run(repo, head, "test", "completed", "failure" if red else "success", log=log)
                    self.checks_added += 1

    async def _sampler(self) -> None:
        tick = 0
        while True:
            for proc in self.procs:
                if proc.popen.poll() is None:
                    proc.sample()
            if tick % 4 == 0 and self.pg is not None:
                self._pg_cpu.update(postgres_backends(self.database))
            tick += 1
            await asyncio.sleep(0.5)

    # ----- observing

    async def query(self, sql: str) -> list[tuple]:
        """The rows of a query (no parameters) on the bot's database, PostgreSQL or SQLite."""
        if self.pg is not None:
            return await (await self.pg.execute(sql)).fetchall()
        with contextlib.closing(sqlite3.connect(self.sqlite_file, timeout=10)) as conn:
            return conn.execute(sql).fetchall()

    async def statuses(self) -> Counter:
        return Counter(dict(await self.query("SELECT status, count(*) FROM sessions GROUP BY status")))

    async def jobs(self) -> Counter:
        rows = await (await self.pg.execute(
            "SELECT task_name || ':' || status, count(*) FROM procrastinate_jobs GROUP BY 1")).fetchall()
        return Counter(dict(rows))

    async def job_load(self) -> dict[str, int]:
        """Jobs running, and jobs due now and waiting (a timer not yet due is not counted), by task."""
        rows = await (await self.pg.execute(
            "SELECT task_name, count(*) FILTER (WHERE status = 'doing'), count(*) FILTER (WHERE status = 'todo' "
            "AND (scheduled_at IS NULL OR scheduled_at <= now())) FROM procrastinate_jobs "
            "WHERE task_name IN ('run_session', 'process_delivery') GROUP BY task_name")).fetchall()
        load = {f"{task} {kind}": 0 for task in ("run_session", "process_delivery") for kind in ("running", "due")}
        for task, running, due in rows:
            load[f"{task} running"], load[f"{task} due"] = running, due
        return load

    async def finish_times(self) -> list[datetime]:
        """When each session reached awaiting_review (its last update)."""
        rows = await self.query("SELECT updated_at FROM sessions WHERE status = 'awaiting_review' ORDER BY updated_at")
        return [as_utc(r[0]) for r in rows]

    def cpu_snapshot(self) -> dict[str, float]:
        return {"driver (fakes + pump)": own_cpu_seconds(), "machine busy": machine_busy_seconds()}

    def cpu_used(self) -> dict[str, float]:
        """CPU seconds since the fleet started: ours by part, and what the rest of the machine used."""
        now = self.cpu_snapshot()
        used = {"driver (fakes + pump)": now["driver (fakes + pump)"] - self._cpu_start["driver (fakes + pump)"]}
        used["postgres (this database's backends)"] = sum(self._pg_cpu.values())
        for role in ("web", "worker"):
            used[f"{role} processes"] = sum(p.last_cpu for p in self.procs if p.role == role)
        busy = now["machine busy"] - self._cpu_start["machine busy"]
        used["everything else on the machine"] = max(0.0, busy - sum(used.values()))
        return used

    def github_calls(self) -> Counter:
        """The bot's calls to the fake GitHub by operation (a job log's blob download is not an API call)."""
        counts: Counter = Counter()
        for call in self.github.calls:
            if call.host == LOGS_HOST or call.path.startswith("/actions-results/"):
                continue
            counts[operation(self.github, call)] += 1
        return counts

    def duplicates(self) -> dict[str, Any]:
        """What the fake holds, per issue. `duplicates`: anything done twice (branches, PRs, commits
        beyond the expected, status comments, the bot's comments on the issue or PR, the bot's check
        runs per commit). `incomplete`: anything not done (no PR, a draft, fewer commits, the state
        label not `component:ready`). Also how many commits the bot asked GitHub for."""
        expected_commits = 2 if self.red_first else 1
        duplicates: list[str] = []
        incomplete: list[str] = []
        # commit_writes counts the GraphQL commits of every repository, and the REST ones of one
        rest = sum(len(self.github.calls_to("POST", f"/repos/{repo}/git/commits")) for repo in {t.repo for t in self.targets})
        writes = commit_writes(self.github, self.targets[0].repo) - len(
            self.github.calls_to("POST", f"/repos/{self.targets[0].repo}/git/commits")) + rest
        for target in self.targets:
            where = f"{target.repo}#{target.number}"
            state = self.github.repo(target.repo)
            pulls = [p for p in state.pulls.values() if p.head_ref.startswith(f"component-bot/{target.number}-")]
            branches = [b for b in state.branches if b.startswith(f"component-bot/{target.number}-")]
            statuses = status_comments(self.github, target.number, target.repo)
            bot_comments = [c for c in state.comments.get(target.number, []) if c.user.login == self.github.bot.login]
            (duplicates if len(branches) > 1 else incomplete if not branches else []).append(
                f"{where}: {len(branches)} branches {branches}")
            (duplicates if len(pulls) > 1 else incomplete if not pulls else []).append(
                f"{where}: {len(pulls)} pull requests")
            for pull in pulls:
                commits = commits_on(self.github, pull.head_ref, target.repo)
                if len(commits) != expected_commits:
                    (duplicates if len(commits) > expected_commits else incomplete).append(
                        f"{where}: {len(commits)} commits on {pull.head_ref}")
                for sha in commits:
                    ours = [r for r in state.check_runs.values() if r.head_sha == sha and r.app is self.github.gh_app]
                    if len(ours) > 1:
                        duplicates.append(f"{where}: {len(ours)} bot check runs on {sha[:7]}")
                pr_comments = [c for c in state.comments.get(pull.number, []) if c.user.login == self.github.bot.login]
                if pr_comments:
                    duplicates.append(f"{where}: {len(pr_comments)} bot comments on PR #{pull.number}")
                if pull.draft:
                    incomplete.append(f"{where}: PR #{pull.number} still a draft")
            states = [n for n in state.issues[target.number].labels if n.lower().startswith("component:")]
            if states != ["component:ready"]:
                (duplicates if len(states) > 1 else incomplete).append(f"{where}: state labels {states}")
            if len(statuses) != 1:
                (duplicates if len(statuses) > 1 else incomplete).append(f"{where}: {len(statuses)} status comments")
            if len(bot_comments) > 1:
                duplicates.append(f"{where}: {len(bot_comments)} bot comments on the issue")
        return {"duplicates": duplicates, "incomplete": incomplete, "problems": duplicates + incomplete,
                "commit_writes": writes, "expected_commit_writes": expected_commits * len(self.targets)}


GRAPHQL_FIELD = re.compile(r"^\s*(?:query|mutation)?[^{]*\{\s*(\w+)", re.DOTALL)


def operation(github: FakeGitHub, call: Any) -> str:
    if call.method == "POST" and call.path == "/graphql":
        query = str((call.json or {}).get("query", ""))
        kind = "mutation" if query.lstrip().startswith("mutation") else "query"
        fields = sorted(set(re.findall(r"\b(create\w+|update\w+|add\w+|remove\w+|mark\w+|repository|node|nodes)\s*\(",
                                       query)))
        return f"graphql {kind} {'+'.join(fields)}"
    matched = github.spec.match(call.method, call.path)
    return matched[0].operation_id if matched else f"{call.method} {call.path}"


async def wait_for_quiet(max_load: float, patience: float) -> float:
    """Wait (at most `patience` s) until the machine's 1-minute load average is under `max_load`:
    other work on a shared machine takes CPU from the run. Returns the load average at the start."""
    deadline = time.monotonic() + patience
    while os.getloadavg()[0] >= max_load and time.monotonic() < deadline:
        print(f"  load average {os.getloadavg()[0]:.1f} >= {max_load}: waiting for a quieter machine", flush=True)
        await asyncio.sleep(15)
    return os.getloadavg()[0]


def mib(value: float) -> str:
    return f"{value / 2**20:.0f} MiB"
