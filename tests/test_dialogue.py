"""The reasoning of a turn, without Rasa: options, follow-ups, switches, choices."""
from __future__ import annotations

import pytest

from dialogue.options import ordinal_choice, word_choice
from dialogue.turn import Entity, State, decide
from knowledge.search import SearchEngine
from knowledge.search.documents import SearchDocument


class FixedService:
    """A SearchService over a fixed engine (no database)."""

    def __init__(self, engine):
        self.engine = engine

    def search(self, query, limit=10, **kw):
        return self.engine.search(query, limit=limit, **kw)


@pytest.fixture(scope="module")
def search():
    docs = [
        SearchDocument("P1", "普通护照签发", "出入境"),
        SearchDocument("H1", "往来港澳通行证首次申请及签注", "出入境", parent_code="HK", parent_name="往来港澳通行证及签注", variant="首次申请"),
        SearchDocument("H2", "往来港澳通行证再次签注", "出入境", parent_code="HK", parent_name="往来港澳通行证及签注", variant="再次签注"),
        SearchDocument("M1", "结婚登记", "民政局"),
        SearchDocument("M2", "离婚登记", "民政局"),
        SearchDocument("D1", "最低生活保障申请", "民政局", aliases=("低保",)),
    ]
    return FixedService(SearchEngine(docs))


@pytest.mark.parametrize(
    "text, count, expected",
    [("第二个", 3, 1), ("2", 3, 1), ("选3", 3, 2), ("第3个", 3, 2), ("就第一个吧", 3, 0), ("二", 3, 1),
     ("最后一个", 4, 3), ("第五个", 3, None), ("7", 3, None), ("护照", 3, None), ("", 3, None)],
)
def test_ordinal_choice(text, count, expected):
    assert ordinal_choice(text, count) == expected


def test_word_choice_by_shared_words():
    names = ["往来港澳通行证首次申请及签注", "往来港澳通行证再次签注"]
    assert word_choice("再次签注的那个", names) == 1
    assert word_choice("随便", names) is None


def aspect(value, start, end):
    return Entity("aspect", value, start, end)


def test_question_with_aspect_then_follow_up_then_switch(search):
    first = decide("办护照要带什么材料", "ask_service", [aspect("materials", 3, 9)], State(), search)
    assert (first.kind, first.code, first.aspect) == ("answer", "P1", "materials")
    state = State(service_code="P1", service_kind="service", aspect="materials")
    follow = decide("要多久", "ask_aspect", [aspect("time_limit", 1, 3)], state, search)
    assert (follow.kind, follow.code, follow.aspect) == ("answer", "P1", "time_limit")
    state.aspect = "time_limit"
    switch = decide("那结婚登记呢", "ask_service", [], state, search)
    assert (switch.kind, switch.code, switch.aspect) == ("answer", "M1", "time_limit")
    fresh = decide("低保怎么申请", "ask_service", [], state, search)
    assert (fresh.code, fresh.aspect) == ("D1", "overview")


def test_variants_become_choices_and_a_number_picks_one(search):
    decision = decide("港澳通行证怎么办", "ask_service", [], State(), search)
    assert decision.kind == "choices"
    assert {o["code"] for o in decision.options} == {"H1", "H2"}
    state = State(options=decision.options, aspect=decision.aspect)
    picked = decide("第二个", "choose_option", [], state, search)
    assert picked.kind == "answer" and picked.code == decision.options[1]["code"]
    by_words = decide("再次签注那个", "ask_service", [], state, search)
    assert by_words.code == "H2"
    by_payload = decide("/choose_option", "choose_option", [Entity("option", "H1")], state, search)
    assert by_payload.code == "H1"


def test_a_new_question_while_options_are_pending_is_not_a_choice(search):
    state = State(options=[{"code": "H1", "name": "往来港澳通行证首次申请及签注", "kind": "service"},
                           {"code": "H2", "name": "往来港澳通行证再次签注", "kind": "service"}])
    decision = decide("办护照", "ask_service", [], state, search)
    assert decision.code == "P1"
    # Sharing a word (申请) with an option does not make a question about 低保 a pick.
    other = decide("低保怎么申请", "ask_service", [], state, search)
    assert other.code == "D1"


def test_an_aspect_asked_while_options_are_pending_asks_which_one_again(search):
    # Passports were talked about; then 港澳通行证 offered two variants; 在哪办 is about one of them.
    options = [{"code": "H1", "name": "往来港澳通行证首次申请及签注", "kind": "service"},
               {"code": "H2", "name": "往来港澳通行证再次签注", "kind": "service"}]
    state = State(service_code="P1", service_kind="service", aspect="materials", options=options)
    decision = decide("在哪办", "ask_aspect", [aspect("location", 0, 3)], state, search)
    assert (decision.kind, decision.aspect) == ("choices", "location")
    assert [o["code"] for o in decision.options] == ["H1", "H2"]
    # A follow-up that clearly names a service still switches to it.
    named = decide("结婚登记在哪办", "ask_aspect", [aspect("location", 4, 7)], state, search)
    assert (named.kind, named.code, named.aspect) == ("answer", "M1", "location")
    # With the options answered (none pending), 在哪办 is about the current service.
    state.options = []
    assert decide("在哪办", "ask_aspect", [aspect("location", 0, 3)], state, search).code == "P1"


def test_follow_up_without_a_service_asks_for_one(search):
    decision = decide("要多久", "ask_aspect", [aspect("time_limit", 1, 3)], State(), search)
    assert decision.kind == "need_service" and decision.aspect == "time_limit"


def test_unknown_things_do_not_invent_a_service(search):
    decision = decide("火星移民", "ask_service", [], State(), search)
    assert decision.kind in ("need_service", "no_match")


def test_a_pick_with_nothing_offered_is_not_a_search(search):
    decision = decide("第一个", "choose_option", [], State(service_code="P1", aspect="overview"), search)
    assert decision.kind == "no_options"
