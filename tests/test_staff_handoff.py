"""The handoff inbox (人工接待): role checks, the live transcript (masked) with its fallback, taking
(once), replying (only the taker or a supervisor), handing back (needs Rasa), and what the citizen
gets through the outbox. Rasa's HTTP API is a fake behind httpx.MockTransport that keeps events per
conversation like Rasa's tracker store."""
from __future__ import annotations

import asyncio
import json
import re
import threading
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from database import make_session
from database.engine import get_engine
from database.migrate import upgrade
from desk.app import create_app
from filings.identity import seal
from handoff import desk
from handoff.desk import Clerk, HandoffError
from handoff.models import HandoffMessage, HandoffRequest
from handoff.queue import request_handoff
from handoff.rasa_api import RasaAPI, RasaUnavailable
from knowledge.models import Department
from outbound import delivery
from outbound.models import OutboundMessage
from staff_helpers import make_staff, staff_client

TOKEN = "rasa-test-token"
ID_NUMBER = "440307199001011239"
SEALED = "〔证件号 4403**********1239 #{}〕"


class FakeRasa:
    """Rasa's tracker endpoints: GET .../tracker and POST .../tracker/events, per conversation."""

    def __init__(self):
        self.events: dict = {}
        self.appended: list = []  # (conversation id, query params, events)
        self.down = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.params.get("token") != TOKEN:
            return httpx.Response(401, json={"message": "unauthorized"})
        match = re.fullmatch(r"/conversations/(.+)/tracker(/events)?", request.url.path)
        if not match:
            return httpx.Response(404, json={})
        conversation = match.group(1)
        if request.method == "GET" and not match.group(2):
            return httpx.Response(200, json={"sender_id": conversation, "events": self.events.get(conversation, [])})
        if request.method == "POST" and match.group(2):
            body = json.loads(request.content)
            self.appended.append((conversation, dict(request.url.params), body))
            self.events.setdefault(conversation, []).extend(body)
            return httpx.Response(200, json={"sender_id": conversation})
        return httpx.Response(405, json={})

    def api(self) -> RasaAPI:
        return RasaAPI("http://rasa.test", TOKEN, transport=httpx.MockTransport(self.handle))

    def said(self, conversation: str, text: str, when: datetime, role: str = "user") -> None:
        self.events.setdefault(conversation, []).append(
            {"event": role, "text": text, "timestamp": (when - datetime(1970, 1, 1)).total_seconds()})


@pytest.fixture(scope="module")
def handoff_url(tmp_path_factory):
    """A database of its own (the outbox is delivered in some tests), with one department."""
    url = f"sqlite:///{tmp_path_factory.mktemp('handoff') / 'handoff.db'}"
    upgrade(url)
    with make_session(url) as session:
        session.add(Department(code="LG-GA", name="区公安分局"))
        session.commit()
    yield url
    get_engine(url).dispose()


@pytest.fixture
def rasa():
    return FakeRasa()


