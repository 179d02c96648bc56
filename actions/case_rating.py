"""action_rate_case: the 好差评 of a completed case (5 levels); a bad one opens a follow-up."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import channel, db, log, user_text
from analytics.log import rate_last_answer
from filings.errors import FilingError

LEVELS_HINT = "请回复：非常满意、满意、基本满意、不满意或非常不满意。"


class ActionRateCase(Action):
    def name(self) -> Text:
        return "action_rate_case"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        from filings.ratings import parse_rating, pending_rating, rate

        level = parse_rating(user_text(tracker))
        with db() as session:
            pending = pending_rating(session, channel(tracker), tracker.sender_id)
            if pending is None:
                # No completed case waiting: the words rate the latest answer instead.
                if level is not None and rate_last_answer(session, tracker.sender_id, "good" if level >= 3 else "bad"):
                    dispatcher.utter_message(text="感谢您的评价！", json_message={"type": "rating_ack"})
                else:
                    dispatcher.utter_message(text="目前没有需要评价的办件。办件办结后，我会请您评价。")
                return []
            if level is None:
                dispatcher.utter_message(text=f"请为【{pending['name']}】{pending['number']}评价。{LEVELS_HINT}")
                return []
            try:
                rating = rate(session, pending["number"], level, channel=channel(tracker), recipient=tracker.sender_id)
                followup = rating.followup.number if rating.followup else None
                followup_dept = rating.followup.department.name if rating.followup else None
                label = rating.label
            except FilingError as exc:
                log.warning("rating of %s refused: %s", pending["number"], exc)
                dispatcher.utter_message(text=getattr(exc, "message", "") or "评价未成功，请稍后再试。")
                return []
        if followup:
            text = (f"已记录您的评价：{label}。很抱歉让您不满意，已生成整改工单 {followup}，"
                    f"由{followup_dept}负责联系您并整改，整改后会请您再次评价。")
        else:
            text = f"已记录您的评价：{label}。感谢您的支持！"
        dispatcher.utter_message(text=text, json_message={"type": "case_rating", "number": pending["number"],
                                                          "level": level, "followup": followup})
        return []
