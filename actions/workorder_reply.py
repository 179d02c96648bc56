"""action_settle_workorder: the citizen's 已解决 / 未解决 after a department answered their work
order (complaint, suggestion, follow-up of a bad rating): settled closes it, not settled sends it
back to the department with a new deadline."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import channel, db, log, user_text
from filings.errors import FilingError

ASK = "请回复“已解决”或“未解决”。"


class ActionSettleWorkOrder(Action):
    def name(self) -> Text:
        return "action_settle_workorder"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        from filings.cases import Actor
        from filings.workorders import awaiting_response, parse_settlement, respond_to_reply

        settled = parse_settlement(user_text(tracker))
        with db() as session:
            order = awaiting_response(session, channel(tracker), tracker.sender_id)
            if order is None:
                dispatcher.utter_message(text="目前没有等待您确认的工单答复。如需投诉或建议，请直接告诉我。")
                return []
            number, department = order.number, order.department.name
            if settled is None:
                dispatcher.utter_message(text=f"关于工单 {number} 的答复，您的问题是否已解决？{ASK}")
                return []
            try:
                respond_to_reply(session, order, settled, Actor.citizen(channel(tracker)))
                due = order.due_date
            except FilingError as exc:
                log.warning("settling work order %s refused: %s", number, exc)
                dispatcher.utter_message(text=getattr(exc, "message", "") or "操作未成功，请稍后再试。")
                return []
        if settled:
            text = f"感谢您的确认，工单 {number} 已办结。"
        else:
            text = (f"很抱歉问题还没有解决。工单 {number} 已退回{department}重新办理，"
                    f"将在{due.month}月{due.day}日前再次答复您。")
        dispatcher.utter_message(text=text, json_message={"type": "workorder_settled", "number": number,
                                                          "resolved": settled})
        return []
