"""End to end: a citizen asks for a person, a clerk answers from the staff desk, the bot takes over again.

Widget: the citizen (one headless Chromium context, the widget on the demo page) says 转人工; a
clerk (another context) signs in at /staff/, sees the conversation in the inbox and takes it (the
widget shows who joined), replies (pushed into the widget), sees what the citizen writes next, and
hands back (the widget says so); the citizen's next question gets a bot answer again.
WeChat: the same through the Official Account webhook, the clerk's messages reaching the fake WeChat
customer-service API.

Screenshots go to a temporary folder; their paths are printed and recorded as the test property
`screenshots`.
"""
from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import List

import httpx
from sqlalchemy import select

from database import make_session
from handoff.models import HandoffRequest
from staff_helpers import CSRF, PASSWORD, make_staff

from browser import async_playwright, expect, launch, requires_chromium
from test_widget import BOT_MSGS, INPUT, REPLY_MS, UI_MS, USER_MSGS, W, _ask, _host_port, _open_widget

POLL_MS = 15_000  # the inbox refreshes every 3 s; the outbox is delivered within about a second


def _request_of(stack, conversation: str) -> HandoffRequest:
    with make_session(stack.database_url) as session:
        return session.execute(
            select(HandoffRequest).where(HandoffRequest.conversation_id == conversation)
            .order_by(HandoffRequest.id.desc())
        ).scalars().first()


async def _citizen_page(browser, stack):
    context = await browser.new_context(viewport={"width": 1100, "height": 860}, locale="zh-CN")
    page = await context.new_page()
    rasa_host, rasa_port = _host_port(stack.rasa_url)
    if (rasa_host, rasa_port) != (_host_port(stack.desk_url)[0], 5005):
        await page.add_init_script(
            """(server => new MutationObserver((records, observer) => {
              const tag = document.querySelector('script[src*="onewindow-widget.js"]');
              if (tag) { tag.setAttribute('data-server', server); observer.disconnect(); }
            }).observe(document, {childList: true, subtree: true}))(%s)""" % json.dumps(stack.rasa_url)
        )
    await page.goto(f"{stack.desk_url}/")
    await _open_widget(page)
    return page


@requires_chromium
async def test_a_clerk_takes_a_widget_conversation_replies_and_hands_back(live_stack, tmp_path, record_property):
    clerk = make_staff(live_stack.database_url, "clerk", name="王小明")
    shots: List[Path] = []
    problems: List[str] = []

    async def shot(page, name: str) -> None:
        path = tmp_path / f"{len(shots) + 1:02d}-{name}.png"
        await page.screenshot(path=str(path))
        shots.append(path)

    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            citizen = await _citizen_page(browser, live_stack)
            citizen.on("pageerror", lambda exc: problems.append(f"widget page error: {exc}"))
            await _ask(citizen, "居住证在哪办")
            index = await _ask(citizen, "转人工")
            await expect(citizen.locator(BOT_MSGS).nth(index)).to_contain_text("人工", timeout=UI_MS)
            session_id = await citizen.evaluate("window.OneWindowWidget.sessionId")
            request = _request_of(live_stack, session_id)
            assert request is not None and request.status == "waiting"
            assert request.channel == "webchat"  # the widget's input channel = its outbox sender
            await shot(citizen, "citizen-asked-for-a-person")

            # The clerk signs in, with the inbox as the page asked for.
            staff_context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            desk = await staff_context.new_page()
            desk.on("pageerror", lambda exc: problems.append(f"staff page error: {exc}"))
            await desk.goto(f"{live_stack.desk_url}/staff/#/handoff")
            await desk.locator("#username").fill(clerk)
            await desk.locator("#password").fill(PASSWORD)
            await desk.get_by_role("button", name="登录", exact=True).click()
            item = desk.locator(f'.ho-item[data-id="{request.id}"]')
            await expect(item).to_be_visible(timeout=UI_MS)
            await expect(item).to_contain_text("网页")
            await expect(item).to_contain_text("已等待")
            await expect(desk.locator(".ho-group").first).to_contain_text("等待接入")
            await shot(desk, "inbox")

            await item.click()
            await expect(desk.locator(".ho-transcript .bubble--user").first).to_contain_text("居住证在哪办", timeout=UI_MS)
            await desk.get_by_role("button", name="接入", exact=True).click()
            reply_box = desk.locator("#ho-reply")
            await expect(reply_box).to_be_visible(timeout=UI_MS)
            await expect(desk.locator(".ho-notice").first).to_contain_text("工作人员（王小明）已接入")
            joined = citizen.locator(f"{W} .ow-notice--staff_joined")
            await expect(joined).to_contain_text("工作人员（王小明）已接入", timeout=POLL_MS)

            # A reply: Shift+Enter is a new line, Enter sends; the widget shows it by push.
            await reply_box.click()
            await reply_box.type("您好，办理居住证需要身份证和租赁合同。")
            await reply_box.press("Shift+Enter")
            await reply_box.type("可以先在网上预约。")
            await reply_box.press("Enter")
            await expect(desk.locator(".ho-transcript .bubble--staff")).to_contain_text("可以先在网上预约。", timeout=UI_MS)
            await expect(reply_box).to_have_value("")
            staff_bubble = citizen.locator(f"{W} .ow-log > .ow-msg--staff")
            await expect(staff_bubble).to_contain_text("工作人员 · 王小明", timeout=POLL_MS)
            await expect(staff_bubble).to_contain_text("您好，办理居住证需要身份证和租赁合同。")
            await expect(staff_bubble).to_contain_text("可以先在网上预约。")
            await expect(desk.locator(".ho-transcript .bubble--staff .meta")).to_contain_text("已送达", timeout=POLL_MS)

            # The citizen writes while a person has the conversation: the bot stays quiet, the clerk sees it.
            bots_before = await citizen.locator(BOT_MSGS).count()
            await citizen.locator(INPUT).fill("我是租房住的，还要社保证明吗？")
            await citizen.locator(INPUT).press("Enter")
            await expect(desk.locator(".ho-transcript .bubble--user").last).to_contain_text(
                "我是租房住的，还要社保证明吗？", timeout=POLL_MS)
            await expect(citizen.locator(f"{W} .ow-typing")).to_have_count(0)
            assert await citizen.locator(BOT_MSGS).count() == bots_before
            await shot(desk, "conversation-taken")
            await shot(citizen, "citizen-with-staff")

            # Hand back: the widget says so, and the next question gets the bot's answer again.
            await desk.get_by_role("button", name="结束人工（交回智能助手）").click()
            await expect(desk.locator(".ho-conv-head")).to_contain_text("已结束", timeout=UI_MS)
            await expect(reply_box).to_be_hidden()
            left = citizen.locator(f"{W} .ow-notice--staff_left")
            await expect(left).to_contain_text("智能助手将继续为您服务", timeout=POLL_MS)
            await shot(citizen, "citizen-told-the-bot-is-back")
            await expect(desk.locator(f'.ho-group:has-text("最近结束") .ho-item[data-id="{request.id}"]')).to_be_visible(timeout=POLL_MS)
            await shot(desk, "handed-back")
            answer = citizen.locator(BOT_MSGS).nth(await _ask(citizen, "办理居住证需要什么材料"))
            await expect(answer).to_have_class(re.compile(r"\bow-msg--bot\b"), timeout=REPLY_MS)
            await expect(answer).to_contain_text("居住证")
            await shot(citizen, "bot-answers-again")

            assert _request_of(live_stack, session_id).status == "closed"
            users = await citizen.locator(USER_MSGS).count()
            assert users == 4
            assert not problems, "\n".join(problems)
        finally:
            await browser.close()
            record_property("screenshots", " ".join(str(p) for p in shots))
            print("\nhandoff screenshots:\n" + "\n".join(f"  {p}" for p in shots))


