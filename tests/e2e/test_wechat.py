"""The running product through the WeChat Official Account webhook, as WeChat would post to it.

The live stack's Rasa server has the WeChat channel configured with a test token and its API base
pointing at a local fake of WeChat's API (tests/e2e/conftest.py); answers come back either as the
passive reply or, past the 5-second rule, as a customer-service message the fake API receives.
"""
from __future__ import annotations

import re
import time
import uuid

import httpx

from connectors.wechat_sim import OfficialAccountPusher


def ask(stack, pusher, user: str, text: str, wait: float = 30.0) -> str:
    """Everything the user sees for one message: the passive reply and/or the API sends."""
    before = len(stack.wechat_api.sent)
    params, body = pusher.request(pusher.text_xml(user, text))
    response = httpx.post(pusher.url, params=params, content=body.encode("utf-8"), timeout=10.0)
    assert response.status_code == 200, response.text
    seen = []
    passive = pusher.read_reply(response.text, params)
    if passive:
        seen.append(passive)
        time.sleep(1.5)  # further pieces, if any, go through the API
    else:
        stack.wechat_api.wait_for_sends(before + 1, timeout=wait)
        time.sleep(1.5)
    seen += [s.content for s in stack.wechat_api.sent[before:] if s.touser == user]
    return "\n".join(seen)


def test_a_citizen_asks_through_wechat_and_picks_an_option_by_number(live_stack):
    url = f"{live_stack.rasa_url}/webhooks/wechat/webhook"
    pusher = OfficialAccountPusher(url, live_stack.wechat_token, live_stack.wechat_api.app_id)
    user = f"o_e2e_{uuid.uuid4().hex[:12]}"

    answer = ask(live_stack, pusher, user, "办理居住证需要什么材料")
    assert "居住证" in answer

    question = ask(live_stack, pusher, user, "港澳通行证怎么办")
    options = re.findall(r"^(\d+)\. (.+)$", question, flags=re.M)
    assert [number for number, _ in options][:2] == ["1", "2"]
    assert len(options) == len({name for _, name in options})  # numbered once, not listed twice
    picked = ask(live_stack, pusher, user, "2")
    assert f"【{options[1][1]}】" in picked


def test_forged_push_is_refused_by_the_running_bot(live_stack):
    url = f"{live_stack.rasa_url}/webhooks/wechat/webhook"
    pusher = OfficialAccountPusher(url, "not-the-token", live_stack.wechat_api.app_id)
    params, body = pusher.request(pusher.text_xml("o_forger", "你好"))
    response = httpx.post(url, params=params, content=body.encode("utf-8"), timeout=10.0)
    assert response.status_code == 403
