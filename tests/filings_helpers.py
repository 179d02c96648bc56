"""Helpers for the filings tests: applicants with valid, unique ID numbers; fixed clocks."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from filings import profiles
from filings.identity import id_check_character

_counter = itertools.count(1)


def new_id_number() -> str:
    n = next(_counter)
    first17 = f"440307{1960 + n % 50}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first17 + id_check_character(first17)


def new_phone() -> str:
    return f"139{next(_counter) % 100000000:08d}"


def make_profile(session, channel="webchat", sender_id=None, name="李四", **kwargs):
    id_number = kwargs.pop("id_number", None) or new_id_number()
    phone = kwargs.pop("phone", None) or new_phone()
    profile = profiles.save_profile(
        session, name=name, id_number=id_number, phone=phone, address=kwargs.pop("address", "深圳市龙岗区龙城街道清林路1号"),
        consent=True, phone_verified=True, channel=channel, sender_id=sender_id or f"conv-{next(_counter)}", **kwargs,
    )
    return profile, id_number, phone


def local_noon(day: date) -> datetime:
    """The UTC time of noon, China time, on this local date."""
    return datetime(day.year, day.month, day.day, 12) - timedelta(hours=8)


# Services of the default catalogue (basic codes).
BIRTH_CERTIFICATE = "440307006002"  # 出生医学证明签发, 卫健局, 3 working days
BIRTH_REGISTRATION = "440307002004"  # 出生登记（新生儿入户）, 公安分局, 5 working days
