"""Working days across China's 2026 holidays and make-up working days (调休), and due dates."""
from __future__ import annotations

import logging
from datetime import date

import pytest

from filings.calendar import WorkingCalendar, calendar_path, default_calendar, describe_limit
from filings.errors import ConfigurationError


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar.load(calendar_path())


def test_the_shipped_calendar_covers_2026(cal):
    assert 2026 in cal.years
    # 国庆节 1-7 October; 9-20 (Sunday) and 10-10 (Saturday) are working days.
    assert all(not cal.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert cal.is_working_day(date(2026, 10, 8)) and cal.is_working_day(date(2026, 10, 9))
    assert cal.is_working_day(date(2026, 10, 10)) and date(2026, 10, 10).weekday() == 5
    assert cal.is_working_day(date(2026, 9, 20)) and date(2026, 9, 20).weekday() == 6
    assert not cal.is_working_day(date(2026, 10, 11))  # an ordinary Sunday
    # 春节 15-23 February, make-up Saturdays 14 and 28 February.
    assert not cal.is_working_day(date(2026, 2, 16))
    assert cal.is_working_day(date(2026, 2, 14)) and cal.is_working_day(date(2026, 2, 28))
    assert cal.day_off_name(date(2026, 10, 2)) == "国庆节" and cal.day_off_name(date(2026, 10, 9)) is None


def test_working_days_across_national_day(cal):
    # Received Wednesday 30 September: 8 Oct (1), 9 Oct (2), Saturday 10 Oct 调休 (3), 12 Oct (4), 13 Oct (5).
    assert cal.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)
    assert cal.due_date(date(2026, 9, 30), 5, "工作日") == date(2026, 10, 13)
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 13)) == 5


def test_a_make_up_saturday_counts_and_can_be_the_due_date(cal):
    # Received Thursday 8 October: 9 Oct (1), Saturday 10 Oct (2).
    assert cal.due_date(date(2026, 10, 8), 2, "工作日") == date(2026, 10, 10)
    # Received on the make-up Sunday 20 September: that is a working day; the count starts after it.
    assert cal.due_date(date(2026, 9, 20), 1, "工作日") == date(2026, 9, 21)


def test_received_on_a_holiday_counts_from_the_next_working_day(cal):
    # Received on 3 October (holiday): as if received on 8 October; 3 working days -> 12 October.
    assert cal.due_date(date(2026, 10, 3), 3, "工作日") == date(2026, 10, 12)
    assert cal.due_date(date(2026, 10, 3), None, None, immediate=True) == date(2026, 10, 8)
    assert cal.due_date(date(2026, 10, 9), None, None, immediate=True) == date(2026, 10, 9)


def test_natural_days_ending_on_a_holiday_move_to_the_next_working_day(cal):
    # 24 September + 7 days = 1 October (国庆节) -> 8 October.
    assert cal.due_date(date(2026, 9, 24), 7, "自然日") == date(2026, 10, 8)
    assert cal.due_date(date(2026, 9, 1), 7, "自然日") == date(2026, 9, 8)


def test_no_limit_means_twenty_working_days(cal):
    assert cal.due_date(date(2026, 11, 2), None, None) == cal.add_working_days(date(2026, 11, 2), 20)
    assert describe_limit(None, None, False) == "20个工作日"
    assert describe_limit(None, None, True).startswith("即办件")


def test_warning_date_is_at_the_share_of_working_days(cal):
    due = cal.due_date(date(2026, 9, 30), 5, "工作日")  # 13 October
    assert cal.warning_date(date(2026, 9, 30), due, 0.8, "工作日") == date(2026, 10, 12)  # 4th working day
    assert cal.warning_date(date(2026, 9, 30), due, 1.0, "工作日") == due
    assert cal.warning_date(date(2026, 9, 30), date(2026, 9, 30), 0.8, "工作日") == date(2026, 9, 30)


def test_paused_time_extends_the_due_date(cal):
    # Paused from 29 September to 9 October: 30 Sep, 8 Oct, 9 Oct are working days -> 3 more.
    assert cal.extend(date(2026, 10, 13), "工作日", date(2026, 9, 29), date(2026, 10, 9)) == date(2026, 10, 16)
    assert cal.extend(date(2026, 10, 13), "自然日", date(2026, 9, 29), date(2026, 10, 9)) == date(2026, 10, 23)
    assert cal.extend(date(2026, 10, 13), "工作日", date(2026, 10, 9), date(2026, 10, 9)) == date(2026, 10, 13)


def test_a_year_not_covered_counts_weekends_only_and_warns(cal, caplog):
    fresh = WorkingCalendar.load(calendar_path())
    with caplog.at_level(logging.WARNING, logger="filings.calendar"):
        assert fresh.is_working_day(date(2027, 1, 1))  # a Friday: 2027's holidays are not published yet
        fresh.is_working_day(date(2027, 1, 4))
    warnings = [r for r in caplog.records if "2027" in r.getMessage()]
    assert len(warnings) == 1 and "add the year" in warnings[0].getMessage()


def test_the_calendar_file_can_be_replaced_by_environment(tmp_path, monkeypatch):
    path = tmp_path / "holidays.yml"
    path.write_text(
        "years:\n  2030:\n    holidays:\n      - {name: 测试假, from: 2030-03-04, to: 2030-03-05}\n"
        "    workdays:\n      - {name: 调休, date: 2030-03-09}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ONEWINDOW_HOLIDAYS", str(path))
    cal = default_calendar()
    assert cal.years == {2030}
    assert not cal.is_working_day(date(2030, 3, 4)) and cal.is_working_day(date(2030, 3, 9))


@pytest.mark.parametrize(
    "text, problem",
    [
        ("years: [2026]", "expected a mapping"),
        ("years:\n  2026:\n    holidays:\n      - {name: x, from: 2026-13-01}\n", "is not a date"),
        ("years:\n  2026:\n    holidays:\n      - {name: x, from: 2026-10-07, to: 2026-10-01}\n", "on or after"),
        ("years:\n  2026:\n    workdays:\n      - {name: x, date: 2026-10-12}\n", "only weekend days"),
        ("years:\n  2026:\n    holidays:\n      - {name: x, from: 2027-01-01}\n", "is not in 2026"),
        ("years:\n  2026:\n    holiday: []\n", "unknown keys"),
        ("years:\n  2026:\n    holidays:\n      - {name: x, from: 2026-10-10}\n    workdays:\n      - {name: y, date: 2026-10-10}\n",
         "both a holiday and a working day"),
        ("years: {2026: [", "not valid YAML"),
    ],
)
def test_bad_calendar_files_are_reported_clearly(tmp_path, text, problem):
    path = tmp_path / "holidays.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as raised:
        WorkingCalendar.load(path)
    assert problem in raised.value.detail and str(path) in raised.value.detail


def test_a_missing_calendar_file_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_HOLIDAYS", str(tmp_path / "nope.yml"))
    with pytest.raises(ConfigurationError) as raised:
        default_calendar()
    assert "nope.yml" in raised.value.detail
