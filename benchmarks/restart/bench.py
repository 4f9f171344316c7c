"""Restart: how fast the default one-process deployment (`component-bot serve` on a SQLite file)
resumes its sessions after it was killed (SIGKILL) in the middle of their steps, and whether
anything is done twice. Issue 12's goal: the first model request of a resumed step starts ≤ 10 s
after the restarted server is healthy. See README.md.

    /work/venv/bin/python benchmarks/restart/bench.py                     # 3 rounds, 5 sessions, Claude latency 4 s
    /work/venv/bin/python benchmarks/restart/bench.py --rounds 5 --sessions 10 --repos 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from benchmarks.sessions_scale.fleet import Arrival, Fleet, free_port, wait_for_quiet

GOAL_S = 10.0
TAKEOVER_LOG = "is not running any more; taking over"
CONTAINER = ("unshare", "--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL")
"""`serve` as PID 1 of its own PID namespace, as in the Docker image, whose restart keeps the host name;
killing `unshare` kills it."""


@dataclass
class Killed:
    """A session that had a Claude request in flight when the server was killed."""

    component: str
    first_call: bool              # the killed request was its step's first call (not the one after the tool)
    next_request: float | None    # wall time of its first Claude request after the kill


@dataclass
class Round:
    """One kill and restart, on a fresh database and fresh fakes. Times are wall times (time.time())."""

    number: int
    sessions: int
    load_before: float
    labelled: float
    killed_at: float
    healthy_at: float             # the restarted server's /healthz first answered 200
    killed: list[Killed]
    leases_held: int              # session leases held at the kill (the killed process was the only one)
    leases_taken_over: int        # "taking over" lines in the restarted server's log
    first_request: float | None   # the first Claude request after the kill, any session
    ready: int
    last_ready: float | None
    statuses: dict[str, int]
    duplicates: list[str]
    incomplete: list[str]
    commit_writes: int
    expected_commit_writes: int
    claude_calls: int
    deliveries_failed: int
    refused: dict[str, int]       # delivery attempts the server did not accept (retried by the pump), by status/error
    deliveries_pending: int       # deliveries still `pending` in the database once every session was ready

    def after_healthy(self, at: float | None) -> float | None:
        return None if at is None else at - self.healthy_at

    def after_kill(self, at: float | None) -> float | None:
        return None if at is None else at - self.killed_at

    @property
    def restart_s(self) -> float:
        return self.healthy_at - self.killed_at

    @property
    def slowest_resume(self) -> float | None:
        """The latest next request of a killed session, after healthy (None if one never came)."""
        times = [k.next_request for k in self.killed]
        if not times or None in times:
            return None
        return max(times) - self.healthy_at


async def until_requests_in_flight(fleet: Fleet, wanted: int, first_call: bool, settle: float,
                                   timeout: float = 60) -> None:
    """Until `wanted` sessions each have a Claude request in flight (their step's first call, or the
    one after the tool result), or `settle` s after the first such one arrived (a request is held
    `latency` s: a kill then lands in the middle of a step)."""
    deadline = time.monotonic() + timeout
    first_seen: float | None = None
    while time.monotonic() < deadline:
        waiting = {a.component for a in fleet.claude.waiting(time.time()) if a.first_call == first_call}
        if waiting and first_seen is None:
            first_seen = time.monotonic()
        if len(waiting) >= wanted or (first_seen is not None and time.monotonic() - first_seen >= settle):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("no Claude request arrived")


async def leases_held(fleet: Fleet) -> int:
    return (await fleet.query("SELECT count(*) FROM sessions WHERE lease_owner IS NOT NULL"))[0][0]


def next_request(arrivals: list[Arrival], component: str, after: float) -> float | None:
    return min((a.at for a in arrivals if a.component == component and a.at > after), default=None)


async def until_all_ready(fleet: Fleet, sessions: int, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    statuses = await fleet.statuses()
    while time.monotonic() < deadline and statuses.get("awaiting_review", 0) < sessions:
        await asyncio.sleep(0.25)
        statuses = await fleet.statuses()
    return dict(statuses)


async def until_deliveries_processed(fleet: Fleet, patience: float) -> int:
    """Wait (at most `patience` s) for every recorded delivery to be processed; how many are left pending."""
    deadline = time.monotonic() + patience
    while True:
        pending = (await fleet.query("SELECT count(*) FROM deliveries WHERE outcome = 'pending'"))[0][0]
        if not pending or time.monotonic() >= deadline:
            return pending
        await asyncio.sleep(0.25)


def kills_first_call(kill_during: str, number: int) -> bool:
    """Whether round `number` kills during the steps' first Claude call (else: the one after the tool)."""
    return kill_during == "first" or (kill_during == "both" and number % 2 == 1)


