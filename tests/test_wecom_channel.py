"""The WeCom channel's blueprint: encrypted verification and pushes, answers through message/send."""
from __future__ import annotations

import time

import httpx
import pytest

from connectors.wechat_config import Limits, WeComSettings
from connectors.wechat_fake_api import FakeWeChatAPI
from connectors.wechat_sim import WeComPusher, sign
from connectors.wechat_text import UNSUPPORTED, WELCOME, utf8_len
from connectors.wecom import WeComInput
from database import make_session
from outbound import delivery, outbox
from outbound.models import OutboundMessage

from wechat_helpers import AES_KEY, AGENT_ID, CORP_ID, CORP_SECRET, WECOM_TOKEN, ScriptedBot, serve


@pytest.fixture
def fake():
    with FakeWeChatAPI(corp_id=CORP_ID, corp_secret=CORP_SECRET) as api:
        yield api


@pytest.fixture
def senders(monkeypatch):
    registry: dict = {}
    monkeypatch.setattr(delivery, "_senders", registry)
    return registry


def channel_for(fake) -> WeComInput:
    return WeComInput(WeComSettings(corp_id=CORP_ID, agent_id=AGENT_ID, secret=CORP_SECRET, token=WECOM_TOKEN,
                                    encoding_aes_key=AES_KEY, api_base=fake.base_url, limits=Limits()))


def pusher_for(url) -> WeComPusher:
    return WeComPusher(url, WECOM_TOKEN, AES_KEY, CORP_ID, AGENT_ID)


async def post(url, pusher, xml, **kwargs):
    params, body = pusher.request(xml, **kwargs)
    async with httpx.AsyncClient() as client:
        return await client.post(url, params=params, content=body.encode("utf-8"))


async def deliver(channel, db_url):
    await channel.answerer.drain()
    return await delivery.OutboxDelivery(db_url).deliver_due()


async def test_encrypted_url_verification(fake, senders):
    async with serve(channel_for(fake), ScriptedBot()) as url:
        pusher = pusher_for(url)
        async with httpx.AsyncClient() as client:
            good = await client.get(url, params=pusher.verify_params("6174865539720150651"))
            forged = await client.get(url, params={**pusher.verify_params("x"), "msg_signature": "0" * 40})
            garbage = pusher.verify_params("x")
            garbage["echostr"] = "not base64!"
            garbage["msg_signature"] = sign(WECOM_TOKEN, garbage["timestamp"], garbage["nonce"], garbage["echostr"])
            unreadable = await client.get(url, params=garbage)
    assert (good.status_code, good.text) == (200, "6174865539720150651")
    assert forged.status_code == 403 and unreadable.status_code == 400


async def test_text_is_answered_through_message_send_with_the_agent_id(db_url, fake, senders):
    bot = ScriptedBot()
    channel = channel_for(fake)
    async with serve(channel, bot) as url:
        pusher = pusher_for(url)
        started = time.monotonic()
        response = await post(url, pusher, pusher.text_xml("zhangsan", "办理居住证需要什么材料"))
        assert time.monotonic() - started < 1.0  # answered at once, whatever the turn takes
        assert (response.status_code, response.text) == (200, "")
        assert await deliver(channel, db_url) == 1
    assert [(m.sender_id, m.input_channel) for m in bot.turns] == [("wecom:zhangsan", "wecom")]
    assert [(s.api, s.touser, s.agentid, s.content) for s in fake.sent] == [
        ("wecom", "zhangsan", 1000002, "收到：办理居住证需要什么材料")]


async def test_retries_are_deduplicated(db_url, fake, senders):
    bot = ScriptedBot()
    channel = channel_for(fake)
    async with serve(channel, bot) as url:
        pusher = pusher_for(url)
        xml = pusher.text_xml("zhangsan", "慢：护照", msg_id=8001)
        params, body = pusher.request(xml)
        async with httpx.AsyncClient() as client:
            first = await client.post(url, params=params, content=body.encode("utf-8"))
            same = await client.post(url, params=params, content=body.encode("utf-8"))
        renewed = await post(url, pusher, xml)  # a retry with a new timestamp and nonce
        await deliver(channel, db_url)
    assert first.status_code == same.status_code == renewed.status_code == 200
    assert bot.texts == ["慢：护照"]
    assert [s.content for s in fake.sent] == ["收到：慢：护照"]


