"""Webhook ingest benchmark: component-bot (SQLite, PostgreSQL) against a minimal Probot 14 app.

For each target: start the server, warm it up, offer signed `issues.labeled` deliveries at a fixed
rate (open loop), then at maximum speed (closed loop), stop the server and count what was durably
recorded (and, on PostgreSQL, queued). Prints a table and writes it to results.md. See README.md
beside this file.

Targets, all measured in the same run by default:
  sqlite            `serve` on SQLite: one process records and processes (it cannot have more)
  postgres          `serve --no-worker` on PostgreSQL, one process: records each delivery and queues its job
  postgres-workers  the same with `--workers N` (uvicorn's worker processes sharing the port)
  probot            the Probot app, one Node process
  probot-cluster    the same app in N node:cluster workers
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "webhooks" / "issues.labeled.json"
PROBOT_DIR = HERE / "probot"
LOADGEN = HERE / "loadgen.py"
TRIGGER_LABEL = "implement-component"


# ---------------------------------------------------------------- helpers


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_text(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine_info(bot: str) -> dict[str, str]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    bot_python = Path(bot).resolve().parent / "python"
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": run_text([str(bot_python) if bot_python.exists() else sys.executable, "--version"]),
        "node": run_text(["node", "--version"]),
        "probot": probot_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgres": run_text(["psql", "--version"]),
        "git": run_text(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
    }


def probot_version() -> str:
    with contextlib.suppress(OSError, ValueError):
        return json.loads((PROBOT_DIR / "node_modules" / "probot" / "package.json").read_text())["version"]
    return "?"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering /healthz")
        with contextlib.suppress(OSError, urllib.error.URLError):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        time.sleep(0.2)
    raise RuntimeError(f"no healthy answer on port {port} within {timeout:.0f}s")


def stop(proc: subprocess.Popen, timeout: float = 30.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log(f"server {proc.pid} did not stop within {timeout:.0f}s; killing it")
        proc.kill()
        proc.wait(timeout=10)


class CpuMeter:
    """Where the machine's CPU went between two points: the server process, PostgreSQL's
    processes, the load generator, and everything else (other tenants of the machine)."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.t0 = time.monotonic()
        self.machine0 = self._machine()
        self.procs0 = self._processes()

    @staticmethod
    def _machine() -> float:
        parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        # user + nice + system + irq + softirq (not idle, iowait or steal), seconds over all CPUs
        return (parts[0] + parts[1] + parts[2] + parts[5] + parts[6]) / CpuMeter.TICK

    @staticmethod
    def _processes() -> dict[int, tuple[str, float, int]]:
        out = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                raw = Path(f"/proc/{entry.name}/stat").read_text()
                comm = raw[raw.index("(") + 1: raw.rindex(")")]
                fields = raw.rsplit(")", 1)[1].split()
                if comm.startswith("python"):
                    cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
                    if b"loadgen.py" in cmdline:
                        comm = "loadgen"
                used = int(fields[11]) + int(fields[12])
                if comm == "postgres":
                    # + reaped children: the postmaster collects the CPU time of backends that
                    # exited (SQLAlchemy's overflow connections come and go under load)
                    used += int(fields[13]) + int(fields[14])
                out[int(entry.name)] = (comm, used / CpuMeter.TICK, int(fields[1]))
            except (OSError, ValueError, IndexError):
                continue
        return out

    def read(self) -> dict[str, float]:
        wall = max(time.monotonic() - self.t0, 1e-9)
        machine = self._machine() - self.machine0
        groups = {"server": 0.0, "postgres": 0.0, "loadgen": 0.0}
        procs = self._processes()
        server = {self.pid} if self.pid is not None else set()
        grew = True
        while grew:  # the server's worker processes, if any
            grew = False
            for pid, (_, _, ppid) in procs.items():
                if ppid in server and pid not in server:
                    server.add(pid)
                    grew = True
        for pid, (comm, cpu, _) in procs.items():
            used = cpu - self.procs0[pid][1] if pid in self.procs0 else cpu
            if pid in server:
                groups["server"] += used
            elif comm == "postgres":
                groups["postgres"] += used
            elif comm == "loadgen":
                groups["loadgen"] += used
        pct = {k: round(v / wall * 100, 1) for k, v in groups.items()}
        machine_pct = machine / wall * 100
        return {"server_cpu_pct": pct["server"], "postgres_cpu_pct": pct["postgres"],
                "loadgen_cpu_pct": pct["loadgen"], "machine_cpu_pct": round(machine_pct, 1),
                "other_cpu_pct": round(max(0.0, machine_pct - sum(pct.values())), 1)}


