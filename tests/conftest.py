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
