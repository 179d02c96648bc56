"""Settings of the filings service, from environment variables with defaults.

| variable | default | meaning |
| ONEWINDOW_WARNING_SHARE | 0.8 | share of a case's time limit after which it is flagged 预警 |
| ONEWINDOW_ESCALATE_AFTER | 0 | working days past the due date before an overdue case goes to the coordinating office |
| ONEWINDOW_SWEEP_INTERVAL | 300 | seconds between two deadline sweeps in the desk service (0: no background sweep) |
| ONEWINDOW_COMPLAINT_DAYS | 13 | working days a department has to answer a complaint (投诉) |
| ONEWINDOW_SUGGESTION_DAYS | 13 | working days for a suggestion (建议) |
| ONEWINDOW_FOLLOWUP_DAYS | 5 | working days to follow up a bad rating (差评整改反馈) |
| ONEWINDOW_TRACKING_MAX_FAILURES | 5 | wrong phone digits per tracking number per hour before lookups of it are refused |
| ONEWINDOW_HOLIDAYS | data/calendar/holidays.yml | the holiday calendar (see filings/calendar.py) |
| ONEWINDOW_IDENTITY_KEY | var/identity.key | secret for hashing and sealing ID and phone numbers (filings/identity.py) |
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from filings.errors import ConfigurationError


def _number(name: str, default: float, low: float, high: float, integer: bool = False) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        raise ConfigurationError(f"{name} must be a {'whole ' if integer else ''}number, not {text!r}") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low} and {high}, not {value}")
    return value


@dataclass(frozen=True)
class FilingSettings:
    warning_share: float = 0.8
    escalate_after: int = 0
    sweep_interval: float = 300.0
    complaint_days: int = 13
    suggestion_days: int = 13
    followup_days: int = 5
    tracking_max_failures: int = 5

    @classmethod
    def from_env(cls) -> "FilingSettings":
        return cls(
            warning_share=_number("ONEWINDOW_WARNING_SHARE", 0.8, 0.05, 1.0),
            escalate_after=int(_number("ONEWINDOW_ESCALATE_AFTER", 0, 0, 365, integer=True)),
            sweep_interval=_number("ONEWINDOW_SWEEP_INTERVAL", 300.0, 0, 86400),
            complaint_days=int(_number("ONEWINDOW_COMPLAINT_DAYS", 13, 1, 365, integer=True)),
            suggestion_days=int(_number("ONEWINDOW_SUGGESTION_DAYS", 13, 1, 365, integer=True)),
            followup_days=int(_number("ONEWINDOW_FOLLOWUP_DAYS", 5, 1, 365, integer=True)),
            tracking_max_failures=int(_number("ONEWINDOW_TRACKING_MAX_FAILURES", 5, 1, 1000, integer=True)),
        )