# ---------------------------------------------------------------- targets


@dataclass
class Target:
    name: str          # table row
    kind: str          # sqlite | postgres | probot
    processes: int = 1  # web processes (uvicorn --workers N, node:cluster workers)
    port: int = 0
    proc: subprocess.Popen | None = None
    expect_status: int = 202
    db_url: str | None = None
    log_path: Path | None = None
    phases: dict[str, dict] = field(default_factory=dict)
    total_rows: int | None = None
    outcomes: dict[str, int] = field(default_factory=dict)
    note: str = ""
    background_cpu: float = 0.0
    pg_sessions: int | None = None
    total_jobs: int | None = None
    host_speed_ms: float = 0.0


def pg_admin_url(db_url: str) -> tuple[str, str]:
    """(URL of the maintenance database, name of the benchmark database) for a postgresql:// URL."""
    base, _, name = db_url.rpartition("/")
    name = name.split("?")[0]
    if name in ("", "test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to use database {name!r} for the benchmark: name a scratch one, e.g. /bench")
    return base.replace("postgresql+psycopg://", "postgresql://") + "/postgres", name


def pg_recreate(db_url: str) -> None:
    import psycopg

    admin, name = pg_admin_url(db_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def query(target: Target, sql: str, params: tuple = ()) -> list[tuple]:
    """Run one query on a fresh connection (`?` placeholders)."""
    if target.kind == "sqlite":
        path = target.db_url.split(":///", 1)[1]
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
            return conn.execute(sql, params).fetchall()
    import psycopg

    with psycopg.connect(target.db_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute(sql.replace("?", "%s"), params).fetchall()


def count_rows(target: Target) -> int:
    return query(target, "SELECT count(*) FROM deliveries")[0][0]


def check_phase_rows(target: Target, phase: dict) -> None:
    """Rows recorded for the phase's delivery ids, and whether every 202 answer is among them."""
    recorded = {row[0] for row in query(target, "SELECT delivery_id FROM deliveries WHERE delivery_id LIKE ?",
                                        (phase["prefix"] + "%",))}
    acked = Path(phase["acked_file"]).read_text().split()
    phase["rows"] = len(recorded)
    phase["acked_missing"] = sum(1 for d in acked if d not in recorded)


def check_phase_jobs(target: Target, phase: dict) -> None:
    """PostgreSQL: the `process_delivery` jobs queued for the phase's deliveries, and whether every
    202 has its job (exactly one each: a delivery is queued in the transaction that records it)."""
    rows = query(target, "SELECT args->>'delivery_id' FROM procrastinate_jobs WHERE task_name = 'process_delivery' "
                         "AND args->>'delivery_id' LIKE ?", (phase["prefix"] + "%",))
    queued = [row[0] for row in rows]
    acked = Path(phase["acked_file"]).read_text().split()
    phase["jobs"] = len(queued)
    phase["jobs_duplicated"] = len(queued) - len(set(queued))
    phase["jobs_missing"] = len(set(acked) - set(queued))


def processes_deliveries(target: Target) -> bool:
    """Whether the server processes what it records (SQLite); `serve --no-worker` only queues it."""
    return target.kind == "sqlite"


def count_outcomes(target: Target) -> dict[str, int]:
    return dict(query(target, "SELECT outcome, count(*) FROM deliveries GROUP BY outcome"))


def start_target(target: Target, args: argparse.Namespace, workdir: Path, env_base: dict[str, str]) -> None:
    target.port = free_port()
    env = dict(os.environ)
    env.update(env_base)
    target.log_path = workdir / f"{target.kind}.log"
    if target.kind == "probot":
        env.update({"PORT": str(target.port), "HOST": "127.0.0.1", "LOG_LEVEL": "warn", "NODE_ENV": "production",
                    "WORKERS": str(target.processes)})
        cmd = ["node", str(PROBOT_DIR / ("cluster.mjs" if target.processes > 1 else "server.mjs"))]
        target.expect_status = 200  # Probot answers 200 "ok" once its handlers ran
    else:
        if target.kind == "sqlite":
            target.db_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        else:
            target.db_url = args.pg_url
            pg_recreate(target.db_url)
        env["DATABASE_URL"] = target.db_url
        env["LOG_LEVEL"] = "WARNING"
        # Nothing in this workload calls GitHub or Claude (the fixture has no installation), and
        # nothing may leave the machine if something did: point both at a closed loopback port.
        env["GITHUB_API_URL"] = "http://127.0.0.1:9"
        env["ANTHROPIC_BASE_URL"] = "http://127.0.0.1:9"
        for item in args.server_env:
            key, _, value = item.partition("=")
            env[key] = value
        cmd = [args.bot, "serve", "--host", "127.0.0.1", "--port", str(target.port), *args.serve_arg]
        if target.kind == "postgres":
            cmd.append("--no-worker")  # the web side only: record, queue, answer (workers run elsewhere)
        if target.processes > 1:
            cmd += ["--workers", str(target.processes)]
    with open(target.log_path, "wb") as out:
        target.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=workdir,
                                       start_new_session=True)
    wait_healthy(target.port, target.proc)
    if target.processes > 1:
        wait_for_children(target.proc, target.processes)


def wait_for_children(proc: subprocess.Popen, count: int, settle: float = 3.0, timeout: float = 60.0) -> None:
    """Until the server has `count` worker processes, then `settle` seconds more for each to finish
    starting (the first healthy answer may come from the first worker up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = [pid for pid, (comm, _, ppid) in CpuMeter._processes().items()
                    if ppid == proc.pid and comm.startswith(("python", "node"))]
        if len(children) >= count:
            break
        time.sleep(0.2)
    time.sleep(settle)


def loadgen(target: Target, args: argparse.Namespace, body_path: Path, secret: str, *, rate: float | None,
            duration: float, prefix: str, concurrency: int | None = None, port: int | None = None) -> dict:
    cmd = [args.loadgen_python, str(LOADGEN), "--port", str(port or target.port), "--body", str(body_path),
           "--secret", secret, "--duration", str(duration), "--grace", str(args.grace),
           "--expect-status", str(target.expect_status), "--id-prefix", prefix,
           "--max-connections", str(args.max_connections), "--acked-file", str(args.workdir / f"{prefix}acked")]
    if rate is not None:
        cmd += ["--rate", str(rate)]
    else:
        cmd += ["--concurrency", str(concurrency or args.concurrency)]
    meter = CpuMeter(target.proc.pid if target.proc else None)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    children0 = children.ru_utime + children.ru_stime
    timeout = duration + args.grace + 30
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0 and not result.stdout.strip():
        raise RuntimeError(f"loadgen failed: {result.stderr[-2000:]}")
    summary = json.loads(result.stdout)
    cpu = meter.read()
    # The generator has exited (and been reaped) by now: its CPU time is in RUSAGE_CHILDREN.
    wall = max(time.monotonic() - meter.t0, 1e-9)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = children.ru_utime + children.ru_stime - children0
    cpu["loadgen_cpu_pct"] = round(used / wall * 100, 1)
    cpu["other_cpu_pct"] = round(max(0.0, cpu["machine_cpu_pct"] - cpu["server_cpu_pct"] - cpu["postgres_cpu_pct"]
                                     - cpu["loadgen_cpu_pct"]), 1)
    summary.update(cpu)
    # CPU time of the server (all its processes) per answered request: steadier than throughput
    # on a shared machine, where other tenants take cores away but not instructions.
    summary["server_cpu_ms_per_req"] = round(cpu["server_cpu_pct"] / 100 * wall / max(summary.get("completed", 0), 1)
                                             * 1e3, 3)
    summary["prefix"] = prefix
    summary["acked_file"] = str(args.workdir / f"{prefix}acked")
    return summary


def wait_processed(target: Target, limit: float) -> tuple[float, int]:
    """Wait (at most `limit` s) until no delivery is pending; (seconds waited, still pending)."""
    t0 = time.monotonic()
    pending = 0
    while time.monotonic() - t0 < limit:
        pending = count_outcomes(target).get("pending", 0)
        if pending == 0:
            break
        time.sleep(0.5)
    return round(time.monotonic() - t0, 1), pending


def host_speed() -> float:
    """Milliseconds for a fixed pure-Python loop: the host's CPU speed varies run to run (shared
    hardware), and this shows by how much when two runs disagree."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        best = min(best, time.perf_counter() - t0)
    return round(best * 1e3, 1)


