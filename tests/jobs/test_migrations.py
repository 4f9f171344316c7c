"""Migrations on PostgreSQL: processes that start together on a fresh database (web and workers)
migrate it once; the large columns are compressed with lz4."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(POSTGRES_URL is None, reason="PostgreSQL only (TEST_DATABASE_URL)")


def test_processes_starting_together_on_a_fresh_database_all_migrate_it():
    name = f"migrate_{uuid.uuid4().hex[:8]}"
    admin = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        processes = [subprocess.Popen([sys.executable, "-c", f"from bot.store.db import migrate; migrate({url!r})"],
                                      cwd=Path(__file__).resolve().parents[2], stderr=subprocess.PIPE)
                     for _ in range(4)]
        results = [(p.wait(timeout=120), p.stderr.read().decode()[-400:]) for p in processes]
        assert [code for code, _ in results] == [0] * 4, results
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_payloads_and_other_large_columns_are_compressed_with_lz4(_migrated_template):
    with psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")) as conn:
        methods = conn.execute(
            "SELECT attrelid::regclass::text || '.' || attname, attcompression FROM pg_attribute "
            "WHERE attrelid IN ('deliveries'::regclass, 'sessions'::regclass, 'interactions'::regclass) "
            "AND attname IN ('payload', 'request', 'input', 'result') ORDER BY 1").fetchall()
    assert methods == [("deliveries.payload", "l"), ("interactions.input", "l"), ("interactions.result", "l"),
                       ("sessions.request", "l")]
