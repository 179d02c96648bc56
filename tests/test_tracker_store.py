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


def _opened(store: WindowedSQLTrackerStore) -> None:
    """A conversation's session start, stored."""
    tracker = DialogueStateTracker("citizen-1", DOMAIN.slots)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    asyncio.run(store.save(tracker))


def _conversation(store: WindowedSQLTrackerStore, turns: int) -> None:
    _opened(store)
    for n in range(1, turns + 1):
        tracker = asyncio.run(store.retrieve("citizen-1"))
        _turn(tracker, n)
        asyncio.run(store.save(tracker))


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
    assert inner.cache_size == 2000


def test_a_form_longer_than_the_window_stays_active(tmp_path):
    """The filing form may take more turns than the window (a wrong ID number asked again and
    again): its ActiveLoop event is carried into the window like the slots."""
    from rasa.shared.core.events import ActiveLoop

    store = _store(tmp_path, window=2)
    _opened(store)
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


# -- the kept windows ------------------------------------------------------------------------

def _random_turn(tracker: DialogueStateTracker, rng, n: int) -> None:
    from rasa.shared.core.events import (
        ActiveLoop, AllSlotsReset, ConversationPaused, ConversationResumed, Restarted,
    )

    tracker.update(UserUttered(f"问题{n}", {"name": "ask_service", "confidence": 1.0}))
    tracker.update(ActionExecuted("action_answer"))
    for _ in range(rng.randint(0, 3)):
        tracker.update(SlotSet(rng.choice(["service_code", "aspect", "fallback_count"]), f"v{n}-{rng.random():.3f}"))
    roll = rng.random()
    if roll < 0.1:
        tracker.update(ActiveLoop(rng.choice(["filing_form", None])))
    elif roll < 0.15:
        tracker.update(ConversationPaused())
    elif roll < 0.2:
        tracker.update(ConversationResumed())
    elif roll < 0.23:
        tracker.update(AllSlotsReset())
    elif roll < 0.25:
        tracker.update(Restarted())
    tracker.update(BotUttered(f"回答{n}"))
    tracker.update(ActionExecuted("action_listen"))


def _state(tracker: DialogueStateTracker):
    return tracker.current_slot_values(), tracker.active_loop_name, tracker.is_paused()


@pytest.mark.parametrize("seed", range(4))
def test_kept_windows_match_the_database_and_the_full_history(tmp_path, seed):
    """After every turn, the window kept in memory is exactly what a cold store reads from the
    database, and it gives the same slots, form and pause as replaying the whole history."""
    import random

    rng = random.Random(seed)
    store = _store(tmp_path, window=3)
    _opened(store)
    tracker = asyncio.run(store.retrieve("citizen-1"))
    for n in range(1, 40):
        _random_turn(tracker, rng, n)
        asyncio.run(store.save(tracker))
        assert "citizen-1" in store._windows, n  # moved forward in memory, not dropped
        kept = asyncio.run(store.retrieve("citizen-1"))
        assert kept is tracker, n  # the saved tracker, taken by the next turn
        cold = asyncio.run(_store(tmp_path, window=3).retrieve("citizen-1"))
        full = asyncio.run(store.retrieve_full_tracker("citizen-1"))
        assert [e.as_dict() for e in kept.events] == [e.as_dict() for e in cold.events], n
        assert _state(kept) == _state(full) == _state(cold), n
        assert (kept.latest_message.text, kept.latest_action_name) == (cold.latest_message.text, cold.latest_action_name)
        # A second caller before the next save gets its own tracker, the same as a load gives.
        again = asyncio.run(store.retrieve("citizen-1"))
        assert again is not kept and [e.as_dict() for e in again.events] == [e.as_dict() for e in cold.events], n
        tracker = kept


def test_a_kept_window_is_used_without_reading_the_events_again(tmp_path, monkeypatch):
    store = _store(tmp_path, window=3)
    _conversation(store, 6)
    loads = []
    original = store._load_window
    monkeypatch.setattr(store, "_load_window", lambda *a: loads.append(a) or original(*a))
    tracker = asyncio.run(store.retrieve("citizen-1"))
    _turn(tracker, 7)
    asyncio.run(store.save(tracker))
    assert [e.text for e in asyncio.run(store.retrieve("citizen-1")).events if isinstance(e, UserUttered)] == [
        "问题5", "问题6", "问题7"]
    assert loads == []


def test_the_saved_tracker_is_taken_by_the_next_turn_without_parsing_events(tmp_path, monkeypatch):
    store = _store(tmp_path, window=3)
    _conversation(store, 6)
    tracker = asyncio.run(store.retrieve("citizen-1"))
    _turn(tracker, 7)
    asyncio.run(store.save(tracker))
    import bot.tracker_store

    monkeypatch.setattr(bot.tracker_store, "loads", lambda text: pytest.fail("events parsed again"))
    taken = asyncio.run(store.retrieve("citizen-1"))
    assert taken is tracker
    assert [e.text for e in taken.events if isinstance(e, UserUttered)] == ["问题5", "问题6", "问题7"]
    assert taken.get_slot("service_code") == "S6" and taken.get_slot("aspect") == "materials"
    # Its next save stores exactly the new events.
    _turn(taken, 8)
    asyncio.run(store.save(taken))
    full = asyncio.run(store.retrieve_full_tracker("citizen-1"))
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == [f"问题{n}" for n in range(1, 9)]


