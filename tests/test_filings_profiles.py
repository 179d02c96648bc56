"""Information collected once: validated, stored with consent, reused, shown masked, never in
clear in the database (outside the sealed copy) or in logs."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from filings import cases, profiles
from filings.cases import Actor
from filings.errors import ConsentRequired, InvalidInput
from filings.identity import install_log_redaction
from filings_helpers import BIRTH_REGISTRATION, new_id_number, new_phone


def _save(session, id_number, phone, **kw):
    values = dict(name="王小明", id_number=id_number, phone=phone, address="深圳市龙岗区布吉街道某路8号",
                  consent=True, phone_verified=True, channel="webchat", sender_id="p-1")
    values.update(kw)
    return profiles.save_profile(session, **values)


def test_asked_once_then_reused_by_the_same_channel_identity(fsession):
    id_number, phone = new_id_number(), new_phone()
    assert profiles.missing_fields(profiles.profile_for_channel(fsession, "webchat", "reuse-1")) == list(profiles.FIELDS)
    profile = _save(fsession, id_number, phone, sender_id="reuse-1")
    fsession.commit()
    again = profiles.profile_for_channel(fsession, "webchat", "reuse-1")
    assert again is profile and profiles.missing_fields(again) == []
    info = cases.prepare_filing(fsession, BIRTH_REGISTRATION, "webchat", "reuse-1")
    assert info["missing_fields"] == [] and info["profile"]["name"] == "王小明"


def test_matched_on_id_and_verified_phone_from_another_channel(fsession):
    id_number, phone = new_id_number(), new_phone()
    profile = _save(fsession, id_number, phone, sender_id="web-2")
    fsession.commit()
    assert profiles.find_profile(fsession, id_number.lower(), phone) is profile
    assert profiles.find_profile(fsession, id_number, new_phone()) is None
    # The same person on WeChat: same ID and phone -> the same profile, now linked to WeChat too.
    same = _save(fsession, id_number, phone, channel="wechat", sender_id="openid-2", address=None)
    assert same.id == profile.id and profile.address  # the address is kept, not asked again
    assert profiles.profile_for_channel(fsession, "wechat", "openid-2") is profile


def test_an_unverified_phone_is_not_matched(fsession):
    id_number, phone = new_id_number(), new_phone()
    _save(fsession, id_number, phone, phone_verified=False, sender_id="unverified")
    assert profiles.find_profile(fsession, id_number, phone) is None
    _save(fsession, id_number, phone, phone_verified=True, sender_id="unverified")
    assert profiles.find_profile(fsession, id_number, phone) is not None


def test_a_different_phone_needs_verification_and_the_name_must_match(fsession):
    id_number, phone = new_id_number(), new_phone()
    profile = _save(fsession, id_number, phone, sender_id="owner")
    fsession.commit()
    with pytest.raises(InvalidInput) as raised:
        _save(fsession, id_number, new_phone(), phone_verified=False, sender_id="intruder")
    assert raised.value.code == "profile_mismatch"
    with pytest.raises(InvalidInput):
        _save(fsession, id_number, phone, name="李四", sender_id="intruder")
    assert profiles.profile_for_channel(fsession, "webchat", "intruder") is None
    new = new_phone()
    _save(fsession, id_number, new, sender_id="owner")  # verified new phone: updated
    assert profile.phone_masked.endswith(new[-4:])


def test_consent_is_required_and_every_problem_is_listed(fsession):
    with pytest.raises(ConsentRequired):
        _save(fsession, new_id_number(), new_phone(), consent=False)
    with pytest.raises(profiles.ProfileInvalid) as raised:
        _save(fsession, "110105194912310021", "12345", name="X", address="短")
    assert set(raised.value.problems) == {"name", "id_number", "phone", "address"}
    assert "校验位" in raised.value.message and "110105194912310021" not in raised.value.detail


def test_masked_for_the_conversation_clear_only_for_the_department(fsession):
    id_number, phone = new_id_number(), new_phone()
    profile = _save(fsession, id_number, phone, sender_id="mask-1")
    view = profiles.profile_view(profile)
    assert view["id_number"] == id_number[:4] + "*" * 10 + id_number[-4:]
    assert view["phone"] == phone[:3] + "****" + phone[-4:]
    assert id_number not in str(view) and phone not in str(view)
    assert profiles.reveal(profile) == {"id_number": id_number, "phone": phone}
    case = cases.create_case(fsession, BIRTH_REGISTRATION, profile)
    assert id_number not in str(cases.case_view(case))
    assert cases.case_view(case, for_department=True)["applicant"]["id_number"] == id_number


def test_the_database_keeps_no_clear_id_or_phone(fsession):
    id_number, phone = new_id_number(), new_phone()
    profile = _save(fsession, id_number, phone, sender_id="db-1")
    case = cases.create_case(fsession, BIRTH_REGISTRATION, profile, channel="webchat", recipient="db-1")
    dept = Actor.of_department(case.department)
    cases.sign(fsession, case, dept)
    cases.reject(fsession, case, dept, "不符合条件")
    fsession.commit()
    connection = fsession.connection()
    tables = [row[0] for row in connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))]
    for table in tables:
        for row in connection.execute(text(f'SELECT * FROM "{table}"')):
            dump = " ".join(str(v) for v in row)
            assert id_number not in dump and phone not in dump, table


def test_withdrawn_consent_stops_reuse(fsession):
    profile = _save(fsession, new_id_number(), new_phone(), sender_id="consent-1")
    profiles.withdraw_consent(fsession, profile)
    assert profiles.profile_for_channel(fsession, "webchat", "consent-1") is None


def test_logs_never_contain_the_clear_id(fsession, caplog):
    install_log_redaction()
    id_number, phone = new_id_number(), new_phone()
    with caplog.at_level(logging.DEBUG):
        profile = _save(fsession, id_number, phone, sender_id="log-1")
        case = cases.create_case(fsession, BIRTH_REGISTRATION, profile)
        logging.getLogger("onewindow.actions").info("citizen typed 我的身份证号是%s 手机%s", id_number, phone)
        try:
            _save(fsession, id_number[:-1] + ("0" if id_number[-1] != "0" else "1"), phone, sender_id="log-2")
        except InvalidInput as exc:
            logging.getLogger("onewindow.actions").warning("bad input: %s / %s", exc.message, exc.detail)
        fsession.commit()
    assert case.number
    assert caplog.records and id_number not in caplog.text and phone not in caplog.text
    assert id_number[:4] + "*" * 10 in caplog.text
