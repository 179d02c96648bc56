"""Which department owns a complaint or suggestion, from the citizen's words.

1. A department the text names (社保局, 派出所, 市场监管局 ...: the search engine's department
   mentions, from the catalogue's names and aliases and knowledge/lexicon/departments.tsv). One
   department named: it. Several (公安 names the police bureau, the exit-entry and traffic units):
   the one whose service the text is about, if search finds one among them; else the one whose
   own name, short name or alias (in the catalogue) the text uses (派出所 -> 公安分局).
2. Otherwise the service the text is about, when search finds one clearly: a good score, and
   the close runners-up belong to the same department.
3. Otherwise the coordinating office (统筹协调: nothing without an owner goes into a void).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from filings.errors import ConfigurationError
from filings.lookup import coordinating_department
from knowledge.models import Department

MIN_SCORE = 0.5  # below this a search hit is a guess, not an owner
RUNNER_UP_SHARE = 0.85  # hits within this share of the best must agree on the department
# Words that say what kind of message it is, not what it is about.
_FRAME = re.compile(
    r"(我(要|想|想要)?(投诉|举报|反映|反馈|建议)(一下)?|我有(个|一个|几个|条|一条)?(建议|意见|投诉)|"
    r"投诉|建议|意见|反映一下|希望|能不能|可不可以|请问|你们|为什么|怎么回事|"
    r"态度(太|很|非常)?(差|恶劣|不好)|(太|很|非常)(慢|久|差)了?|不满意|不合理|一直|好久|排队|"
    r"没(有)?人(处理|管|理|接)?)"
)


def _normalized(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def _named_directly(session: Session, mentions) -> List[str]:
    """Departments whose own name, short name or alias (in the catalogue) a mention is."""
    texts = {_normalized(m.text) for m in mentions}
    names = []
    for department in session.execute(select(Department)).scalars():
        own = {_normalized(department.name), _normalized(department.short_name or "")}
        own.update(_normalized(a) for a in department.aliases or ())
        if texts & own:
            names.append(department.name)
    return names


@dataclass(frozen=True)
class Route:
    department: Department
    how: str  # mention / search / coordinating
    service_code: Optional[str] = None


def _engine(search):
    if search is None:
        from knowledge.search import default_service

        search = default_service()
    return search


def route(session: Session, text: str, search=None) -> Route:
    """The department a complaint or suggestion goes to. `search` is a SearchService or
    SearchEngine (anything with `search(query, limit=...)`); default: the process's service."""
    coordinating = coordinating_department(session)
    if coordinating is None:
        raise ConfigurationError("the catalogue marks no department as coordinating (coordinating: true)")
    topic = _FRAME.sub(" ", text or "").strip()
    if not topic:
        return Route(coordinating, "coordinating")
    result = _engine(search).search(topic, limit=5, kinds=("service",))
    hits = result.hits
    best = hits[0] if hits else None
    mentions = result.analysis.mentions if result.analysis else []
    named = sorted({d for m in mentions for d in m.departments})
    chosen: Optional[str] = None
    how = "coordinating"
    if len(named) == 1:
        chosen, how = named[0], "mention"
    elif named:
        among = [h for h in hits if h.department in named and h.score >= MIN_SCORE]
        direct = _named_directly(session, mentions)
        if among:
            chosen, how = among[0].department, "mention"
        elif len(direct) == 1:
            chosen, how = direct[0], "mention"
    elif best is not None and best.score >= MIN_SCORE:
        close = [h for h in hits if h.score >= best.score * RUNNER_UP_SHARE]
        if all(h.department == best.department for h in close):
            chosen, how = best.department, "search"
    if chosen is None:
        return Route(coordinating, "coordinating")
    department = session.execute(select(Department).where(Department.name == chosen)).scalar_one_or_none()
    if department is None:  # the index is older than the catalogue: do not guess
        return Route(coordinating, "coordinating")
    service_code = best.code if best is not None and best.department == chosen else None
    return Route(department, how, service_code)