def test_a_tracker_changed_after_its_save_is_not_taken(tmp_path):
    """Events added to a saved tracker and never stored (a turn that failed) are not carried into
    the next turn: it is built from what the database holds."""
    store = _store(tmp_path, window=3)
    _conversation(store, 4)
    tracker = asyncio.run(store.retrieve("citizen-1"))
    _turn(tracker, 5)
    asyncio.run(store.save(tracker))
    tracker.update(UserUttered("没有存下的消息", {"name": "greet", "confidence": 1.0}))
    again = asyncio.run(store.retrieve("citizen-1"))
    assert again is not tracker
    assert [e.text for e in again.events if isinstance(e, UserUttered)][-1] == "问题5"


def test_the_saved_trackers_kept_are_bounded(tmp_path):
    store = WindowedSQLTrackerStore(DOMAIN, window=3, live_size=2, dialect="sqlite", db=str(tmp_path / "t.db"))
    saved = {}
    for name in ("a", "b", "c"):
        tracker = DialogueStateTracker(name, DOMAIN.slots)
        tracker.update(ActionExecuted("action_listen"))
        asyncio.run(store.save(tracker))
        tracker = asyncio.run(store.retrieve(name))
        _turn(tracker, 1)
        asyncio.run(store.save(tracker))
        saved[name] = tracker
    assert list(store._live) == ["b", "c"]
    assert all(row.event is None for row in store._windows["a"].rows())  # only its text is kept
    assert all(row.event is not None for row in store._windows["c"].rows())
    assert asyncio.run(store.retrieve("a")) is not saved["a"]
    assert asyncio.run(store.retrieve("c")) is saved["c"]
    with pytest.raises(ValueError):
        WindowedSQLTrackerStore(DOMAIN, live_size=-1, dialect="sqlite", db=str(tmp_path / "t.db"))


def test_another_writer_makes_the_kept_window_be_read_again(tmp_path):
    """A second Rasa process (or the HTTP API of another) adds events: the first one notices (and
    does not take the tracker it saved last, which lacks them)."""
    store, other = _store(tmp_path), _store(tmp_path)
    _conversation(store, 4)
    tracker = asyncio.run(other.retrieve("citizen-1"))
    _turn(tracker, 5)
    asyncio.run(other.save(tracker))
    seen = asyncio.run(store.retrieve("citizen-1"))
    assert [e.text for e in seen.events if isinstance(e, UserUttered)][-1] == "问题5"
    # A save of a tracker loaded before the other write does not move a window on a stale base.
    stale = asyncio.run(store.retrieve("citizen-1"))
    tracker = asyncio.run(other.retrieve("citizen-1"))
    _turn(tracker, 6)
    asyncio.run(other.save(tracker))
    _turn(stale, 7)
    asyncio.run(store.save(stale))
    assert "citizen-1" not in store._windows
    assert [e.text for e in asyncio.run(store.retrieve("citizen-1")).events if isinstance(e, UserUttered)] == [
        "问题5", "问题6", "问题7"]


def test_a_new_session_starts_from_the_database(tmp_path):
    store = _store(tmp_path)
    _conversation(store, 4)
    tracker = asyncio.run(store.retrieve("citizen-1"))
    for event in (ActionExecuted("action_session_start"), SessionStarted(), SlotSet("aspect", "fee"),
                  ActionExecuted("action_listen")):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    assert "citizen-1" not in store._windows
    again = asyncio.run(store.retrieve("citizen-1"))
    assert isinstance(again.events[0], SessionStarted)
    assert not [e for e in again.events if isinstance(e, UserUttered)]
    assert again.get_slot("aspect") == "fee"


def test_the_kept_windows_are_bounded(tmp_path):
    store = WindowedSQLTrackerStore(DOMAIN, window=3, cache_size=2, dialect="sqlite", db=str(tmp_path / "t.db"))
    for name in ("a", "b", "c"):
        tracker = DialogueStateTracker(name, DOMAIN.slots)
        tracker.update(ActionExecuted("action_listen"))
        asyncio.run(store.save(tracker))
        asyncio.run(store.retrieve(name))
    assert list(store._windows) == ["b", "c"]
    with pytest.raises(ValueError):
        WindowedSQLTrackerStore(DOMAIN, cache_size=-1, dialect="sqlite", db=str(tmp_path / "t.db"))


def test_events_are_parsed_to_what_json_gives(monkeypatch):
    import json

    import bot.fastjson
    from bot.fastjson import dumps, loads as _loads

    texts = ['{"event": "user", "text": "护照怎么办\\u3002", "parse_data": {"intent": {"confidence": 0.1234567890123}}}',
             '{"event": "slot", "name": "options", "value": [{"code": "P1"}], "timestamp": 1733280000.123456}',
             '{"event": "bot", "data": {"n": 12345678901234567890, "x": 1e-7, "nan": NaN}}',
             '"\\ud83d\\ude00"', "[" * 900 + "]" * 900]
    for text in texts:
        assert repr(_loads(text)) == repr(json.loads(text))

    for text in texts[:4]:
        value = json.loads(text)
        assert repr(json.loads(dumps(value))) == repr(value)
    assert dumps({"a": "护照/港澳"}) == '{"a":"护照/港澳"}'

    def refuse(text):
        raise ValueError("refused")

    monkeypatch.setattr(bot.fastjson.ujson, "loads", refuse)  # what ujson refuses, json decides
    assert _loads(texts[1]) == json.loads(texts[1])
