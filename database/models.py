"""The one list of model modules that make up the database schema.

Alembic's env.py (target_metadata) and the schema tests import the models through
`load_models()`, so a new package that stores data only has to add its module here.
"""
from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from database.base import Base

# Every module that declares models on database.Base. Extend this tuple when a new one appears.
MODEL_MODULES: tuple[str, ...] = (
    "knowledge.models",
    "handoff.models",
    "analytics.models",
    "outbound.models",
    "filings.models",
    "staffdesk.models",
)


def load_models() -> MetaData:
    """Import every model module and return the complete metadata."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata
