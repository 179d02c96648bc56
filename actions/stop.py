"""action_stop: 取消 / 不办了 — ends whatever is being collected, keeping nothing of it."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.filing import FORM_SLOTS

MESSAGES = {
    "filing_form": "好的，已取消申请，您填写的信息没有被保存。",
    "tracking_form": "好的，已退出进度查询。",
    "feedback_form": "好的，已取消。",
}
ALL_SLOTS = (*FORM_SLOTS, "filing_target", "filing_target_name", "tracking_number", "tracking_phone4",
             "feedback_kind", "feedback_text", "requested_slot")


def end_form() -> List[Dict[Text, Any]]:
    """The events that end whatever form is running, keeping nothing it collected."""
    return [ActiveLoop(None), *(SlotSet(name, None) for name in ALL_SLOTS)]


class ActionStop(Action):
    def name(self) -> Text:
        return "action_stop"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        loop = (tracker.active_loop or {}).get("name")
        dispatcher.utter_message(text=MESSAGES.get(loop, "好的。还有什么可以帮您？"), json_message={"type": "stopped"})
        return end_form()
