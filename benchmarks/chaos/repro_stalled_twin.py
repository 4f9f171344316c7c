"""Deterministic reproduction of what the chaos benchmark found: a killed worker's `run_session` job
is never run again when a wake of the same session was queued while it ran.

1. A session's `run_session` job (lock and queueing lock `session:<id>`) is running on a worker.
2. A webhook for the session arrives meanwhile: `QueueScheduler.schedule` queues another
   `run_session` job with the same queueing lock (allowed: the first is `doing`, not `todo`).
3. The worker is killed: no more heartbeats.
4. `retry_stalled_jobs` (bot/jobs/tasks.py) asks Procrastinate to retry the first job: back to
   `todo`, which the unique index on `queueing_lock WHERE status = 'todo'` refuses. The task fails
   with UniqueViolation, at every tick, before it reaches any other stalled job; and the queued wake
   can never start, as the stalled job holds the session's lock. The session is stuck for good.

    /work/venv/bin/python benchmarks/chaos/repro_stalled_twin.py      # uses (and resets) database bench_chaos_repro
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psycopg

from benchmarks.sessions_scale.fleet import libpq, reset_database
from bot.jobs import tasks
from bot.jobs.queue import QueueScheduler, make_app
from procrastinate import JobContext

DATABASE = "bench_chaos_repro"


async def main() -> int:
    url = reset_database(DATABASE)
    migrate = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "migrate",
                                                   env={**os.environ, "DATABASE_URL": url})
    if await migrate.wait():
        return 2
    app = make_app(url)
    async with app.open_async():
        scheduler = QueueScheduler(app, db=None)
        manager = app.job_manager
        worker_id = await manager.register_worker()
        await scheduler.schedule(7)                                  # 1. a wake of session 7 …
        running = await manager.fetch_job(queues=["sessions"], worker_id=worker_id)  # … taken by a worker
        await scheduler.schedule(7)                                  # 2. a webhook's wake while it runs
        with psycopg.connect(libpq(url), autocommit=True) as conn:   # 3. the worker dies: heartbeat goes stale
            conn.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 minute'")
        other = await manager.register_worker()                      # a second stalled job, of another session
        await scheduler.schedule(8)
        await manager.fetch_job(queues=["sessions"], worker_id=other)
        with psycopg.connect(libpq(url), autocommit=True) as conn:
            conn.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 minute'")
        context = JobContext(app=app, job=running, start_timestamp=time.time(), abort_reason=lambda: None)
        try:                                                         # 4. the periodic task that should recover both
            await tasks.retry_stalled_jobs(context, int(time.time()))
            print("retry_stalled_jobs succeeded")
        except Exception as exc:  # noqa: BLE001
            print(f"retry_stalled_jobs failed: {type(exc).__name__} on {getattr(exc, 'constraint_name', '?')}")
        with psycopg.connect(libpq(url)) as conn:
            rows = conn.execute("SELECT id, args->>'session_id', status, queueing_lock FROM procrastinate_jobs "
                                "ORDER BY id").fetchall()
        for row in rows:
            print("job %s: session %s, %s, queueing lock %s" % row)
        stuck = [r for r in rows if r[2] == "doing"]
        print("BUG REPRODUCED: stalled jobs left doing, never retried" if stuck else "not reproduced")
        return 1 if stuck else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
