"""Working days (工作日) with China's public holidays and make-up working days (调休), and the due
dates of time limits.

The calendar is a human-editable YAML file, `data/calendar/holidays.yml` (format in the file), or
the file at ONEWINDOW_HOLIDAYS. A day is a working day when it is a make-up working day, or a
Monday-Friday that is not a holiday. Years the file does not cover count only weekends as days
off, and a warning is logged once per year: extend the file when the State Council publishes the
next year's dates.

Counting rules (行政许可法 第八十二条: time limits in working days exclude public holidays; the
day of receipt is not counted; 民法典 第二百零三条: a period whose last day is a holiday ends on
the next working day):
- N working days from a date: the N-th working day after it; an application received on a day
  off counts as received on the next working day.
- N natural days: the date N days later, moved to the next working day when that is a day off.
- 即办件 (immediate): the day of receipt, or the next working day when received on a day off.
- No time limit in the guide: 20 working days (行政许可法 第四十二条, the general limit).
"""
from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional

import yaml

from filings.errors import ConfigurationError

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CALENDAR = PROJECT_ROOT / "data" / "calendar" / "holidays.yml"
DEFAULT_LIMIT = (20, "工作日")
WORKING_DAYS = "工作日"
NATURAL_DAYS = "自然日"


class _Loader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps: dates stay text and are checked here, so a wrong
    one is reported with its place instead of failing inside the YAML parser."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _date(value, where: str, problems: List[str]) -> Optional[date]:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}: {value!r} is not a date (YYYY-MM-DD)")
        return None