def background_cpu(seconds: float = 1.0) -> float:
    """Machine CPU in use (percent of one core) while nothing of ours runs: other tenants' load."""
    meter = CpuMeter(None)
    time.sleep(seconds)
    return meter.read()["machine_cpu_pct"]


def run_target(target: Target, args: argparse.Namespace, workdir: Path, body_path: Path, secret: str,
               env_base: dict[str, str]) -> None:
    target.background_cpu = background_cpu()
    target.host_speed_ms = host_speed()
    if target.background_cpu > 25:
        log(f"warning: the machine is already {target.background_cpu:.0f}% busy (of {os.cpu_count()}00%) "
            "before this target starts: its numbers will be lower")
    log(f"{target.name}: starting")
    start_target(target, args, workdir, env_base)
    try:
        run_id = uuid.uuid4().hex[:8]
        ids = lambda phase: f"{run_id}-{phase}-"  # noqa: E731 - + 12 hex digits: at most 32 characters
        if args.warmup > 0:
            log(f"{target.name}: warm-up {args.warmup:g}s at {args.warmup_rate:g} req/s")
            target.phases["warmup"] = loadgen(target, args, body_path, secret, rate=args.warmup_rate,
                                              duration=args.warmup, prefix=ids("warm"))
            if processes_deliveries(target):
                wait_processed(target, args.drain)
        for rate in args.rates:
            log(f"{target.name}: open loop {rate:g} req/s for {args.duration:g}s")
            phase = f"open@{rate:g}"
            target.phases[phase] = r = loadgen(target, args, body_path, secret, rate=rate,
                                               duration=args.duration, prefix=ids(f"o{int(rate)}"))
            if processes_deliveries(target):
                r["drain_s"], r["pending_after_drain"] = wait_processed(target, args.drain)
        log(f"{target.name}: closed loop, {args.concurrency} connections for {args.closed_duration:g}s")
        target.phases["closed"] = r = loadgen(target, args, body_path, secret, rate=None,
                                              duration=args.closed_duration, prefix=ids("max"))
        if processes_deliveries(target):
            r["drain_s"], r["pending_after_drain"] = wait_processed(target, args.drain)
    finally:
        t_stop = time.monotonic()
        stop(target.proc)
        stop_s = time.monotonic() - t_stop
    log(f"{target.name}: stopped in {stop_s:.1f}s (exit {target.proc.returncode})")
    if target.kind != "probot":
        # After the process is gone: what a fresh connection finds is what was made durable.
        target.total_rows = count_rows(target)
        if target.kind == "postgres":
            with contextlib.suppress(Exception):
                target.pg_sessions = query(target, "SELECT sessions FROM pg_stat_database "
                                                   "WHERE datname = current_database()")[0][0]
        target.outcomes = count_outcomes(target)
        for phase in target.phases.values():
            check_phase_rows(target, phase)
        if target.kind == "postgres":
            target.total_jobs = query(target, "SELECT count(*) FROM procrastinate_jobs "
                                              "WHERE task_name = 'process_delivery'")[0][0]
            for phase in target.phases.values():
                check_phase_jobs(target, phase)


