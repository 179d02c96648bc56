"""The Official Account channel's blueprint in a Sanic server, with a scripted bot and the fake API."""
from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import xmltodict

from connectors.wechat import WeChatInput
from connectors.wechat_config import Limits, WeChatSettings
from connectors.wechat_fake_api import FakeWeChatAPI
from connectors.wechat_sim import OfficialAccountPusher
from connectors.wechat_text import UNSUPPORTED, WELCOME, utf8_len
from database import make_session
from outbound import delivery, outbox
from outbound.models import OutboundMessage

from wechat_helpers import AES_KEY, OA_APP_ID, OA_SECRET, OA_TOKEN, ScriptedBot, serve

FAST = Limits(reply_timeout=0.6)


@pytest.fixture
def fake():
    with FakeWeChatAPI(app_id=OA_APP_ID, secret=OA_SECRET) as api:
        yield api


@pytest.fixture
def senders(monkeypatch):
    registry: dict = {}
    monkeypatch.setattr(delivery, "_senders", registry)
    return registry


def channel_for(fake, aes_key: str = "", limits: Limits = FAST) -> WeChatInput:
    return WeChatInput(WeChatSettings(token=OA_TOKEN, app_id=OA_APP_ID, secret=OA_SECRET, encoding_aes_key=aes_key,
                                      api_base=fake.base_url, limits=limits))


async def post(url, pusher, xml, **kwargs):
    params, body = pusher.request(xml, **kwargs)
    async with httpx.AsyncClient() as client:
        response = await client.post(url, params=params, content=body.encode("utf-8"))
    return response, params


def reply_of(pusher, response, params):
    assert response.status_code == 200, response.text
    return pusher.read_reply(response.text, params)


def queued(db_url, channel="wechat"):
    with make_session(db_url) as session:
        rows = session.query(OutboundMessage).filter_by(channel=channel).order_by(OutboundMessage.id).all()
        return [(m.recipient, m.text, m.status) for m in rows]


async def test_url_verification(fake, senders):
    channel = channel_for(fake)
    async with serve(channel, ScriptedBot()) as url:
        pusher = OfficialAccountPusher(url, OA_TOKEN, OA_APP_ID)
        async with httpx.AsyncClient() as client:
            good = await client.get(url, params=pusher.verify_params("echo-4711"))
            forged = await client.get(url, params={**pusher.verify_params("echo-4711"), "signature": "0" * 40})
            stale = await client.get(url, params=OfficialAccountPusher(url, OA_TOKEN).verify_params("x") | {
                "timestamp": "1714036504", "nonce": "1514711492", "signature": "f464b24fc39322e44b38aa78f5edd27bd1441696"})
    assert (good.status_code, good.text) == (200, "echo-4711")
    assert forged.status_code == 403 and stale.status_code == 403


async def test_text_is_answered_passively_within_the_deadline(db_url, fake, senders):
    bot = ScriptedBot()
    async with serve(channel_for(fake), bot) as url:
        pusher = OfficialAccountPusher(url, OA_TOKEN, OA_APP_ID)
        response, params = await post(url, pusher, pusher.text_xml("o_citizen", "办理居住证需要什么材料"))
        reply = xmltodict.parse(response.text)["xml"]
    assert response.headers["content-type"].startswith("application/xml")
    assert reply["Content"] == "收到：办理居住证需要什么材料"
    assert (reply["ToUserName"], reply["FromUserName"], reply["MsgType"]) == ("o_citizen", "gh_onewindow_sim", "text")
    assert [(m.sender_id, m.input_channel) for m in bot.turns] == [("o_citizen", "wechat")]
    assert queued(db_url) == [] and fake.sent == []


@pytest.mark.parametrize("params", [
    {},
    {"signature": "0" * 40},
    {"timestamp": "1"},
])
async def test_forged_or_missing_signature_is_refused_and_runs_no_turn(db_url, fake, senders, params):
    bot = ScriptedBot()
    async with serve(channel_for(fake), bot) as url:
        pusher = OfficialAccountPusher(url, OA_TOKEN, OA_APP_ID)
        good, body = pusher.request(pusher.text_xml("o_citizen", "你好"))
        query = {} if not params else {**good, **params}
        async with httpx.AsyncClient() as client:
            response = await client.post(url, params=query, content=body.encode("utf-8"))
    assert response.status_code == 403
    assert bot.turns == []