async def test_options_split_and_other_types(db_url, fake, senders):
    bot = ScriptedBot()
    channel = channel_for(fake)
    async with serve(channel, bot) as url:
        pusher = pusher_for(url)
        await post(url, pusher, pusher.text_xml("lisi", "选项"))
        await deliver(channel, db_url)
        await post(url, pusher, pusher.text_xml("lisi", "1"))
        await post(url, pusher, pusher.text_xml("wangwu", "长文"))
        await post(url, pusher, pusher.message_xml("zhaoliu", "image", {"PicUrl": "http://p", "MediaId": "m"}))
        await post(url, pusher, pusher.event_xml("sunqi", "subscribe"))
        await post(url, pusher, pusher.event_xml("sunqi", "enter_agent"))
        await deliver(channel, db_url)
    by_user = {}
    for sent in fake.sent:
        by_user.setdefault(sent.touser, []).append(sent.content)
    assert by_user["lisi"] == ["您要办理的是哪一项？\n回复数字选择：\n1. 居住证申领\n2. 居住证签注",
                               '收到：/choose_option{"option": "JZZ-1"}']
    assert len(by_user["wangwu"]) > 1 and all(utf8_len(t) <= 2048 for t in by_user["wangwu"])
    assert by_user["zhaoliu"] == [UNSUPPORTED] and by_user["sunqi"] == [WELCOME]
    assert bot.texts == ["选项", '/choose_option{"option": "JZZ-1"}', "长文"]


async def test_forged_malformed_oversized_replayed_and_foreign_pushes_run_no_turn(db_url, fake, senders):
    bot = ScriptedBot()
    channel = channel_for(fake)
    async with serve(channel, bot) as url:
        pusher = pusher_for(url)
        params, body = pusher.request(pusher.text_xml("zhangsan", "伪造"))
        async with httpx.AsyncClient() as client:
            forged = await client.post(url, params={**params, "msg_signature": "0" * 40}, content=body.encode())
            unsigned = await client.post(url, params={"timestamp": params["timestamp"], "nonce": params["nonce"]},
                                         content=body.encode())
            plaintext = await client.post(url, params=params, content=pusher.text_xml("zhangsan", "明文").encode())
        malformed = await post(url, pusher, "<xml><FromUserName>半截")
        huge = await post(url, pusher, pusher.text_xml("zhangsan", "居" * 30000))
        replayed = await post(url, pusher, pusher.text_xml("zhangsan", "旧"), timestamp=str(int(time.time()) - 3600))
        other_agent = WeComPusher(url, WECOM_TOKEN, AES_KEY, CORP_ID, "1000099")
        foreign = await post(url, other_agent, other_agent.text_xml("zhangsan", "别的应用"))
        other_corp = WeComPusher(url, WECOM_TOKEN, AES_KEY, "wwothercorp", AGENT_ID)
        wrong_corp = await post(url, other_corp, other_corp.text_xml("zhangsan", "别的企业"))
        await deliver(channel, db_url)
    assert forged.status_code == 403 and unsigned.status_code == 403 and plaintext.status_code in (400, 403)
    assert malformed.status_code == 400 and huge.status_code == 413 and replayed.status_code == 403
    assert foreign.status_code == 200 and wrong_corp.status_code == 403
    assert bot.turns == [] and fake.sent == []


async def test_staff_reply_reaches_the_wecom_user(db_url, fake, senders):
    channel = channel_for(fake)
    async with serve(channel, ScriptedBot()):
        with make_session(db_url) as session:
            outbox.enqueue(session, "wecom", "wecom:zhangsan", "工作人员：已为您预约。", kind="staff_message")
            session.commit()
        fake.fail_next(1, errcode=-1)
        runner = delivery.OutboxDelivery(db_url)
        assert await runner.deliver_due() == 0
        with make_session(db_url) as session:
            message = session.query(OutboundMessage).one()
            assert message.status == "pending" and "errcode -1" in message.last_error
            message.next_attempt_at = message.created_at
            session.commit()
        assert await runner.deliver_due() == 1
    assert [(s.touser, s.content) for s in fake.sent] == [("zhangsan", "工作人员：已为您预约。")]


async def test_not_configured_answers_503(db_url, senders):
    channel = WeComInput.from_credentials({})
    assert "ONEWINDOW_WECOM_AES_KEY" in channel.missing()
    async with serve(channel, ScriptedBot()) as url:
        async with httpx.AsyncClient() as client:
            response = await client.post(url, content=b"<xml/>")
    assert response.status_code == 503


def test_agent_id_must_be_a_number():
    with pytest.raises(ValueError):
        WeComSettings.from_credentials({"agent_id": "abc"})