def count_in_log(path: Path, text: str) -> int:
    try:
        return path.read_text(errors="replace").count(text)
    except OSError:
        return 0


async def run_round(args: argparse.Namespace, number: int) -> Round:
    workdir = Path(args.workdir) / f"round-{number}"
    for old_log in workdir.glob("serve-*.log"):  # the fleet appends to its processes' logs
        old_log.unlink()
    fleet = Fleet(sessions=args.sessions, repos=args.repos, workdir=workdir, sqlite_file=workdir / "bot.sqlite3",
                  latency=args.latency, log_level=args.log_level, launcher=CONTAINER if args.container else ())
    async with fleet:
        port = free_port()
        server = await fleet.web("serve-1", runs_sessions=True, port=port)
        load_before = await wait_for_quiet(args.max_load, args.quiet_wait)
        labelled = fleet.label_all()
        await until_requests_in_flight(fleet, args.sessions, kills_first_call(args.kill_during, number),
                                       settle=args.latency / 2)
        killed_at = fleet.kill(server)
        in_flight = fleet.claude.waiting(killed_at)
        held = await leases_held(fleet)
        await fleet.web("serve-2", runs_sessions=True, port=port)
        healthy_at = time.time()
        print(f"  round {number}: killed {killed_at - labelled:.1f} s after labelling with {len(in_flight)} Claude "
              f"request(s) in flight, {held} lease(s) held; healthy again {healthy_at - killed_at:.1f} s later",
              flush=True)
        statuses = await until_all_ready(fleet, args.sessions, args.timeout)
        await asyncio.sleep(1.0)  # the last GitHub writes of the last session
        pending = await until_deliveries_processed(fleet, patience=5)
        finished = await fleet.finish_times()
        checks = fleet.duplicates()
        arrivals = list(fleet.claude.arrivals)
        result = Round(
            number=number, sessions=args.sessions, load_before=round(load_before, 2), labelled=labelled,
            killed_at=killed_at, healthy_at=healthy_at,
            killed=[Killed(a.component, a.first_call, next_request(arrivals, a.component, killed_at)) for a in in_flight],
            leases_held=held, leases_taken_over=count_in_log(workdir / "serve-2.log", TAKEOVER_LOG),
            first_request=min((a.at for a in arrivals if a.at > killed_at), default=None),
            ready=len(finished), last_ready=finished[-1].timestamp() if finished else None, statuses=statuses,
            duplicates=checks["duplicates"], incomplete=checks["incomplete"], commit_writes=checks["commit_writes"],
            expected_commit_writes=checks["expected_commit_writes"], claude_calls=len(arrivals),
            deliveries_failed=fleet.deliveries_failed, refused=dict(fleet.refused), deliveries_pending=pending)
    print("   ", json.dumps(summary(result), default=str), flush=True)
    return result


