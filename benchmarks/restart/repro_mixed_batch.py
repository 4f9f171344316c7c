"""Reproduction, without processes, of the failure the restart benchmark's logs show: two webhooks
recorded at the same moment, one that no handler wants (recorded as `ignored`, with a
`processed_at`) and one that is wanted (recorded `pending`, without that key), go into one group
commit of the delivery recorder; SQLAlchemy's multi-row INSERT then refuses the whole batch ("A
value is required for bind parameter 'processed_at', in parameter group 1") and both requests fail
(the web endpoint answers 500). Exits 1 while the bug is there (3bfcfb7), 0 once both are
recorded (fixed in da72fd0).

    /work/venv/bin/python benchmarks/restart/repro_mixed_batch.py
    /work/venv/bin/python benchmarks/restart/repro_mixed_batch.py postgresql://postgres@127.0.0.1:5432/bench_repro
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.config.settings import async_database_url
from bot.store.db import Database, migrate
from bot.store.deliveries import DeliveryHeader
from bot.store.recorder import DeliveryRecorder, sqlalchemy_writer


async def record_both(url: str) -> list[object]:
    """An unwanted `check_run.created` and a wanted `check_suite.completed`, recorded concurrently."""
    async with Database.open(url) as db, DeliveryRecorder.running(sqlalchemy_writer(db)) as recorder:
        unwanted = recorder.record(DeliveryHeader("repro-1", "check_run", "created"), b"{}", wanted=False)
        wanted = recorder.record(DeliveryHeader("repro-2", "check_suite", "completed"), b"{}")
        return await asyncio.gather(unwanted, wanted, return_exceptions=True)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        url = async_database_url(sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tmp}/repro.sqlite3")
        migrate(url)
        results = asyncio.run(record_both(url))
    for name, result in zip(("unwanted check_run.created", "wanted check_suite.completed"), results, strict=True):
        print(f"{name}: {'FAILED: ' + str(result).splitlines()[0] if isinstance(result, Exception) else 'recorded'}")
    return 1 if any(isinstance(r, Exception) for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
