"""The search service a process keeps: an engine built from the database, rebuilt when the
catalogue revision moves (an import, an alias added by staff)."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Optional

from sqlalchemy.orm import Session

from knowledge.search.documents import load_documents
from knowledge.search.engine import SearchConfig, SearchEngine, SearchResult

log = logging.getLogger(__name__)


def _revision(session: Session) -> int:
    from knowledge.revision import get_revision

    return get_revision(session)


class SearchService:
    """Thread-safe holder of the current engine.

    `search()` serves the engine it has. A watched service (`watch()`, the servers) checks the
    catalogue revision in a background thread; otherwise `search()` looks at it at most every
    `check_interval` seconds. When it moved, the engine is rebuilt in the background and swapped
    in (the old one keeps answering meanwhile). `refresh(wait=True)` rebuilds at once.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        config: Optional[SearchConfig] = None,
        check_interval: float = 2.0,
    ):
        self._session_factory = session_factory
        self._config = config
        self._check_interval = check_interval
        self._engine: Optional[SearchEngine] = None
        self._lock = threading.Lock()
        self._building = threading.Lock()
        self._last_check = 0.0
        self._watcher: Optional[threading.Thread] = None
        self._stop = threading.Event()

    @property
    def current(self) -> Optional[SearchEngine]:
        """The engine built so far, without building one (None while starting)."""
        return self._engine

    @property
    def engine(self) -> SearchEngine:
        if self._engine is None:
            self.refresh(wait=True)
        assert self._engine is not None
        return self._engine

    def _build(self) -> None:
        with self._building:
            with self._session_factory() as session:
                revision = _revision(session)
                if self._engine is not None and self._engine.revision == revision:
                    return
                started = time.perf_counter()
                documents = load_documents(session)
            engine = SearchEngine(documents, config=self._config, revision=revision)
            with self._lock:
                self._engine = engine
            log.info(
                "search index built: %d documents, revision %d, %.2f s",
                len(documents),
                revision,
                time.perf_counter() - started,
            )

    def refresh(self, wait: bool = False) -> None:
        if wait or self._engine is None:
            self._build()
        elif not self._building.locked():
            threading.Thread(target=self._build, name="search-rebuild", daemon=True).start()

    def watch(self) -> "SearchService":
        """Check the catalogue revision every `check_interval` seconds in a background thread and
        rebuild as soon as it moves, so a change (an alias added by staff, an import) is searchable
        by the next question instead of after it. Long-running servers call this; idempotent."""
        if self._watcher is not None:  # the common case, on every call: no lock
            return self
        with self._lock:
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, name="search-watch", daemon=True)
                self._watcher.start()
        return self

    def _watch(self) -> None:
        failing = False
        while not self._stop.wait(self._check_interval):
            try:
                with self._session_factory() as session:
                    revision = _revision(session)
                if self._engine is not None and revision != self._engine.revision:
                    self._build()
                failing = False
            except Exception:  # keep watching: the database may come back
                if not failing:  # once per outage, not every interval
                    log.exception("could not check the catalogue revision; search answers from the index it has")
                failing = True

    def stop(self) -> None:
        """Stop watching (the process is shutting down)."""
        self._stop.set()

    def _maybe_refresh(self) -> None:
        now = time.monotonic()
        if now - self._last_check < self._check_interval:
            return
        self._last_check = now
        with self._session_factory() as session:
            revision = _revision(session)
        if self._engine is None or revision != self._engine.revision:
            self.refresh(wait=False)

    def search(self, query: str, limit: int = 10, **kwargs) -> SearchResult:
        engine = self.engine
        if self._watcher is None:  # not watched: look at the revision now and then, from here
            try:
                self._maybe_refresh()
            except Exception:  # a database hiccup must not break answering from the index we have
                log.exception("could not check the catalogue revision")
        return engine.search(query, limit=limit, **kwargs)