async def test_slow_turn_answers_success_then_sends_through_the_api(db_url, fake, senders):
    bot = ScriptedBot(slow_seconds=2.5)
    channel = channel_for(fake)
    async with serve(channel, bot) as url:
        pusher = OfficialAccountPusher(url, OA_TOKEN, OA_APP_ID)
        started = time.monotonic()
        response, params = await post(url, pusher, pusher.text_xml("o_citizen", "慢慢问：居住证"))
        elapsed = time.monotonic() - started
        assert reply_of(pusher, response, params) is None and response.text == "success"
        assert 0.5 < elapsed < 2.0  # the deadline (0.6 s), not the turn (2.5 s)
        await channel.answerer.drain()
        assert queued(db_url) == [("o_citizen", "收到：慢慢问：居住证", "pending")]
        assert await delivery.OutboxDelivery(db_url).deliver_due() == 1
    assert [(s.touser, s.content) for s in fake.sent] == [("o_citizen", "收到：慢慢问：居住证")]
    assert queued(db_url) == [("o_citizen", "收到：慢慢问：居住证", "sent")]


async def test_a_retried_push_runs_no_second_turn_and_gives_no_second_answer(db_url, fake, senders):
    bot = ScriptedBot(slow_seconds=1.5)
    channel = channel_for(fake)
    async with serve(channel, bot) as url:
        pusher = OfficialAccountPusher(url, OA_TOKEN, OA_APP_ID)
        xml = pusher.text_xml("o_citizen", "慢：居住证", msg_id=7001)
        params, body = pusher.request(xml)
        async with httpx.AsyncClient() as client:
            # WeChat gives up and retries while the first is still running (same MsgId, same query).
            first = asyncio.ensure_future(client.post(url, params=params, content=body.encode("utf-8")))
            await asyncio.sleep(0.2)
            retry = await client.post(url, params=params, content=body.encode("utf-8"))
            first = await first
            # A retry with a new timestamp and nonce after the answer went out.
            await channel.answerer.drain()
            late, _ = await post(url, pusher, xml)
    assert first.text == "success" and retry.text == "success" and late.text == "success"
    assert bot.texts == ["慢：居住证"]
    assert queued(db_url) == [("o_citizen", "收到：慢：居住证", "pending")]


async def test_a_retry_after_a_passive_reply_gets_the_same_reply(db_url, fake, senders):
    bot = ScriptedBot()
    async with serve(channel_for(fake), bot) as url:
        pusher = OfficialAccountPusher(url, OA_TOKEN, OA_APP_ID)
        xml = pusher.text_xml("o_citizen", "你好", msg_id=7002)
        first, params1 = await post(url, pusher, xml)
        again, params2 = await post(url, pusher, xml)
    assert reply_of(pusher, first, params1) == reply_of(pusher, again, params2) == "收到：你好"
    assert bot.texts == ["你好"] and queued(db_url) == []


async def test_a_retry_arriving_during_the_wait_moves_the_answer_to_the_api(db_url, fake, senders):
    # The turn ends before the deadline, but WeChat retried meanwhile: the first request's passive
    # reply would go to a connection WeChat abandoned, so the answer goes through the API, once.
    bot = ScriptedBot(slow_seconds=0.4)
    channel = channel_for(fake, limits=Limits(reply_timeout=2.0))
    async with serve(channel, bot) as url:
        pusher = OfficialAccountPusher(url, OA_TOKEN, OA_APP_ID)
        params, body = pusher.request(pusher.text_xml("o_citizen", "慢：护照", msg_id=7003))
        async with httpx.AsyncClient() as client:
            first = asyncio.ensure_future(client.post(url, params=params, content=body.encode("utf-8")))
            await asyncio.sleep(0.1)
            retry = await client.post(url, params=params, content=body.encode("utf-8"))
            first = await first
    assert first.text == "success" and retry.text == "success"
    assert bot.texts == ["慢：护照"]
    assert queued(db_url) == [("o_citizen", "收到：慢：护照", "pending")]


