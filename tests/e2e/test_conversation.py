"""Chatting with the running bot through the REST channel, as a client would."""
from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from database import make_session

REPO_ROOT = Path(__file__).resolve().parents[2]
CONVERSATIONS = REPO_ROOT / "data" / "eval" / "conversations.yml"


def sender() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def customs(messages):
    return [m.get("custom") or {} for m in messages]


def answer_of(messages):
    return next((c for c in customs(messages) if c.get("type") == "service_answer"), None)


def test_greeting_and_capabilities(live_stack):
    me = sender()
    reply = live_stack.rest(me, "你好")
    assert reply and "一窗通办助手" in reply[0]["text"]
    reply = live_stack.rest(me, "你能做什么")
    assert any("材料" in m.get("text", "") for m in reply)


def test_answer_follow_up_and_switch_keep_context(live_stack):
    me = sender()
    first = live_stack.rest(me, "办护照要带什么材料")
    answer = answer_of(first)
    assert answer and answer["aspect"] == "materials" and "护照" in answer["service"]["name"]
    # text and custom data of an answer travel in one message, and the text is complete alone
    message = next(m for m in first if m.get("custom", {}).get("type") == "service_answer")
    assert "需要准备以下材料" in message["text"] and answer["card"]["materials"]
    follow = answer_of(live_stack.rest(me, "要多久"))
    assert follow and follow["service"]["code"] == answer["service"]["code"] and follow["aspect"] == "time_limit"
    switch = answer_of(live_stack.rest(me, "那结婚登记呢"))
    assert switch and switch["service"]["name"] == "结婚登记" and switch["aspect"] == "time_limit"


def test_choices_then_pick_by_number_and_by_words(live_stack):
    me = sender()
    reply = live_stack.rest(me, "身份证怎么办")
    choices = next(c for c in customs(reply) if c.get("type") == "choices")
    options = choices["options"]
    assert 2 <= len(options) <= 5
    buttons = next(m["buttons"] for m in reply if m.get("buttons"))
    assert [b["title"] for b in buttons] == [o["name"] for o in options]
    picked = answer_of(live_stack.rest(me, "2"))
    assert picked and picked["service"]["code"] == options[1]["code"]
    live_stack.rest(me, "身份证怎么办")
    by_words = answer_of(live_stack.rest(me, "丢了补办的那个"))
    assert by_words and "补领" in by_words["service"]["name"]


def test_an_aspect_asked_before_picking_asks_which_one_again(live_stack):
    """护照 answered, then 身份证 offers variants: 在哪办 is about one of those, not about 护照."""
    me = sender()
    assert "护照" in answer_of(live_stack.rest(me, "办护照要带什么"))["service"]["name"]
    options = next(c for c in customs(live_stack.rest(me, "身份证怎么办")) if c.get("type") == "choices")["options"]
    again = live_stack.rest(me, "在哪办")
    assert answer_of(again) is None
    assert [o["code"] for o in next(c for c in customs(again) if c.get("type") == "choices")["options"]] == \
        [o["code"] for o in options]
    picked = answer_of(live_stack.rest(me, "第一个"))
    assert picked["service"]["code"] == options[0]["code"] and picked["aspect"] == "location"


def test_button_payload_picks_an_option(live_stack):
    me = sender()
    reply = live_stack.rest(me, "港澳通行证怎么办")
    button = next(m["buttons"] for m in reply if m.get("buttons"))[0]
    picked = answer_of(live_stack.rest(me, button["payload"]))
    assert picked and picked["service"]["name"] == button["title"]


def test_out_of_scope_invents_no_service(live_stack):
    reply = live_stack.rest(sender(), "今天深圳天气怎么样")
    assert reply and not any(c.get("type") in ("service_answer", "choices") for c in customs(reply))


def test_repeated_failure_offers_a_person(live_stack):
    me = sender()
    first = live_stack.rest(me, "阿巴阿巴咕噜咕噜")
    assert any(c.get("type") == "fallback" for c in customs(first))
    second = live_stack.rest(me, "咕噜咕噜阿巴阿巴呜")
    assert any(c.get("type") == "fallback" for c in customs(second))
    assert any(b["payload"] == "/human_handoff" for m in second for b in m.get("buttons", []))


def test_handoff_pauses_and_queues_with_transcript(live_stack):
    from handoff.models import HandoffRequest

    me = sender()
    live_stack.rest(me, "居住证在哪办")
    reply = live_stack.rest(me, "转人工")
    assert any(c.get("type") == "handoff" for c in customs(reply))
    assert any("人工" in m.get("text", "") for m in reply)
    assert live_stack.rest(me, "有人吗") == []  # paused: the bot stays quiet, staff answer
    with make_session(live_stack.database_url) as session:
        request = session.execute(select(HandoffRequest).where(HandoffRequest.conversation_id == me)).scalar_one()
        assert request.status == "waiting" and request.channel == "rest"
        assert any(t["text"] == "居住证在哪办" for t in request.transcript)