@pytest.fixture
def app(handoff_url, rasa, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_SWEEP_INTERVAL", "0")
    app = create_app(handoff_url)
    app.state.handoff_rasa = rasa.api()
    return app


_seq = iter(range(1, 10**6))


def queue(url, channel="webchat", conversation=None, transcript=None, last="转人工", ago=timedelta(minutes=3)):
    """A conversation waiting for staff, as action_handoff leaves it; returns (id, conversation id)."""
    conversation = conversation or f"{channel}-conv-{next(_seq)}"
    with make_session(url) as session:
        request = request_handoff(session, conversation, channel, "requested",
                                  transcript or [{"role": "user", "text": "居住证在哪办", "time": None},
                                                 {"role": "user", "text": last, "time": None}], last)
        session.flush()
        request.requested_at = datetime.utcnow() - ago
        session.commit()
        return request.id, conversation


def outbound_for(url, conversation):
    with make_session(url) as session:
        return list(session.execute(select(OutboundMessage).where(OutboundMessage.recipient == conversation)
                                    .order_by(OutboundMessage.id)).scalars())


def status_of(url, request_id):
    with make_session(url) as session:
        return session.get(HandoffRequest, request_id).status


# -- roles ----------------------------------------------------------------------------------------------
ROUTES = [("GET", "/api/v1/staff/handoff"), ("GET", "/api/v1/staff/handoff/1"),
          ("POST", "/api/v1/staff/handoff/1/take"), ("POST", "/api/v1/staff/handoff/1/reply"),
          ("POST", "/api/v1/staff/handoff/1/hand-back")]


async def test_every_route_needs_a_session_and_the_handoff_role(app, handoff_url):
    officer = make_staff(handoff_url, "officer", department="LG-GA")
    async with staff_client(app) as anonymous, staff_client(app, officer) as client:
        for method, path in ROUTES:
            body = {"text": "您好"} if path.endswith("reply") else None
            response = await anonymous.request(method, path, json=body)
            assert response.status_code == 401, path
            response = await client.request(method, path, json=body)
            assert response.status_code == 403, path
            assert response.json()["error"]["message"] == "您的角色无权使用“人工接待”。"
    for role in ("clerk", "coordinator", "admin"):
        async with staff_client(app, make_staff(handoff_url, role)) as client:
            assert (await client.get("/api/v1/staff/handoff")).status_code == 200, role


async def test_actions_need_the_csrf_header(app, handoff_url):
    request_id, _ = queue(handoff_url)
    async with staff_client(app, make_staff(handoff_url, "clerk")) as client:
        response = await client.post(f"/api/v1/staff/handoff/{request_id}/take", headers={"X-Requested-With": ""})
        assert response.status_code == 403 and response.json()["error"]["code"] == "csrf"
    assert status_of(handoff_url, request_id) == "waiting"


# -- the inbox and the transcript --------------------------------------------------------------------------
async def test_the_inbox_lists_waiting_conversations_longest_first_with_channel_and_masked_text(app, handoff_url):
    sealed = SEALED.format(seal(ID_NUMBER))
    older, _ = queue(handoff_url, channel="wechat", ago=timedelta(minutes=30), last=f"我的身份证是{sealed}")
    newer, _ = queue(handoff_url, channel="webchat", ago=timedelta(minutes=1))
    async with staff_client(app, make_staff(handoff_url, "clerk")) as client:
        body = (await client.get("/api/v1/staff/handoff")).json()
    waiting = [item for item in body["waiting"] if item["id"] in (older, newer)]
    assert [item["id"] for item in waiting] == [older, newer]
    first = waiting[0]
    assert first["channel"] == "wechat" and first["channel_name"] == "微信" and waiting[1]["channel_name"] == "网页"
    assert first["reason"] == "requested" and first["reason_name"] == "市民要求转人工"
    assert 30 * 60 - 5 <= first["waited_seconds"] <= 30 * 60 + 60
    assert first["last_message"] == "我的身份证是4403**********1239" and "#v1" not in json.dumps(body)
    assert first["awaiting_reply"] is True and first["taken_by"] is None


async def test_the_transcript_is_live_from_rasa_and_masked(app, handoff_url, rasa):
    request_id, conversation = queue(handoff_url)
    start = datetime.utcnow() - timedelta(minutes=3)
    rasa.said(conversation, "居住证在哪办", start)
    rasa.said(conversation, "居住证可在各街道办理。", start + timedelta(seconds=1), role="bot")
    rasa.said(conversation, "转人工", start + timedelta(seconds=5))
    later = datetime.utcnow() - timedelta(seconds=30)
    rasa.said(conversation, f"我的证件号{SEALED.format(seal(ID_NUMBER))}，手机13912345678", later)
    async with staff_client(app, make_staff(handoff_url, "clerk")) as client:
        body = (await client.get(f"/api/v1/staff/handoff/{request_id}")).json()
        assert body["live"] is True and body["notice"] is None
        texts = [(e["role"], e["text"]) for e in body["transcript"]]
        assert texts == [("user", "居住证在哪办"), ("bot", "居住证可在各街道办理。"), ("user", "转人工"),
                         ("user", "我的证件号4403**********1239，手机139****5678")]
        assert body["can"] == {"take": True, "reply": False, "hand_back": False}
        # The inbox now shows what the citizen wrote after the handoff.
        item = next(i for i in (await client.get("/api/v1/staff/handoff")).json()["waiting"] if i["id"] == request_id)
        assert item["last_message"] == "我的证件号4403**********1239，手机139****5678"


async def test_without_rasa_the_stored_transcript_is_shown_with_a_notice(app, handoff_url, rasa):
    request_id, _ = queue(handoff_url, last="有人吗")
    rasa.down = True
    async with staff_client(app, make_staff(handoff_url, "clerk")) as client:
        response = await client.get(f"/api/v1/staff/handoff/{request_id}")
    body = response.json()
    assert response.status_code == 200 and body["live"] is False
    assert "暂时无法连接智能助手服务" in body["notice"]
    assert [e["text"] for e in body["transcript"]] == ["居住证在哪办", "有人吗"]


async def test_an_unknown_request_is_404(app, handoff_url):
    async with staff_client(app, make_staff(handoff_url, "clerk")) as client:
        response = await client.get("/api/v1/staff/handoff/999999")
    assert response.status_code == 404 and response.json()["error"]["message"] == "没有这个转人工会话。"


# -- taking ----------------------------------------------------------------------------------------------
async def test_take_tells_the_citizen_and_a_second_clerk_gets_409(app, handoff_url, rasa):
    request_id, conversation = queue(handoff_url)
    first, second = make_staff(handoff_url, "clerk", name="王小明"), make_staff(handoff_url, "clerk", name="李娜")
    async with staff_client(app, first) as one, staff_client(app, second) as two:
        response = await one.post(f"/api/v1/staff/handoff/{request_id}/take")
        assert response.status_code == 200
        assert response.json()["request"]["taken_by"] == {"name": "王小明", "mine": True}
        again = await one.post(f"/api/v1/staff/handoff/{request_id}/take")  # a double click
        assert again.status_code == 200
        late = await two.post(f"/api/v1/staff/handoff/{request_id}/take")
        assert late.status_code == 409 and late.json()["error"]["message"] == "该会话已由王小明接入。"
        listed = (await two.get("/api/v1/staff/handoff")).json()
        item = next(i for i in listed["taken"] if i["id"] == request_id)
        assert item["taken_by"] == {"name": "王小明", "mine": False}
        assert request_id not in [i["id"] for i in listed["waiting"]]
    sent = outbound_for(handoff_url, conversation)
    assert [(m.channel, m.kind, m.text) for m in sent] == [
        ("webchat", "staff_joined", "工作人员（王小明）已接入，接下来由我为您服务。请问有什么可以帮您？")]
    assert sent[0].custom == {"type": "staff_joined", "staff_name": "王小明", "request": request_id}
    # Logged in Rasa's tracker, recorded only (not sent again by Rasa), and the bot stays paused.
    [(who, params, events)] = rasa.appended
    assert who == conversation and params["execute_side_effects"] == "false"
    assert [e["event"] for e in events] == ["bot", "pause"]
    assert events[0]["text"].startswith("工作人员（王小明）已接入") and events[0]["data"]["custom"]["type"] == "staff_joined"


def test_two_concurrent_takes_cannot_both_win(handoff_url, rasa):
    request_id, _ = queue(handoff_url)
    clerks = [Clerk(id=9000 + n, name=f"并发{n}") for n in range(4)]
    with make_session(handoff_url) as session:  # real accounts, for the foreign key
        from staffdesk.models import StaffAccount
        for clerk in clerks:
            if session.get(StaffAccount, clerk.id) is None:
                session.add(StaffAccount(id=clerk.id, username=f"conc{clerk.id}", display_name=clerk.name,
                                         role="clerk", password_hash="x"))
        session.commit()
    barrier, outcomes = threading.Barrier(len(clerks)), []

    def attempt(clerk):
        with make_session(handoff_url) as session:
            barrier.wait()
            try:
                desk.take(session, request_id, clerk, rasa.api())
                outcomes.append(("won", clerk.id))
            except HandoffError as exc:
                outcomes.append((exc.status, clerk.id))

    threads = [threading.Thread(target=attempt, args=(clerk,)) for clerk in clerks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [who for outcome, who in outcomes if outcome == "won"]
    assert len(winners) == 1 and sorted(o for o, _ in outcomes if o != "won") == [409, 409, 409]
    with make_session(handoff_url) as session:
        request = session.get(HandoffRequest, request_id)
        assert request.taken_by_id == winners[0]
        joined = session.execute(select(HandoffMessage).where(HandoffMessage.request_id == request_id)).scalars().all()
        assert [m.kind for m in joined] == ["staff_joined"]


# -- replying --------------------------------------------------------------------------------------------
async def test_reply_only_by_the_taker_or_a_supervisor(app, handoff_url, rasa):
    request_id, conversation = queue(handoff_url)
    taker, other = make_staff(handoff_url, "clerk", name="张敏"), make_staff(handoff_url, "clerk")
    coordinator = make_staff(handoff_url, "coordinator", name="统筹老陈")
    url = f"/api/v1/staff/handoff/{request_id}/reply"
    async with staff_client(app, taker) as mine, staff_client(app, other) as theirs, \
            staff_client(app, coordinator) as boss:
        early = await mine.post(url, json={"text": "您好"})
        assert early.status_code == 409 and early.json()["error"]["message"] == "请先接入该会话。"
        await mine.post(f"/api/v1/staff/handoff/{request_id}/take")
        refused = await theirs.post(url, json={"text": "我来回答"})
        assert refused.status_code == 403 and "张敏" in refused.json()["error"]["message"]
        assert (await theirs.post(f"/api/v1/staff/handoff/{request_id}/hand-back")).status_code == 403
        for bad, message in (({"text": "  "}, "回复内容不能为空。"), ({"text": "很" * 2001}, "最多2000字"),
                             ({"text": f"您的证件号是{ID_NUMBER}吗"}, "身份证号码")):
            response = await mine.post(url, json=bad)
            assert response.status_code == 422 and message in response.json()["error"]["message"]
        ok = await mine.post(url, json={"text": "您好，居住证需要带身份证和租房合同。"})
        assert ok.status_code == 200
        assert (await boss.post(url, json={"text": "补充：可以网上预约。"})).status_code == 200
        detail = (await mine.get(f"/api/v1/staff/handoff/{request_id}")).json()
    assert detail["can"] == {"take": False, "reply": True, "hand_back": True}
    staff = [(e["role"], e.get("staff_name"), e["text"]) for e in detail["transcript"] if e["role"] in ("staff", "notice")]
    assert staff == [("notice", "张敏", "工作人员（张敏）已接入，接下来由我为您服务。请问有什么可以帮您？"),
                     ("staff", "张敏", "您好，居住证需要带身份证和租房合同。"),
                     ("staff", "统筹老陈", "补充：可以网上预约。")]
    assert all(e["delivery"]["status"] == "pending" for e in detail["transcript"] if e["role"] == "staff")
    sent = outbound_for(handoff_url, conversation)
    assert [(m.channel, m.recipient, m.kind) for m in sent] == [
        ("webchat", conversation, "staff_joined"), ("webchat", conversation, "staff_message"),
        ("webchat", conversation, "staff_message")]
    assert sent[1].text == "您好，居住证需要带身份证和租房合同。"
    assert sent[1].custom == {"type": "staff_message", "staff_name": "张敏", "request": request_id}
    # Each reply is in Rasa's tracker as a bot event, only once, without being executed.
    bots = [e for e in rasa.events[conversation] if e["event"] == "bot"]
    assert [e["text"] for e in bots][1:] == ["您好，居住证需要带身份证和租房合同。", "补充：可以网上预约。"]
    assert all(params["execute_side_effects"] == "false" for _, params, _ in rasa.appended)
    # Staff messages logged in the tracker are not shown twice.
    assert len(staff) == 3


@pytest.mark.parametrize("channel, recipient_prefix", [("wechat", "o_"), ("wecom", "wecom:")])
async def test_replies_reach_wechat_and_wecom_users_with_the_staff_name(app, handoff_url, channel, recipient_prefix):
    request_id, conversation = queue(handoff_url, channel=channel, conversation=f"{recipient_prefix}user{next(_seq)}")
    async with staff_client(app, make_staff(handoff_url, "clerk", name="赵磊")) as client:
        await client.post(f"/api/v1/staff/handoff/{request_id}/take")
        await client.post(f"/api/v1/staff/handoff/{request_id}/reply", json={"text": "请问您在哪个街道？"})
    sent = outbound_for(handoff_url, conversation)
    assert [(m.channel, m.recipient) for m in sent] == [(channel, conversation)] * 2
    assert sent[1].text == "工作人员（赵磊）：请问您在哪个街道？"


async def test_the_outbox_delivers_each_channel_through_its_sender_and_holds_rest(app, handoff_url, monkeypatch):
    got = []

    async def sender(recipient, text, custom):
        got.append((recipient, text, custom))

    monkeypatch.setattr(delivery, "_senders", {})
    delivery.register_sender("webchat", sender)
    with make_session(handoff_url) as session:  # earlier tests' messages are not this test's business
        for message in session.execute(select(OutboundMessage).where(OutboundMessage.status == "pending")).scalars():
            message.status = "sent"
        session.commit()
    web_id, web = queue(handoff_url, channel="webchat")
    rest_id, rest = queue(handoff_url, channel="rest")
    async with staff_client(app, make_staff(handoff_url, "clerk", name="钱多")) as client:
        for request_id in (web_id, rest_id):
            await client.post(f"/api/v1/staff/handoff/{request_id}/take")
            await client.post(f"/api/v1/staff/handoff/{request_id}/reply", json={"text": "您好"})
    await delivery.OutboxDelivery(handoff_url).deliver_due()
    assert [(r, t, c["type"]) for r, t, c in got] == [(web, "工作人员（钱多）已接入，接下来由我为您服务。请问有什么可以帮您？", "staff_joined"),
                                                  (web, "您好", "staff_message")]
    assert [m.status for m in outbound_for(handoff_url, rest)] == ["held", "held"]
    async with staff_client(app, make_staff(handoff_url, "clerk")) as client:
        transcript = (await client.get(f"/api/v1/staff/handoff/{web_id}")).json()["transcript"]
    assert [e["delivery"]["status"] for e in transcript if e["role"] in ("staff", "notice")] == ["sent", "sent"]


def test_handoff_channels_are_the_names_of_the_input_channels_and_outbox_senders():
    from connectors.rest import RestInput
    from connectors.webchat import WebchatInput
    from connectors.wechat import WeChatInput
    from connectors.wecom import WeComInput

    # action_handoff stores the tracker's latest input channel, i.e. the input channel's name; the
    # channels register their outbox senders under the same name; REST cannot push.
    assert set(desk.CHANNEL_NAMES) == {WebchatInput.name(), WeChatInput.name(), WeComInput.name(), RestInput.name()}
    assert RestInput.name() in delivery.PULL_ONLY_CHANNELS


# -- handing back -----------------------------------------------------------------------------------------
async def test_rasa_down_take_and_reply_still_work_hand_back_is_503_and_nothing_is_lost(app, handoff_url, rasa):
    request_id, conversation = queue(handoff_url)
    rasa.down = True
    async with staff_client(app, make_staff(handoff_url, "clerk", name="孙丽")) as client:
        assert (await client.post(f"/api/v1/staff/handoff/{request_id}/take")).status_code == 200
        reply = await client.post(f"/api/v1/staff/handoff/{request_id}/reply", json={"text": "稍等，我查一下。"})
        assert reply.status_code == 200
        refused = await client.post(f"/api/v1/staff/handoff/{request_id}/hand-back")
        assert refused.status_code == 503
        assert refused.json()["error"]["message"] == "暂时无法连接智能助手服务，未能交回智能助手。会话仍由您接待，请稍后再试。"
        assert status_of(handoff_url, request_id) == "taken"
        assert [m.kind for m in outbound_for(handoff_url, conversation)] == ["staff_joined", "staff_message"]

        rasa.down = False
        back = await client.post(f"/api/v1/staff/handoff/{request_id}/hand-back")
        assert back.status_code == 200 and back.json()["request"]["status"] == "closed"
        again = await client.post(f"/api/v1/staff/handoff/{request_id}/hand-back")
        assert again.status_code == 409
        listed = (await client.get("/api/v1/staff/handoff")).json()
        assert request_id in [i["id"] for i in listed["closed"]]
        detail = (await client.get(f"/api/v1/staff/handoff/{request_id}")).json()
        assert detail["can"] == {"take": False, "reply": False, "hand_back": False}
    # Rasa got what it missed, in order, then the notice, the resume, and listens again.
    [(_, params, events)] = rasa.appended
    assert params["execute_side_effects"] == "false"
    assert [(e["event"], e.get("text", e.get("name"))) for e in events] == [
        ("bot", "工作人员（孙丽）已接入，接下来由我为您服务。请问有什么可以帮您？"), ("bot", "稍等，我查一下。"),
        ("bot", desk.LEFT_TEXT), ("resume", None), ("action", "action_listen")]
    sent = outbound_for(handoff_url, conversation)
    assert [m.kind for m in sent] == ["staff_joined", "staff_message", "staff_left"]
    assert sent[-1].text == "人工服务已结束，智能助手将继续为您服务。如需再次联系工作人员，请回复“转人工”。"
    with make_session(handoff_url) as session:
        request = session.get(HandoffRequest, request_id)
        assert request.closed_at is not None and request.closed_by_id == request.taken_by_id
        assert all(m.rasa_logged_at for m in request.messages)


async def test_a_coordinator_may_hand_back_a_clerks_conversation(app, handoff_url, rasa):
    request_id, conversation = queue(handoff_url)
    async with staff_client(app, make_staff(handoff_url, "clerk")) as clerk, \
            staff_client(app, make_staff(handoff_url, "admin", name="管理员")) as admin:
        waiting = await admin.post(f"/api/v1/staff/handoff/{request_id}/hand-back")
        assert waiting.status_code == 409
        await clerk.post(f"/api/v1/staff/handoff/{request_id}/take")
        assert (await admin.post(f"/api/v1/staff/handoff/{request_id}/hand-back")).status_code == 200
        late = await clerk.post(f"/api/v1/staff/handoff/{request_id}/reply", json={"text": "还在吗"})
        assert late.status_code == 409 and late.json()["error"]["message"] == "该会话的人工服务已结束。"
    assert [e["event"] for e in rasa.events[conversation]][-2:] == ["resume", "action"]


# -- Rasa's HTTP API client -------------------------------------------------------------------------------
def test_the_rasa_client_refuses_what_it_cannot_address():
    with pytest.raises(RasaUnavailable):
        RasaAPI("", "t").tracker("abc")  # not configured
    with pytest.raises(RasaUnavailable):
        RasaAPI("http://rasa.test", "t", transport=httpx.MockTransport(lambda r: httpx.Response(200, json={}))
                ).tracker("有 空格?")
    api = RasaAPI("http://rasa.test", "t", transport=httpx.MockTransport(lambda r: httpx.Response(500, text="boom")))
    with pytest.raises(RasaUnavailable, match="HTTP 500"):
        api.append_events("wecom:zhangsan", [{"event": "resume"}])


def test_the_rasa_client_against_a_real_http_server():
    """A local HTTP server: URL, token and body as Rasa's API expects them; a dead port fails fast."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["content-length"])
            seen.append((self.path, json.loads(self.rfile.read(length))))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        RasaAPI(f"http://127.0.0.1:{server.server_address[1]}", "s3cret").append_events("wecom:li.si", [{"event": "resume"}])
    finally:
        server.shutdown()
        server.server_close()
    [(path, body)] = seen
    assert path.startswith("/conversations/wecom:li.si/tracker/events?")
    assert "token=s3cret" in path and "execute_side_effects=false" in path and body == [{"event": "resume"}]
    with pytest.raises(RasaUnavailable):
        RasaAPI(f"http://127.0.0.1:{server.server_address[1]}", "s3cret").tracker("x")


# -- the tracker store keeps the pause ---------------------------------------------------------------------
def test_a_paused_conversation_stays_paused_past_the_tracker_window(tmp_path):
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (ActionExecuted, BotUttered, ConversationPaused, ConversationResumed,
                                         SessionStarted, UserUttered)
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.tracker_store import WindowedSQLTrackerStore
    from database.engine import PROJECT_ROOT

    domain = Domain.load(str(PROJECT_ROOT / "bot" / "domain.yml"))
    store = WindowedSQLTrackerStore(domain, window=3, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    tracker = DialogueStateTracker("citizen", domain.slots)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                  UserUttered("转人工", {"name": "human_handoff", "confidence": 1.0}), ActionExecuted("action_handoff"),
                  BotUttered("已为您转接人工服务"), ConversationPaused()):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    for n in range(6):  # the citizen keeps writing while waiting: more turns than the window
        tracker = asyncio.run(store.retrieve("citizen"))
        assert tracker.is_paused(), n
        tracker.update(UserUttered(f"有人吗{n}"))
        asyncio.run(store.save(tracker))
    tracker = asyncio.run(store.retrieve("citizen"))
    tracker.update(ConversationResumed())
    tracker.update(ActionExecuted("action_listen"))
    asyncio.run(store.save(tracker))
    for n in range(4):
        tracker = asyncio.run(store.retrieve("citizen"))
        assert not tracker.is_paused(), n
        tracker.update(UserUttered(f"居住证怎么办{n}"))
        asyncio.run(store.save(tracker))