async def test_events_are_deduplicated_by_sender_and_time(db_url, fake, senders):
    async with serve(channel_for(fake), ScriptedBot()) as url:
        pusher = OfficialAccountPusher(url, OA_TOKEN, OA_APP_ID)
        xml = pusher.event_xml("o_new", "subscribe", create_time=int(time.time()))
        first, p1 = await post(url, pusher, xml)
        second, p2 = await post(url, pusher, xml)
        other, p3 = await post(url, pusher, pusher.event_xml("o_new", "subscribe", create_time=int(time.time()) + 1))
    assert reply_of(pusher, first, p1) == WELCOME
    assert reply_of(pusher, second, p2) == WELCOME  # the same passive reply, not a second welcome
    assert reply_of(pusher, other, p3) == WELCOME


async def test_message_types(db_url, fake, senders):
    bot = ScriptedBot()
    async with serve(channel_for(fake), bot) as url:
        pusher = OfficialAccountPusher(url, OA_TOKEN, OA_APP_ID)
        image, p1 = await post(url, pusher, pusher.message_xml("o_c", "image", {"PicUrl": "http://p", "MediaId": "m"}))
        location, p2 = await post(url, pusher, pusher.message_xml("o_c", "location", {"Location_X": "22.7", "Location_Y": "114.2"}))
        voice, p3 = await post(url, pusher, pusher.message_xml("o_c", "voice", {"MediaId": "m", "Format": "amr"}))
        heard, p4 = await post(url, pusher, pusher.message_xml("o_c", "voice", {"MediaId": "m", "Recognition": "居住证"}))
        click, p5 = await post(url, pusher, pusher.event_xml("o_c", "CLICK", key="/human_handoff"))
        bye, p6 = await post(url, pusher, pusher.event_xml("o_c", "unsubscribe"))
    assert reply_of(pusher, image, p1) == reply_of(pusher, location, p2) == reply_of(pusher, voice, p3) == UNSUPPORTED
    assert "文字" in UNSUPPORTED
    assert reply_of(pusher, heard, p4) == "收到：居住证"
    assert reply_of(pusher, click, p5) == "收到：/human_handoff"
    assert bye.text == "success"
    assert bot.texts == ["居住证", "/human_handoff"]


async def test_buttons_are_numbered_and_a_number_picks_the_option(db_url, fake, senders):
    bot = ScriptedBot()
    async with serve(channel_for(fake), bot) as url:
        pusher = OfficialAccountPusher(url, OA_TOKEN, OA_APP_ID)
        question, p1 = await post(url, pusher, pusher.text_xml("o_c", "选项"))
        pick, p2 = await post(url, pusher, pusher.text_xml("o_c", "2"))
        again, p3 = await post(url, pusher, pusher.text_xml("o_c", "2"))  # no options shown any more
    assert reply_of(pusher, question, p1) == "您要办理的是哪一项？\n回复数字选择：\n1. 居住证申领\n2. 居住证签注"
    assert reply_of(pusher, pick, p2) == '收到：/choose_option{"option": "JZZ-2"}'
    assert reply_of(pusher, again, p3) == "收到：2"
    assert bot.texts == ["选项", '/choose_option{"option": "JZZ-2"}', "2"]


