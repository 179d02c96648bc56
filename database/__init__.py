"""The shared relational database: engine, sessions, declarative base and schema migrations.

Every package that stores data (knowledge, filings, the staff desk) declares its models on
`database.Base`; the schema is versioned by the Alembic migrations in `database/migrations`.
"""
from database.base import Base
from database.engine import database_url, get_engine, session_scope, make_session

__all__ = ["Base", "database_url", "get_engine", "session_scope", "make_session"]
