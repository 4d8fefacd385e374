"""SQLAlchemy (psycopg 3 driver): the job commits or rolls back with the session's writes, for
a ``Session``, a Core ``Connection`` and an ``AsyncSession``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from contrib_support import Listener, seen
from psycopg.conninfo import conninfo_to_dict

from bridge.errors import ConfigError

pytestmark = pytest.mark.pg

sa = pytest.importorskip(
    "sqlalchemy", reason="SQLAlchemy is not installed (pip install -e '.[dev]')"
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column  # noqa: E402

from bridge.contrib.sqlalchemy import _driver, get_async_client, get_client  # noqa: E402

MAILERS = ("public.oban_insert", '{"queue":"mailers"}')


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int]


class Rollback(Exception):
    """Raised inside a transaction to roll it back."""


def url(dsn: str) -> Any:
    params = conninfo_to_dict(dsn)
    return sa.URL.create(
        "postgresql+psycopg",
        username=params.get("user"),
        password=params.get("password"),
        host=params.get("host"),
        port=int(params["port"]) if params.get("port") else None,
        database=params["dbname"],
    )


@pytest.fixture
def engine(dsn: str) -> Iterator[Any]:
    engine = sa.create_engine(url(dsn))
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def listener(dsn: str) -> Iterator[Listener]:
    lst = Listener(dsn)
    yield lst
    lst.close()


def test_session_commit_writes_the_model_and_the_job_and_notifies(
    dsn: str, engine: Any, listener: Listener
) -> None:
    with Session(engine) as session, session.begin():
        session.add(Order(number=1))
        session.flush()
        job = get_client(session).enqueue("MyApp.Mailer", {"order": 1}, queue="mailers")
        assert seen(dsn) == {"orders": [], "jobs": []}  # nothing before commit
        assert listener.drain() == []
    assert job.id is not None
    assert seen(dsn) == {"orders": [1], "jobs": [("MyApp.Mailer", "mailers", {"order": 1})]}
    assert listener.drain() == [MAILERS]


def test_session_rollback_leaves_nothing(dsn: str, engine: Any, listener: Listener) -> None:
    with Session(engine) as session:
        get_client(session).enqueue("MyApp.Mailer", {}, queue="mailers")  # begins the transaction
        session.add(Order(number=1))
        session.flush()
        session.rollback()
    with pytest.raises(Rollback), Session(engine) as session, session.begin():
        session.add(Order(number=2))
        session.flush()
        get_client(session).enqueue("MyApp.Mailer", {}, queue="mailers")
        raise Rollback
    assert seen(dsn) == {"orders": [], "jobs": []}
    assert listener.drain(timeout=0.5) == []


def test_core_connection(dsn: str, engine: Any, listener: Listener) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO orders (number) VALUES (1)"))
        get_client(conn).enqueue("MyApp.Mailer", {"order": 1}, queue="mailers")
    with pytest.raises(Rollback), engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO orders (number) VALUES (2)"))
        get_client(conn).enqueue("MyApp.Mailer", {"order": 2}, queue="mailers")
        raise Rollback
    assert seen(dsn) == {"orders": [1], "jobs": [("MyApp.Mailer", "mailers", {"order": 1})]}
    assert listener.drain() == [MAILERS]


def test_async_session_commit_and_rollback(dsn: str, engine: Any, listener: Listener) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    async def main() -> list[tuple[str, str]]:
        aengine = create_async_engine(url(dsn))
        try:
            async with AsyncSession(aengine) as session, session.begin():
                session.add(Order(number=1))
                await session.flush()
                client = await get_async_client(session)
                await client.enqueue("MyApp.Mailer", {"order": 1}, queue="mailers")
                assert seen(dsn) == {"orders": [], "jobs": []}
                before = listener.drain()
            with pytest.raises(Rollback):
                async with AsyncSession(aengine) as session, session.begin():
                    session.add(Order(number=2))
                    await session.flush()
                    client = await get_async_client(session)
                    await client.enqueue("MyApp.Mailer", {"order": 2}, queue="audit")
                    raise Rollback
            return before
        finally:
            await aengine.dispose()

    assert asyncio.run(main()) == []
    assert seen(dsn) == {"orders": [1], "jobs": [("MyApp.Mailer", "mailers", {"order": 1})]}
    assert listener.drain() == [MAILERS]  # and none for the rolled-back 'audit' insert


def test_other_databases_and_drivers_are_config_errors() -> None:
    import psycopg
    from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2

    with (
        Session(sa.create_engine("sqlite://")) as session,
        pytest.raises(ConfigError, match="engine is sqlite; oban-bridge needs PostgreSQL"),
    ):
        get_client(session)
    with pytest.raises(ConfigError, match=r"psycopg2 driver, .* 'postgresql\+psycopg://' URL"):
        _driver(object(), psycopg.Connection, PGDialect_psycopg2())
