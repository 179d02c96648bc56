"""Every supported push type, what it means for the bot, and rendering answers as WeChat text."""
from __future__ import annotations

import pytest

from connectors.wechat_messages import MalformedPush, parse_push
from connectors.wechat_sim import OfficialAccountPusher
from connectors.wechat_text import OptionMemory, number_reply, render, split_text, utf8_len

PUSHER = OfficialAccountPusher("http://x", "t")


def xml(msg_type, fields, **kwargs):
    return PUSHER.message_xml("o_user", msg_type, fields, **kwargs)


@pytest.mark.parametrize("body,action,text", [
    (xml("text", {"Content": "  办理居住证需要什么材料 "}), "turn", "办理居住证需要什么材料"),
    (xml("text", {"Content": ""}), "ignore", ""),
    (xml("voice", {"MediaId": "m", "Format": "amr", "Recognition": "居住证怎么办"}), "turn", "居住证怎么办"),
    (xml("voice", {"MediaId": "m", "Format": "amr"}), "unsupported", ""),
    (xml("image", {"PicUrl": "http://p", "MediaId": "m"}), "unsupported", ""),
    (xml("video", {"MediaId": "m", "ThumbMediaId": "t"}), "unsupported", ""),
    (xml("shortvideo", {"MediaId": "m", "ThumbMediaId": "t"}), "unsupported", ""),
    (xml("location", {"Location_X": "22.7", "Location_Y": "114.2", "Scale": "15", "Label": "龙岗"}), "unsupported", ""),
    (xml("link", {"Title": "t", "Description": "d", "Url": "http://u"}), "unsupported", ""),
    (xml("file", {"Title": "t"}), "unsupported", ""),
    (PUSHER.event_xml("o_user", "subscribe"), "welcome", ""),
    (PUSHER.event_xml("o_user", "subscribe", key="qrscene_123"), "welcome", ""),
    (PUSHER.event_xml("o_user", "unsubscribe"), "ignore", ""),
    (PUSHER.event_xml("o_user", "CLICK", key="/human_handoff"), "turn", "/human_handoff"),
    (PUSHER.event_xml("o_user", "CLICK", key="居住证办理"), "turn", "居住证办理"),
    (PUSHER.event_xml("o_user", "VIEW", key="https://example.gov.cn"), "ignore", ""),
    (PUSHER.event_xml("o_user", "LOCATION"), "ignore", ""),
])
def test_push_types(body, action, text):
    push = parse_push(body)
    assert (push.action, push.text, push.user) == (action, text, "o_user")


def test_fields_of_a_text_push():
    push = parse_push(xml("text", {"Content": "你好"}, create_time=1700000000, msg_id=1234567890123456789))
    assert (push.account, push.create_time, push.msg_id, push.msg_type, push.event) == (
        "gh_onewindow_sim", 1700000000, "1234567890123456789", "text", "")
    event = parse_push(PUSHER.event_xml("o_user", "CLICK", key="k"))
    assert (event.msg_id, event.event) == ("", "click")


@pytest.mark.parametrize("body", [
    "",
    "not xml at all",
    "<xml><ToUserName>a</ToUserName>",  # truncated
    "<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime></xml>",  # no MsgType
    "<xml><ToUserName>a</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",  # no sender
    "<xml><FromUserName>u</FromUserName><CreateTime>soon</CreateTime><MsgType>text</MsgType></xml>",
    "<xml><FromUserName>u</FromUserName><FromUserName>v</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",
    "<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><MsgId>x1</MsgId></xml>",
    "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><xml><FromUserName>&a;</FromUserName></xml>",
])
def test_malformed_pushes(body):
    with pytest.raises(MalformedPush):
        parse_push(body)


def test_buttons_become_numbered_options_across_a_turn():
    rendered = render([
        {"text": "您要办理的是哪一项？", "buttons": [{"title": "居住证申领", "payload": "/a"}, {"title": "居住证签注", "payload": "/b"}]},
        {"text": "也可以转人工。", "buttons": [{"title": "转人工", "payload": "/human_handoff"}], "custom": {"type": "x"}},
    ])
    assert rendered.text == (
        "您要办理的是哪一项？\n回复数字选择：\n1. 居住证申领\n2. 居住证签注\n\n也可以转人工。\n回复数字选择：\n3. 转人工"
    )
    assert rendered.payloads == ["/a", "/b", "/human_handoff"]


def test_a_numeric_reply_picks_the_remembered_option():
    now = [0.0]
    memory = OptionMemory(ttl=60, clock=lambda: now[0])
    memory.remember("u", ["/a", "/b"])
    assert memory.resolve("u", "2") == "/b"
    assert memory.resolve("u", " ２ ") == "/b"  # full-width digit
    assert memory.resolve("u", "3") == "3"  # no such option: the text as it is
    assert memory.resolve("u", "第二个") == "第二个"  # words go to the bot
    assert memory.resolve("other", "1") == "1"
    now[0] = 61.0
    assert memory.resolve("u", "1") == "1"  # forgotten
    memory.remember("u", ["/a"])
    memory.remember("u", [])  # a turn without buttons clears them
    assert memory.resolve("u", "1") == "1"
    assert number_reply("12") == 12 and number_reply("1 2") is None


def test_long_text_is_split_within_the_byte_limit():
    text = "\n".join(f"第{i}条：居住证申领需要提交身份证、住所证明和近期照片。" for i in range(1, 81))
    pieces = split_text(text, 2048)
    assert len(pieces) > 1
    assert all(utf8_len(p) <= 2048 for p in pieces)
    assert "\n".join(pieces) == text  # cut at line ends, nothing lost
    unbroken = "居" * 1000  # 3,000 bytes without any break
    pieces = split_text(unbroken, 2048)
    assert [utf8_len(p) for p in pieces] == [2046, 954] and "".join(pieces) == unbroken
    assert split_text("短消息", 2048) == ["短消息"]
    assert split_text("   ", 2048) == []


def test_options_the_bot_already_numbers_are_not_listed_twice():
    question = {"text": "您想了解的是哪一项？请选择或回复序号：\n1. 居民身份证补领\n2. 居民身份证换领",
                "buttons": [{"title": "居民身份证补领", "payload": "/p1"}, {"title": "居民身份证换领", "payload": "/p2"}]}
    rendered = render([question])
    assert rendered.text == question["text"] and rendered.payloads == ["/p1", "/p2"]
    fallback = {"text": "抱歉……您是不是想问：\n1. 护照签发\n如需帮助，可以回复“转人工”联系工作人员。",
                "buttons": [{"title": "护照签发", "payload": "/p"}, {"title": "转人工", "payload": "/human_handoff"}]}
    rendered = render([fallback])
    assert rendered.text == fallback["text"] and rendered.payloads == ["/p", "/human_handoff"]
    offer = {"text": "需要为您转接人工服务吗？",
             "buttons": [{"title": "转人工", "payload": "/human_handoff"}, {"title": "继续提问", "payload": "/ask_capabilities"}]}
    assert render([offer]).text == "需要为您转接人工服务吗？\n回复数字选择：\n1. 转人工\n2. 继续提问"
