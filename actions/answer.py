"""action_answer: questions about services, follow-ups, and choices among options."""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import CHOOSING, changes, channel, db, entities, log, search, state, user_text
from analytics.journal import journal
from dialogue.turn import Decision, decide
from knowledge import repository
from knowledge.answers import ASPECT_LABELS, Answer, render_bundle, render_service


QUESTIONS = ("ask_aspect", "ask_service")


def answer_question(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[Dict[Text, Any]]:
    """A question asked where a form wanted an answer (多久到账 at the filing's consent step,
    护照怎么办 when a case number is asked for): answered as action_answer would when it names one
    service and aspect, and the slots that answer sets returned; None, and nothing said, when the
    message is no question or would take a choice or names no service."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent not in QUESTIONS:
        return None
    text = user_text(tracker)
    decision = decide(text, intent, entities(tracker), state(tracker), search())
    if decision.kind != "answer":
        return None
    events = ActionAnswer()._answer(dispatcher, tracker, decision, text)
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@lru_cache(maxsize=4096)
def rendered(revision: int, kind: str, code: str, aspect: str) -> Optional[Tuple[Answer, dict]]:
    """The answer and service reference for (kind, code, aspect), cached per catalogue revision:
    the guide is read and rendered once, not on every turn."""
    with db() as session:
        if kind == "bundle":
            bundle = repository.get_bundle(session, code)
            if bundle is None:
                return None
            return render_bundle(bundle, aspect), {"code": bundle.code, "name": bundle.name, "department": bundle.lead_department.name}
        service = repository.get_service(session, code)
        if service is None:
            return None
        return render_service(service, aspect), {"code": service.code, "name": service.name, "department": service.department.name}


def option_buttons(options: List[dict]) -> List[Dict[str, str]]:
    return [
        {"title": o["name"], "payload": "/choose_option" + json.dumps({"option": o["code"]}, ensure_ascii=False)}
        for o in options
    ]


class ActionAnswer(Action):
    def name(self) -> Text:
        return "action_answer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        text = user_text(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        decision = decide(text, intent, entities(tracker), state(tracker), search())
        choosing_filing = tracker.get_slot("filing_target") == CHOOSING
        if choosing_filing and decision.kind == "answer" and intent == "choose_option":
            # The options were of an application (我要办): the pick continues the filing.
            return [SlotSet("filing_target", decision.code), SlotSet("filing_target_name", None),
                    FollowupAction("action_start_filing")]
        if decision.kind == "answer":
            events = self._answer(dispatcher, tracker, decision, text)
            return events + ([SlotSet("filing_target", None)] if choosing_filing else [])
        if decision.kind == "choices":
            label = ASPECT_LABELS.get(decision.aspect, "")
            lines = "\n".join(f"{i}. {o['name']}" for i, o in enumerate(decision.options, start=1))
            dispatcher.utter_message(
                text=f"您想了解的是哪一项{('的' + label) if decision.aspect != 'overview' else ''}？请选择或回复序号：\n{lines}",
                buttons=option_buttons(decision.options),
                json_message={"type": "choices", "options": [{"code": o["code"], "name": o["name"]} for o in decision.options]},
            )
            return [SlotSet("options", decision.options), SlotSet("aspect", decision.aspect)]
        if decision.kind == "no_options":
            dispatcher.utter_message(
                text="现在没有需要选择的选项。请直接告诉我您想办的事，例如“办护照要带什么”。",
                json_message={"type": "fallback"},
            )
            return []
        failures = (tracker.get_slot("fallback_count") or 0) + 1
        journal().unanswered(tracker.sender_id, channel(tracker), text, "no_service")
        if decision.kind == "need_service":
            dispatcher.utter_message(
                text="请问您想办理什么事项？例如“办护照”“申请低保”“公积金提取”。",
                json_message={"type": "fallback"},
            )
            return [SlotSet("fallback_count", failures), SlotSet("aspect", decision.aspect)]
        # no_match: nothing fits well enough
        message = "抱歉，我没有找到与您的问题对应的事项。您可以换个说法，比如说出要办的证件或事情的名称。"
        buttons = option_buttons(decision.suggestions)
        if decision.suggestions:
            message += "\n您是不是想问：\n" + "\n".join(f"{i}. {o['name']}" for i, o in enumerate(decision.suggestions, 1))
        if failures >= 2:
            message += "\n如需帮助，可以回复“转人工”联系工作人员。"
            buttons.append({"title": "转人工", "payload": "/human_handoff"})
        dispatcher.utter_message(text=message, buttons=buttons, json_message={"type": "fallback"})
        return [SlotSet("fallback_count", failures), SlotSet("options", decision.suggestions)]

    def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, decision: Decision, text: str):
        found = rendered(search().engine.revision, decision.service_kind, decision.code, decision.aspect)
        if found is None:
            return self._missing(dispatcher, decision.code)
        answer, ref = found
        journal().answered(tracker.sender_id, channel(tracker), text, ref["code"], ref["name"], decision.aspect)
        dispatcher.utter_message(
            text=answer.text,
            json_message={
                "type": "service_answer",
                "service": ref,
                "kind": decision.service_kind,
                "aspect": decision.aspect,
                "card": answer.card,
            },
        )
        return changes(tracker, [
            SlotSet("service_code", decision.code),
            SlotSet("service_kind", decision.service_kind),
            SlotSet("aspect", decision.aspect),
            SlotSet("options", []),
            SlotSet("fallback_count", 0),
        ])

    @staticmethod
    def _missing(dispatcher: CollectingDispatcher, code: str):
        log.warning("service %s is no longer in the catalogue", code)
        dispatcher.utter_message(text="抱歉，该事项已不在目录中，请重新描述您要办的事。", json_message={"type": "fallback"})
        return [SlotSet("service_code", None), SlotSet("options", [])]
