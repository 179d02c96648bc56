"""Complaints and suggestions: routed to the owning department, else the coordinating office;
replied, reopened, returned and reassigned."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from database import make_session
from filings import workorders
from filings.cases import Actor
from filings.errors import InvalidInput
from filings.lookup import department_by_code
from filings.routing import route
from knowledge.search import SearchService
from outbound.models import OutboundMessage
from filings_helpers import make_profile


@pytest.fixture(scope="module")
def search(filings_url):
    service = SearchService(lambda: make_session(filings_url))
    service.refresh(wait=True)
    return service


@pytest.mark.parametrize(
    "text, department, how",
    [
        ("我要投诉社保局窗口工作人员态度差", "LG-SB", "mention"),
        ("派出所办户口迁移太慢了", "LG-GA", "mention"),
        ("出入境办港澳通行证排队太久", "LG-CRJ", "mention"),
        ("交警大队罚款不合理", "LG-JJ", "mention"),
        ("建议公积金提取能全程网上办", "LG-GJJ", "mention"),
        ("办营业执照等了好久都没人处理", "LG-SCJG", "search"),
        ("小区门口垃圾一直没人清理", "LG-ZSJ", "coordinating"),
        ("我有个建议", "LG-ZSJ", "coordinating"),
        ("我要投诉", "LG-ZSJ", "coordinating"),
    ],
)
def test_routing(fsession, search, text, department, how):
    target = route(fsession, text, search)
    assert (target.department.code, target.how) == (department, how)


def test_a_complaint_becomes_a_work_order_for_the_department(fsession, search):
    profile, _, _ = make_profile(fsession)
    order = workorders.file_feedback(fsession, "complaint", "我要投诉社保局窗口，电话13812345678打不通",
                                     channel="webchat", recipient="wo-1", profile=profile, search=search)
    fsession.commit()
    assert order.number.startswith("LGW") and order.department.code == "LG-SB" and order.status == "dispatched"
    assert "13812345678" not in order.text and "138****5678" in order.text
    assert order.due_date and order.warn_date <= order.due_date
    view = workorders.order_view(order)
    assert view["kind_name"] == "投诉" and view["department"]["code"] == "LG-SB"
    with pytest.raises(InvalidInput):
        workorders.file_feedback(fsession, "complaint", "   ", search=search)
    with pytest.raises(InvalidInput):
        workorders.file_feedback(fsession, "praise", "很好", search=search)


def test_reply_reopen_and_close(fsession, search):
    order = workorders.file_feedback(fsession, "suggestion", "建议公积金提取能全程网上办",
                                     channel="wechat", recipient="wo-2", search=search)
    dept = Actor.of_department(order.department)
    workorders.sign_order(fsession, order, dept)
    workorders.reply_order(fsession, order, dept, "已纳入明年系统改造计划。")
    fsession.commit()
    message = fsession.execute(select(OutboundMessage).where(OutboundMessage.recipient == "wo-2")).scalars().all()[-1]
    assert message.channel == "wechat" and message.custom["event"] == "order_replied" and "已纳入" in message.text
    workorders.respond_to_reply(fsession, order, False, Actor.citizen("wechat"), "还是不能网办")
    assert order.status == "dispatched" and order.reopen_count == 1 and order.signed_at is None
    workorders.sign_order(fsession, order, dept)
    workorders.reply_order(fsession, order, dept, "已于本月上线网办。")
    workorders.close_order(fsession, order, dept, "回访满意")
    fsession.commit()
    assert order.status == "closed" and order.closed_at
    assert [e.action for e in order.events][-3:] == ["sign", "reply", "close"]


def test_returned_orders_are_reassigned_by_the_coordinating_office(fsession, search):
    order = workorders.file_feedback(fsession, "complaint", "我要投诉民政局", search=search)
    assert order.department.code == "LG-MZ"
    workorders.return_order(fsession, order, Actor.of_department(order.department), "属于街道办职责")
    coordinating = department_by_code(fsession, "LG-ZSJ")
    assert order in workorders.department_orders(fsession, coordinating, limit=500)
    actor = Actor("coordinating", coordinating.code, coordinating.id)
    workorders.reassign_order(fsession, order, actor, "LG-CG", "改派城管")
    fsession.commit()
    assert order.status == "dispatched" and order.department.code == "LG-CG" and order.routed_by == "reassign"
    assert order in workorders.department_orders(fsession, order.department, limit=500)


def test_a_work_order_is_tracked_like_a_case(fsession, search):
    from filings.cases import track

    profile, _, phone = make_profile(fsession)
    order = workorders.file_feedback(fsession, "complaint", "我要投诉社保局", profile=profile, search=search)
    fsession.commit()
    view = track(fsession, order.number, phone[-4:])
    assert view["kind"] == "order" and view["order_kind"] == "complaint" and view["due_date"]
    assert track(fsession, order.number, "0000" if phone[-4:] != "0000" else "1111") is None
    anonymous = workorders.file_feedback(fsession, "suggestion", "建议多设座椅", search=search)
    assert track(fsession, anonymous.number, phone[-4:]) is None


@pytest.mark.parametrize("text, settled", [
    ("已解决", True), ("解决了，谢谢", True), ("问题已经处理好了", True), ("搞定了", True),
    ("未解决", False), ("没解决", False), ("还没有解决", False), ("问题还在，没有处理好", False),
    ("已解决？不，没解决", False), ("谢谢", None), ("", None), (None, None),
])
def test_the_citizens_answer_to_a_reply(text, settled):
    from filings.workorders import parse_settlement

    assert parse_settlement(text) is settled
