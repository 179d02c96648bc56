"""The conversation store: Rasa's SQL tracker store, loading a bounded window of each conversation,
kept in memory between turns.

Rasa's SQLTrackerStore rebuilds the whole current session on every turn, and every later step
(policies' state history, the call to the action server, the save) walks all of it, so a turn
costs more the longer the conversation. Nothing in this bot looks further back than a few turns:
the policies use at most 5 states, the dialogue context lives in slots. So a conversation is loaded
as the session's opening events, the state set before the window (each slot's latest SlotSet, the
active form, the bot's pause when it is still paused: a conversation handed to staff; a restart or
slot reset, which the carried state comes after), and the events of the last `window` user turns.
`save` appends exactly the events added since the load, in one statement.

Reading that window back took four queries and a quarter of the Rasa server's CPU per turn. The
store therefore keeps each recent conversation's window in memory (`cache_size` conversations,
least recently used first out), as the stored JSON text of its events, and moves it forward itself
on every save. Before using it, `retrieve` checks the conversation's row count and highest event id
in the database (one indexed query): if anything else wrote to the conversation (another Rasa
process, a deleted row), they differ and the window is read from the database again. A new session
(SessionStarted) also drops the kept window.

Parsing that text back into events and replaying them was still a fifth of a turn's work. So the
tracker a turn saves is kept too, for the `live_size` most recent conversations, and the next turn
of the conversation takes it (once; a second caller before the next save gets one built from the
text) with its events cut to the window's: the same Event objects in the order a load gives. Its
state (slots, form, pause, latest message and action) needs no replay, since the window carries the
latest state of every event it leaves out. It is used only when the database stamp is unchanged,
every event it holds was saved, and the model's domain is the same.

The full history stays in the database: `retrieve_full_tracker` (Rasa's HTTP API for a
conversation's tracker, staff transcripts) is unchanged. Configured in bot/endpoints.yml:

    tracker_store:
      type: bot.tracker_store.WindowedSQLTrackerStore
      dialect: sqlite
      db: ...
      window: 5
      cache_size: 2000
      live_size: 200
"""
from __future__ import annotations

