"""Checking progress (查进度): a case or bundle number and the phone's last four digits.

With both in the message the answer comes at once; otherwise `tracking_form` asks for what is
missing. Unknown numbers and wrong digits get the same answer (nothing to learn by guessing).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answer import answer_question
from actions.common import channel, db, user_text
from connectors.privacy import without_sealed_ids

MOVED_ON = "moved-on"  # tracking_number: a question about a service ended the lookup
_NUMBER = re.compile(r"(LGB|LGW|LG)\s*-?\s*(\d{8})\s*-\s*(\d{4,6})", re.I)
_LAST4 = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def case_number_in(text: str) -> Optional[str]:
    match = _NUMBER.search(unicodedata.normalize("NFKC", text or ""))
    return f"{match.group(1).upper()}{match.group(2)}-{match.group(3)}" if match else None


def last4_in(text: str) -> Optional[str]:
    value = _NUMBER.sub(" ", unicodedata.normalize("NFKC", without_sealed_ids(text or "")))
    found = _LAST4.findall(value)
    return found[-1] if found else None


def progress_text(view: dict) -> str:
    if view.get("kind") == "bundle":
        lines = [f"【{view['bundle']['name']}】{view['number']}：{view['status_text']}"
                 f"（{view['progress']['done']}/{view['progress']['total']} 项已办结），预计 {view['due_date']} 前全部办结。"]
        for dept in view["departments"]:
            for case in dept["cases"]:
                line = f"· {dept['name']} - {case['service']}：{case['status_text']}，期限 {case['due_date']}"
                if case.get("missing"):
                    line += f"；需补正：{'、'.join(case['missing'])}"
                lines.append(line)
        return "\n".join(lines)
    text = (f"【{view['service']['name']}】{view['number']}\n办理部门：{view['department']['name']}\n"
            f"当前状态：{view['status_text']}\n办结期限：{view['due_date']}")
    if view.get("missing"):
        text += f"\n需要补正的材料：{'、'.join(view['missing'])}"
    if view.get("result"):
        text += f"\n办理结果：{view['result']}"
    return text


def _reset() -> List[Dict[str, Any]]:
    return [SlotSet("tracking_number", None), SlotSet("tracking_phone4", None), SlotSet("requested_slot", None)]


def answer_progress(dispatcher: CollectingDispatcher, number: str, last4: str) -> None:
    from filings.cases import track

    with db() as session:  # committed on leaving: wrong digits are counted, to stop guessing
        view = track(session, number, last4)
    if view is None:
        dispatcher.utter_message(text="没有查到该办件，或手机号后四位不匹配。请核对编号和手机号后四位后再试。",
                                 json_message={"type": "progress", "found": False})
        return
    dispatcher.utter_message(text=progress_text(view), json_message={"type": "progress", "found": True,
                                                                     "number": view["number"]})


class ActionStartTracking(Action):
    def name(self) -> Text:
        return "action_start_tracking"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        text = user_text(tracker)
        number, last4 = case_number_in(text), last4_in(text)
        if number and last4:
            answer_progress(dispatcher, number, last4)
            return _reset()
        if not number:
            from filings.cases import recent_filings

            with db() as session:
                recent = recent_filings(session, channel(tracker), tracker.sender_id)
            if recent:
                # This conversation's own filings: no digits needed for the headline.
                lines = "\n".join(f"· {r['name']} {r['number']}：{r['status_text']}，预计 {r['due_date']} 前办结"
                                  for r in recent)
                dispatcher.utter_message(
                    text=f"您在这里提交的办件：\n{lines}\n要看各部门进展和需补正的材料，请发送“查进度 编号 手机后四位”。",
                    json_message={"type": "progress", "found": True, "recent": [r["number"] for r in recent]},
                )
                return _reset()
        return [*_reset(), SlotSet("tracking_number", number), FollowupAction("tracking_form")]


def moved_on(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[Dict[Text, Any]]:
    """A question about a service where a number was asked for (护照怎么办): answered, and the
    lookup ends. None when the message is no such question."""
    answered = answer_question(dispatcher, tracker)
    return None if answered is None else {**answered, "tracking_number": MOVED_ON, "tracking_phone4": None}


class ValidateTrackingForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_tracking_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> List[Text]:
        if tracker.get_slot("tracking_number") == MOVED_ON:
            return []  # nothing more to ask; action_submit_tracking only clears up
        return domain_slots

    def validate_tracking_number(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        if value is None or value == MOVED_ON:  # cleared when the form starts; a question ended it
            return {"tracking_number": value}
        number = case_number_in(str(value))
        if number is None:
            left = moved_on(dispatcher, tracker)
            if left is not None:
                return left
            dispatcher.utter_message(text="没有识别到办件编号，编号形如 LG20261126-000123 或 LGB20261126-0007。")
            return {"tracking_number": None}
        slots = {"tracking_number": number}
        last4 = last4_in(str(value))
        if last4:
            slots["tracking_phone4"] = last4
        return slots

    def validate_tracking_phone4(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        if value is None:
            return {"tracking_phone4": None}
        last4 = last4_in(str(value))
        if last4 is None:
            left = None if re.search(r"\d", str(value)) else moved_on(dispatcher, tracker)
            if left is not None:
                return left
            dispatcher.utter_message(text="请输入4位数字，即申请时所留手机号码的后四位。")
            return {"tracking_phone4": None}
        return {"tracking_phone4": last4}


class ActionSubmitTracking(Action):
    def name(self) -> Text:
        return "action_submit_tracking"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        number, last4 = tracker.get_slot("tracking_number"), tracker.get_slot("tracking_phone4")
        if number and number != MOVED_ON and last4:
            answer_progress(dispatcher, number, last4)
        return _reset()
