"""Sessions at scale: N issues labelled at once, carried to a ready pull request by 1 worker, then
by 2, with 2 web processes, on PostgreSQL, against the fake GitHub and a fake Claude that answers
each call after `--latency` seconds. See README.md.

    /work/venv/bin/python benchmarks/sessions_scale/bench.py                    # 500 sessions, 1 then 2 workers
    /work/venv/bin/python benchmarks/sessions_scale/bench.py --sessions 100 --workers 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from benchmarks.sessions_scale.fleet import Fleet, mib, wait_for_quiet


async def run(args: argparse.Namespace, workers: int) -> dict:
    workdir = Path(args.workdir) / f"{workers}-worker"
    fleet = Fleet(sessions=args.sessions, repos=args.repos, database=args.database, workdir=workdir,
                  latency=args.latency, concurrency=args.concurrency, validate=args.validate,
                  log_level=args.log_level)
    async with fleet:
        for i in range(args.web):
            await fleet.web(f"web-{i + 1}")
        for i in range(workers):
            await fleet.worker(f"worker-{i + 1}")
        print(f"== {args.sessions} sessions, {args.repos} repositories, {args.web} web, {workers} worker(s) "
              f"x {args.concurrency}, Claude latency {args.latency} s", flush=True)
        load_before = await wait_for_quiet(args.max_load, args.quiet_wait)
        cpu_before = fleet.cpu_used()
        started = fleet.label_all()
        deadline = time.monotonic() + args.timeout
        last_print = 0.0
        statuses = await fleet.statuses()
        samples: list[dict] = []  # every 2 s: jobs running and due, Claude calls in flight
        last_sample = 0.0
        while time.monotonic() < deadline:
            statuses = await fleet.statuses()
            if statuses.get("awaiting_review", 0) >= args.sessions:
                break
            if time.monotonic() - last_sample >= 2:
                last_sample = time.monotonic()
                samples.append({**await fleet.job_load(), "claude": fleet.claude.in_flight})
            if time.monotonic() - last_print > 10:
                last_print = time.monotonic()
                jobs = await fleet.jobs()
                print(f"  {time.time() - started:6.0f} s  sessions {dict(statuses)}  jobs {dict(jobs)}  "
                      f"claude in flight {fleet.claude.in_flight}  pending webhooks {len(fleet.github.pending_webhooks)}",
                      flush=True)
            await asyncio.sleep(0.5)
        finished = await fleet.finish_times()
        cpu = {k: v - cpu_before.get(k, 0.0) for k, v in fleet.cpu_used().items()}
        wall = time.time() - started
        async with fleet.pg.cursor() as cur:
            await cur.execute("SELECT extract(epoch FROM updated_at - created_at) FROM sessions "
                              "WHERE status = 'awaiting_review'")
            durations = [float(r[0]) for r in await cur.fetchall()]
        calls = fleet.github_calls()
        checks = fleet.duplicates()
        claude_calls = fleet.claude.calls
        peak_claude = fleet.claude.peak_in_flight
    done = len(finished)
    elapsed = (finished[-1].timestamp() - started) if finished else wall
    times = sorted(t.timestamp() - started for t in finished)
    result = {
        "workers": workers, "concurrency": args.concurrency, "sessions": args.sessions, "done": done,
        "statuses": dict(statuses), "elapsed_s": round(elapsed, 1), "load_before": round(load_before, 2),
        "sessions_per_min": round(done / elapsed * 60, 1) if done else 0.0,
        "first_ready_s": round(times[0], 1) if times else None,
        "session_p50_s": round(statistics.median(durations), 1) if durations else None,
        "session_max_s": round(max(durations), 1) if durations else None,
        "worker_peak_rss": {p.name: p.peak_rss for p in fleet.procs if p.role == "worker"},
        "web_peak_rss": {p.name: p.peak_rss for p in fleet.procs if p.role == "web"},
        "cpu_s": {k: round(v, 1) for k, v in cpu.items()},
        "github_calls": sum(calls.values()),
        "github_calls_per_session": round(sum(calls.values()) / max(done, 1), 2),
        "github_calls_by_operation": dict(calls.most_common()),
        "claude_calls": claude_calls, "claude_peak_in_flight": peak_claude,
        "avg_running": {k: round(statistics.fmean(x[k] for x in samples), 1) for k in samples[0]} if samples else {},
        "deliveries": fleet.deliveries_sent, "deliveries_failed": fleet.deliveries_failed,
        "checks_added": fleet.checks_added, "events": dict(fleet.events.most_common()),
        "duplicates": checks["problems"][:20], "duplicate_count": len(checks["problems"]),
        "commit_writes": checks["commit_writes"],
    }
    print(json.dumps({k: v for k, v in result.items() if k not in ("github_calls_by_operation", "events")}, indent=1),
          flush=True)
    return result


def render(args: argparse.Namespace, results: list[dict]) -> str:
    lines = [
        "# Sessions at scale: results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `benchmarks/sessions_scale/bench.py "
        f"{' '.join(sys.argv[1:])}` on {platform.node() or 'this machine'}: {_cpus()} CPU(s), Python "
        f"{platform.python_version()}, PostgreSQL on 127.0.0.1 (default settings, max_connections 100).",
        "",
        f"{args.sessions} issues labelled at once across {args.repos} repositories (one installation each), "
        f"{args.web} web processes (`serve --no-worker`), workers with `--concurrency {args.concurrency}`, "
        f"every Claude call answered after {args.latency} s. Each session: Initialize, Generate (2 Claude calls: "
        "create the file, then finish), commit + draft PR, checks green (a passing `pytest -rA` log), Finalize, "
        "ready for review.",
        "",
        "| workers | finished (awaiting_review) | time to the last ready | sessions/min | first ready after "
        "| session label→ready p50 / max | peak RSS per worker | GitHub calls per session | Claude calls per session "
        "| load average before |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        rss = ", ".join(mib(v) for v in r["worker_peak_rss"].values())
        lines.append(
            f"| {r['workers']} × {r['concurrency']} | {r['done']}/{r['sessions']} | {r['elapsed_s']} s | "
            f"{r['sessions_per_min']} | {r['first_ready_s']} s | {r['session_p50_s']} s / {r['session_max_s']} s | "
            f"{rss} | {r['github_calls_per_session']} | {r['claude_calls'] / max(r['done'], 1):.2f} | {r['load_before']} |")
    if len(results) >= 2 and results[0]["sessions_per_min"]:
        a, b = results[0], results[-1]
        lines += ["", f"Throughput ratio {b['workers']} workers / {a['workers']}: "
                      f"**{b['sessions_per_min'] / a['sessions_per_min']:.2f}**."]
    lines += ["", "On average over the run (sampled every 2 s): jobs running, jobs due and waiting (not counting "
              "timers), Claude calls in flight:", "",
              "| workers | `run_session` running | `process_delivery` running | `run_session` due | "
              "`process_delivery` due | Claude calls in flight |", "|--:|--:|--:|--:|--:|--:|"]
    for r in results:
        a = r["avg_running"]
        lines.append(f"| {r['workers']} | {a.get('run_session running')} | {a.get('process_delivery running')} | "
                     f"{a.get('run_session due')} | {a.get('process_delivery due')} | {a.get('claude')} |")
    lines += ["", f"CPU seconds used from labelling to the last ready ({_cpus()} cores = {60 * _cpus()} CPU-seconds per "
              "wall minute; the last column is what other work on this shared machine took meanwhile):", "",
              "| workers | " + " | ".join(results[0]["cpu_s"]) + " | wall s |",
              "|--:|" + "--:|" * (len(results[0]["cpu_s"]) + 1)]
    for r in results:
        lines.append(f"| {r['workers']} | " + " | ".join(str(v) for v in r["cpu_s"].values()) + f" | {r['elapsed_s']} |")
    lines += ["", "Web processes' peak RSS: " + "; ".join(
        f"{r['workers']} worker(s): " + ", ".join(mib(v) for v in r["web_peak_rss"].values()) for r in results) + "."]
    lines += ["", "Checks of the fake after each run (one branch, one PR, one commit, one status comment per "
              "issue; no bot comment on a PR): " + "; ".join(
                  f"{r['workers']} worker(s): {r['duplicate_count']} problem(s), {r['commit_writes']} commit writes"
                  for r in results) + "."]
    for r in results:
        if r["duplicates"]:
            lines += ["", f"Problems with {r['workers']} worker(s): " + "; ".join(r["duplicates"])]
    lines += ["", "Webhook deliveries per session (each is recorded by a web process and becomes a `process_delivery` "
              "job on a worker): " + "; ".join(f"{r['workers']} worker(s): {r['deliveries'] / max(r['done'], 1):.1f}"
                                              for r in results) + ". By event, in the last run: " + ", ".join(
        f"`{k}` {v / max(results[-1]['done'], 1):.2f}" for k, v in results[-1]["events"].items()) + "."]
    lines += ["", "GitHub calls by operation, per session:", "",
              "| operation | " + " | ".join(f"{r['workers']} worker(s)" for r in results) + " |",
              "|---|" + "--:|" * len(results)]
    ops = list(dict.fromkeys(op for r in results for op in r["github_calls_by_operation"]))
    for op in ops:
        lines.append(f"| `{op}` | " + " | ".join(
            f"{r['github_calls_by_operation'].get(op, 0) / max(r['done'], 1):.2f}" for r in results) + " |")
    lines.append("")
    return "\n".join(lines)


def _cpus() -> int:
    return os.cpu_count() or 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--repos", type=int, default=50)
    parser.add_argument("--workers", default="1,2", help="worker counts to run, one run each (default 1,2)")
    parser.add_argument("--concurrency", type=int, default=50, help="jobs per worker (WORKER_CONCURRENCY)")
    parser.add_argument("--web", type=int, default=2)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds before the fake Claude answers")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for all sessions, per run")
    parser.add_argument("--database", default="bench_sessions")
    parser.add_argument("--workdir", default="/tmp/bench_sessions_scale", help="processes' logs go here")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--max-load", type=float, default=1.5,
                        help="wait for the 1-minute load average to fall under this before each run")
    parser.add_argument("--quiet-wait", type=float, default=600, help="seconds to wait for that, at most")
    parser.add_argument("--validate", action="store_true",
                        help="the fake GitHub checks every response against GitHub's OpenAPI (costs its CPU)")
    parser.add_argument("--out", default=str(HERE / "results.md"), help="'-' to write no file")
    parser.add_argument("--json", default=None, help="also write the raw results here")
    args = parser.parse_args()
    results = [asyncio.run(run(args, int(w))) for w in args.workers.split(",")]
    text = render(args, results)
    print(text)
    if args.out != "-":
        Path(args.out).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
