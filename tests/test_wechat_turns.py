"""The 5-second rule and de-duplication without HTTP, and the replay guard."""
from __future__ import annotations

import asyncio

import pytest

from connectors.wechat_guard import Replayed, ReplayGuard
from connectors.wechat_text import BUSY, Rendered
from connectors.wechat_turns import Exchange, ExchangeCache, PushAnswerer


def answerer(max_text_bytes: int = 30):
    queued = []
    return PushAnswerer("wechat", lambda recipient, pieces: queued.append((recipient, pieces)), max_text_bytes), queued


def producer(text: str, delay: float = 0.0, calls=None):
    async def produce() -> Rendered:
        if calls is not None:
            calls.append(text)
        await asyncio.sleep(delay)
        return Rendered(text)
    return produce


async def test_ready_in_time_is_passive_and_late_goes_to_the_outbox():
    push, queued = answerer()
    assert await push.answer("msg:1", "u", producer("快答"), wait=0.5) == "快答"
    assert await push.answer("msg:2", "u", producer("慢答", delay=0.3), wait=0.1) is None
    assert queued == []  # still running
    await push.drain()
    assert queued == [("u", ["慢答"])]


async def test_long_answer_first_piece_passive_rest_queued_in_order():
    push, queued = answerer()
    text = "一二三四五六七八九十。" * 4  # 132 bytes, 30 per piece
    first = await push.answer("msg:1", "u", producer(text), wait=0.5)
    await push.drain()
    pieces = [first, *queued[0][1]]
    assert "".join(pieces) == text and all(len(p.encode()) <= 30 for p in pieces)


async def test_duplicates_never_run_twice():
    push, queued = answerer()
    calls = []
    first = asyncio.ensure_future(push.answer("msg:9", "u", producer("答", delay=0.3, calls=calls), wait=1.0))
    await asyncio.sleep(0.05)
    assert await push.answer("msg:9", "u", producer("答", calls=calls), wait=1.0) is None  # retry while running
    assert await first is None  # the abandoned request does not reply passively ...
    await push.drain()
    assert queued == [("u", ["答"])] and calls == ["答"]  # ... the API does, once
    assert await push.answer("msg:9", "u", producer("答", calls=calls), wait=1.0) is None
    assert calls == ["答"] and push.turns_started == 1


async def test_failed_turn_answers_busy_and_wait_zero_never_replies_passively():
    push, queued = answerer(2048)

    async def broken() -> Rendered:
        raise RuntimeError("boom")

    assert await push.answer("msg:1", "u", broken, wait=0.5) == BUSY
    assert await push.answer("msg:2", "u", producer("企业微信"), wait=0) is None
    await push.drain()
    assert queued == [("u", ["企业微信"])]


def test_exchange_cache_forgets_after_its_ttl():
    now = [0.0]
    cache = ExchangeCache(ttl=10, clock=lambda: now[0])
    cache.add(Exchange(key="k", recipient="u"))
    assert cache.get("k") is not None
    now[0] = 11
    assert cache.get("k") is None


def test_replay_guard():
    now = [1_700_000_000.0]
    guard = ReplayGuard(window=300, clock=lambda: now[0])
    guard.check_timestamp("1700000100")
    for bad in ("", "abc", "1699999000", "1700000400"):
        with pytest.raises(Replayed):
            guard.check_timestamp(bad)
    guard.check_nonce("1700000000", "n1", "msg:1")
    guard.check_nonce("1700000000", "n1", "msg:1")  # WeChat's retry of the same push
    with pytest.raises(Replayed):
        guard.check_nonce("1700000000", "n1", "msg:2")  # the signed query reused for another body
    with pytest.raises(Replayed):
        guard.check_nonce("1700000000", "", "msg:3")
    now[0] += 601  # past twice the window, the pair is forgotten (its timestamp is refused anyway)
    guard.check_nonce("1700000000", "n1", "msg:2")
