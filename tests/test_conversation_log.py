"""analytics/journal.py: the conversation log written by a thread of its own, in order, kept
while the database is down, flushed before a rating and at exit."""
from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import select

import analytics.journal as journal_module
from analytics.journal import Journal
from analytics.log import rate_last_answer
from analytics.models import AnsweredQuestion, UnansweredQuestion
from database import make_session


def _answers(url):
    with make_session(url) as session:
        return [(a.conversation_id, a.question, a.service_code, a.aspect)
                for a in session.execute(select(AnsweredQuestion).order_by(AnsweredQuestion.id)).scalars()]


def test_entries_are_written_in_order_and_flush_waits_for_them(db_url):
    log = Journal(db_url)
    for i in range(300):
        log.answered(f"c{i % 3}", "webchat", f"护照要带什么{i}", "P1", "普通护照签发", "materials")
    log.unanswered("c9", "wechat", "怎么给猫办证", "no_service")
    assert log.flush(10)
    answers = _answers(db_url)
    assert [q for _, q, _, _ in answers] == [f"护照要带什么{i}" for i in range(300)]
    with make_session(db_url) as session:
        missed = session.execute(select(UnansweredQuestion)).scalar_one()
        assert (missed.conversation_id, missed.reason, missed.channel) == ("c9", "no_service", "wechat")
        assert missed.asked_at is not None


def test_a_rating_finds_the_answer_just_recorded(db_url):
    log = Journal(db_url)
    log.answered("r1", "webchat", "低保怎么申请", "S9", "最低生活保障", "overview")
    assert log.flush(10)
    with make_session(db_url) as session:
        entry = rate_last_answer(session, "r1", "good")
        session.commit()
        assert entry is not None and entry.rating == "good"


def test_entries_are_kept_while_the_database_is_down_and_written_when_back(db_url, monkeypatch, caplog):
    real = journal_module.session_scope
    down = threading.Event()
    down.set()
    attempts = []

    def flaky(url=None):
        attempts.append(1)
        if down.is_set():
            raise OSError("database unreachable")
        return real(url)

    monkeypatch.setattr(journal_module, "session_scope", flaky)
    monkeypatch.setattr(journal_module, "RETRY_SECONDS", (0.01, 0.05))
    log = Journal(db_url)
    with caplog.at_level(logging.INFO, logger="analytics.journal"):
        for i in range(5):
            log.answered("d1", "webchat", f"问题{i}", "P1", "普通护照签发", "fee")
        assert not log.flush(0.5)  # nothing written while the database is down
        assert len(attempts) >= 3 and _answers(db_url) == []
        down.clear()
        assert log.flush(10)
    assert [q for _, q, _, _ in _answers(db_url)] == [f"问题{i}" for i in range(5)]
    failures = [r for r in caplog.records if "could not write" in r.getMessage()]
    assert len(failures) == 1  # the outage is logged once, not per retry
    assert any("database is back" in r.getMessage() for r in caplog.records)


def test_the_waiting_entries_are_bounded(db_url, monkeypatch, caplog):
    monkeypatch.setattr(journal_module, "session_scope", lambda url=None: (_ for _ in ()).throw(OSError("down")))
    monkeypatch.setattr(journal_module, "MAX_PENDING", 10)
    monkeypatch.setattr(journal_module, "RETRY_SECONDS", (0.01, 0.05))
    log = Journal(db_url)
    with caplog.at_level(logging.WARNING, logger="analytics.journal"):
        for i in range(25):
            log.unanswered("b1", "webchat", f"q{i}", "no_service")
        assert not log.flush(0.3)
    with log._cond:
        assert len(log._pending) <= 10 and [args[2] for _, args, _ in log._pending][-1] == "q24"
    assert any("oldest dropped" in r.getMessage() for r in caplog.records)


def test_the_process_log_is_one_and_flushed_at_exit(monkeypatch):
    registered = []
    monkeypatch.setattr(journal_module, "_journal", None)
    monkeypatch.setattr(journal_module.atexit, "register", registered.append)
    first = journal_module.journal()
    assert journal_module.journal() is first and registered == [first.close]


@pytest.mark.parametrize("question", ["", "很" * 5000])
def test_questions_of_any_length_are_recorded(db_url, question):
    log = Journal(db_url)
    log.answered("l1", None, question, "P1", "普通护照签发", "overview")
    assert log.flush(10)
    assert _answers(db_url) == [("l1", question[:2000], "P1", "overview")]
