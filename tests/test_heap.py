"""Settling a server's heap (bot/heap.py): what is alive is frozen out of the collector's sight,
garbage made later is still collected, and both servers settle once their start-up is done."""
from __future__ import annotations

import gc

import pytest

from bot import heap


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()  # the test process keeps collecting as before


def test_settle_freezes_what_is_alive(unfrozen):
    kept = [[i] for i in range(1000)]
    frozen = heap.settle("a test")
    assert frozen >= 1000 and gc.get_freeze_count() == frozen
    # frozen objects are no longer in any generation the collector walks
    assert not any(o is kept[0] for o in gc.get_objects())


def test_garbage_made_after_settling_is_still_collected(unfrozen):
    heap.settle("a test")
    cycle: list = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1


async def test_rasa_server_settles_the_heap_once_the_model_is_loaded(monkeypatch):
    import rasa.core.run

    from bot import rasa_server

    calls = []

    async def load_agent_on_start(*args, **kwargs):
        calls.append("load")
        return "agent"

    monkeypatch.setattr(rasa.core.run, "load_agent_on_start", load_agent_on_start)
    monkeypatch.setattr(heap, "settle", lambda what: calls.append("settle"))
    rasa_server._settle_heap_after_model_load()
    assert await rasa.core.run.load_agent_on_start("model", None, None, None, None) == "agent"
    assert calls == ["load", "settle"]


def test_action_server_builds_the_search_index_before_settling(monkeypatch, filings_url):
    import actions.common
    from bot import action_server
    from database import make_session
    from knowledge.search import SearchService

    service = SearchService(lambda: make_session(filings_url))
    monkeypatch.setattr(actions.common, "search", lambda: service)
    seen = []
    monkeypatch.setattr(heap, "settle", lambda what: seen.append(service.current))
    action_server.warm_up()
    assert len(seen) == 1 and seen[0] is not None and seen[0].search("护照").hits


def test_action_server_starts_when_the_database_is_down(monkeypatch):
    import actions.common
    from bot import action_server
    from knowledge.search import SearchService

    def no_database():
        raise OSError("database unavailable")

    service = SearchService(no_database)
    monkeypatch.setattr(actions.common, "search", lambda: service)
    seen = []
    monkeypatch.setattr(heap, "settle", lambda what: seen.append(what))
    action_server.warm_up()  # logs, does not raise
    assert seen and service.current is None