@dataclass
class WorkingCalendar:
    holidays: Dict[date, str] = field(default_factory=dict)
    workdays: Dict[date, str] = field(default_factory=dict)
    years: FrozenSet[int] = frozenset()
    origin: str = "(built in code)"

    def __post_init__(self) -> None:
        self._warned: set = set()

    # -- loading ---------------------------------------------------------------------------------
    @classmethod
    def from_data(cls, data, origin: str) -> "WorkingCalendar":
        """Build from the parsed YAML; ConfigurationError lists every problem found."""
        problems: List[str] = []
        holidays: Dict[date, str] = {}
        workdays: Dict[date, str] = {}
        years = set()
        if not isinstance(data, dict) or not isinstance(data.get("years"), dict):
            raise ConfigurationError(f"{origin}: expected a mapping with 'years: {{YYYY: ...}}'")
        for year_key, spec in data["years"].items():
            try:
                year = int(year_key)
            except (TypeError, ValueError):
                problems.append(f"{origin}: years: {year_key!r} is not a year")
                continue
            where = f"{origin}: {year}"
            if not isinstance(spec, dict):
                problems.append(f"{where}: expected holidays and workdays")
                continue
            unknown = set(spec) - {"source", "holidays", "workdays"}
            if unknown:
                problems.append(f"{where}: unknown keys {sorted(unknown)}")
            years.add(year)
            for i, entry in enumerate(spec.get("holidays") or []):
                here = f"{where}: holidays[{i}]"
                if not isinstance(entry, dict) or "from" not in entry:
                    problems.append(f"{here}: expected {{name, from, to}}")
                    continue
                start = _date(entry.get("from"), here, problems)
                end = _date(entry.get("to", entry.get("from")), here, problems)
                if start is None or end is None:
                    continue
                if end < start or (end - start).days > 31:
                    problems.append(f"{here}: 'to' must be on or after 'from', within a month")
                    continue
                day = start
                while day <= end:
                    if day.year != year:
                        problems.append(f"{here}: {day} is not in {year}")
                        break
                    holidays[day] = str(entry.get("name") or "节假日")
                    day += timedelta(days=1)
            for i, entry in enumerate(spec.get("workdays") or []):
                here = f"{where}: workdays[{i}]"
                if not isinstance(entry, dict) or "date" not in entry:
                    problems.append(f"{here}: expected {{name, date}}")
                    continue
                day = _date(entry["date"], here, problems)
                if day is None:
                    continue
                if day.year != year:
                    problems.append(f"{here}: {day} is not in {year}")
                elif day.weekday() < 5:
                    problems.append(f"{here}: {day} is a weekday; only weekend days can be make-up working days")
                else:
                    workdays[day] = str(entry.get("name") or "调休上班")
        clash = sorted(set(holidays) & set(workdays))
        if clash:
            problems.append(f"{origin}: both a holiday and a working day: {', '.join(map(str, clash))}")
        if problems:
            raise ConfigurationError("the holiday calendar has problems:\n  " + "\n  ".join(problems))
        return cls(holidays=holidays, workdays=workdays, years=frozenset(years), origin=origin)

    @classmethod
    def load(cls, path: Path | str) -> "WorkingCalendar":
        path = Path(path)
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        except OSError as exc:
            raise ConfigurationError(f"cannot read the holiday calendar {path}: {exc}") from None
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{path}: not valid YAML: {exc}") from None
        return cls.from_data(data, str(path))

    # -- days ------------------------------------------------------------------------------------
    def covers(self, day: date) -> bool:
        return day.year in self.years

    def _check_coverage(self, day: date) -> None:
        if day.year not in self.years and day.year not in self._warned:
            self._warned.add(day.year)
            log.warning(
                "the holiday calendar %s has no dates for %d: counting only weekends as days off; "
                "add the year's holidays and make-up working days to it", self.origin, day.year,
            )

    def is_working_day(self, day: date) -> bool:
        self._check_coverage(day)
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def day_off_name(self, day: date) -> Optional[str]:
        """Why this is a day off (the holiday's name, 周六/周日), or None on a working day."""
        if self.is_working_day(day):
            return None
        return self.holidays.get(day) or ("周六" if day.weekday() == 5 else "周日")

    def next_working_day(self, day: date) -> date:
        """The day itself when it is a working day, else the first working day after it."""
        for _ in range(400):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ConfigurationError(f"{self.origin}: no working day within 400 days of {day}")

    def add_working_days(self, start: date, count: int) -> date:
        """The `count`-th working day after `start` (start itself not counted); with count 0,
        `start` when it is a working day, else the next working day."""
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        if count == 0:
            return self.next_working_day(day)
        remaining = count
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days lie after `start` up to and including `end` (0 when end <= start)."""
        days, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days += 1
        return days

    # -- time limits -----------------------------------------------------------------------------
    def due_date(self, received: date, limit: Optional[int], unit: Optional[str], immediate: bool = False) -> date:
        """The last day of a time limit for an application received on `received` (rules above)."""
        if immediate:
            return self.next_working_day(received)
        if limit is None:
            limit, unit = DEFAULT_LIMIT
        if unit == NATURAL_DAYS:
            return self.next_working_day(received + timedelta(days=int(limit)))
        start = received if self.is_working_day(received) else self.next_working_day(received)
        return self.add_working_days(start, int(limit))

    def warning_date(self, received: date, due: date, share: float, unit: Optional[str]) -> date:
        """The day from which a case is flagged 预警: when `share` of its time has passed."""
        if due <= received:
            return due
        if unit == NATURAL_DAYS:
            total = (due - received).days
            return min(due, received + timedelta(days=math.ceil(share * total)))
        start = received if self.is_working_day(received) else self.next_working_day(received)
        total = self.working_days_between(start, due)
        if total == 0:
            return due
        return min(due, self.add_working_days(start, math.ceil(share * total)))

    def extend(self, day: date, unit: Optional[str], paused_from: date, paused_until: date) -> date:
        """A due (or warning) date moved on by the time the clock was stopped (补正, 特别程序:
        not counted in the time limit)."""
        if paused_until <= paused_from:
            return day
        if unit == NATURAL_DAYS:
            return self.next_working_day(day + timedelta(days=(paused_until - paused_from).days))
        return self.add_working_days(day, self.working_days_between(paused_from, paused_until))


def calendar_path() -> Path:
    configured = os.environ.get("ONEWINDOW_HOLIDAYS", "").strip()
    return Path(configured) if configured else DEFAULT_CALENDAR


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> WorkingCalendar:
    return WorkingCalendar.load(path)


def default_calendar() -> WorkingCalendar:
    """The configured calendar (reloaded when the file changes)."""
    path = calendar_path()
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise ConfigurationError(f"cannot read the holiday calendar {path}: {exc}") from None
    return _load_cached(str(path), mtime)


def describe_limit(limit: Optional[int], unit: Optional[str], immediate: bool) -> str:
    """承诺时限 in words: 即办件 / 5个工作日 / 20个自然日."""
    if immediate:
        return "即办件（当场办结）"
    if limit is None:
        limit, unit = DEFAULT_LIMIT
    return f"{limit}个{unit or WORKING_DAYS}"


def local_today() -> date:
    """Today in China (UTC+8), whatever the server's time zone."""
    from datetime import datetime

    return (datetime.utcnow() + timedelta(hours=8)).date()


def to_local_date(utc) -> date:
    return (utc + timedelta(hours=8)).date()