def summary(r: Round) -> dict:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    return {
        "round": r.number, "restart_s": rounded(r.restart_s),
        "healthy_to_first_request_s": rounded(r.after_healthy(r.first_request)),
        "kill_to_first_request_s": rounded(r.after_kill(r.first_request)),
        "killed_sessions": len(r.killed), "slowest_resume_after_healthy_s": rounded(r.slowest_resume),
        "ready": f"{r.ready}/{r.sessions}", "last_ready_after_healthy_s": rounded(r.after_healthy(r.last_ready)),
        "duplicates": len(r.duplicates), "incomplete": len(r.incomplete),
        "commit_writes": f"{r.commit_writes}/{r.expected_commit_writes}", "claude_calls": r.claude_calls,
        "leases_held": r.leases_held, "leases_taken_over": r.leases_taken_over,
        "deliveries_failed": r.deliveries_failed, "refused": r.refused, "deliveries_pending": r.deliveries_pending,
    }


def refusals(refused: dict[str, int]) -> str:
    return ", ".join(f"{count} × {kind}" for kind, count in sorted(refused.items())) or "0"


def seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f} s"


def median_max(values: list[float | None]) -> str:
    if not values:
        return "—"
    if None in values:
        return f"never in {values.count(None)} of {len(values)}"
    return f"{statistics.median(values):.2f} s / {max(values):.2f} s"


