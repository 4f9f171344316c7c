"""Chaos: sessions carried to a ready pull request while a random worker is killed (SIGKILL) every
few seconds and started again; then the same run without kills, for the time it costs. Checks the
fake GitHub for lost sessions and for anything done twice. See README.md.

    /work/venv/bin/python benchmarks/chaos/bench.py                      # 50 sessions, 3 workers, a kill every 10 s
    /work/venv/bin/python benchmarks/chaos/bench.py --workers 2 --seed 7
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from benchmarks.sessions_scale.fleet import Fleet, Proc, mib, wait_for_quiet


@dataclass
class Kill:
    at: float                      # wall time of the SIGKILL
    victim: str
    worker_id: int | None
    sessions: list[int]            # run_session jobs the victim was running (their session ids)
    deliveries: int                # process_delivery jobs it was running
    other: list[str]               # other jobs it was running (periodic ones)
    job_ids: dict[int, int] = field(default_factory=dict)  # session id -> job id
    continued: dict[int, float] = field(default_factory=dict)  # session id -> seconds to its next step record
    restarted: dict[int, float] = field(default_factory=dict)  # session id -> seconds to its job starting again
    replacement_ready: float | None = None  # seconds until the restarted worker registered


async def in_flight(fleet: Fleet, worker_id: int) -> tuple[dict[int, int], int, list[str]]:
    rows = await (await fleet.pg.execute(
        "SELECT id, task_name, args FROM procrastinate_jobs WHERE status = 'doing' AND worker_id = %s",
        (worker_id,))).fetchall()
    sessions = {int(args["session_id"]): job_id for job_id, task, args in rows
                if task in ("run_session", "resume_session")}
    deliveries = sum(1 for _, task, _ in rows if task == "process_delivery")
    other = [task for _, task, _ in rows if task not in ("run_session", "resume_session", "process_delivery")]
    return sessions, deliveries, other


async def watch_recoveries(fleet: Fleet, kills: list[Kill]) -> None:
    """For each killed session: when its job started again (Procrastinate's events, read before a
    successful job's row and events are deleted), and when it next recorded a step."""
    while True:
        await asyncio.sleep(0.25)
        for kill in kills:
            pending = [s for s in kill.sessions if s not in kill.continued or s not in kill.restarted]
            if not pending:
                continue
            since = datetime.fromtimestamp(kill.at, UTC)
            rows = await (await fleet.pg.execute(
                "SELECT session_id, min(created_at) FROM interactions WHERE session_id = ANY(%s) "
                "AND status <> 'received' AND created_at > %s GROUP BY session_id", (pending, since))).fetchall()
            for session_id, at in rows:
                at = at if at.tzinfo else at.replace(tzinfo=UTC)
                kill.continued.setdefault(session_id, at.timestamp() - kill.at)
            jobs = [kill.job_ids[s] for s in pending if s not in kill.restarted]
            if jobs:
                rows = await (await fleet.pg.execute(
                    "SELECT job_id, min(at) FROM procrastinate_events WHERE job_id = ANY(%s) AND type = 'started' "
                    "AND at > %s GROUP BY job_id", (jobs, since))).fetchall()
                by_job = {job: session for session, job in kill.job_ids.items()}
                for job_id, at in rows:
                    kill.restarted.setdefault(by_job[job_id], at.timestamp() - kill.at)
                gone = await (await fleet.pg.execute(
                    "SELECT id FROM procrastinate_jobs WHERE id = ANY(%s)", (jobs,))).fetchall()
                for job_id in set(jobs) - {r[0] for r in gone}:  # ran again and succeeded between two looks
                    kill.restarted.setdefault(by_job[job_id], time.time() - kill.at)


def interrupted_steps(rows: list[tuple]) -> int:
    """Steps that were started again before they ended (a `started` record right after another)."""
    count, previous = 0, None
    for session_id, step, status in rows:
        if previous is not None and previous[0] == session_id and previous[2] == "started" and status == "started":
            count += 1
        previous = (session_id, step, status)
    return count


async def run(args: argparse.Namespace, chaos: bool) -> dict:
    label = "chaos" if chaos else "baseline"
    fleet = Fleet(sessions=args.sessions, repos=args.repos, database=args.database, workdir=Path(args.workdir) / label,
                  latency=args.latency, concurrency=args.concurrency, red_first=not args.green_first,
                  log_level=args.log_level)
    rng = random.Random(args.seed)
    kills: list[Kill] = []
    async with fleet:
        for i in range(args.web):
            await fleet.web(f"web-{i + 1}")
        workers: list[Proc] = [await fleet.worker(f"worker-{i + 1}") for i in range(args.workers)]
        generation = {w.name: 1 for w in workers}
        print(f"== {label}: {args.sessions} sessions, {args.workers} workers x {args.concurrency}, "
              f"Claude latency {args.latency} s" + (f", a worker killed every {args.kill_every} s" if chaos else ""),
              flush=True)
        load_before = await wait_for_quiet(args.max_load, args.quiet_wait)
        watcher = asyncio.create_task(watch_recoveries(fleet, kills))
        started = fleet.label_all()
        deadline = time.monotonic() + args.timeout
        next_kill = time.monotonic() + args.kill_every
        last_print = 0.0
        statuses = await fleet.statuses()
        while time.monotonic() < deadline:
            statuses = await fleet.statuses()
            if statuses.get("awaiting_review", 0) >= args.sessions:
                break
            if chaos and time.monotonic() >= next_kill:
                next_kill += args.kill_every
                index = rng.randrange(len(workers))
                victim = workers[index]
                killed_at = fleet.kill(victim)
                sessions, deliveries, other = await in_flight(fleet, victim.worker_id)
                kill = Kill(killed_at, victim.name, victim.worker_id, sorted(sessions), deliveries, other,
                            job_ids=sessions)
                kills.append(kill)
                base = victim.name.split("#")[0]
                generation[base] += 1
                workers[index] = await fleet.worker(f"{base}#{generation[base]}")
                kill.replacement_ready = time.time() - killed_at
                print(f"  {killed_at - started:6.1f} s  killed {victim.name} (worker {victim.worker_id}): sessions "
                      f"{kill.sessions}, {deliveries} deliveries, {other or 'no other jobs'}; "
                      f"{workers[index].name} up after {kill.replacement_ready:.1f} s", flush=True)
            if time.monotonic() - last_print > 10:
                last_print = time.monotonic()
                print(f"  {time.time() - started:6.0f} s  sessions {dict(statuses)}  jobs {dict(await fleet.jobs())}",
                      flush=True)
            await asyncio.sleep(0.25)
        finished = await fleet.finish_times()
        drain_deadline = time.monotonic() + args.drain
        while time.monotonic() < drain_deadline:  # deliveries a killed worker held are retried ~15-25 s later
            row = await (await fleet.pg.execute(
                "SELECT count(*) FROM deliveries WHERE outcome = 'pending'")).fetchone()
            if row[0] == 0:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)  # the last recoveries' records
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        checks = fleet.duplicates()
        calls = fleet.github_calls()
        async with fleet.pg.cursor() as cur:
            await cur.execute("SELECT outcome, count(*) FROM deliveries GROUP BY outcome")
            deliveries = dict(await cur.fetchall())
            await cur.execute("SELECT status, count(*) FROM procrastinate_jobs GROUP BY status")
            jobs_left = dict(await cur.fetchall())
            await cur.execute("SELECT session_id, step, status FROM interactions WHERE status <> 'received' "
                              "ORDER BY session_id, seq")
            retried_steps = interrupted_steps(await cur.fetchall())
            await cur.execute(
                "SELECT s.id, s.status, string_agg(j.status || ' (' || j.task_name || ', worker ' || "
                "coalesce(j.worker_id::text, 'gone') || ')', ', ' ORDER BY j.id) FROM sessions s "
                "LEFT JOIN procrastinate_jobs j ON j.lock = 'session:' || s.id "
                "WHERE s.status <> 'awaiting_review' GROUP BY s.id, s.status ORDER BY s.id")
            unfinished = [f"session {sid} {status}: jobs {jobs or 'none'}" for sid, status, jobs in await cur.fetchall()]
            await cur.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'retry_stalled_jobs' "
                              "AND status = 'failed'")
            retry_task_failures = (await cur.fetchone())[0]
        peaks = {p.name: p.peak_rss for p in fleet.procs if p.role == "worker"}
    elapsed = (finished[-1].timestamp() - started) if finished else time.time() - started
    result = {
        "run": label, "sessions": args.sessions, "done": len(finished), "statuses": dict(statuses), "started_at": started,
        "load_before": round(load_before, 2),
        "elapsed_s": round(elapsed, 1), "kills": [kill.__dict__ for kill in kills],
        "problems": checks["problems"], "duplicates": checks["duplicates"], "incomplete": checks["incomplete"],
        "unfinished": unfinished, "retry_task_failures": retry_task_failures, "commit_writes": checks["commit_writes"],
        "expected_commit_writes": checks["expected_commit_writes"], "deliveries": deliveries, "jobs_left": jobs_left,
        "retried_steps": retried_steps, "github_calls": sum(calls.values()), "claude_calls": fleet.claude.calls,
        "worker_peak_rss": peaks,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "kills"}, indent=1, default=str), flush=True)
    return result


