"""The windowed SQL tracker store: bounded trackers, slots kept, every event stored exactly once."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.core.tracker_store import create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.tracker_store import WindowedSQLTrackerStore
from database.engine import PROJECT_ROOT

DOMAIN = Domain.load(str(PROJECT_ROOT / "bot" / "domain.yml"))


def _store(tmp_path: Path, window: int = 3) -> WindowedSQLTrackerStore:
    return WindowedSQLTrackerStore(DOMAIN, window=window, dialect="sqlite", db=str(tmp_path / "tracker.db"))


def _turn(tracker: DialogueStateTracker, n: int) -> None:
    tracker.update(UserUttered(f"问题{n}", {"name": "ask_service", "confidence": 1.0}))
    tracker.update(ActionExecuted("action_answer"))
    if n % 2 == 0:
        tracker.update(SlotSet("service_code", f"S{n}"))
    if n == 1:
        tracker.update(SlotSet("aspect", "materials"))
    tracker.update(BotUttered(f"回答{n}"))
    tracker.update(ActionExecuted("action_listen"))


def _conversation(store: WindowedSQLTrackerStore, turns: int) -> DialogueStateTracker:
    tracker = DialogueStateTracker("citizen-1", DOMAIN.slots)
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    asyncio.run(store.save(tracker))
    for n in range(1, turns + 1):
        tracker = asyncio.run(store.retrieve("citizen-1"))
        _turn(tracker, n)
        asyncio.run(store.save(tracker))
    return tracker


def test_short_conversation_is_loaded_whole(tmp_path):
    store = _store(tmp_path, window=3)
    _conversation(store, 2)
    tracker = asyncio.run(store.retrieve("citizen-1"))
    rasa_way = asyncio.run(super(WindowedSQLTrackerStore, store).retrieve("citizen-1"))
    assert [e.as_dict() for e in tracker.events] == [e.as_dict() for e in rasa_way.events]


def test_long_conversation_is_bounded_and_keeps_slots(tmp_path):
    store = _store(tmp_path, window=3)
    _conversation(store, 12)
    tracker = asyncio.run(store.retrieve("citizen-1"))
    users = [e.text for e in tracker.events if isinstance(e, UserUttered)]
    assert users == ["问题10", "问题11", "问题12"]
    # The slots set before the window still hold: aspect from turn 1, the latest service code.
    assert tracker.get_slot("aspect") == "materials"
    assert tracker.get_slot("service_code") == "S12"
    # The session opening is there, so no new session is started.
    assert isinstance(tracker.events[0], SessionStarted)
    # Every event was stored exactly once: the full history is intact.
    full = asyncio.run(store.retrieve_full_tracker("citizen-1"))
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == [f"问题{n}" for n in range(1, 13)]
    assert len(full.events) == 3 + 12 * 4 + 6 + 1  # opening, 4 events a turn, 6 service codes, 1 aspect
    # ... and the loaded window does not grow with the conversation.
    _conversation_more = asyncio.run(store.retrieve("citizen-1"))
    _turn(_conversation_more, 13)
    asyncio.run(store.save(_conversation_more))
    again = asyncio.run(store.retrieve("citizen-1"))
    assert len(again.events) <= len(tracker.events) + 1


def test_window_must_be_positive(tmp_path):
    with pytest.raises(ValueError):
        _store(tmp_path, window=0)
    with pytest.raises(ValueError):
        _store(tmp_path, window="ten")


def test_the_endpoints_file_loads_this_store(tmp_path, monkeypatch):
    # Rasa falls back to an in-memory store, silently, when a custom class cannot be imported.
    monkeypatch.setenv("ONEWINDOW_TRACKER_DB", str(tmp_path / "t.db"))
    monkeypatch.setenv("ONEWINDOW_ACTIONS_URL", "http://127.0.0.1:1/webhook")
    config = read_endpoint_config(str(PROJECT_ROOT / "bot" / "endpoints.yml"), "tracker_store")
    store = create_tracker_store(config, DOMAIN)
    inner = getattr(store, "_tracker_store", store)
    assert isinstance(inner, WindowedSQLTrackerStore)
    assert inner.window == 5


def test_a_form_longer_than_the_window_stays_active(tmp_path):
    """The filing form may take more turns than the window (a wrong ID number asked again and
    again): its ActiveLoop event is carried into the window like the slots."""
    from rasa.shared.core.events import ActiveLoop

    store = _store(tmp_path, window=2)
    tracker = DialogueStateTracker("citizen-1", DOMAIN.slots)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    for n in range(1, 8):
        tracker = asyncio.run(store.retrieve("citizen-1"))
        tracker.update(UserUttered(f"回答{n}", {"name": "inform", "confidence": 1.0}))
        tracker.update(ActionExecuted("filing_form"))
        if n == 1:
            tracker.update(ActiveLoop("filing_form"))
        tracker.update(BotUttered("请再输入一次"))
        tracker.update(ActionExecuted("action_listen"))
        asyncio.run(store.save(tracker))
        loaded = asyncio.run(store.retrieve("citizen-1"))
        assert loaded.active_loop_name == "filing_form", n
    tracker = asyncio.run(store.retrieve("citizen-1"))
    tracker.update(UserUttered("好了", {"name": "affirm", "confidence": 1.0}))
    tracker.update(ActiveLoop(None))
    tracker.update(ActionExecuted("action_listen"))
    asyncio.run(store.save(tracker))
    for n in range(3):  # the form's end is carried too, once it leaves the window
        tracker = asyncio.run(store.retrieve("citizen-1"))
        tracker.update(UserUttered(f"问题{n}", {"name": "ask_service", "confidence": 1.0}))
        tracker.update(ActionExecuted("action_listen"))
        asyncio.run(store.save(tracker))
        assert asyncio.run(store.retrieve("citizen-1")).active_loop_name is None
