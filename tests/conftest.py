"""Shared fixtures: a fresh, migrated SQLite database per test."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from database import make_session
from database.engine import get_engine
from database.migrate import upgrade

from catalogue_helpers import FIXTURE_CATALOGUE


@pytest.fixture
def db_url(tmp_path, monkeypatch) -> str:
    """ONEWINDOW_DATABASE_URL pointing at a new SQLite file, upgraded to head."""
    url = f"sqlite:///{tmp_path / 'onewindow.db'}"
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", url)
    upgrade(url)
    yield url
    get_engine(url).dispose()


@pytest.fixture
def session(db_url):
    session = make_session(db_url)
    yield session
    session.close()


@pytest.fixture
def catalogue_copy(tmp_path) -> Path:
    """A writable copy of the fixture catalogue."""
    target = tmp_path / "catalogue"
    shutil.copytree(FIXTURE_CATALOGUE, target)
    return target


@pytest.fixture(autouse=True)
def _identity_key(monkeypatch):
    """A fixed identity secret (filings.identity), so no test writes var/identity.key."""
    monkeypatch.setenv("ONEWINDOW_IDENTITY_KEY", "test-identity-key-0123456789abcdefghijklmnop")


@pytest.fixture(scope="session")
def filings_url(tmp_path_factory) -> str:
    """A migrated database with the default catalogue, shared by the filings tests (each test
    files its own cases, so they do not see each other's)."""
    from catalogue_helpers import catalogue_database

    url = catalogue_database(tmp_path_factory.mktemp("filings"), "filings.db")
    yield url
    get_engine(url).dispose()


@pytest.fixture
def fsession(filings_url):
    session = make_session(filings_url)
    yield session
    session.rollback()
    session.close()