def render(args: argparse.Namespace, baseline: dict, chaos: dict) -> str:
    kills = chaos["kills"]
    hit = [k for k in kills if k["sessions"]]
    continued = [v for k in kills for v in k["continued"].values()]
    restarted = [v for k in kills for v in k["restarted"].values()]
    never = [(k["victim"], s) for k in kills for s in k["sessions"] if str(s) not in map(str, k["continued"])]
    lost = args.sessions - chaos["done"]
    expected = "generate → checks red → one fix → checks green" if not args.green_first else "generate → checks green"

    def stats(values: list[float]) -> str:
        if not values:
            return "—"
        return (f"min {min(values):.1f} s, median {statistics.median(values):.1f} s, max {max(values):.1f} s "
                f"(n = {len(values)})")

    lines = [
        "# Chaos: results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `benchmarks/chaos/bench.py {' '.join(sys.argv[1:])}` "
        f"on {platform.node() or 'this machine'}: Python {platform.python_version()}, PostgreSQL on 127.0.0.1.",
        "",
        f"{args.sessions} issues labelled at once across {args.repos} repositories; {args.web} web processes, "
        f"{args.workers} workers × {args.concurrency} jobs; every Claude call answered after {args.latency} s. Each "
        f"session: {expected}, ready for review. In the chaos run a random worker is killed with SIGKILL every "
        f"{args.kill_every} s (seed {args.seed}) and a new one started at once; the baseline is the same run "
        "without kills.",
        "",
        "| run | sessions ready | time to the last ready | kills | kills that hit a running session | sessions hit "
        "| load average before |",
        "|---|--:|--:|--:|--:|--:|--:|",
        f"| baseline | {baseline['done']}/{args.sessions} | {baseline['elapsed_s']} s | 0 | — | — | "
        f"{baseline['load_before']} |",
        f"| chaos | {chaos['done']}/{args.sessions} | {chaos['elapsed_s']} s | {len(kills)} | {len(hit)} | "
        f"{sum(len(k['sessions']) for k in kills)} | {chaos['load_before']} |",
        "",
        f"- **Sessions lost (not ready when the run ended): {lost}.**"
        + (f" Their state and their Procrastinate jobs: {'; '.join(chaos['unfinished'])}." if lost else ""),
        f"- `retry_stalled_jobs` runs that failed: chaos {chaos['retry_task_failures']}, baseline "
        f"{baseline['retry_task_failures']}.",
        f"- **Duplicates in the fake GitHub: {len(chaos['duplicates'])}** (checked per issue: branches, pull "
        f"requests, more than {2 if not args.green_first else 1} commit(s) on the branch, status comments, "
        "other bot comments on the issue, bot comments on the PR, `component-bot` check runs per commit)."
        + (" " + "; ".join(chaos["duplicates"][:30]) if chaos["duplicates"] else ""),
        f"- Work left undone in the fake GitHub: {len(chaos['incomplete'])} finding(s)"
        + (": " + "; ".join(chaos["incomplete"][:40]) if chaos["incomplete"] else "") + ".",
        f"- Commits the bot asked GitHub for: {chaos['commit_writes']} ({chaos['expected_commit_writes']} when each "
        f"session makes its commits once; the baseline asked for {baseline['commit_writes']}).",
        f"- Time from a kill to the killed worker's session running again (its job started on another worker): "
        f"{stats(restarted)}.",
        f"- Time from a kill to that session's next step record (its step started again, or the next one): "
        f"{stats(continued)}." + (f" Never seen continuing: {never}." if never else ""),
        (f"- Cost of the kills: {chaos['elapsed_s'] - baseline['elapsed_s']:+.1f} s on the total "
         f"({chaos['elapsed_s'] / baseline['elapsed_s']:.2f}× the baseline)." if not lost and baseline["done"] ==
         args.sessions else "- Cost of the kills: not comparable, sessions were lost (the chaos time is to the last "
         "session that did get ready)."),
        f"- Steps started again after an interruption: chaos {chaos['retried_steps']}, baseline {baseline['retried_steps']}. "
        f"Claude calls: chaos {chaos['claude_calls']}, baseline {baseline['claude_calls']}. GitHub calls: chaos "
        f"{chaos['github_calls']}, baseline {baseline['github_calls']}.",
        f"- Deliveries by outcome: chaos {chaos['deliveries']}, baseline {baseline['deliveries']}.",
        f"- Peak RSS per worker process (chaos): {', '.join(mib(v) for v in chaos['worker_peak_rss'].values())}.",
        "",
        "Every kill:",
        "",
        "| at (s after labelling) | victim | its sessions | their job ran again after | their next step record after "
        "| deliveries it was running | other jobs | replacement registered after |",
        "|--:|---|---|---|---|--:|---|--:|",
    ]
    first = chaos.get("started_at")
    for k in kills:
        sessions = ", ".join(map(str, k["sessions"])) or "—"
        restart = ", ".join(f"{k['restarted'][s]:.1f} s" for s in k["sessions"] if s in k["restarted"]) or "—"
        cont = ", ".join(f"{k['continued'][s]:.1f} s" for s in k["sessions"] if s in k["continued"]) or "—"
        lines.append(f"| {k['at'] - first:.1f} | {k['victim']} | {sessions} | {restart} | {cont} | {k['deliveries']} | "
                     f"{', '.join(k['other']) or '—'} | {k['replacement_ready']:.1f} s |")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--repos", type=int, default=10)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=5, help="jobs per worker")
    parser.add_argument("--web", type=int, default=2)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds before the fake Claude answers")
    parser.add_argument("--kill-every", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--green-first", action="store_true", help="no fix: the first commit's checks pass")
    parser.add_argument("--runs", default="baseline,chaos")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds to wait for all sessions, per run")
    parser.add_argument("--drain", type=float, default=60, help="seconds to wait, after, for pending deliveries")
    parser.add_argument("--database", default="bench_chaos")
    parser.add_argument("--max-load", type=float, default=1.5,
                        help="wait for the 1-minute load average to fall under this before each run")
    parser.add_argument("--quiet-wait", type=float, default=600, help="seconds to wait for that, at most")
    parser.add_argument("--workdir", default="/tmp/bench_chaos")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--out", default=str(HERE / "results.md"), help="'-' to write no file")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    results = {}
    for name in args.runs.split(","):
        results[name] = asyncio.run(run(args, chaos=name == "chaos"))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    if "baseline" in results and "chaos" in results:
        text = render(args, results["baseline"], results["chaos"])
        print(text)
        if args.out != "-":
            Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
