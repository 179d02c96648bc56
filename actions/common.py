"""Helpers shared by the actions: the tracker's entities, state and transcript, the database."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Dict, Iterator, List

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from database.engine import session_scope
from dialogue.turn import Entity, State
from knowledge.search import SearchService, default_service

log = logging.getLogger("onewindow.actions")

CHOOSING = "?choose"  # filing_target while the citizen picks among options of an application

TRANSCRIPT_LIMIT = 200


def search() -> SearchService:
    # Watched: a catalogue change (an alias staff add on the dashboard) is picked up within
    # seconds, before the citizen's next question rather than by it.
    return default_service().watch()


@contextmanager
def db() -> Iterator[Session]:
    with session_scope() as session:
        yield session


def entities(tracker: Tracker) -> List[Entity]:
    out = []
    for e in tracker.latest_message.get("entities") or []:
        value = e.get("value")
        if isinstance(value, (int, float)):
            value = str(value)
        if isinstance(value, str) and e.get("entity"):
            out.append(Entity(e["entity"], value, e.get("start"), e.get("end")))
    return out


def state(tracker: Tracker) -> State:
    options = tracker.get_slot("options") or []
    return State(
        service_code=tracker.get_slot("service_code"),
        service_kind=tracker.get_slot("service_kind"),
        aspect=tracker.get_slot("aspect"),
        options=[o for o in options if isinstance(o, dict) and o.get("code")],
    )


def changes(tracker: Tracker, events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The events without the SlotSets that give a slot the value it already has. Each event is
    stored, and replayed and featurised on every later turn while it is in the conversation's
    window; setting a slot to its own value changes nothing."""
    return [e for e in events
            if not (e.get("event") == "slot" and e["name"] in tracker.slots and tracker.slots[e["name"]] == e["value"])]


def user_text(tracker: Tracker) -> str:
    text = tracker.latest_message.get("text") or ""
    return text if isinstance(text, str) else ""


def channel(tracker: Tracker) -> str:
    return tracker.get_latest_input_channel() or "unknown"


def transcript(tracker: Tracker) -> List[Dict[str, Any]]:
    """User and bot messages of the conversation, oldest first (the last TRANSCRIPT_LIMIT)."""
    out = []
    for event in tracker.events:
        kind = event.get("event")
        if kind not in ("user", "bot") or not event.get("text"):
            continue
        stamp = event.get("timestamp")
        when = datetime.utcfromtimestamp(stamp).isoformat() + "Z" if isinstance(stamp, (int, float)) else None
        out.append({"role": kind, "text": event["text"], "time": when})
    return out[-TRANSCRIPT_LIMIT:]
