"""The conversation log, written beside the conversation instead of inside it.

Answered and unanswered questions (the dashboard's and the learning loop's data) are recorded by
the actions and written to the database by a thread of the action server's own, in the order
they were recorded, within moments: the citizen's answer no longer waits for that commit (about a
third of the action server's time per turn). `flush()` waits until everything recorded so far is
written; a rating flushes first, so that it finds the answer it rates. While the database is down,
entries are kept in memory (up to MAX_PENDING, the oldest dropped beyond it, with a warning) and
written once it is back; the outage is logged once, not per entry. The process flushes on exit.
"""
from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from datetime import datetime
from typing import Any, Callable, Deque, Optional, Tuple

from analytics.log import log_answer, log_unanswered
from database.engine import session_scope

log = logging.getLogger(__name__)

MAX_PENDING = 100_000
RETRY_SECONDS = (0.5, 30.0)  # first wait after a failed write, and the longest
EXIT_FLUSH_SECONDS = 5.0

Entry = Tuple[Callable[..., Any], tuple, datetime]  # (analytics.log function, its arguments, when)


class Journal:
    def __init__(self, url: Optional[str] = None) -> None:
        self._url = url
        self._pending: Deque[Entry] = deque()
        self._cond = threading.Condition()
        self._recorded = 0
        self._done = 0  # entries written, or dropped when the queue overflowed
        self._thread: Optional[threading.Thread] = None

    def answered(self, conversation_id: str, channel: Optional[str], question: str, service_code: str,
                 service_name: str, aspect: str) -> None:
        """analytics.log.log_answer, written moments later with the time of now."""
        self._add(log_answer, (conversation_id, channel, question, service_code, service_name, aspect))

    def unanswered(self, conversation_id: str, channel: Optional[str], question: str, reason: str) -> None:
        """analytics.log.log_unanswered, written moments later with the time of now."""
        self._add(log_unanswered, (conversation_id, channel, question, reason))

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every entry recorded before this call is written; False on timeout."""
        with self._cond:
            target = self._recorded
            return self._cond.wait_for(lambda: self._done >= target, timeout)

    def close(self) -> None:
        """Flush before the process ends, saying what could not be written."""
        if not self.flush(EXIT_FLUSH_SECONDS):
            with self._cond:
                left = self._recorded - self._done
            log.error("conversation log: %d entries could not be written before exit", left)

    def _add(self, write: Callable[..., Any], args: tuple) -> None:
        with self._cond:
            self._pending.append((write, args, datetime.utcnow()))
            self._recorded += 1
            self._bound()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="conversation-log", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _bound(self) -> None:
        """Drop the oldest waiting entries beyond MAX_PENDING (called holding the lock)."""
        dropped = 0
        while len(self._pending) > MAX_PENDING:
            self._pending.popleft()
            dropped += 1
        if dropped:
            self._done += dropped
            log.warning("conversation log: %d entries waiting for the database; %d of the oldest dropped",
                        MAX_PENDING, dropped)

    def _run(self) -> None:
        delay, failing = RETRY_SECONDS[0], False
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending)
                batch = list(self._pending)
                self._pending.clear()
            try:
                with session_scope(self._url) as session:
                    for write, args, at in batch:
                        write(session, *args, at=at)
            except Exception:
                if not failing:
                    log.exception("conversation log: could not write %d entries; keeping them and retrying", len(batch))
                failing = True
                with self._cond:
                    self._pending.extendleft(reversed(batch))  # back in front, in their order
                    self._bound()
                time.sleep(delay)
                delay = min(delay * 2, RETRY_SECONDS[1])
                continue
            if failing:
                log.info("conversation log: the database is back; %d waiting entries written", len(batch))
            delay, failing = RETRY_SECONDS[0], False
            with self._cond:
                self._done += len(batch)
                self._cond.notify_all()


_journal: Optional[Journal] = None
_journal_lock = threading.Lock()


def journal() -> Journal:
    """The process's conversation log (flushed on exit)."""
    global _journal
    with _journal_lock:
        if _journal is None:
            _journal = Journal()
            atexit.register(_journal.close)
        return _journal
