"""Recorded output through the clients: merged into meta, read back, limits enforced first."""

from __future__ import annotations

import asyncio
import base64
import hashlib

import psycopg
import pytest

from bridge import AsyncClient, Client, JobNotFound, RecordedMissing, RecordTooLarge
from bridge.wire.etf import Atom

pytestmark = pytest.mark.pg


def test_record_merges_and_reads_back(dsn: str) -> None:
    value = {"rows": [1, 2, 3], "status": Atom("ok"), "big": 2**100, "pair": (1, "a")}
    with Client(dsn) as client:
        job = client.enqueue("W", {}, meta={"keep": "me"})
        with pytest.raises(RecordedMissing):
            client.fetch_recorded(job.id)  # type: ignore[arg-type]
        recorded = client.record(job.id, value)  # type: ignore[arg-type]
        assert recorded.meta["keep"] == "me" and recorded.meta["recorded"] is True
        text = recorded.meta["return"]
        assert not text.endswith("=") and text.startswith("g")  # unpadded standard base64
        assert base64.b64decode(text + "=" * (-len(text) % 4))[:2] == b"\x83\x50"  # compressed
        assert client.fetch_recorded(job.id) == value  # type: ignore[arg-type]
        assert client.fetch_recorded(recorded) == value


def test_null_meta_from_another_writer_is_handled(dsn: str) -> None:
    with Client(dsn) as client:
        job = client.enqueue("W", {})
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("UPDATE oban_jobs SET meta = NULL WHERE id = %s", (job.id,))
        assert client.record(job.id, "done").meta["recorded"] is True  # type: ignore[arg-type]
        assert client.fetch_recorded(job.id) == "done"  # type: ignore[arg-type]


def test_limit_is_checked_before_writing(dsn: str) -> None:
    with Client(dsn) as client:
        job = client.enqueue("W", {})
        noise = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(100))  # 3.2 kB
        with pytest.raises(RecordTooLarge) as info:
            client.record(job.id, noise, limit=1000)  # type: ignore[arg-type]
        assert info.value.limit == 1000
        assert client.get_job(job.id).meta == {}  # type: ignore[arg-type]
        with pytest.raises(JobNotFound):
            client.record(10**9, 1)


def test_async_record(dsn: str) -> None:
    async def main() -> None:
        async with AsyncClient(dsn) as client:
            job = await client.enqueue("W", {})
            await client.record(job.id, [1, 2, 300])  # type: ignore[arg-type]
            assert await client.fetch_recorded(job.id) == [1, 2, 300]  # type: ignore[arg-type]

    asyncio.run(main())
