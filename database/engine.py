"""Engine and session factory, configured from ONEWINDOW_DATABASE_URL.

The default is a SQLite file under var/ at the project root; PostgreSQL works by setting the URL
(for example postgresql+psycopg2://user:pass@host/onewindow).
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "onewindow.db"


def database_url() -> str:
    """The configured database URL (environment first, then the SQLite default)."""
    url = os.environ.get("ONEWINDOW_DATABASE_URL", "").strip()
    return url or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL per process (the URL is resolved before the cache, so a changed
    ONEWINDOW_DATABASE_URL is honoured)."""
    return _engine_for(url or database_url())


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        return sqlite_engine(url, future=True)
    return create_engine(url, future=True)


def sqlite_engine(url: str, **kwargs) -> Engine:
    """A SQLite engine as every database of the product uses it (the tracker store's too): usable
    from any thread, WAL with synchronous=NORMAL, and for a file its connections kept in a pool
    (SQLAlchemy 1.4 opens a new one, and runs the pragmas, for every session; 2.0 pools them)."""
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["poolclass"] = QueuePool
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_session(url: str | None = None) -> Session:
    return sessionmaker(bind=get_engine(url), future=True, expire_on_commit=False)()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = make_session(url)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
