"""Access tokens and sends against the local fake WeChat/WeCom API; retries through the outbox."""
from __future__ import annotations

import json

import httpx
import pytest

from connectors.wechat import WeChatInput
from connectors.wechat_api import OfficialAccountAPI, WeChatAPIError, WeComAPI
from connectors.wechat_config import WeChatSettings
from connectors.wechat_fake_api import FakeWeChatAPI
from database import make_session
from outbound import delivery, outbox
from outbound.models import OutboundMessage

from wechat_helpers import AGENT_ID, CORP_ID, CORP_SECRET, OA_APP_ID, OA_SECRET, OA_TOKEN


@pytest.fixture
def fake():
    with FakeWeChatAPI(app_id=OA_APP_ID, secret=OA_SECRET, corp_id=CORP_ID, corp_secret=CORP_SECRET) as api:
        yield api


@pytest.fixture
def senders(monkeypatch):
    registry: dict = {}
    monkeypatch.setattr(delivery, "_senders", registry)
    return registry


async def test_token_is_fetched_once_and_cached(fake):
    api = OfficialAccountAPI(OA_APP_ID, OA_SECRET, fake.base_url)
    try:
        await api.send_text("o_user", "第一条")
        await api.send_text("o_user", "第二条")
    finally:
        await api.close()
    assert fake.token_requests["wechat"] == 1
    assert [(s.api, s.touser, s.content) for s in fake.sent] == [("wechat", "o_user", "第一条"), ("wechat", "o_user", "第二条")]


async def test_expired_or_revoked_token_is_refreshed_and_the_send_repeated(fake):
    api = OfficialAccountAPI(OA_APP_ID, OA_SECRET, fake.base_url)
    try:
        await api.send_text("o_user", "一")
        fake.expire_tokens()  # errcode 42001 for the cached token
        await api.send_text("o_user", "二")
        api._token = "revoked"  # errcode 40001
        await api.send_text("o_user", "三")
    finally:
        await api.close()
    assert fake.token_requests["wechat"] == 3
    assert [s.content for s in fake.sent] == ["一", "二", "三"]


async def test_token_is_replaced_before_it_expires():
    now = [1000.0]
    fetched = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cgi-bin/token":
            fetched.append(now[0])
            return httpx.Response(200, json={"access_token": f"t{len(fetched)}", "expires_in": 7200})
        assert request.url.params["access_token"] == f"t{len(fetched)}"
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})

    api = OfficialAccountAPI("a", "s", "http://wechat.test", transport=httpx.MockTransport(handler), clock=lambda: now[0])
    await api.send_text("u", "x")
    now[0] += 6800  # 6,900 s is the cached lifetime (7,200 less the margin)
    await api.send_text("u", "x")
    now[0] += 200
    await api.send_text("u", "x")
    await api.close()
    assert fetched == [1000.0, 8000.0]


async def test_payload_is_utf8_json_not_escapes():
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("token"):
            return httpx.Response(200, json={"errcode": 0, "access_token": "t", "expires_in": 7200})
        bodies.append(request.content)
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})

    api = WeComAPI("corp", "secret", "1000002", "http://wecom.test", transport=httpx.MockTransport(handler))
    await api.send_text("zhangsan", "居住证")
    await api.close()
    assert "居住证".encode("utf-8") in bodies[0]
    assert json.loads(bodies[0]) == {"touser": "zhangsan", "msgtype": "text", "agentid": 1000002, "text": {"content": "居住证"}}


@pytest.mark.parametrize("status,errcode", [(200, -1), (500, 0), (200, 45015)])
async def test_failures_raise(fake, status, errcode):
    api = OfficialAccountAPI(OA_APP_ID, OA_SECRET, fake.base_url)
    fake.fail_next(1, status=status, errcode=errcode)
    with pytest.raises(WeChatAPIError):
        await api.send_text("o_user", "x")
    await api.close()
    assert fake.sent == []


async def test_wrong_credentials_and_unreachable_api_raise(fake):
    wrong = OfficialAccountAPI(OA_APP_ID, "not-the-secret", fake.base_url)
    with pytest.raises(WeChatAPIError) as caught:
        await wrong.send_text("o_user", "x")
    assert caught.value.errcode == 40125
    await wrong.close()
    nowhere = OfficialAccountAPI(OA_APP_ID, OA_SECRET, "http://127.0.0.1:9")
    with pytest.raises(WeChatAPIError):
        await nowhere.send_text("o_user", "x")
    await nowhere.close()


async def test_wecom_send_carries_the_agent_id(fake):
    api = WeComAPI(CORP_ID, CORP_SECRET, AGENT_ID, fake.base_url)
    await api.send_text("zhangsan", "您好")
    fake.expire_tokens()
    await api.send_text("zhangsan", "再见")
    await api.close()
    assert [(s.api, s.touser, s.content, s.agentid) for s in fake.sent] == [
        ("wecom", "zhangsan", "您好", 1000002), ("wecom", "zhangsan", "再见", 1000002)]
    assert fake.token_requests["wecom"] == 2


async def test_outbox_retries_a_failed_send_and_keeps_what_finally_fails(db_url, fake, senders):
    channel = WeChatInput(WeChatSettings(token=OA_TOKEN, app_id=OA_APP_ID, secret=OA_SECRET, api_base=fake.base_url))
    channel.register_outbound()
    with make_session(db_url) as session:
        first = outbox.enqueue(session, "wechat", "o_user", "工作人员：您的材料已收到。", kind="staff_message")
        second = outbox.enqueue(session, "wechat", "o_other", "工作人员：请补充照片。", kind="staff_message")
        session.commit()
    runner = delivery.OutboxDelivery(db_url)
    fake.fail_next(1, touser="o_user")  # the first message fails once
    fake.fail_next(outbox.MAX_ATTEMPTS, status=500, touser="o_other")  # the second on every try
    assert await runner.deliver_due() == 0
    for _ in range(outbox.MAX_ATTEMPTS):
        with make_session(db_url) as session:  # make the retries due now
            for message in session.query(OutboundMessage).filter_by(status="pending"):
                message.next_attempt_at = message.created_at
            session.commit()
        await runner.deliver_due()
    await channel.api.close()
    with make_session(db_url) as session:
        sent, failed = session.get(OutboundMessage, first.id), session.get(OutboundMessage, second.id)
        assert sent.status == "sent" and sent.attempts >= 2
        assert failed.status == "failed" and failed.attempts == outbox.MAX_ATTEMPTS and "HTTP 500" in failed.last_error
    assert [(s.touser, s.content) for s in fake.sent] == [("o_user", "工作人员：您的材料已收到。")]
