"""action_handoff: queue the conversation for staff with its transcript and pause the bot."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswer
from actions.common import channel, db, log, transcript, user_text
from actions.stop import end_form
from handoff.queue import StaffHours, asks_for_a_person, request_handoff, when_staff_answer


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        text = user_text(tracker)
        if not text.startswith("/") and not asks_for_a_person(text):
            # NLU said "handoff" but nothing in the words asks for a person (产假工资怎么领):
            # pausing the bot here would strand the citizen, so answer the question instead.
            log.info("handoff intent without a request for a person; answering instead: %r", text)
            return ActionAnswer().run(dispatcher, tracker, domain)
        failures = int(tracker.get_slot("fallback_count") or 0)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        reason = "requested" if intent == "human_handoff" else "repeated_failure" if failures >= 2 else "requested"
        with db() as session:
            request = request_handoff(
                session, tracker.sender_id, channel(tracker), reason, transcript(tracker), user_text(tracker)
            )
            session.flush()
            number = request.id
        log.info("conversation %s queued for staff (request %s, reason %s)", tracker.sender_id, number, reason)
        dispatcher.utter_message(
            text=f"已为您转接人工服务（排队号 {number}），我们的工作人员会看到您之前的对话。{when_staff_answer(StaffHours.from_env())}",
            json_message={"type": "handoff", "request": number},
        )
        # 转人工 in the middle of a form (filing, tracking, feedback) ends it, keeping nothing: staff
        # take over. (ActiveLoop(None) comes either way, as the rules expect of this action.)
        ended = end_form() if (tracker.active_loop or {}).get("name") else [ActiveLoop(None)]
        return [*ended, SlotSet("fallback_count", 0), ConversationPaused()]
