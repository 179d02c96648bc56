"""Filing through the REST channel, as a citizen would: apply, give details once, confirm, get a
number, check progress; a bundle filed in one go; a department completes a case; a bad rating
opens a follow-up; nothing clear of the ID number reaches the conversation store."""
from __future__ import annotations

import re
import sqlite3
import uuid

import httpx

from database import make_session
from filings.identity import id_check_character

ID_NUMBER = "44030719900307" + "123"
ID_NUMBER += id_check_character(ID_NUMBER)
PHONE = "13912345678"
CASE = re.compile(r"LG\d{8}-\d{6}")
BUNDLE = re.compile(r"LGB\d{8}-\d{4}")


def texts(messages) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def custom_types(messages):
    return [(m.get("custom") or {}).get("type") for m in messages]


def test_file_a_service_then_a_bundle_then_track_and_rate(live_stack):
    me = f"filer-{uuid.uuid4().hex[:8]}"
    say = lambda text: live_stack.rest(me, text)  # noqa: E731

    intro = say("我要申请居住证")
    assert "filing_intro" in custom_types(intro)
    assert "居住证" in texts(intro) and "材料" in texts(intro)
    assert "同意" in texts(intro)  # consent is asked before any detail

    assert "身份证" in texts(say("同意"))
    wrong = texts(say("12345"))
    assert "18位" in wrong  # a clear error, asked again
    bad_checksum = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")
    checksum_reply = texts(say(bad_checksum))
    assert "校验" in checksum_reply or "核对" in checksum_reply
    assert "手机" in texts(say(ID_NUMBER))
    assert "11位" in texts(say("1391234"))
    assert "姓名" in texts(say(PHONE))
    assert "地址" in texts(say("王小明"))
    confirm = texts(say("深圳市龙岗区龙城街道龙福路3号"))
    assert "4403**********" + ID_NUMBER[-4:] in confirm and "139****5678" in confirm
    assert ID_NUMBER not in confirm
    receipt = say("确认")
    assert "filing_created" in custom_types(receipt)
    number = CASE.search(texts(receipt)).group(0)

    progress = texts(say(f"查进度 {number} 手机尾号5678"))
    assert number in progress and "办结期限" in progress
    # Wrong digits: the same answer as an unknown number.
    assert "没有查到" in texts(say(f"查进度 {number} 尾号0000"))

    # A second filing, a bundle: the details are on file, so only a confirmation is asked.
    bundle_intro = say("我要办新生儿出生一件事")
    assert "将使用您已登记的信息" in texts(bundle_intro)
    assert "确认" in texts(bundle_intro)
    bundle_receipt = say("确认")
    bundle_number = BUNDLE.search(texts(bundle_receipt)).group(0)
    assert len(CASE.findall(texts(bundle_receipt))) >= 3  # one case per member, dispatched at once
    bundle_progress = texts(say(f"查一下{bundle_number}的进度，手机后四位5678"))
    assert bundle_number in bundle_progress and "项已办结" in bundle_progress

    # The department signs, accepts and completes the residence permit case over its API.
    from filings.lookup import get_case
    from filings.tokens import issue_token

    with make_session(live_stack.database_url) as session:
        department = get_case(session, number).department.code
        token = issue_token(session, department, label="e2e")
        session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    for step, body in (("sign", None), ("accept", {}), ("complete", {"result": "居住证已制发"})):
        response = httpx.post(f"{live_stack.desk_url}/api/v1/department/cases/{number}/{step}", json=body,
                              headers=headers, timeout=30)
        assert response.status_code == 200, response.text

    # The citizen rates it badly: a follow-up work order goes to the department.
    rated = texts(say("非常不满意"))
    assert "非常不满意" in rated and "LGW" in rated
    order = re.search(r"LGW\d{8}-\d{4}", rated).group(0)

    # The department answers the work order; the citizen says it is not settled, then settled.
    def department_replies(text: str) -> None:
        for step, body in (("sign", None), ("reply", {"reply": text})):
            response = httpx.post(f"{live_stack.desk_url}/api/v1/department/workorders/{order}/{step}", json=body,
                                  headers=headers, timeout=30)
            assert response.status_code == 200, response.text

    def order_status() -> str:
        from filings.lookup import get_order

        with make_session(live_stack.database_url) as session:
            return get_order(session, order).status

    department_replies("已联系窗口整改，下次办理将优先为您服务。")
    unsettled = texts(say("还没有解决"))
    assert order in unsettled and "重新办理" in unsettled
    assert order_status() == "dispatched"
    department_replies("已电话联系您并当面致歉，制证已加急。")
    settled = texts(say("已解决，谢谢"))
    assert order in settled and "已办结" in settled
    assert order_status() == "closed"

    # The conversation store never saw the ID number in clear (only sealed and masked).
    with sqlite3.connect(live_stack.tracker_db) as db:
        rows = db.execute("select data from events where sender_id = ?", (me,)).fetchall()
    assert rows and not any(ID_NUMBER in data for (data,) in rows)
    assert any("4403**********" in data for (data,) in rows)


