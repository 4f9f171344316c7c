"""The delivery recorder's writer on PostgreSQL: a batch of deliveries and their `process_delivery`
jobs in one statement, on a connection of its own.

Through SQLAlchemy and Procrastinate's `batch_defer_async`, a batch took four round trips (BEGIN,
the INSERT, the deferral, COMMIT) and, per delivery, more CPU in the two libraries than in the
database (benchmarks/webhook_ingest). Here the rows travel as one array per column, in binary (in
text, escaping a 12 KB payload into an array literal costs ~0.6 ms); a data-modifying CTE inserts
them and hands the new, pending ones to Procrastinate's own `procrastinate_defer_jobs_v1`, so the
rows and their jobs are committed together, or neither (one statement in autocommit mode is one
transaction). The jobs take the registered task's queue, priority and locks.

Outcomes (a worker finishing deliveries) are one UPDATE from arrays; a batch holding both runs
its two statements in one transaction, as the SQLAlchemy writer does.
"""

from __future__ import annotations

from typing import Any

import psycopg
from procrastinate import App

from bot.jobs.tasks import PROCESS_DELIVERY

APPLICATION_NAME = "component-bot deliveries"  # the writer's connection, in pg_stat_activity
COLUMNS = {"delivery_id": "varchar", "event": "varchar", "action": "varchar", "installation_id": "int8",
           "repository_id": "int8", "repository_full_name": "varchar", "sender_login": "varchar",
           "received_at": "timestamptz", "outcome": "varchar", "processed_at": "timestamptz", "payload": "bytea"}
OUTCOME_COLUMNS = {"finished_delivery_id": "varchar", "outcome": "varchar", "error": "text", "model_error": "text",
                   "processed_at": "timestamptz"}


def arrays(columns: dict[str, str]) -> str:
    """One binary array parameter per column, cast to its type: what `unnest` takes the rows from."""
    return ", ".join(f"%({name})b::{kind}[]" for name, kind in columns.items())


RECORD_AND_DEFER = f"""
WITH new AS (
    INSERT INTO deliveries ({", ".join(COLUMNS)})
    SELECT * FROM unnest({arrays(COLUMNS)})
    ON CONFLICT (delivery_id) DO NOTHING
    RETURNING delivery_id, outcome
), deferred AS (
    SELECT procrastinate_defer_jobs_v1(ARRAY(
        SELECT ROW(%(queue)s, %(task)s, %(priority)s, %(lock)s, %(queueing_lock)s,
                   jsonb_build_object('delivery_id', delivery_id), NULL)::procrastinate_job_to_defer_v1
        FROM new WHERE outcome = 'pending' ORDER BY delivery_id)) AS job_ids
)
SELECT new.delivery_id FROM new, deferred
"""  # the cross join makes the deferral run whenever a row is new (an unreferenced CTE would not)

FINISH = f"""
UPDATE deliveries SET outcome = finished.outcome, error = finished.error, model_error = finished.model_error,
                      processed_at = finished.processed_at, payload = NULL
FROM unnest({arrays(OUTCOME_COLUMNS)})
     AS finished ({", ".join(OUTCOME_COLUMNS)})
WHERE deliveries.delivery_id = finished.finished_delivery_id
"""


def job_options(queue: App) -> dict[str, Any]:
    """The `process_delivery` task's queue, priority and locks, as the statement's parameters."""
    task = queue.tasks[PROCESS_DELIVERY]
    return {"queue": task.queue, "task": task.name, "priority": task.priority, "lock": task.lock,
            "queueing_lock": task.queueing_lock}


def columns_of(rows: list[dict[str, Any]], names: dict[str, str]) -> dict[str, list[Any]]:
    return {name: [row[name] for row in rows] for name in names}


class PostgresDeliveryWriter:
    """A `BatchWriter` (bot/store/recorder.py) on a connection of its own, named `APPLICATION_NAME`
    in `pg_stat_activity`; as an async context manager, closed on exit (open it around the recorder,
    whose last writes come as that stops).

    A connection found broken (the server restarted, or an idle connection was cut) is replaced and
    the batch written once more on the new one. Safe: had the first attempt committed before its
    answer was lost, the second finds every row recorded and inserts and queues nothing (its callers
    are answered "seen before", and the jobs are the first attempt's)."""

    def __init__(self, conninfo: str, queue: App) -> None:
        self.conninfo = conninfo
        self.job = job_options(queue)
        self._connection: psycopg.AsyncConnection[Any] | None = None

    async def __call__(self, rows: list[dict[str, Any]], outcomes: list[dict[str, Any]]) -> set[str]:
        try:
            return await self._write(await self._connect(), rows, outcomes)
        except psycopg.OperationalError:
            if not await self._drop_if_broken():
                raise
        return await self._write(await self._connect(), rows, outcomes)

    async def __aenter__(self) -> PostgresDeliveryWriter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        if self._connection is None:
            self._connection = await psycopg.AsyncConnection.connect(
                self.conninfo, autocommit=True, application_name=APPLICATION_NAME)
        return self._connection

    async def _drop_if_broken(self) -> bool:
        connection = self._connection
        if connection is None or not (connection.broken or connection.closed):
            return False
        self._connection = None
        await connection.close()
        return True

    async def _write(self, connection: psycopg.AsyncConnection[Any], rows: list[dict[str, Any]],
                     outcomes: list[dict[str, Any]]) -> set[str]:
        if rows and outcomes:
            async with connection.transaction():
                new_ids = await self._insert(connection, rows)
                await self._finish(connection, outcomes)
            return new_ids
        if outcomes:
            await self._finish(connection, outcomes)
        return await self._insert(connection, rows) if rows else set()

    async def _insert(self, connection: psycopg.AsyncConnection[Any], rows: list[dict[str, Any]]) -> set[str]:
        cursor = await connection.execute(RECORD_AND_DEFER, columns_of(rows, COLUMNS) | self.job)
        return {delivery_id for (delivery_id,) in await cursor.fetchall()}

    async def _finish(self, connection: psycopg.AsyncConnection[Any], outcomes: list[dict[str, Any]]) -> None:
        await connection.execute(FINISH, columns_of(outcomes, OUTCOME_COLUMNS))
