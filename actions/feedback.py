"""Complaints and suggestions (我要投诉… / 我有个建议…): a work order for the department that owns
the matter, or the coordinating office. A message without details gets `feedback_form`."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import channel, db, log, search, user_text
from connectors.privacy import without_sealed_ids
from filings.errors import FilingError

MIN_DETAILS = 6  # characters of substance beyond 我要投诉 / 我有个建议
_TRIGGER = re.compile(r"(我要|我想|我有个?|想|要)?(投诉|举报|反映|建议|意见|提个?)(一下|个|一个|一条)?[:：，,。！!\s]*")
KINDS = {"complaint": "投诉", "suggestion": "建议"}


def details_of(text: str) -> str:
    return _TRIGGER.sub("", without_sealed_ids(text or ""), count=1).strip()


def _reset() -> List[Dict[str, Any]]:
    return [SlotSet("feedback_kind", None), SlotSet("feedback_text", None), SlotSet("requested_slot", None)]


def file_feedback_and_reply(dispatcher: CollectingDispatcher, tracker: Tracker, kind: str, text: str) -> None:
    from filings.profiles import profile_for_channel
    from filings.workorders import file_feedback

    try:
        with db() as session:
            profile = profile_for_channel(session, channel(tracker), tracker.sender_id)
            order = file_feedback(session, kind, without_sealed_ids(text), channel=channel(tracker),
                                  recipient=tracker.sender_id, profile=profile, search=search())
            reply = (f"已收到您的{KINDS[kind]}，编号 {order.number}，已转交{order.department.name}办理，"
                     f"将在 {order.due_date.isoformat()} 前答复您。答复会在这里通知您。")
            number = order.number
    except FilingError as exc:
        log.warning("feedback not filed: %s", exc)
        dispatcher.utter_message(text=getattr(exc, "message", "") or "提交未成功，请稍后再试。", json_message={"type": "fallback"})
        return
    dispatcher.utter_message(text=reply, json_message={"type": "work_order", "kind": kind, "number": number})


class ActionStartFeedback(Action):
    def name(self) -> Text:
        return "action_start_feedback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        kind = "complaint" if intent == "complain" else "suggestion"
        text = user_text(tracker)
        if len(details_of(text)) >= MIN_DETAILS:
            file_feedback_and_reply(dispatcher, tracker, kind, text)
            return _reset()
        return [*_reset(), SlotSet("feedback_kind", kind), FollowupAction("feedback_form")]


class ValidateFeedbackForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_feedback_form"

    def validate_feedback_text(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> Dict[Text, Any]:
        if value is None:  # cleared when the form starts
            return {"feedback_text": None}
        if len(details_of(str(value))) < MIN_DETAILS:
            dispatcher.utter_message(text="请说得具体一些：什么时间、在哪里、涉及哪个部门或事项。")
            return {"feedback_text": None}
        return {"feedback_text": str(value)}


class ActionSubmitFeedback(Action):
    def name(self) -> Text:
        return "action_submit_feedback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        text = tracker.get_slot("feedback_text")
        if text:
            file_feedback_and_reply(dispatcher, tracker, tracker.get_slot("feedback_kind") or "complaint", text)
        return _reset()
