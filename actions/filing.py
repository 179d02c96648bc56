"""Filing an application (我要办 X): what it takes, the applicant's details asked once, the case.

action_start_filing finds the service or bundle (the same search as answers), shows the
conditions and materials, and starts `filing_form`, which asks only for what is missing:
consent, then ID number, phone, name and address, then a confirmation. A citizen whose details
are on file (this conversation, or the same ID number and phone) is only asked to confirm.
ID and phone numbers live in slots sealed (filings/identity.py), never in clear.
"""
from __future__ import annotations

import functools
import json
import re
import unicodedata
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answer import answer_question
from actions.common import CHOOSING, channel, db, entities, log, search, state, user_text
from connectors.privacy import opened_id_numbers, without_sealed_ids
from dialogue.turn import decide
from filings.errors import FilingError
from filings.identity import id_number_problem, mask_id_number, mask_mobile, mask_name, normalize_mobile, seal, unseal

FORM_SLOTS = ("filing_consent", "applicant_id", "applicant_phone", "applicant_name", "applicant_address", "filing_confirmed")
FROM_PROFILE = "profile"  # slot value: taken from the details on file
LEFT = "left"  # filing_consent: a question about another service ended the application

_YES = re.compile(r"(同意|确认|确定|可以|好的?|是的?|没问题|对|提交|yes|ok)", re.I)
_NO = re.compile(r"(不同意|不确认|不要|不用|不提交|不了|不行|否|取消|算了|no\b)", re.I)


def yes_or_no(text: str) -> Optional[str]:
    value = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not value:
        return None
    if _NO.search(value):
        return "no"
    if _YES.search(value):
        return "yes"
    return None