def code_version() -> str:
    """The commit the bot's processes run, and whether its code has uncommitted changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True, check=False).stdout.strip()

    dirty = git("status", "--porcelain", "--", "bot", "webhooks", "migrations")
    return f"commit {git('rev-parse', '--short', 'HEAD') or 'unknown'}" + (" with uncommitted changes to the bot"
                                                                           if dirty else "")


def render(args: argparse.Namespace, rounds: list[Round], version: str) -> str:
    resumes = [r.after_healthy(k.next_request) for r in rounds for k in r.killed]
    resumes_after_kill = [r.after_kill(k.next_request) for r in rounds for k in r.killed]
    slowest = [r.slowest_resume for r in rounds]
    met = [v is not None and v <= GOAL_S for v in slowest]
    lines = [
        "# Restart: results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `{' '.join(['benchmarks/restart/bench.py', *sys.argv[1:]])}` "
        f"at {version} on {platform.node() or 'this machine'}: {os.cpu_count()} CPU(s), Python "
        f"{platform.python_version()}, SQLite.",
        "",
        f"Each round: a fresh SQLite file and fresh fakes; one `component-bot serve`; {args.sessions} issues labelled "
        f"at once across {args.repos} repositories; every Claude call answered after {args.latency} s. Once the "
        "sessions' Claude requests are in flight the server is killed (SIGKILL) and started again at once on the "
        "same port. \"Healthy\": the restarted server's first 200 on /healthz; a negative time would be a request "
        "made before it (the server resumes sessions while it starts)."
        + (" **Container mode** (`--container`): each `serve` runs as PID 1 of its own PID namespace, on the same "
           "host name, as the Docker image does across `docker restart`." if args.container else ""),
        "",
        "| round | killed during | sessions with a Claude request in flight | their leases held / taken over "
        "| kill → healthy | healthy → first model request | kill → first model request "
        "| healthy → slowest killed session's next request | healthy → last session ready | load average before |",
        "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rounds:
        lines.append(
            f"| {r.number} | {killed_call(r)} | {len(r.killed)} | {r.leases_held} / {r.leases_taken_over} | "
            f"{seconds(r.restart_s)} | {seconds(r.after_healthy(r.first_request))} | "
            f"{seconds(r.after_kill(r.first_request))} | {seconds(r.slowest_resume)} | "
            f"{seconds(r.after_healthy(r.last_ready))} | {r.load_before} |")
    lines += [
        f"| **median / max** | | | | {median_max([r.restart_s for r in rounds])} | "
        f"{median_max([r.after_healthy(r.first_request) for r in rounds])} | "
        f"{median_max([r.after_kill(r.first_request) for r in rounds])} | {median_max(slowest)} | "
        f"{median_max([r.after_healthy(r.last_ready) for r in rounds])} | |",
        "",
        "What was done (checked in the fake GitHub per issue: one branch, one PR, one commit, one status comment, "
        "no other bot comment, the PR out of draft, `component:ready`):",
        "",
        f"| round | sessions ready | duplicates | work left undone | commits asked (expected) | Claude calls "
        f"({2 * args.sessions} without a kill) | webhook attempts refused (the pump retried them) | webhooks lost "
        "| deliveries left `pending` |",
        "|--:|--:|--:|--:|--:|--:|---|--:|--:|",
    ]
    for r in rounds:
        lines.append(
            f"| {r.number} | {r.ready}/{r.sessions} | {len(r.duplicates)} | {len(r.incomplete)} | "
            f"{r.commit_writes} ({r.expected_commit_writes}) | {r.claude_calls} | {refusals(r.refused)} | "
            f"{r.deliveries_failed} | {r.deliveries_pending} |")
    lines += [
        "",
        f"- **Goal (≤ {GOAL_S:.0f} s from healthy to the first model request of every resumed step): "
        f"{'met' if all(met) else 'NOT met'}** in {sum(met)} of {len(rounds)} rounds. Over the {len(resumes)} "
        f"killed sessions, healthy → their next model request: median / max {median_max(resumes)}; kill → it: "
        f"{median_max(resumes_after_kill)}.",
    ]
    for r in rounds:
        for finding in r.duplicates + r.incomplete:
            lines.append(f"- round {r.number}: {finding}")
    lines += ["", "Every killed session (the call in flight: `first` is its step's first Claude call, `second` the "
              "one after the tool result):", "",
              "| round | component | call in flight | next model request after the kill | after healthy |",
              "|--:|---|---|--:|--:|"]
    for r in rounds:
        for k in sorted(r.killed, key=lambda k: k.component):
            lines.append(f"| {r.number} | {k.component} | {'first' if k.first_call else 'second'} | "
                         f"{seconds(r.after_kill(k.next_request))} | {seconds(r.after_healthy(k.next_request))} |")
    lines.append("")
    return "\n".join(lines)


def killed_call(r: Round) -> str:
    """Which Claude call of their step the killed sessions were waiting for."""
    kinds = sorted({"first call" if k.first_call else "second call" for k in r.killed})
    return " and ".join(kinds) or "—"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="independent kill/restart runs")
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--repos", type=int, default=2)
    parser.add_argument("--latency", type=float, default=4.0, help="seconds before the fake Claude answers")
    parser.add_argument("--kill-during", choices=("first", "second", "both"), default="both",
                        help="kill while the steps' first Claude calls are in flight, the second ones (after the "
                             "tool result), or first in odd rounds and second in even ones (default)")
    parser.add_argument("--container", action="store_true",
                        help="run `serve` as PID 1 of its own PID namespace, as the Docker image does (needs root "
                             "for `unshare`)")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds to wait, per round, for every session (the reconciler's first look at a "
                             "session waiting for checks is ~3 min late at worst)")
    parser.add_argument("--max-load", type=float, default=1.5,
                        help="wait for the 1-minute load average to fall under this before each round")
    parser.add_argument("--quiet-wait", type=float, default=0, help="seconds to wait for that, at most (default 0)")
    parser.add_argument("--workdir", default="/tmp/bench_restart", help="the SQLite files and the servers' logs")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--out", default=str(HERE / "results.md"), help="'-' to write no file")
    parser.add_argument("--json", default=None, help="also write the raw rounds here")
    args = parser.parse_args()
    print(f"== {args.rounds} round(s): {args.sessions} sessions in {args.repos} repositories, one `serve` on SQLite, "
          f"Claude latency {args.latency} s", flush=True)
    version = code_version()
    rounds = [asyncio.run(run_round(args, n + 1)) for n in range(args.rounds)]
    text = render(args, rounds, version)
    print(text)
    if args.out != "-":
        Path(args.out).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in rounds], indent=1, default=str))


if __name__ == "__main__":
    main()
