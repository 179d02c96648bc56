"""action_rate_answer: record the citizen's rating of the latest answer."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import db, entities
from analytics.journal import journal
from analytics.log import RATINGS, rate_last_answer


class ActionRateAnswer(Action):
    def name(self) -> Text:
        return "action_rate_answer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        found = {e.name: e.value for e in entities(tracker)}
        rating = found.get("rating")
        if rating not in RATINGS:
            dispatcher.utter_message(text="评价未能识别，请点击“有帮助”或“没帮助”。")
            return []
        journal().flush()  # the answer being rated may still be on its way to the database
        with db() as session:
            entry = rate_last_answer(session, tracker.sender_id, rating, found.get("service"))
        if entry is None:
            dispatcher.utter_message(text="暂时没有可以评价的回答。")
        elif rating == "good":
            dispatcher.utter_message(text="感谢您的评价！", json_message={"type": "rating_ack", "rating": rating})
        else:
            dispatcher.utter_message(
                text="抱歉没能帮到您。您可以换个说法再问，或回复“转人工”联系工作人员。",
                json_message={"type": "rating_ack", "rating": rating},
            )
        return []
