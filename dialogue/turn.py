"""Deciding a question turn: answer a service's aspect, offer choices, or admit no match.

Inputs are what NLU found (intent, aspect entities with their spans, a chosen option) and the
conversation's state (current service, aspect, options offered). The service is found by the
knowledge search over the citizen's own words, so an imported catalogue needs no retraining.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

from dialogue.options import ordinal_choice, word_choice
from knowledge.search import SearchResult, SearchService
from knowledge.search.text import normalize

DEFAULT_ASPECT = "overview"
MAX_OPTIONS = 5
CLOSE_MARGIN = 0.93  # different services scoring within this share of the best are close
MIN_SCORE = 0.35  # a best result under this is not an answer
FOLLOW_UP_SWITCH_SCORE = 0.5  # a follow-up naming a service this clearly switches to it
_SWITCH = re.compile(r"(^(那|那么|还有|另外)|呢[?？!！。.\s]*$)")
_SWITCH_WORDS = re.compile(r"^\s*(那么|那|还有|另外)|呢[?？!！。.\s]*$")


@dataclass
class Entity:
    name: str
    value: str
    start: Optional[int] = None
    end: Optional[int] = None


@dataclass
class State:
    service_code: Optional[str] = None
    service_kind: Optional[str] = None  # "service" or "bundle"
    aspect: Optional[str] = None
    options: List[dict] = field(default_factory=list)  # [{"code", "name", "kind"}]


@dataclass
class Decision:
    kind: str  # "answer", "choices", "no_match", "need_service", "no_options"
    code: Optional[str] = None
    service_kind: str = "service"
    aspect: str = DEFAULT_ASPECT
    options: List[dict] = field(default_factory=list)
    suggestions: List[dict] = field(default_factory=list)


def _strip_spans(text: str, entities: Sequence[Entity]) -> str:
    spans = sorted((e.start, e.end) for e in entities if e.start is not None and e.end is not None)
    out, last = [], 0
    for start, end in spans:
        if start >= last:
            out.append(text[last:start])
            out.append(" ")
            last = end
    out.append(text[last:])
    return "".join(out)


def _option(hit) -> dict:
    return {"code": hit.code, "name": hit.name, "kind": hit.kind}


def _names_a_service(result: SearchResult) -> bool:
    analysis = result.analysis
    return bool(analysis and analysis.names_something and result.hits)


def _option_by_words(text: str, aspects: Sequence[Entity], options: List[dict], search: SearchService) -> Optional[int]:
    """The option the words name (租房的那个), unless they name some other service more clearly."""
    names = [o["name"] for o in options]
    result = search.search(_strip_spans(text, aspects), limit=20)
    best_overall = result.hits[0].score if result.hits else 0.0
    for hit in result.hits:
        if hit.name in names:
            # The citizen was just asked to choose: an option wins unless another service fits far better.
            return names.index(hit.name) if hit.score >= 0.6 * best_overall else None
    if _names_a_service(result) and best_overall >= MIN_SCORE:
        # The words name another service (低保怎么申请 while passports are offered): not a pick,
        # even if they share a word such as 申请 with an option.
        return None
    return word_choice(text, names)


def _in_context(result: SearchResult, state: State, search: SearchService) -> bool:
    """Favour, in place, services related to the current one: variants of the same parent item,
    members of the current bundle, services of the same department ("那买房的呢" after 租房提取)."""
    current = search.engine.get(state.service_code) if state.service_code else None
    if current is None or not result.hits:
        return False
    members = set(current.members) if current.kind == "bundle" else set()
    for hit in result.hits:
        if current.parent_code and hit.parent_code == current.parent_code:
            hit.score *= 1.3
        elif hit.name in members:
            hit.score *= 1.3
        elif hit.department == current.department:
            hit.score *= 1.1
    result.hits.sort(key=lambda h: -h.score)
    top = result.hits[0]
    return bool((current.parent_code and top.parent_code == current.parent_code) or top.name in members)


def _bundle_covers(close: List, search: SearchService):
    """A bundle among the close results whose members are the other close results."""
    bundles = [h for h in close if h.kind == "bundle"]
    for bundle in bundles:
        document = search.engine.get(bundle.code)
        members = set(document.members) if document else set()
        if all(h is bundle or h.name in members for h in close):
            return bundle
    return None


def decide(
    text: str,
    intent: str,
    entities: Sequence[Entity],
    state: State,
    search: SearchService,
) -> Decision:
    aspects = [e for e in entities if e.name == "aspect" and e.value]
    aspect = aspects[0].value if aspects else None

    # 1. A choice among the options offered.
    chosen = next((e.value for e in entities if e.name == "option" and e.value), None)
    if chosen:
        document = search.engine.get(chosen)
        kind = document.kind if document else "service"
        return Decision("answer", code=chosen, service_kind=kind, aspect=aspect or state.aspect or DEFAULT_ASPECT)
    if state.options:
        index = ordinal_choice(text, len(state.options))
        if index is None and intent in ("choose_option", "ask_service"):
            index = _option_by_words(text, aspects, state.options, search)
        if index is not None:
            option = state.options[index]
            return Decision(
                "answer", code=option["code"], service_kind=option.get("kind", "service"),
                aspect=aspect or state.aspect or DEFAULT_ASPECT,
            )
        if intent in ("choose_option", "ask_aspect") and not state.service_code:
            # An aspect asked before picking: ask again which one, for that aspect.
            return Decision("choices", options=state.options, aspect=aspect or state.aspect or DEFAULT_ASPECT)

    if not state.options and intent == "choose_option" and ordinal_choice(text, MAX_OPTIONS) is not None:
        # "第一个" with nothing offered to choose from: not a search for 首次….
        return Decision("no_options", aspect=aspect or state.aspect or DEFAULT_ASPECT)

    # 2. What service does the message name, if any? ("那刻章呢" asks about 刻章.)
    query = _SWITCH_WORDS.sub(" ", _strip_spans(text, aspects))
    result = search.search(query, limit=10) if normalize(query).strip() else None
    named = result is not None and _names_a_service(result)
    if named and intent == "ask_aspect" and state.service_code:
        # NLU heard a follow-up; still, words that clearly name a service ("那刻章呢") switch to it.
        named = result.hits[0].score >= FOLLOW_UP_SWITCH_SCORE

    if not named:
        if state.options and intent in ("choose_option", "ask_aspect"):
            # 在哪办 when the last question was which of the options: the answer is for one of them,
            # not for the service talked about before; ask again which one, for that aspect.
            return Decision("choices", options=state.options, aspect=aspect or state.aspect or DEFAULT_ASPECT)
        if state.service_code:
            return Decision(
                "answer", code=state.service_code, service_kind=state.service_kind or "service",
                aspect=aspect or DEFAULT_ASPECT,
            )
        return Decision("need_service", aspect=aspect or DEFAULT_ASPECT)

    # 3. The aspect: asked for, or kept when switching service ("那护照呢？").
    switching = bool(_SWITCH.search(normalize(text)))
    if aspect is None:
        aspect = state.aspect if (state.aspect and switching) else DEFAULT_ASPECT
    related = _in_context(result, state, search) if switching else False

    hits = result.hits
    best = hits[0]
    if best.score < MIN_SCORE:
        return Decision("no_match", aspect=aspect, suggestions=[_option(h) for h in hits[:3]])
    if result.variant_group is not None and not related:
        options = [_option(h) for h in result.variant_group.options[:MAX_OPTIONS]]
        return Decision("choices", aspect=aspect, options=options)
    close = [h for h in hits if h.score >= best.score * CLOSE_MARGIN]
    bundle = _bundle_covers(close, search) if len(close) > 1 else None
    if bundle is not None:
        return Decision("answer", code=bundle.code, service_kind="bundle", aspect=aspect)
    if len(close) > 1 and len({h.name for h in close}) > 1:
        seen, options = set(), []
        for h in close:
            if h.name not in seen:
                seen.add(h.name)
                options.append(_option(h))
        return Decision("choices", aspect=aspect, options=options[:MAX_OPTIONS])
    return Decision("answer", code=best.code, service_kind=best.kind, aspect=aspect)