def test_a_clerk_answers_a_wechat_user_through_the_customer_service_api(live_stack):
    from connectors.wechat_sim import OfficialAccountPusher

    api = live_stack.wechat_api
    pusher = OfficialAccountPusher(f"{live_stack.rasa_url}/webhooks/wechat/webhook", live_stack.wechat_token, api.app_id)
    user = f"o_e2e_ho_{uuid.uuid4().hex[:10]}"

    def push(text: str) -> str:
        params, body = pusher.request(pusher.text_xml(user, text))
        response = httpx.post(pusher.url, params=params, content=body.encode("utf-8"), timeout=15.0)
        assert response.status_code == 200, response.text
        return pusher.read_reply(response.text, params) or ""

    def sent_to_user() -> List[str]:
        return [s.content for s in api.sent if s.touser == user]

    def wait_for(text: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in content for content in sent_to_user()):
                return
            time.sleep(0.2)
        raise AssertionError(f"{text!r} did not reach the WeChat user; sent: {sent_to_user()}")

    assert "人工" in push("转人工") + "".join(sent_to_user())
    request = _request_of(live_stack, user)
    assert request is not None and request.channel == "wechat"

    clerk = make_staff(live_stack.database_url, "clerk", name="陈静")
    with httpx.Client(base_url=live_stack.desk_url, headers=CSRF, timeout=15.0) as desk:
        assert desk.post("/api/v1/staff/login", json={"username": clerk, "password": PASSWORD}).status_code == 200
        listed = desk.get("/api/v1/staff/handoff").json()
        item = next(i for i in listed["waiting"] if i["id"] == request.id)
        assert item["channel_name"] == "微信"
        assert desk.post(f"/api/v1/staff/handoff/{request.id}/take").status_code == 200
        wait_for("工作人员（陈静）已接入")
        assert desk.post(f"/api/v1/staff/handoff/{request.id}/reply",
                         json={"text": "您好，请问您想咨询哪项业务？"}).status_code == 200
        wait_for("工作人员（陈静）：您好，请问您想咨询哪项业务？")

        assert push("我想问一下护照加急") == ""  # paused: no answer from the bot
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            transcript = desk.get(f"/api/v1/staff/handoff/{request.id}").json()["transcript"]
            if any(e["role"] == "user" and e["text"] == "我想问一下护照加急" for e in transcript):
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"the citizen's message is not in the transcript: {transcript}")
        assert [e["role"] for e in transcript if e["role"] in ("staff", "notice")] == ["notice", "staff"]

        back = desk.post(f"/api/v1/staff/handoff/{request.id}/hand-back")
        assert back.status_code == 200, back.text
        wait_for("人工服务已结束，智能助手将继续为您服务")
    before = len(api.sent)
    answer = push("办理居住证需要什么材料")
    if not answer:
        api.wait_for_sends(before + 1, timeout=30)
        answer = "\n".join(s.content for s in api.sent[before:] if s.touser == user)
    assert "居住证" in answer
