"""Request-scoped dependencies: a database session and the process's search service."""
from __future__ import annotations

from typing import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from database.engine import make_session
from knowledge.search import SearchService


def get_session(request: Request) -> Iterator[Session]:
    session = make_session(request.app.state.database_url)
    try:
        yield session
    finally:
        session.close()


def get_search(request: Request) -> SearchService:
    return request.app.state.search
