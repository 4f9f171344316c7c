"""Group commit for the deliveries table: one writer task per process.

Recording a delivery and recording its outcome both join one queue. The writer takes whatever
queued up while its previous transaction ran and writes it all in one transaction: one multi-row
INSERT … ON CONFLICT DO NOTHING RETURNING for the new deliveries, one executemany UPDATE for the
outcomes. Idle, a batch is a single item, so a lone delivery waits for nothing; under load the
cost of a transaction (round trips, a commit, an fsync) is shared by the whole batch.

Every caller is answered only after the commit, so durability is unchanged: a delivery reported
as new is a committed row. When the transaction fails, every caller of that batch gets its
exception.

The transaction is a `BatchWriter`'s: SQLAlchemy's here (SQLite), or on PostgreSQL one statement
that also queues the deliveries' jobs (bot/jobs/recording.py).

One writer per process: a second one on PostgreSQL made smaller batches and cost ~13% more CPU per
request for the same throughput (benchmarks/webhook_ingest). Batches of two processes holding the
same new delivery id cannot both insert it: the second waits for the first's commit, then finds it
recorded; rows go in in id order, so two batches never wait for each other crosswise.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

from bot.store.deliveries import DeliveryHeader, delivery_row, finish_deliveries, insert_deliveries, outcome_row
from bot.store.models import DeliveryOutcome

BatchWriter = Callable[[list[dict[str, Any]], list[dict[str, Any]]], Awaitable[set[str]]]
"""Writes a batch in one transaction: the `delivery_row`s (one per id, in id order), then the
`outcome_row`s; returns the ids of the rows that were new."""
MAX_BATCH = 500
MAX_QUEUED = 5000  # beyond this, callers wait for room: back-pressure instead of unbounded memory


@dataclass(frozen=True)
class _Write:
    row: dict[str, Any]
    done: asyncio.Future[Any]
    is_insert: bool


class DeliveryRecorder:
    def __init__(self, write: BatchWriter) -> None:
        self.write = write
        self._queue: asyncio.Queue[_Write] = asyncio.Queue(maxsize=MAX_QUEUED)
        self._writer: asyncio.Task[None] | None = None
        self._closed = False

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, write: BatchWriter) -> AsyncIterator[DeliveryRecorder]:
        """The recorder with its writer task started; on exit, everything queued is written first."""
        recorder = cls(write)
        recorder._writer = asyncio.create_task(recorder._write_forever(), name="delivery-recorder")
        try:
            yield recorder
        finally:
            await recorder.close()

    async def record(self, header: DeliveryHeader, body: bytes, *, wanted: bool = True) -> bool:
        """Record a received delivery once committed; False when its id was recorded before,
        including by an earlier request in the same batch. One not `wanted` is recorded as ignored
        (and no job is queued for it)."""
        return await self._enqueue(delivery_row(header, body, wanted=wanted), is_insert=True)

    async def finish(self, delivery_id: str, outcome: DeliveryOutcome, error: str | None = None,
                     model_error: str | None = None) -> None:
        """Record a delivery's outcome (dropping its payload) once committed."""
        await self._enqueue(outcome_row(delivery_id, outcome, error, model_error), is_insert=False)

    async def close(self) -> None:
        """Write what is queued, then stop the writer."""
        self._closed = True
        if self._writer is None:
            return
        await self._queue.join()
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer

    async def _enqueue(self, row: dict[str, Any], *, is_insert: bool) -> Any:  # noqa: ANN401
        if self._closed:
            raise RuntimeError("the delivery recorder is closed")
        done = asyncio.get_running_loop().create_future()
        await self._queue.put(_Write(row, done, is_insert))
        return await done

    async def _write_forever(self) -> None:
        while True:
            batch = await self._next_batch()
            try:
                await self._commit(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _next_batch(self) -> list[_Write]:
        """Wait for one write, then take everything else already queued (up to MAX_BATCH)."""
        batch = [await self._queue.get()]
        while len(batch) < MAX_BATCH and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def _commit(self, batch: list[_Write]) -> None:
        inserts = [write for write in batch if write.is_insert]
        outcomes = [write.row for write in batch if not write.is_insert]
        try:
            new_ids = await self.write(_first_row_per_id(inserts), outcomes)
        except Exception as exc:  # noqa: BLE001 - handed to every caller of the batch, which decides
            for write in batch:
                _settle(write.done, exception=exc)
            return
        _answer_inserts(inserts, new_ids)
        for write in batch:
            if not write.is_insert:
                _settle(write.done, result=None)


def sqlalchemy_writer(db: Callable[[], Any]) -> BatchWriter:
    """The `BatchWriter` on a SQLAlchemy session factory."""

    async def write(rows: list[dict[str, Any]], outcomes: list[dict[str, Any]]) -> set[str]:
        async with db() as session, session.begin():
            new_ids = await insert_deliveries(session, rows) if rows else set()
            if outcomes:
                await finish_deliveries(session, outcomes)
        return new_ids

    return write


def _first_row_per_id(inserts: list[_Write]) -> list[dict[str, Any]]:
    """One row per delivery id (the first request's), in id order."""
    rows: dict[str, dict[str, Any]] = {}
    for write in inserts:
        rows.setdefault(write.row["delivery_id"], write.row)
    return [rows[delivery_id] for delivery_id in sorted(rows)]


def _answer_inserts(inserts: list[_Write], new_ids: set[str]) -> None:
    """True for the first request of each newly inserted id, False for every other."""
    unclaimed = set(new_ids)
    for write in inserts:
        delivery_id = write.row["delivery_id"]
        _settle(write.done, result=delivery_id in unclaimed)
        unclaimed.discard(delivery_id)


def _settle(done: asyncio.Future[Any], *, result: Any = None, exception: BaseException | None = None) -> None:  # noqa: ANN401
    if done.done():  # its caller was cancelled
        return
    if exception is not None:
        done.set_exception(exception)
    else:
        done.set_result(result)