async def test_long_and_several_messages_first_piece_passive_rest_through_the_api(db_url, fake, senders):
    channel = channel_for(fake)
    async with serve(channel, ScriptedBot()) as url:
        pusher = OfficialAccountPusher(url, OA_TOKEN, OA_APP_ID)
        long, p1 = await post(url, pusher, pusher.text_xml("o_c", "长文"))
        two, p2 = await post(url, pusher, pusher.text_xml("o_d", "两条"))
        await channel.answerer.drain()
        rest = queued(db_url)
        await delivery.OutboxDelivery(db_url).deliver_due()
    first = reply_of(pusher, long, p1)
    assert first.startswith("第1条") and utf8_len(first) <= 2048
    pieces = [text for recipient, text, _ in rest if recipient == "o_c"]
    assert pieces and all(utf8_len(p) <= 2048 for p in pieces)
    assert "\n".join([first, *pieces]).count("居住证申领") == 80
    assert reply_of(pusher, two, p2) == "第一条消息\n\n第二条消息"  # fits one passive reply
    assert [s.content for s in fake.sent] == pieces


async def test_failed_turn_gets_a_polite_answer_and_silence_gets_success(db_url, fake, senders):
    async with serve(channel_for(fake), ScriptedBot()) as url:
        pusher = OfficialAccountPusher(url, OA_TOKEN, OA_APP_ID)
        failed, p1 = await post(url, pusher, pusher.text_xml("o_c", "出错"))
        silent, p2 = await post(url, pusher, pusher.text_xml("o_c", "静默"))
    assert reply_of(pusher, failed, p1) == "系统繁忙，请稍后再试。"
    assert silent.text == "success"


async def test_malformed_oversized_and_replayed_pushes_are_refused(db_url, fake, senders):
    bot = ScriptedBot()
    async with serve(channel_for(fake), bot) as url:
        pusher = OfficialAccountPusher(url, OA_TOKEN, OA_APP_ID)
        malformed, _ = await post(url, pusher, "<xml><FromUserName>o_c</FromUserName><Content>半截")
        huge, _ = await post(url, pusher, pusher.text_xml("o_c", "居" * 30000))
        old = str(int(time.time()) - 3600)
        replayed, _ = await post(url, pusher, pusher.text_xml("o_c", "旧消息"), timestamp=old)
        future, _ = await post(url, pusher, pusher.text_xml("o_c", "未来"), timestamp=str(int(time.time()) + 3600))
        # The same signed query string with another message: a captured signature reused.
        params, body = pusher.request(pusher.text_xml("o_c", "第一条", msg_id=9001))
        async with httpx.AsyncClient() as client:
            ok = await client.post(url, params=params, content=body.encode("utf-8"))
            reused = await client.post(url, params=params, content=pusher.text_xml("o_c", "伪造", msg_id=9002).encode("utf-8"))
    assert malformed.status_code == 400
    assert huge.status_code == 413
    assert replayed.status_code == 403 and future.status_code == 403
    assert ok.status_code == 200 and reused.status_code == 403
    assert bot.texts == ["第一条"]


async def test_safe_mode_decrypts_pushes_and_encrypts_replies(db_url, fake, senders):
    bot = ScriptedBot()
    async with serve(channel_for(fake, aes_key=AES_KEY), bot) as url:
        pusher = OfficialAccountPusher(url, OA_TOKEN, OA_APP_ID, AES_KEY)
        response, params = await post(url, pusher, pusher.text_xml("o_c", "办理居住证需要什么材料"))
        assert "<Encrypt>" in response.text and "居住证" not in response.text
        assert reply_of(pusher, response, params) == "收到：办理居住证需要什么材料"
        plain, _ = await post(url, pusher, pusher.text_xml("o_c", "明文"), encrypted=False)
        forged_params, body = pusher.request(pusher.text_xml("o_c", "伪造"))
        forged_params["msg_signature"] = "0" * 40
        async with httpx.AsyncClient() as client:
            forged = await client.post(url, params=forged_params, content=body.encode("utf-8"))
    assert plain.status_code == 403 and forged.status_code == 403
    assert bot.texts == ["办理居住证需要什么材料"]


async def test_encrypted_push_without_a_key_is_refused(db_url, fake, senders):
    async with serve(channel_for(fake), ScriptedBot()) as url:
        pusher = OfficialAccountPusher(url, OA_TOKEN, OA_APP_ID, AES_KEY)
        response, _ = await post(url, pusher, pusher.text_xml("o_c", "你好"))
    assert response.status_code == 403


