"""Applicant profiles: a citizen's name, ID number, mobile number and address, asked once with
consent and reused for every later filing (源头一次获取、多部门共享).

- `save_profile()` validates everything first (nothing is stored when anything is wrong), needs
  the citizen's consent, and links the channel identity (WeChat user, chat session) it came from.
- A later filing by the same person reuses the profile: `profile_for_channel()` (the same channel
  identity: nothing to ask) or `find_profile()` (matched on ID number and verified phone).
- The conversation holds only `profile_view()`: masked numbers, never clear ones (so Rasa's tracker
  store keeps no clear ID numbers); the handling department reads them with `reveal()`.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Dict, List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from filings.errors import ConsentRequired, InvalidInput
from filings.identity import (
    id_number_problem,
    keyed_hash,
    mask_id_number,
    mask_mobile,
    mask_name,
    normalize_mobile,
    seal,
    unseal,
    validate_id_number,
)
from filings.models import ApplicantProfile, ProfileLink

FIELDS = ("name", "id_number", "phone", "address")
FIELD_LABELS: Dict[str, str] = {"name": "姓名", "id_number": "身份证号码", "phone": "手机号码", "address": "联系地址"}
CONSENT_TEXT = "同意将姓名、身份证号码、手机号码和联系地址用于本次及今后在龙岗区办理政务服务事项，并在相关部门间共享。"
_NAME = re.compile(r"^[\u3400-\u9fffA-Za-z·•.\s]{2,50}$")


class ProfileInvalid(InvalidInput):
    """One or more fields are wrong: `problems` maps each field to what is wrong (Chinese)."""

    code = "invalid_profile"

    def __init__(self, problems: Dict[str, str]):
        self.problems = problems
        message = "；".join(f"{FIELD_LABELS[f]}：{p}" for f, p in problems.items())
        super().__init__(message, "invalid profile fields: " + ", ".join(problems))


def _clean_name(value: object) -> Optional[str]:
    if not isinstance(value, str):
        return None
    value = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", value)).strip()
    return value if _NAME.match(value) else None


def _clean_address(value: object) -> Optional[str]:
    if not isinstance(value, str):
        return None
    value = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", value)).strip()
    return value if 5 <= len(value) <= 300 else None


def validate_fields(name=None, id_number=None, phone=None, address=None, required: Sequence[str] = FIELDS) -> Dict[str, str]:
    """Every problem of these values (field -> Chinese explanation); empty when all are fine."""
    problems: Dict[str, str] = {}
    values = {"name": name, "id_number": id_number, "phone": phone, "address": address}
    for field in FIELDS:
        value = values[field]
        if value is None or (isinstance(value, str) and not value.strip()):
            if field in required:
                problems[field] = "未填写。"
            continue
        if field == "name" and _clean_name(value) is None:
            problems[field] = "请填写身份证上的姓名（2-50个字）。"
        elif field == "id_number":
            problem = id_number_problem(value)
            if problem:
                problems[field] = problem
        elif field == "phone" and normalize_mobile(value) is None:
            problems[field] = "应为11位手机号码，以1开头。"
        elif field == "address" and _clean_address(value) is None:
            problems[field] = "请填写详细地址（5-300个字）。"
    return problems


def _id_hash(id_number: str) -> str:
    return keyed_hash("id", id_number)


def _phone_hash(phone: str) -> str:
    return keyed_hash("phone", phone)


def link_channel(session: Session, profile: ApplicantProfile, channel: Optional[str], sender_id: Optional[str]) -> None:
    """Remember that this channel identity belongs to this profile (moves it if it was linked to
    another profile: the latest verified filer of a device wins)."""
    if not channel or not sender_id:
        return
    link = session.execute(
        select(ProfileLink).where(ProfileLink.channel == channel, ProfileLink.sender_id == sender_id)
    ).scalar_one_or_none()
    now = datetime.utcnow()
    if link is None:
        session.add(ProfileLink(profile=profile, channel=channel, sender_id=sender_id, created_at=now, last_used_at=now))
    else:
        link.profile = profile
        link.last_used_at = now


def save_profile(
    session: Session,
    *,
    name: str,
    id_number: str,
    phone: str,
    address: Optional[str] = None,
    consent: bool,
    phone_verified: bool = False,
    channel: Optional[str] = None,
    sender_id: Optional[str] = None,
    consent_text: str = CONSENT_TEXT,
) -> ApplicantProfile:
    """Create the citizen's profile, or update and reuse theirs (same ID number). The caller commits.

    Raises ConsentRequired without consent, ProfileInvalid listing every wrong field, and
    InvalidInput when the ID number is registered with another name, or with another phone
    that this one was not verified to replace."""
    if not consent:
        raise ConsentRequired(
            "需要您同意我们保存并在部门间共享您的信息，才能为您申报。", "the citizen did not consent to storing the profile"
        )
    problems = validate_fields(name, id_number, phone, address, required=("name", "id_number", "phone"))
    if problems:
        raise ProfileInvalid(problems)
    name, phone = _clean_name(name), normalize_mobile(phone)
    id_number = validate_id_number(id_number)
    address = _clean_address(address) if address else None
    now = datetime.utcnow()
    profile = session.execute(
        select(ApplicantProfile).where(ApplicantProfile.id_hash == _id_hash(id_number))
    ).scalar_one_or_none()
    if profile is None:
        profile = ApplicantProfile(
            name=name,
            id_hash=_id_hash(id_number),
            id_sealed=seal(id_number),
            id_masked=mask_id_number(id_number),
            created_at=now,
        )
        _set_phone(profile, phone, phone_verified)
        session.add(profile)
    else:
        if profile.name != name:
            raise InvalidInput(
                "姓名与该身份证号码已登记的信息不一致，请核对，或到政务服务大厅窗口核实。",
                "the name does not match the profile registered with this ID number",
                code="profile_mismatch",
            )
        if profile.phone_hash != _phone_hash(phone):
            if not phone_verified:
                raise InvalidInput(
                    "该身份证号码已登记了其他手机号码。请使用登记的手机号码，或先验证新的手机号码。",
                    "the ID number is registered with another phone; the new one is not verified",
                    code="profile_mismatch",
                )
            _set_phone(profile, phone, True)
        elif phone_verified:
            profile.phone_verified = True
    if address:
        profile.address = address
    profile.consent, profile.consent_at, profile.consent_text = True, now, consent_text
    link_channel(session, profile, channel, sender_id)
    session.flush()
    return profile


def _set_phone(profile: ApplicantProfile, phone: str, verified: bool) -> None:
    profile.phone_hash = _phone_hash(phone)
    profile.phone_sealed = seal(phone)
    profile.phone_masked = mask_mobile(phone)
    profile.phone_last4 = phone[-4:]
    profile.phone_verified = bool(verified)


def find_profile(session: Session, id_number: str, phone: str) -> Optional[ApplicantProfile]:
    """The consenting profile with this ID number and this verified phone, or None."""
    if id_number_problem(id_number) or normalize_mobile(phone) is None:
        return None
    id_number = validate_id_number(id_number)
    profile = session.execute(
        select(ApplicantProfile).where(
            ApplicantProfile.id_hash == _id_hash(id_number),
            ApplicantProfile.phone_hash == _phone_hash(normalize_mobile(phone)),
        )
    ).scalar_one_or_none()
    if profile is None or not profile.consent or not profile.phone_verified:
        return None
    return profile


def profile_for_channel(session: Session, channel: Optional[str], sender_id: Optional[str]) -> Optional[ApplicantProfile]:
    """The profile this channel identity filed with before (consent still given), or None."""
    if not channel or not sender_id:
        return None
    link = session.execute(
        select(ProfileLink).where(ProfileLink.channel == channel, ProfileLink.sender_id == sender_id)
    ).scalar_one_or_none()
    if link is None or not link.profile.consent:
        return None
    link.last_used_at = datetime.utcnow()
    return link.profile


def missing_fields(profile: Optional[ApplicantProfile], required: Sequence[str] = FIELDS) -> List[str]:
    """Which fields still have to be asked (in FIELDS order); all of them without a profile."""
    if profile is None or not profile.consent:
        return [f for f in FIELDS if f in required]
    have = {"name": bool(profile.name), "id_number": bool(profile.id_sealed),
            "phone": bool(profile.phone_sealed), "address": bool(profile.address)}
    return [f for f in FIELDS if f in required and not have[f]]


def withdraw_consent(session: Session, profile: ApplicantProfile) -> None:
    """Stop reusing the profile: it is no longer offered to any channel. (Cases filed with it
    keep their applicant, as the law on records requires.)"""
    profile.consent = False
    for link in list(profile.links):
        session.delete(link)
    session.flush()


def profile_view(profile: ApplicantProfile) -> dict:
    """What the conversation may show and keep: masked numbers, no clear ones."""
    return {
        "id": profile.id,
        "name": profile.name,
        "name_masked": mask_name(profile.name),
        "id_number": profile.id_masked,
        "phone": profile.phone_masked,
        "phone_verified": profile.phone_verified,
        "address": profile.address,
        "consent_at": profile.consent_at.isoformat() + "Z" if profile.consent_at else None,
    }


def reveal(profile: ApplicantProfile) -> dict:
    """The clear ID and phone numbers, for the department that handles the applicant's case."""
    return {"id_number": unseal(profile.id_sealed), "phone": unseal(profile.phone_sealed)}
