"""The catalogue revision: a counter in CatalogueState that moves whenever the catalogue changes.

Search indexes and caches remember the revision they were built from and rebuild when it moves.
Every importer run that changes anything bumps it exactly once.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy.orm import Session

from knowledge.models import CatalogueState

REVISION_KEY = "revision"
DEFAULT_CATALOGUE_FINGERPRINT_KEY = "default_catalogue_fingerprint"


def get_state(session: Session, key: str) -> Optional[str]:
    row = session.get(CatalogueState, key)
    return row.value if row is not None else None


def set_state(session: Session, key: str, value: str) -> None:
    row = session.get(CatalogueState, key)
    if row is None:
        session.add(CatalogueState(key=key, value=value))
    elif row.value != value:
        row.value = value


def get_revision(session: Session) -> int:
    """The current catalogue revision (0 for a catalogue that was never imported)."""
    value = get_state(session, REVISION_KEY)
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


def bump_revision(session: Session) -> int:
    """Increment the revision (in the session's transaction) and return the new value."""
    revision = get_revision(session) + 1
    set_state(session, REVISION_KEY, str(revision))
    session.flush()
    return revision