import itertools
import json
import logging
from collections import OrderedDict, deque
from typing import Any, Dict, Iterator, List, Optional, Text, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import (
    ActiveLoop, AllSlotsReset, ConversationPaused, ConversationResumed, Event, Restarted, SessionStarted, SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import sessionmaker

from bot.fastjson import loads
from bot.rasa_server import PRIOR_STEPS_ATTRIBUTE  # a tracker's replayed history, keyed by its events
from database.engine import sqlite_engine

log = logging.getLogger(__name__)


DEFAULT_WINDOW = 5
DEFAULT_CACHE_SIZE = 2000
DEFAULT_LIVE_SIZE = 200
USER = UserUttered.type_name
# Events before the window whose latest state is carried into it.
_CARRIED = (SlotSet.type_name, ActiveLoop.type_name, ConversationPaused.type_name, ConversationResumed.type_name,
            Restarted.type_name, AllSlotsReset.type_name)
# Set on a tracker this store loaded or saved: how many of its events are in the database, and the
# conversation's (row count, highest id) in the database then.
_STORED = "_onewindow_stored_events"
_STAMP = "_onewindow_stamp"

Stamp = Tuple[int, int]


class Row:
    """One stored event: its type, the slot name for a SlotSet, its stored JSON text, and the
    Event object of this process once it has one (None until then)."""

    __slots__ = ("kind", "slot", "text", "event")

    def __init__(self, kind: Text, slot: Optional[Text], text: Text, event: Optional[Event] = None) -> None:
        self.kind, self.slot, self.text, self.event = kind, slot, text, event


class Window:
    """The part of a conversation a turn needs, as the stored JSON text of its events; and the
    tracker this process last saved of it (`live`), to be taken by the next turn."""

    __slots__ = ("opening", "resets", "slots", "loop", "pause", "turns", "users", "stamp", "live", "live_domain")

    def __init__(self, stamp: Stamp) -> None:
        self.opening: List[Row] = []  # the session's events before its first user message
        self.resets: List[Row] = []  # the latest restart, then the latest slot reset after it
        self.slots: Dict[Text, Row] = {}  # each slot's latest SlotSet before the window
        self.loop: List[Row] = []  # the latest ActiveLoop before the window
        self.pause: List[Row] = []  # a ConversationPaused not resumed before the window
        self.turns: List[Row] = []  # from the first user message kept
        self.users = 0
        self.stamp = stamp
        self.live: Optional[DialogueStateTracker] = None
        self.live_domain: Any = None

    def add(self, row: Row) -> None:
        if not self.turns and row.kind != USER:
            self.opening.append(row)
            return
        self.turns.append(row)
        if row.kind == USER:
            self.users += 1

    def carry(self, row: Row) -> None:
        """Fold an event that leaves the window into the carried state."""
        kind = row.kind
        if kind == SlotSet.type_name:
            self.slots[row.slot] = row
        elif kind == ActiveLoop.type_name:
            self.loop = [row]
        elif kind == ConversationPaused.type_name:
            self.pause = [row]
        elif kind == ConversationResumed.type_name:
            self.pause = []
        elif kind == Restarted.type_name:  # a restart resets slots, form and pause
            self.resets, self.slots, self.loop, self.pause = [row], {}, [], []
        elif kind == AllSlotsReset.type_name:
            self.resets = [r for r in self.resets if r.kind == Restarted.type_name] + [row]
            self.slots = {}

    def trim(self, window: int) -> None:
        """Keep the last `window` user turns, carrying the state of the events before them."""
        if self.users <= window:
            return
        seen, cut = 0, 0
        for index in range(len(self.turns) - 1, -1, -1):
            if self.turns[index].kind == USER:
                seen += 1
                if seen == window:
                    cut = index
                    break
        for row in self.turns[:cut]:
            if row.kind in _CARRIED:
                self.carry(row)
        self.turns = self.turns[cut:]
        self.users = window

    def rows(self) -> Iterator[Row]:
        """The window's events in the order a tracker replays them."""
        return itertools.chain(self.opening, self.resets, self.slots.values(), self.loop, self.pause, self.turns)

    def events(self) -> List[Dict[Text, Any]]:
        return [loads(row.text) for row in self.rows()]

    def take_live(self, domain: Any) -> Optional[DialogueStateTracker]:
        """The tracker saved last, its events cut to the window's (the same Event objects, in the
        order a load from the database gives), or None. It is handed out once: a second caller
        before the next save gets a tracker built from the stored text."""
        tracker, self.live = self.live, None
        if tracker is None or self.live_domain is not domain:
            return None
        if getattr(tracker, _STAMP, None) != self.stamp or getattr(tracker, _STORED, None) != len(tracker.events):
            return None  # changed since its save: events not stored, or stored by another save
        events = [row.event for row in self.rows()]
        if any(event is None for event in events):
            return None
        if len(events) != len(tracker.events) or any(a is not b for a, b in zip(events, tracker.events)):
            # Every state the tracker holds (slots, form, pause, latest message and action) is
            # what replaying these events gives: the window carries the latest state of the
            # events it leaves out. Only the history is shortened, as a load would shorten it.
            tracker.events = deque(events, tracker.events.maxlen)
            tracker.__dict__.pop(PRIOR_STEPS_ATTRIBUTE, None)  # bot.rasa_server's per-history cache
            setattr(tracker, _STORED, len(events))
        return tracker


def _row(kind: Text, data: Text) -> Row:
    return Row(kind, json.loads(data).get("name") if kind == SlotSet.type_name else None, data)


class WindowedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, domain=None, window: Any = DEFAULT_WINDOW, cache_size: Any = DEFAULT_CACHE_SIZE,
                 live_size: Any = DEFAULT_LIVE_SIZE, **kwargs: Any) -> None:
        super().__init__(domain, **kwargs)
        self.window = _whole_number("window", window, minimum=1)
        self.cache_size = _whole_number("cache_size", cache_size, minimum=0)
        self.live_size = _whole_number("live_size", live_size, minimum=0)
        self._windows: "OrderedDict[Text, Window]" = OrderedDict()
        self._live: "OrderedDict[Text, Window]" = OrderedDict()  # windows holding a saved tracker
        # Plain SQL: built once, it skips the expression building and cache-key work of a select().
        self._stamp_query = sa.text(
            f"SELECT count(id), max(id) FROM {self.SQLEvent.__tablename__} WHERE sender_id = :sender_id")
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            # Rasa's engine opens a new SQLite connection for every query session and leaves
            # SQLite in rollback-journal mode with synchronous=FULL: two fsyncs per turn, inside the
            # event loop, stalling every conversation. The product's SQLite engine pools its
            # connections and commits without fsync in WAL mode (a power cut may lose the last
            # turns, never corrupt the file).
            url = str(self.engine.url)
            self.engine.dispose()
            self.engine = sqlite_engine(url)
            self.sessionmaker = sessionmaker(bind=self.engine)

    # -- loading -------------------------------------------------------------------------------

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            stamp = self._stamp(session, sender_id)
            kept = self._windows.get(sender_id)
            if kept is not None and kept.stamp == stamp:
                self._windows.move_to_end(sender_id)
                loaded = kept
            else:
                loaded = self._load_window(session, sender_id, stamp) if stamp[0] else None
                self._keep(sender_id, loaded)
        if loaded is None or not self.domain:
            return None
        # The tracker this process saved last, when nothing else wrote since: no events parsed
        # and replayed again (a fifth of a turn's work in the Rasa process).
        tracker = loaded.take_live(self.domain)
        if tracker is not None:
            return tracker
        tracker = DialogueStateTracker.from_dict(sender_id, loaded.events(), self.domain.slots)
        setattr(tracker, _STORED, len(tracker.events))
        setattr(tracker, _STAMP, stamp)
        return tracker

    def _stamp(self, session, sender_id: Text) -> Stamp:
        """The conversation's row count and highest event id: they change with any write."""
        count, last = session.execute(self._stamp_query, {"sender_id": sender_id}).one()
        return int(count or 0), int(last or 0)

    def _load_window(self, session, sender_id: Text, stamp: Stamp) -> Optional[Window]:
        event = self.SQLEvent
        current = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).filter(
            event.id <= stamp[1])
        users = current.filter(event.type_name == USER).order_by(None).with_entities(event.id)
        loaded = Window(stamp)
        user_ids = [row.id for row in users.order_by(event.id.desc()).limit(self.window + 1)]
        if len(user_ids) <= self.window:  # short conversation: all of it
            for kind, data in current.with_entities(event.type_name, event.data):
                loaded.add(_row(kind, data))
            return loaded if loaded.opening or loaded.turns else None
        start = user_ids[self.window - 1]
        first_user = users.order_by(event.id).limit(1).scalar()
        loaded.opening = [Row(kind, None, data) for kind, data in
                          current.filter(event.id < first_user).with_entities(event.type_name, event.data)]
        for kind, data in current.filter(event.id >= first_user, event.id < start,
                                         event.type_name.in_(_CARRIED)).with_entities(event.type_name, event.data):
            loaded.carry(_row(kind, data))
        for kind, data in current.filter(event.id >= start).with_entities(event.type_name, event.data):
            loaded.add(_row(kind, data))
        return loaded

    def _keep(self, sender_id: Text, loaded: Optional[Window]) -> None:
        self._forget(sender_id)
        if loaded is None or not self.cache_size:
            return
        self._windows[sender_id] = loaded
        while len(self._windows) > self.cache_size:
            self._live.pop(self._windows.popitem(last=False)[0], None)

    def _forget(self, sender_id: Text) -> None:
        self._windows.pop(sender_id, None)
        self._live.pop(sender_id, None)

    # -- saving --------------------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save (one row per new event, the same columns), in one INSERT; then the kept
        window moves forward by the same events."""
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        loaded_count = getattr(tracker, _STORED, None)  # events it was loaded with
        with self.session_scope() as session:
            new = list(self._additional_events(session, tracker))
            if not new:
                return
            rows = [self._columns(sender_id, e) for e in new]
            session.execute(self.SQLEvent.__table__.insert(), [columns for columns, _ in rows])
            # Read inside the writing transaction: on SQLite no other writer can come between.
            stamp = self._stamp(session, sender_id)
            session.commit()
        log.debug("Tracker with sender_id '%s' stored to database", sender_id)
        setattr(tracker, _STORED, len(tracker.events))
        loaded_stamp = getattr(tracker, _STAMP, None)
        setattr(tracker, _STAMP, stamp)
        kept = self._windows.get(sender_id)
        moved_on = (kept is not None and loaded_stamp is not None and kept.stamp == loaded_stamp
                    and stamp[0] == loaded_stamp[0] + len(rows))
        if not moved_on or any(isinstance(e, SessionStarted) for e in new):
            self._forget(sender_id)  # read from the database next time
            return
        kept_rows = list(kept.rows())
        if len(kept_rows) == loaded_count:  # every stored event was understood: the same order
            for row, event in zip(kept_rows, tracker.events):
                row.event = event
        for (columns, slot), event in zip(rows, new):
            kept.add(Row(columns["type_name"], slot, columns["data"], event))
        kept.trim(self.window)
        kept.stamp = stamp
        kept.live, kept.live_domain = tracker, self.domain
        self._live.pop(sender_id, None)
        self._live[sender_id] = kept
        while len(self._live) > self.live_size:  # the oldest keeps its text only
            evicted = self._live.popitem(last=False)[1]
            evicted.live = None
            for row in evicted.rows():
                row.event = None

    @staticmethod
    def _columns(sender_id: Text, event: Event) -> Tuple[Dict[Text, Any], Optional[Text]]:
        """The event's row, as Rasa's SQLTrackerStore.save stores it, and a SlotSet's slot name."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }, event.key if isinstance(event, SlotSet) else None

    def _additional_events(self, session, tracker: DialogueStateTracker) -> Iterator:
        """The events added since the load (Rasa counts the stored ones, which a window cannot)."""
        stored = getattr(tracker, _STORED, None)
        if stored is None:  # a tracker this store did not load (a new conversation): Rasa's way
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, None)


def _whole_number(name: Text, value: Any, minimum: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"tracker_store {name} must be a whole number, not {value!r}")
    if number < minimum:
        raise ValueError(f"tracker_store {name} must be at least {minimum}")
    return number