def check_generator(args: argparse.Namespace, workdir: Path, body_path: Path, secret: str) -> dict:
    """The generator against a server that does nothing: it must reach well past the offered rates."""
    t = Target(name="trivial node server", kind="trivial")
    t.port = free_port()
    env = dict(os.environ, PORT=str(t.port))
    t.proc = subprocess.Popen(["node", str(PROBOT_DIR / "trivial.mjs")], env=env, cwd=workdir,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_healthy(t.port, t.proc)
        rate = max(args.rates) * 3
        log(f"generator check: open loop {rate:g} req/s and closed loop against a do-nothing server")
        open_r = loadgen(t, args, body_path, secret, rate=rate, duration=4, prefix="gencheck-o-")
        closed_r = loadgen(t, args, body_path, secret, rate=None, duration=4, prefix="gencheck-c-")
    finally:
        stop(t.proc)
    return {"open": open_r, "closed": closed_r}


# ---------------------------------------------------------------- report


def fmt_ms(v: float | None) -> str:
    if v is None or v != v:
        return "—"
    return f"{v:.1f}" if v < 100 else f"{v:,.0f}"


def max_rps(target: Target) -> float:
    return target.phases["closed"]["achieved_rps"]


def ratio_lines(targets: list[Target]) -> list[str]:
    """Max throughput ours / Probot: process for process, then each side's best configuration."""
    measured = [t for t in targets if "closed" in t.phases]
    probots = {t.processes: t for t in measured if t.kind == "probot"}
    ours = [t for t in measured if t.kind != "probot"]
    lines = []
    for t in ours:
        base = probots.get(t.processes)
        if base is not None and max_rps(base):
            lines.append(f"- Ratio {t.name} / {base.name} (max throughput, {t.processes} process"
                         f"{'es' if t.processes > 1 else ''} each): **{max_rps(t) / max_rps(base):.2f}** "
                         f"({max_rps(t):,.0f} / {max_rps(base):,.0f} req/s)")
    if ours and probots:
        best_probot = max(probots.values(), key=max_rps)
        for kind in sorted({t.kind for t in ours}):
            best = max((t for t in ours if t.kind == kind), key=max_rps)
            if max_rps(best_probot):
                lines.append(f"- Best against best: {best.name} / {best_probot.name}: "
                             f"**{max_rps(best) / max_rps(best_probot):.2f}** ({max_rps(best):,.0f} / "
                             f"{max_rps(best_probot):,.0f} req/s)")
    return lines + [""] if lines else []


def render(targets: list[Target], info: dict, args: argparse.Namespace, gen: dict | None,
           elapsed: float) -> str:
    lines = []
    lines.append(f"Machine: {info['nproc']} CPUs ({info['cpu']}), Linux {info['kernel']}; {info['python']}, "
                 f"Node {info['node']} (Probot {info['probot']}), SQLite {info['sqlite']}, {info['postgres']}; "
                 f"commit {info['git']}; {info['date']}. Load generator, servers and PostgreSQL share the machine.")
    lines.append("")
    lines.append(f"Payload: `tests/fixtures/webhooks/issues.labeled.json` (label `{TRIGGER_LABEL}`), compact JSON, "
                 f"{args.body_bytes:,} bytes, `X-Hub-Signature-256` over the body, a unique `X-GitHub-Delivery` "
                 f"per request, HTTP/1.1 keep-alive. Warm-up {args.warmup:g}s at {args.warmup_rate:g} req/s first.")
    lines.append("")
    header = ("| server | load | offered | achieved req/s | p50 ms | p99 ms | errors | rows recorded (/ jobs queued) "
              "| CPU: server / postgres / load gen / other |")
    lines.append(header)
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for t in targets:
        for key, r in t.phases.items():
            if key == "warmup":
                continue
            if key == "closed":
                load, offered = f"closed, {r['concurrency']} conns, {args.closed_duration:g}s", "max"
            else:
                load, offered = f"open loop, {args.duration:g}s", f"{r['offered_rate']:g}/s"
            if t.kind == "probot":
                rows = "n/a (none kept)"
            else:
                rows = f"{r['rows']:,}" + (" ✓" if r["rows"] == r["ok"] and not r["acked_missing"] else
                                            f" ({r['acked_missing']:,} of {r['ok']:,} 202s missing)"
                                            if r["acked_missing"] else f" (all {r['ok']:,} 202s + "
                                            f"{r['rows'] - r['ok']:,} unanswered)")
                if "jobs" in r:
                    good = r["jobs"] == r["rows"] and not r["jobs_missing"] and not r["jobs_duplicated"]
                    rows += f" / {r['jobs']:,} jobs" + (" ✓" if good else f" ({r['jobs_missing']:,} 202s without "
                                                        f"a job, {r['jobs_duplicated']:,} queued twice)")
            lines.append(f"| {t.name} | {load} | {offered} | {r['achieved_rps']:,.0f} | {fmt_ms(r['p50_ms'])} "
                         f"| {fmt_ms(r['p99_ms'])} | {r['errors']:,} | {rows} | {r['server_cpu_pct']:.0f}% / "
                         f"{r['postgres_cpu_pct']:.0f}% / {r['loadgen_cpu_pct']:.0f}% / {r['other_cpu_pct']:.0f}% |")
    lines.append("")
    lines.extend(ratio_lines(targets))
    goal_rate = 1000.0
    for t in targets:
        r = t.phases.get(f"open@{goal_rate:g}")
        if r:
            ok = r["achieved_rps"] >= 0.99 * goal_rate and r["p99_ms"] <= 10 and r["errors"] == 0
            lines.append(f"- {t.name} at {goal_rate:,.0f} req/s: p99 {fmt_ms(r['p99_ms'])} ms, "
                         f"{r['errors']:,} errors → goal (p99 ≤ 10 ms) {'met' if ok else 'NOT met'}")
    lines.append("")
    for t in targets:
        if t.kind == "probot":
            continue
        extra = ", ".join(f"{k}: {v:,}" for k, v in sorted(t.outcomes.items()))
        sent_202 = sum(r["ok"] for r in t.phases.values())
        missing = sum(r["acked_missing"] for r in t.phases.values())
        late = t.total_rows - sent_202 + missing
        verdict = ("every delivery answered 202 is a row" if not missing else f"{missing:,} deliveries answered 202 "
                   "are MISSING")
        if late:
            verdict += (f"; {late:,} more rows are deliveries the generator gave up on (no answer within "
                        f"{args.grace:g}s) that the server recorded later")
        lines.append(f"- {t.name}: {t.total_rows:,} rows after the server stopped, {sent_202:,} answers 202 in all "
                     f"phases incl. warm-up → {verdict}. Outcomes: {extra}.")
        if t.total_jobs is not None:
            jobs_missing = sum(r.get("jobs_missing", 0) for r in t.phases.values())
            twice = sum(r.get("jobs_duplicated", 0) for r in t.phases.values())
            lines.append(f"  - {t.total_jobs:,} `process_delivery` jobs queued for {t.total_rows:,} rows → "
                         + ("every delivery answered 202 has exactly one queued job" if not jobs_missing and not twice
                            and t.total_jobs == t.total_rows else
                            f"MISMATCH: {jobs_missing:,} 202s without a job, {twice:,} queued twice"))
        if t.pg_sessions is not None:
            lines.append(f"  - PostgreSQL sessions opened on the database during the run: {t.pg_sessions:,} "
                         f"({t.processes} web process{'es' if t.processes > 1 else ''}, each with SQLAlchemy's pool, "
                         "Procrastinate's and the delivery writer's connection)")
        for key, r in t.phases.items():
            if r.get("pending_after_drain"):
                lines.append(f"  - after `{key}`, {r['pending_after_drain']:,} deliveries were still waiting to be "
                             f"processed {r['drain_s']:g}s later (the post-response processing is slower than intake)")
    noisy = [f"{t.name} {k}" for t in targets for k, r in t.phases.items() if r.get("other_cpu_pct", 0) > 20]
    if noisy:
        lines.append("- **Noisy run**: other processes used more than 20% of a core during " + ", ".join(noisy)
                     + "; those numbers are lower than the machine can do.")
    lines.append("- CPU already in use on the machine before each server started (other tenants): "
                 + ", ".join(f"{t.name} {t.background_cpu:.0f}%" for t in targets) + f" (of {info['nproc']}00%); "
                 "host speed probe (ms for a fixed Python loop, lower is faster): "
                 + ", ".join(f"{t.name} {t.host_speed_ms:g}" for t in targets) + ".")
    if gen:
        o, c = gen["open"], gen["closed"]
        lines.append("")
        lines.append(f"Generator check (do-nothing node server): open loop {o['offered_rate']:g}/s → "
                     f"{o['achieved_rps']:,.0f} req/s, p99 {fmt_ms(o['p99_ms'])} ms, scheduler lag p99 "
                     f"{fmt_ms(o['scheduler_lag_p99_ms'])} ms; closed loop → {c['achieved_rps']:,.0f} req/s "
                     f"(generator CPU {c['loadgen_cpu_s'] / max(c['duration_s'], 1e-9) * 100:.0f}% of a core).")
    lines.append("")
    lines.append(f"Whole run: {elapsed:.0f}s.")
    return "\n".join(lines)


# ---------------------------------------------------------------- main


TARGETS = {"sqlite": ("sqlite", False), "postgres": ("postgres", False), "postgres-workers": ("postgres", True),
           "probot": ("probot", False), "probot-cluster": ("probot", True)}


def make_target(key: str, args: argparse.Namespace) -> Target:
    if key not in TARGETS:
        raise SystemExit(f"unknown target {key!r}: choose among {', '.join(TARGETS)}")
    kind, many = TARGETS[key]
    processes = args.workers if many else 1
    name = {"sqlite": "ours-SQLite", "postgres": "ours-PostgreSQL", "probot": "Probot"}[kind]
    if many:
        name += f" ×{processes} " + ("(node:cluster)" if kind == "probot" else "(--workers)")
    if args.label and kind != "probot":
        name += f" [{args.label}]"
    return Target(name=name, kind=kind, processes=processes)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    default_bot = shutil.which("component-bot", path=str(Path(sys.executable).parent)) or shutil.which("component-bot")
    p.add_argument("--bot", default=default_bot, help="the component-bot command (default: beside this Python)")
    p.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated, among {', '.join(TARGETS)}")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                   help="processes of the -workers and -cluster targets (default: the CPUs)")
    p.add_argument("--rates", default="50,1000", help="comma-separated open-loop rates, req/s")
    p.add_argument("--duration", type=float, default=15.0, help="seconds per open-loop run")
    p.add_argument("--closed-duration", type=float, default=10.0)
    p.add_argument("--concurrency", type=int, default=32, help="connections in the closed-loop run")
    p.add_argument("--max-connections", type=int, default=256, help="open-loop connection cap")
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--warmup-rate", type=float, default=200.0)
    p.add_argument("--grace", type=float, default=10.0, help="seconds to wait for late answers (GitHub's timeout)")
    p.add_argument("--drain", type=float, default=10.0,
                   help="seconds to wait for post-response processing to catch up between phases")
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/bench",
                   help="a scratch database: dropped and recreated (never `test`)")
    p.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                   help="extra environment for component-bot (experiments)")
    p.add_argument("--serve-arg", action="append", default=[], help="extra argument for `component-bot serve`")
    p.add_argument("--label", default="", help="a name for this run in the output (experiments)")
    p.add_argument("--results", default=str(HERE / "results.md"), help="where to write the table ('' = nowhere)")
    p.add_argument("--json", default="", help="also write the raw numbers here")
    p.add_argument("--skip-generator-check", action="store_true")
    p.add_argument("--loadgen-python", default=sys.executable)
    args = p.parse_args(argv)
    args.rates = [float(r) for r in args.rates.split(",") if r]
    args.targets = [t for t in args.targets.split(",") if t]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.bot:
        raise SystemExit("component-bot not found: install the project (pip install -e .) or pass --bot")
    t_start = time.monotonic()
    info = machine_info(args.bot)
    targets = [make_target(key, args) for key in args.targets]
    with tempfile.TemporaryDirectory(prefix="webhook-ingest-") as tmp:
        workdir = Path(tmp)
        args.workdir = workdir
        payload = json.loads(FIXTURE.read_text())
        payload["label"]["name"] = TRIGGER_LABEL
        body = json.dumps(payload, separators=(",", ":")).encode()
        args.body_bytes = len(body)
        body_path = workdir / "body.json"
        body_path.write_bytes(body)
        secret = uuid.uuid4().hex + uuid.uuid4().hex  # long and random, like a real App secret
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        env_base = {"APP_ID": "1", "PRIVATE_KEY": key, "WEBHOOK_SECRET": secret}
        gen = None
        if not args.skip_generator_check:
            gen = check_generator(args, workdir, body_path, secret)
        for target in targets:
            try:
                run_target(target, args, workdir, body_path, secret, env_base)
            except Exception as exc:  # noqa: BLE001 - report and go on with the other targets
                target.note = f"failed: {exc}"
                log(f"{target.name}: {target.note}")
                if target.log_path and target.log_path.exists():
                    sys.stderr.write(target.log_path.read_text()[-3000:])
        elapsed = time.monotonic() - t_start
        report = render([t for t in targets if not t.note], info, args, gen, elapsed)
        for t in targets:
            if t.note:
                report += f"\n- {t.name}: {t.note}"
    print(report)
    if args.results:
        title = "# Webhook ingest: latest results" + (f" ({args.label})" if args.label else "")
        Path(args.results).write_text(f"{title}\n\nWritten by `bash benchmarks/webhook_ingest/run.sh`; "
                                      f"see README.md beside this file for the analysis.\n\n{report}\n")
        log(f"wrote {args.results}")
    if args.json:
        raw = {"info": info, "generator_check": gen,
               "targets": {t.name: {"phases": t.phases, "rows": t.total_rows, "outcomes": t.outcomes,
                                    "jobs": t.total_jobs, "processes": t.processes,
                                    "pg_sessions": t.pg_sessions, "background_cpu": t.background_cpu,
                                    "host_speed_ms": t.host_speed_ms,
                                    "note": t.note} for t in targets}}
        Path(args.json).write_text(json.dumps(raw, indent=2))
    return 0 if all(not t.note for t in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
