"""Dialogue evaluation through the REST channel of a running bot.

File format (data/eval/conversations.yml): a list of conversations, each {name, turns: [{user,
expect}]}, expect one of {service: REGEX, aspect: A}, {type: choices|handoff|fallback|chitchat}.
Every conversation runs with a fresh sender id; a turn is right when the bot's messages for it
carry the expected payload (a service answer whose service name matches and whose aspect equals
A; a choices / handoff / fallback payload; for chitchat, a reply that answers no service).
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

import yaml

TYPES = ("choices", "handoff", "fallback", "chitchat")


class ConversationFileError(ValueError):
    pass


@dataclass
class TurnResult:
    conversation: str
    user: str
    expect: dict
    got: str
    ok: bool


@dataclass
class DialogueReport:
    turns: List[TurnResult] = field(default_factory=list)
    conversations: Dict[str, bool] = field(default_factory=dict)

    @property
    def turn_accuracy(self) -> float:
        return sum(t.ok for t in self.turns) / len(self.turns) if self.turns else 0.0

    @property
    def service_turn_accuracy(self) -> float:
        """Turns expecting a service answer that got the right service and aspect."""
        service_turns = [t for t in self.turns if "service" in t.expect]
        return sum(t.ok for t in service_turns) / len(service_turns) if service_turns else 0.0

    @property
    def conversation_success(self) -> float:
        values = list(self.conversations.values())
        return sum(values) / len(values) if values else 0.0

    def summary(self) -> str:
        return (
            f"conversations={len(self.conversations)} success={self.conversation_success:.3f} "
            f"turns={len(self.turns)} turn_accuracy={self.turn_accuracy:.3f} "
            f"service_turns_right={self.service_turn_accuracy:.3f}"
        )


def load_conversations(path: Path | str) -> List[dict]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConversationFileError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, list) or not data:
        raise ConversationFileError(f"{path}: expected a list of conversations")
    problems = []
    for i, conv in enumerate(data, start=1):
        where = f"{path}: conversation {i} ({conv.get('name') if isinstance(conv, dict) else '?'})"
        if not isinstance(conv, dict) or not isinstance(conv.get("turns"), list) or not conv["turns"]:
            problems.append(f"{where}: needs a list of turns")
            continue
        for j, turn in enumerate(conv["turns"], start=1):
            expect = turn.get("expect") if isinstance(turn, dict) else None
            if not isinstance(turn, dict) or not isinstance(turn.get("user"), str) or not isinstance(expect, dict):
                problems.append(f"{where}: turn {j}: needs 'user' text and an 'expect' mapping")
            elif "service" in expect:
                try:
                    re.compile(expect["service"])
                except re.error as exc:
                    problems.append(f"{where}: turn {j}: bad regex: {exc}")
            elif expect.get("type") not in TYPES:
                problems.append(f"{where}: turn {j}: expect needs service or type ({', '.join(TYPES)})")
    if problems:
        raise ConversationFileError("\n".join(problems))
    return data


def describe(messages: List[dict]) -> str:
    for message in messages:
        custom = message.get("custom") or {}
        if custom.get("type") == "service_answer":
            return f"service_answer {custom['service']['name']} / {custom.get('aspect')}"
        if custom.get("type") in ("choices", "handoff", "fallback"):
            return custom["type"]
    return "text" if any(m.get("text") for m in messages) else "nothing"


def judge(expect: dict, messages: List[dict]) -> bool:
    customs = [m.get("custom") or {} for m in messages]
    if "service" in expect:
        pattern = re.compile(expect["service"])
        return any(
            c.get("type") == "service_answer"
            and pattern.search(c["service"]["name"])
            and c.get("aspect") == expect.get("aspect", "overview")
            for c in customs
        )
    kind = expect["type"]
    if kind == "chitchat":
        return any(m.get("text") for m in messages) and not any(
            c.get("type") in ("service_answer", "choices") for c in customs
        )
    return any(c.get("type") == kind for c in customs)


def evaluate(conversations: List[dict], send: Callable[[str, str], List[dict]]) -> DialogueReport:
    report = DialogueReport()
    for conv in conversations:
        sender = f"eval-{uuid.uuid4().hex[:12]}"
        ok_all = True
        for turn in conv["turns"]:
            messages = send(sender, turn["user"])
            ok = judge(turn["expect"], messages)
            ok_all &= ok
            report.turns.append(TurnResult(conv.get("name", "?"), turn["user"], turn["expect"], describe(messages), ok))
        report.conversations[f"{conv.get('name', '?')}#{len(report.conversations)}"] = ok_all
    return report


def rest_sender(base_url: str, timeout: float = 30.0) -> Callable[[str, str], List[dict]]:
    import httpx

    client = httpx.Client(timeout=timeout)

    def send(sender: str, text: str) -> List[dict]:
        response = client.post(f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": text})
        response.raise_for_status()
        return response.json()

    return send


def run(path: str, base_url: str, show: Optional[int] = None) -> DialogueReport:
    report = evaluate(load_conversations(path), rest_sender(base_url))
    for turn in report.turns:
        if not turn.ok:
            print(f"WRONG [{turn.conversation}] {turn.user!r}: expected {turn.expect}, got {turn.got}")
    print(report.summary())
    return report
