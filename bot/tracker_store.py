"""The conversation store: Rasa's SQL tracker store, loading a bounded window of each conversation.

Rasa's SQLTrackerStore rebuilds the whole current session on every turn, and every later step
(policies' state history, the call to the action server, the save) walks all of it, so a turn
costs more the longer the conversation. Nothing in this bot looks further back than a few turns:
the policies use at most 5 states, the dialogue context lives in slots. So `retrieve` loads the
session's opening events, the state set before the window (each slot's latest SlotSet, the active
form, the bot's pause when it is still paused: a conversation handed to staff), and the events of
the last `window` user turns; `save` appends exactly the events added since the load.

The full history stays in the database: `retrieve_full_tracker` (Rasa's HTTP API for a
conversation's tracker, staff transcripts) is unchanged. Configured in bot/endpoints.yml:

    tracker_store:
      type: bot.tracker_store.WindowedSQLTrackerStore
      dialect: sqlite
      db: ...
      window: 5
"""
from __future__ import annotations

import itertools
import json
import logging
from typing import Any, Dict, Iterator, List, Optional, Text

from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import event as sa_event
from rasa.shared.core.events import ActiveLoop, ConversationPaused, ConversationResumed, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()

DEFAULT_WINDOW = 5
# Events before the window whose latest state is carried into it (in database order).
_CARRIED = (SlotSet.type_name, ActiveLoop.type_name, ConversationPaused.type_name, ConversationResumed.type_name)
# How many of the tracker's events are in the database; set on load and after each save.
_STORED = "_onewindow_stored_events"


class WindowedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, domain=None, window: Any = DEFAULT_WINDOW, **kwargs: Any) -> None:
        super().__init__(domain, **kwargs)
        try:
            self.window = int(window)
        except (TypeError, ValueError):
            raise ValueError(f"tracker_store window must be a whole number of user turns, not {window!r}")
        if self.window < 1:
            raise ValueError("tracker_store window must be at least 1 user turn")
        if self.engine.dialect.name == "sqlite":
            # Rasa leaves SQLite in rollback-journal mode with synchronous=FULL: two fsyncs per
            # turn, inside the event loop, stalling every conversation. WAL with synchronous=NORMAL
            # commits without fsync (a power cut may lose the last turns, never corrupt the file).
            sa_event.listen(self.engine, "connect", _sqlite_pragmas)
            self.engine.dispose()  # connections opened before the listener

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            events = self._windowed_events(session, sender_id)
        if not events or not self.domain:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        setattr(tracker, _STORED, len(tracker.events))
        return tracker

    def _windowed_events(self, session, sender_id: Text) -> List[Dict[Text, Any]]:
        event = self.SQLEvent
        current = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
        user_ids = [
            row.id
            for row in current.filter(event.type_name == UserUttered.type_name)
            .order_by(None)
            .order_by(event.id.desc())
            .with_entities(event.id)
            .limit(self.window + 1)
        ]
        if len(user_ids) <= self.window:  # short conversation: all of it
            return [json.loads(data) for data, in current.with_entities(event.data)]
        start = user_ids[self.window - 1]
        first_user = min(
            row.id for row in current.filter(event.type_name == UserUttered.type_name)
            .order_by(None).order_by(event.id).with_entities(event.id).limit(1)
        )
        opening = [json.loads(data) for data, in current.filter(event.id < first_user).with_entities(event.data)]
        # The state set before the window still holds: the latest value of each slot, the active
        # form (a form may take more turns than the window: wrong ID numbers asked again), and a
        # pause (a conversation handed to staff stays paused however many messages the citizen sends).
        slots: Dict[Text, Dict[Text, Any]] = {}
        loop: List[Dict[Text, Any]] = []
        pause: List[Dict[Text, Any]] = []
        for kind, raw in current.filter(event.id >= first_user, event.id < start,
                                        event.type_name.in_(_CARRIED)).with_entities(event.type_name, event.data):
            data = json.loads(raw)
            if kind == SlotSet.type_name:
                slots[data.get("name")] = data
            elif kind == ActiveLoop.type_name:
                loop = [data]
            else:
                pause = [data] if kind == ConversationPaused.type_name else []
        window = [json.loads(data) for data, in current.filter(event.id >= start).with_entities(event.data)]
        return opening + list(slots.values()) + loop + pause + window

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        setattr(tracker, _STORED, len(tracker.events))

    def _additional_events(self, session, tracker: DialogueStateTracker) -> Iterator:
        """The events added since the load (Rasa counts the stored ones, which a window cannot)."""
        stored = getattr(tracker, _STORED, None)
        if stored is None:  # a tracker this store did not load (a new conversation): Rasa's way
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, None)
