"""Readable, unique tracking numbers: `LG20261126-000123` (case), `LGB20261126-0007` (bundle
filing), `LGW20261126-0001` (work order). The date is the local (China) filing date; the counter
restarts every day.

Counters live in `number_sequences`, incremented with an UPDATE inside the caller's transaction:
the row stays locked until commit (PostgreSQL row lock, SQLite database lock), so two filings
never get the same number; the unique constraints on the numbers are the final guard.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from filings.calendar import local_today
from filings.models import NumberSequence

PREFIX = "LG"
KINDS = {
    "case": (PREFIX, 6),
    "bundle": (PREFIX + "B", 4),
    "order": (PREFIX + "W", 4),
}
_NUMBER = re.compile(r"^(LG|LGB|LGW)(\d{8})-(\d{4,6})$")


def _next_value(session: Session, key: str) -> int:
    for _ in range(5):
        result = session.execute(
            update(NumberSequence).where(NumberSequence.key == key).values(value=NumberSequence.value + 1)
        )
        if result.rowcount:
            return session.execute(select(NumberSequence.value).where(NumberSequence.key == key)).scalar_one()
        try:
            with session.begin_nested():
                session.add(NumberSequence(key=key, value=1))
            return 1
        except IntegrityError:  # another transaction created today's counter first: increment it
            continue
    raise RuntimeError(f"could not allocate a number for {key}")


def next_number(session: Session, kind: str, day: Optional[date] = None) -> str:
    """A new tracking number of this kind ("case", "bundle", "order")."""
    prefix, width = KINDS[kind]
    day = day or local_today()
    value = _next_value(session, f"{kind}:{day:%Y%m%d}")
    return f"{prefix}{day:%Y%m%d}-{value:0{width}d}"


def normalize_number(text: object) -> Optional[str]:
    """A tracking number as typed (full-width, lower case, spaces) in canonical form, or None."""
    if not isinstance(text, str):
        return None
    value = re.sub(r"[\s_]", "", unicodedata.normalize("NFKC", text)).upper()
    value = value.replace("—", "-").replace("–", "-")
    match = _NUMBER.match(value)
    return value if match else None


def kind_of(number: str) -> Optional[str]:
    match = _NUMBER.match(number or "")
    if not match:
        return None
    return {"LG": "case", "LGB": "bundle", "LGW": "order"}[match.group(1)]


def find_numbers(text: str) -> list:
    """Every tracking number in a message (for the conversation: 查一下LG20261126-000123)."""
    value = unicodedata.normalize("NFKC", text or "").upper()
    return [m.group(0) for m in re.finditer(r"LG[BW]?\d{8}-\d{4,6}", value)]