def test_stop_in_the_middle_keeps_nothing(live_stack):
    me = f"quitter-{uuid.uuid4().hex[:8]}"
    live_stack.rest(me, "我要申请居住证")
    live_stack.rest(me, "同意")
    stopped = live_stack.rest(me, "不办了")
    assert "已取消" in texts(stopped)
    # Afterwards the bot answers questions again.
    after = live_stack.rest(me, "护照要带什么材料")
    assert "service_answer" in custom_types(after)


def service_answers(messages):
    return [(c["service"]["name"], c["aspect"]) for c in (m.get("custom") or {} for m in messages)
            if c.get("type") == "service_answer"]


def test_a_question_in_the_middle_is_answered_and_the_form_goes_on(live_stack):
    me = f"asker-{uuid.uuid4().hex[:8]}"
    say = lambda text: live_stack.rest(me, text)  # noqa: E731
    say("我要申请居住证")
    # At the consent step: the question is about the service applied for, then consent is asked again.
    during = say("要多久")
    assert [aspect for _, aspect in service_answers(during)] == ["time_limit"]
    applied = service_answers(during)[0][0]
    assert "居住证" in applied
    assert custom_types(during)[-1] == "consent" and "请回复" not in texts(during)
    # Not a question: the hint, nothing answered.
    hint = say("嗯嗯嗯")
    assert "请回复" in texts(hint) and not service_answers(hint)
    assert "身份证" in texts(say("同意"))
    # At the ID number step: a question is answered, then the ID number is asked for again.
    during = say("在哪里办")
    assert service_answers(during) == [(applied, "location")]
    assert "18位" in texts(during) and "您输入的是" not in texts(during)
    # A wrong number is still a wrong number, not a question.
    wrong = say("12345")
    assert "18位" in texts(wrong) and not service_answers(wrong)
    assert "手机" in texts(say(ID_NUMBER))
    # A question about another service: answered, and the application ends, keeping nothing.
    moved_on = say("护照要带什么材料")
    assert service_answers(moved_on) == [("普通护照签发", "materials")]
    assert custom_types(moved_on)[-1] == "filing_cancelled" and f"已退出【{applied}】" in texts(moved_on)
    assert service_answers(say("要多久")) == [("普通护照签发", "time_limit")]  # no form any more


def test_complaint_becomes_a_work_order(live_stack):
    me = f"complainer-{uuid.uuid4().hex[:8]}"
    asked = texts(live_stack.rest(me, "我要投诉"))
    assert "具体" in asked
    filed = texts(live_stack.rest(me, "龙岗区社保窗口工作人员上周三态度很差，还让我跑了三趟"))
    assert "LGW" in filed and "已转交" in filed


def test_a_question_while_a_case_number_is_asked_for_ends_the_lookup(live_stack):
    me = f"tracker-{uuid.uuid4().hex[:8]}"
    say = lambda text: live_stack.rest(me, text)  # noqa: E731
    assert "编号" in texts(say("查进度"))
    wrong = say("不知道")  # no number and no question: asked again
    assert "没有识别到办件编号" in texts(wrong) and not service_answers(wrong)
    moved_on = say("护照怎么办")
    assert service_answers(moved_on) == [("普通护照签发", "overview")]
    assert "编号" not in texts(moved_on)
    assert service_answers(say("要多久")) == [("普通护照签发", "time_limit")]  # the lookup is over