def answer_instead(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[Dict[str, Any]]:
    """A question in place of the step's answer, answered (actions.answer.answer_question); about
    another service than the one applied for, it also ends the application. None: no question."""
    slots = answer_question(dispatcher, tracker)
    if slots is None:
        return None
    if slots.get("service_code", tracker.get_slot("service_code")) not in matter(tracker.get_slot("filing_target")):
        slots["filing_consent"] = LEFT  # about another service: the citizen has moved on
    return slots


def matter(code: Optional[str]) -> set:
    """The codes a question may name and still be about the filing: the service applied for, or
    the bundle and its member services."""
    if not code:
        return set()
    from knowledge import repository

    with db() as session:
        bundle = repository.get_bundle(session, code)
        return {code, *(m.service.code for m in bundle.members)} if bundle is not None else {code}


def reset_form() -> List[Dict[str, Any]]:
    return [SlotSet(name, None) for name in FORM_SLOTS] + [SlotSet("requested_slot", None)]


def _materials_text(materials: List[dict], limit: int = 12) -> str:
    lines = []
    for i, m in enumerate(materials[:limit], start=1):
        need = "" if m.get("required", True) else "（非必需）"
        lines.append(f"{i}. {m['name']}{need}")
    if len(materials) > limit:
        lines.append(f"……共{len(materials)}项，可问我“要带什么材料”查看全部。")
    return "\n".join(lines)


def _summary(info: dict) -> str:
    parts = [f"【{info['name']}】办理须知（示例数据，仅供演示）"]
    if info["kind"] == "bundle":
        members = "、".join(f"{m['name']}（{m['department']['name']}）" for m in info["members"])
        parts.append(f"一次申请，以下事项由各部门同步办理：{members}")
    else:
        parts.append(f"办理部门：{info['department']['name']}")
    if info.get("conditions"):
        conditions = info["conditions"] if isinstance(info["conditions"], str) else "；".join(map(str, info["conditions"]))
        parts.append("办理条件：" + conditions[:300])
    if info.get("materials"):
        parts.append("需要的材料：\n" + _materials_text(info["materials"]))
    parts.append(f"办理时限：{info['time_limit']}；今天提交预计 {info['due_date']} 前办结。")
    return "\n".join(parts)


def _option_buttons(options: List[dict]) -> List[Dict[str, str]]:
    return [{"title": o["name"], "payload": "/apply_service" + json.dumps({"option": o["code"]}, ensure_ascii=False)}
            for o in options]


class ActionStartFiling(Action):
    def name(self) -> Text:
        return "action_start_filing"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        code = self._target(dispatcher, tracker)
        if code is None or isinstance(code, list):
            return code or []
        from filings.cases import prepare_filing

        try:
            with db() as session:
                info = prepare_filing(session, code, channel(tracker), tracker.sender_id)
        except FilingError as exc:
            log.warning("filing of %s cannot start: %s", code, exc)
            dispatcher.utter_message(text=getattr(exc, "message", None) or "该事项暂不能在线申请，请咨询窗口。",
                                     json_message={"type": "fallback"})
            return [SlotSet("filing_target", None)]
        text = _summary(info)
        # The service applied for is also what follow-up questions are about (多久到账).
        events: List[Dict[str, Any]] = [*reset_form(), SlotSet("filing_target", info["code"]),
                                        SlotSet("filing_target_name", info["name"]), SlotSet("options", []),
                                        SlotSet("service_code", info["code"]), SlotSet("service_kind", info["kind"])]
        profile = info.get("profile")
        if profile and not info.get("missing_fields"):
            text += (f"\n将使用您已登记的信息：{profile.get('name_masked')}，身份证 {profile.get('id_number')}，"
                     f"手机 {profile.get('phone')}。")
            events += [SlotSet(name, FROM_PROFILE) for name in FORM_SLOTS[:5]]
        dispatcher.utter_message(
            text=text,
            json_message={"type": "filing_intro", "service": {"code": info["code"], "name": info["name"],
                                                              "department": info["department"]["name"]},
                          "kind": info["kind"], "due_date": info["due_date"]},
        )
        return events + [FollowupAction("filing_form")]

    def _target(self, dispatcher: CollectingDispatcher, tracker: Tracker):
        """The code to file, or a list of events when the citizen must first say or pick one."""
        current = state(tracker)
        options = {o["code"]: o for o in current.options}
        for entity in entities(tracker):
            if entity.name == "option" and (entity.value in options or not options):
                return entity.value
        chosen = tracker.get_slot("filing_target")
        if chosen and chosen != CHOOSING and tracker.get_slot("filing_target_name") is None:
            return chosen  # picked by number or words (action_answer handed it over)
        text = user_text(tracker)
        decision = decide(text, "ask_service", entities(tracker), current, search())
        if decision.kind == "answer":
            return decision.code
        if decision.kind == "choices":
            lines = "\n".join(f"{i}. {o['name']}" for i, o in enumerate(decision.options, start=1))
            dispatcher.utter_message(
                text=f"您要申请的是哪一项？请选择或回复序号：\n{lines}",
                buttons=_option_buttons(decision.options),
                json_message={"type": "choices", "options": [{"code": o["code"], "name": o["name"]} for o in decision.options]},
            )
            return [SlotSet("options", decision.options), SlotSet("filing_target", CHOOSING),
                    SlotSet("filing_target_name", None)]
        if current.service_code:  # 我要办 / 帮我办这个: the service just discussed
            return current.service_code
        dispatcher.utter_message(text="请问您要申请办理什么事项？例如“我要申请居住证”“我要办新生儿出生一件事”。",
                                 json_message={"type": "fallback"})
        return []


class ActionAskFilingConsent(Action):
    def name(self) -> Text:
        return "action_ask_filing_consent"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        from filings.profiles import CONSENT_TEXT

        dispatcher.utter_message(
            text=f"办理需要登记申请人的姓名、身份证号码、手机号码和联系地址，只需登记一次，以后办事不再重复填写。\n"
                 f"{CONSENT_TEXT}\n请问您是否同意？",
            buttons=[{"title": "同意", "payload": "同意"}, {"title": "不同意", "payload": "不同意"}],
            json_message={"type": "consent"},
        )
        return []


class ActionAskFilingConfirmed(Action):
    def name(self) -> Text:
        return "action_ask_filing_confirmed"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        applicant = applicant_view(tracker)
        dispatcher.utter_message(
            text=f"请确认提交：\n办理事项：{tracker.get_slot('filing_target_name')}\n申请人：{applicant['name']}\n"
                 f"身份证号：{applicant['id_number']}\n手机号：{applicant['phone']}\n联系地址：{applicant['address']}\n"
                 "确认无误请回复“确认”，不办了请回复“取消”。",
            buttons=[{"title": "确认提交", "payload": "确认"}, {"title": "取消", "payload": "取消"}],
            json_message={"type": "confirm_filing", "applicant": applicant},
        )
        return []


def applicant_view(tracker: Tracker) -> Dict[str, str]:
    """The applicant's details as shown back to the citizen: masked."""
    if tracker.get_slot("applicant_id") == FROM_PROFILE:
        from filings.profiles import profile_for_channel, profile_view

        with db() as session:
            profile = profile_for_channel(session, channel(tracker), tracker.sender_id)
            view = profile_view(profile) if profile else {}
        return {"name": view.get("name_masked", ""), "id_number": view.get("id_number", ""),
                "phone": view.get("phone", ""), "address": view.get("address") or ""}
    sealed_id, sealed_phone = tracker.get_slot("applicant_id"), tracker.get_slot("applicant_phone")
    return {
        "name": mask_name(tracker.get_slot("applicant_name") or ""),
        "id_number": mask_id_number(unseal(sealed_id)) if sealed_id else "",
        "phone": mask_mobile(unseal(sealed_phone)) if sealed_phone else "",
        "address": tracker.get_slot("applicant_address") or "",
    }


def checked(validate):
    """A slot validator that leaves alone what needs no check: a slot cleared as the form starts
    (None) and details taken from the citizen's profile (FROM_PROFILE)."""
    slot = validate.__name__[len("validate_"):]

    @functools.wraps(validate)
    def wrapper(self, value, dispatcher, tracker, domain):
        if value is None or value == FROM_PROFILE:
            return {slot: value}
        return validate(self, value, dispatcher, tracker, domain)

    return wrapper


class ValidateFilingForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_filing_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> List[Text]:
        if tracker.get_slot("filing_consent") in ("no", LEFT):
            return []  # nothing more to ask: action_submit_filing says it is cancelled
        return domain_slots

    @checked
    def validate_filing_consent(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> Dict[Text, Any]:
        answer = yes_or_no(str(value))
        if answer is None:
            answered = answer_instead(dispatcher, tracker)
            if answered is None:
                dispatcher.utter_message(text="请回复“同意”或“不同意”。")
            return {"filing_consent": None, **(answered or {})}
        return {"filing_consent": answer}

    @checked
    def validate_applicant_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> Dict[Text, Any]:
        numbers = opened_id_numbers(str(value))
        if not numbers:
            digits = len(re.sub(r"\D", "", without_sealed_ids(str(value))))
            answered = None if digits else answer_instead(dispatcher, tracker)
            if answered is not None:
                return {**answered, "applicant_id": None}
            hint = f"您输入的是{digits}位，" if digits else ""
            dispatcher.utter_message(text=f"{hint}居民身份证号码应为18位（最后一位可能是X），请重新输入。")
            return {"applicant_id": None}
        problem = id_number_problem(numbers[0])
        if problem:
            dispatcher.utter_message(text=problem if "重新输入" in problem else f"{problem}请核对后重新输入。")
            return {"applicant_id": None}
        return {"applicant_id": seal(numbers[0])}

    @checked
    def validate_applicant_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        phone = normalize_mobile(without_sealed_ids(str(value)))
        if phone is None:
            answered = None if re.search(r"\d", str(value)) else answer_instead(dispatcher, tracker)
            if answered is not None:
                return {**answered, "applicant_phone": None}
            dispatcher.utter_message(text="手机号码应为11位、以1开头的大陆手机号，请重新输入。")
            return {"applicant_phone": None}
        slots: Dict[Text, Any] = {"applicant_phone": seal(phone)}
        sealed_id = tracker.get_slot("applicant_id")
        if sealed_id and sealed_id != FROM_PROFILE:
            from filings.profiles import find_profile

            with db() as session:
                profile = find_profile(session, unseal(sealed_id), phone)
                if profile is not None and profile.consent:
                    # The same person filed before (ID number and phone match): not asked again.
                    slots.update(applicant_name=profile.name, applicant_address=profile.address or "（未登记）")
                    dispatcher.utter_message(text=f"已找到您登记过的信息（{mask_name(profile.name)}），无需重复填写。")
        return slots

    @checked
    def validate_applicant_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> Dict[Text, Any]:
        return self._field("name", "applicant_name", value, dispatcher)

    @checked
    def validate_applicant_address(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[Text, Any]:
        return self._field("address", "applicant_address", value, dispatcher)

    @staticmethod
    def _field(field: str, slot: str, value: Any, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
        from filings.profiles import validate_fields

        text = " ".join(without_sealed_ids(str(value)).split())
        problem = validate_fields(**{field: text}, required=[field]).get(field)
        if problem:
            dispatcher.utter_message(text=f"{problem}请重新输入。")
            return {slot: None}
        return {slot: text}

    @checked
    def validate_filing_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> Dict[Text, Any]:
        answer = yes_or_no(str(value))
        if answer is None:
            answered = answer_instead(dispatcher, tracker)
            if answered is None:
                dispatcher.utter_message(text="请回复“确认”提交，或回复“取消”。")
            return {**(answered or {}), "filing_confirmed": None}
        return {"filing_confirmed": answer}


class ActionSubmitFiling(Action):
    def name(self) -> Text:
        return "action_submit_filing"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        done = reset_form() + [SlotSet("filing_target", None), SlotSet("filing_target_name", None)]
        if tracker.get_slot("filing_consent") == "no":
            dispatcher.utter_message(text="好的，已取消申请，您的信息没有被记录。如需了解办理要求，可以继续问我。",
                                     json_message={"type": "filing_cancelled"})
            return done
        if tracker.get_slot("filing_consent") == LEFT:
            name = tracker.get_slot("filing_target_name") or "该事项"
            dispatcher.utter_message(text=f"已退出【{name}】的申请，您填写的信息没有被保存。如需继续办理，请说“我要办{name}”。",
                                     json_message={"type": "filing_cancelled"})
            return done
        if tracker.get_slot("filing_confirmed") != "yes":
            dispatcher.utter_message(text="已取消提交，您的信息没有被保存。", json_message={"type": "filing_cancelled"})
            return done
        code = tracker.get_slot("filing_target")
        try:
            result = self._file(tracker, code)
        except FilingError as exc:
            log.warning("filing of %s failed: %s", code, exc)
            dispatcher.utter_message(text=f"提交未成功：{getattr(exc, 'message', '') or '请稍后再试'}",
                                     json_message={"type": "fallback"})
            return done
        dispatcher.utter_message(text=self._receipt(result), json_message={"type": "filing_created", **result})
        return done

    @staticmethod
    def _file(tracker: Tracker, code: str) -> dict:
        from filings.cases import file
        from filings.profiles import profile_for_channel, save_profile

        source, sender = channel(tracker), tracker.sender_id
        with db() as session:
            if tracker.get_slot("applicant_id") == FROM_PROFILE:
                profile = profile_for_channel(session, source, sender)
                if profile is None:
                    raise FilingError("您的登记信息已失效，请重新申请。", "profile for this conversation vanished")
            else:
                profile = save_profile(
                    session,
                    name=tracker.get_slot("applicant_name"),
                    id_number=unseal(tracker.get_slot("applicant_id")),
                    phone=unseal(tracker.get_slot("applicant_phone")),
                    address=tracker.get_slot("applicant_address"),
                    consent=True,
                    channel=source,
                    sender_id=sender,
                )
            return file(session, code, profile, channel=source, recipient=sender)

    @staticmethod
    def _receipt(result: dict) -> str:
        if result["kind"] == "bundle":
            lines = "\n".join(f"· {c['service']}（{c['department']}）：{c['number']}，预计 {c['due_date']} 前办结"
                              for c in result["cases"])
            head = f"已提交【{result['name']}】，一件事编号：{result['number']}。已同时派发给各部门办理：\n{lines}"
        else:
            case = result["cases"][0]
            head = (f"已提交【{result['name']}】，办件编号：{result['number']}。\n"
                    f"由{case['department']}办理，{case['time_limit']}，预计 {case['due_date']} 前办结。")
        return (head + "\n办理进展（需要补正材料、办结）会在这里通知您。"
                "也可以随时说“查进度”，并提供编号和手机号后四位查询。")