async def test_staff_reply_reaches_the_wechat_user_through_the_outbox(db_url, fake, senders):
    channel = channel_for(fake)
    async with serve(channel, ScriptedBot()):
        assert "wechat" in delivery.registered_channels()
        with make_session(db_url) as session:
            outbox.enqueue(session, "wechat", "o_citizen", "工作人员：您好，我是窗口的小李。", kind="staff_message")
            session.commit()
        assert await delivery.OutboxDelivery(db_url).deliver_due() == 1
    assert [(s.touser, s.content) for s in fake.sent] == [("o_citizen", "工作人员：您好，我是窗口的小李。")]


async def test_bot_messages_outside_a_push_go_to_the_outbox(db_url, fake, senders):
    channel = channel_for(fake)
    output = channel.get_output_channel()
    await output.send_response("o_c", {"text": "提醒：您的居住证已可领取。", "buttons": [{"title": "好的", "payload": "/affirm"}]})
    assert queued(db_url) == [("o_c", "提醒：您的居住证已可领取。\n回复数字选择：\n1. 好的", "pending")]
    assert channel.options.resolve("o_c", "1") == "/affirm"


async def test_not_configured_answers_503(db_url, senders, caplog):
    channel = WeChatInput.from_credentials({"token": "", "app_id": "", "secret": "", "encoding_aes_key": "", "api_base": ""})
    assert channel.missing() == ["ONEWINDOW_WECHAT_TOKEN", "ONEWINDOW_WECHAT_APPID", "ONEWINDOW_WECHAT_SECRET"]
    bot = ScriptedBot()
    async with serve(channel, bot) as url:
        pusher = OfficialAccountPusher(url, "x", "y")
        response, _ = await post(url, pusher, pusher.text_xml("o_c", "你好"))
        async with httpx.AsyncClient() as client:
            verify = await client.get(url, params=pusher.verify_params("e"))
    assert response.status_code == 503 and verify.status_code == 503
    assert "not configured" in caplog.text and "ONEWINDOW_WECHAT_TOKEN" in caplog.text
    assert bot.turns == [] and "wechat" not in delivery.registered_channels()


def test_settings_from_credentials():
    settings = WeChatSettings.from_credentials({"token": "t", "app_id": "a", "secret": "s", "encoding_aes_key": AES_KEY,
                                                "api_base": "http://127.0.0.1:5098/", "reply_timeout": "3"})
    assert settings.safe_mode and settings.api_base == "http://127.0.0.1:5098" and settings.limits.reply_timeout == 3
    assert WeChatSettings.from_credentials({}).api_base == "https://api.weixin.qq.com"
    assert Limits().reply_timeout < 5  # WeChat gives up after 5 seconds
    with pytest.raises(ValueError):
        WeChatSettings.from_credentials({"encoding_aes_key": "short"})


def test_credentials_load_with_the_run_environments_empty_defaults(monkeypatch):
    from rasa.shared.utils.io import read_yaml_file

    from bot.runner import Settings
    from connectors.wechat_config import CHANNEL_VARIABLES
    from connectors.wecom import WeComInput
    from database.engine import PROJECT_ROOT

    for name in CHANNEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ONEWINDOW_WECHAT_TOKEN", "given")
    env = Settings().environment()
    assert env["ONEWINDOW_WECHAT_TOKEN"] == "given" and env["ONEWINDOW_WECOM_AES_KEY"] == ""
    for name in CHANNEL_VARIABLES:
        monkeypatch.setenv(name, env[name])
    credentials = read_yaml_file(str(PROJECT_ROOT / "bot" / "credentials.yml"))
    wechat = WeChatInput.from_credentials(credentials["connectors.wechat.WeChatInput"])
    wecom = WeComInput.from_credentials(credentials["connectors.wecom.WeComInput"])
    assert wechat.settings.token == "given" and wechat.missing() == ["ONEWINDOW_WECHAT_APPID", "ONEWINDOW_WECHAT_SECRET"]
    assert len(wecom.missing()) == 5
