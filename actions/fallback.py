"""action_fallback: low NLU confidence. A rephrase prompt with suggestions; after two failures in a
row, a person is offered."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswer, option_buttons
from actions.common import channel, search, state, user_text
from dialogue.options import ordinal_choice
from analytics.journal import journal
from dialogue.turn import MIN_SCORE

HANDOFF_AFTER = 2


class ActionFallback(Action):
    def name(self) -> Text:
        return "action_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        text = user_text(tracker)
        pending = state(tracker).options
        if pending and ordinal_choice(text, len(pending)) is not None:
            # "1", "第二个": a pick among the options offered, whatever NLU made of it.
            return ActionAnswer().run(dispatcher, tracker, domain)
        failures = int(tracker.get_slot("fallback_count") or 0) + 1
        journal().unanswered(tracker.sender_id, channel(tracker), text, "nlu_fallback")
        if failures >= HANDOFF_AFTER:
            dispatcher.utter_message(
                text="抱歉，我还是没能理解您的问题。需要为您转接人工服务吗？您也可以换个说法继续问我。",
                buttons=[{"title": "转人工", "payload": "/human_handoff"}, {"title": "继续提问", "payload": "/ask_capabilities"}],
                json_message={"type": "fallback"},
            )
            return [SlotSet("fallback_count", failures)]
        hits = [h for h in search().search(text, limit=3).hits if h.score >= MIN_SCORE] if text.strip() else []
        suggestions = [{"code": h.code, "name": h.name, "kind": h.kind} for h in hits]
        message = "抱歉，我没太明白您的意思，能换个说法吗？比如“办护照要带什么材料”。"
        if suggestions:
            message += "\n您是不是想问：\n" + "\n".join(f"{i}. {s['name']}" for i, s in enumerate(suggestions, 1))
        dispatcher.utter_message(text=message, buttons=option_buttons(suggestions), json_message={"type": "fallback"})
        return [SlotSet("fallback_count", failures), SlotSet("options", suggestions)]
