"""Finding the right service from the words a citizen types.

- `SearchEngine`: an in-memory index over catalogue documents (text.py, lexicon.py, index.py).
- `SearchService`: the engine a process keeps, rebuilt when the catalogue changes.
- `default_service()`: the process-wide service over the configured database.
"""
from __future__ import annotations

from functools import lru_cache

from knowledge.search.documents import SearchDocument, load_documents
from knowledge.search.engine import Hit, SearchConfig, SearchEngine, SearchResult, VariantGroup
from knowledge.search.service import SearchService

__all__ = [
    "Hit",
    "SearchConfig",
    "SearchDocument",
    "SearchEngine",
    "SearchResult",
    "SearchService",
    "VariantGroup",
    "default_service",
    "load_documents",
]


@lru_cache(maxsize=None)
def default_service(url: str | None = None) -> SearchService:
    """One search service per database URL per process."""
    from database.engine import database_url, make_session

    url = url or database_url()
    return SearchService(lambda: make_session(url))