@pytest.mark.parametrize("start", ["帮我查一下进度", "我要申请居住证", "我要投诉"])
def test_asking_for_a_person_in_the_middle_of_a_form_reaches_staff(live_stack, start):
    """转人工 while the bot is asking for a tracking number, filing details or a complaint's details
    ends the form and queues the conversation, instead of being taken as the answer."""
    from handoff.models import HandoffRequest

    me = sender()
    asked = live_stack.rest(me, start)
    assert asked and not any(c.get("type") == "handoff" for c in customs(asked))
    reply = live_stack.rest(me, "转人工")
    assert any(c.get("type") == "handoff" for c in customs(reply)), reply
    assert live_stack.rest(me, "有人吗") == []  # paused
    with make_session(live_stack.database_url) as session:
        request = session.execute(select(HandoffRequest).where(HandoffRequest.conversation_id == me)).scalar_one()
        assert request.status == "waiting"


@pytest.mark.parametrize("start, ended", [("帮我查一下进度", "已退出进度查询"), ("我要申请居住证", "已取消申请"),
                                           ("我要投诉", "已取消")])
def test_saying_goodbye_in_the_middle_of_a_form_ends_it(live_stack, start, ended):
    """再见 while the bot is asking for a tracking number, filing details or a complaint's details
    ends the form with a goodbye, keeping nothing, instead of asking again; the next question is
    answered as usual."""
    me = sender()
    asked = live_stack.rest(me, start)
    assert asked and not any(c.get("type") == "stopped" for c in customs(asked))
    reply = live_stack.rest(me, "再见")
    texts = " ".join(m.get("text", "") for m in reply)
    assert any(c.get("type") == "stopped" for c in customs(reply)) and ended in texts and "再见" in texts, reply
    assert answer_of(live_stack.rest(me, "护照要带什么"))["aspect"] == "materials"


def test_thanks_when_asked_for_a_case_number_ends_the_lookup(live_stack):
    """谢谢 where a case number is asked for is no number to correct: the lookup ends, politely."""
    me = sender()
    asked = live_stack.rest(me, "帮我查一下进度")
    assert "编号" in " ".join(m.get("text", "") for m in asked), asked
    reply = live_stack.rest(me, "谢谢")
    texts = " ".join(m.get("text", "") for m in reply)
    assert "已退出进度查询" in texts and "不客气" in texts and "没有识别到办件编号" not in texts, reply
    assert answer_of(live_stack.rest(me, "护照要带什么"))["aspect"] == "materials"


def test_rating_is_recorded(live_stack):
    from analytics.models import AnsweredQuestion

    me = sender()
    answer = answer_of(live_stack.rest(me, "低保怎么申请"))
    reply = live_stack.rest(me, '/rate_answer{"rating": "good", "service": "%s"}' % answer["service"]["code"])
    assert any("感谢" in m.get("text", "") for m in reply)
    with make_session(live_stack.database_url) as session:
        entry = session.execute(select(AnsweredQuestion).where(AnsweredQuestion.conversation_id == me)).scalar_one()
        assert entry.rating == "good" and entry.question == "低保怎么申请"


@pytest.mark.parametrize(
    "body, status",
    [(b"not json", 400), (b"[]", 400), (b'{"sender": "x"}', 400), (b'{"message": "hi"}', 400),
     ('{"sender": "x", "message": "%s"}' % ("很" * 3000), 413)],
)
def test_malformed_requests_are_rejected(live_stack, body, status):
    response = httpx.post(f"{live_stack.rasa_url}/webhooks/rest/webhook", content=body,
                          headers={"content-type": "application/json"}, timeout=30)
    assert response.status_code == status
    assert response.json()["error"]["message"]


def test_health_reports_every_component(live_stack):
    body = httpx.get(f"{live_stack.desk_url}/healthz", timeout=10).json()
    assert body["status"] == "ok", body
    for component in ("database", "search", "rasa", "actions"):
        assert body["components"][component]["status"] == "ok", component


def test_dialogue_quality_floor(live_stack):
    from dialogue.evaluation import evaluate, load_conversations, rest_sender

    report = evaluate(load_conversations(CONVERSATIONS), rest_sender(live_stack.rasa_url))
    print(report.summary())
    assert report.turn_accuracy >= 0.80, report.summary()
    assert report.service_turn_accuracy >= 0.80, report.summary()
