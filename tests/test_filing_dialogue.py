"""The pieces of the filing conversation that need no running bot: sealing ID numbers on the way
in, reading yes/no, case numbers and phone digits, and the details of a complaint."""
from __future__ import annotations

import pytest

from actions.feedback import details_of
from actions.filing import yes_or_no
from actions.progress import case_number_in, last4_in
from connectors.privacy import has_sealed_id, opened_id_numbers, seal_id_numbers, without_sealed_ids
from filings.identity import id_check_character

ID_NUMBER = "44030719900307123"
ID_NUMBER += id_check_character(ID_NUMBER)


@pytest.fixture(autouse=True)
def identity_key(monkeypatch):
    monkeypatch.setenv("ONEWINDOW_IDENTITY_KEY", "test-key-for-sealing-0123456789abcdef")


@pytest.mark.parametrize("typed", [ID_NUMBER, f"{ID_NUMBER[:6]} {ID_NUMBER[6:14]} {ID_NUMBER[14:]}",
                                   f"身份证号：{ID_NUMBER}，谢谢", ID_NUMBER.replace("X", "x")])
def test_id_numbers_are_sealed_on_the_way_in(typed):
    sealed = seal_id_numbers(typed)
    assert ID_NUMBER not in sealed and ID_NUMBER[:17] not in sealed.replace(" ", "")
    assert has_sealed_id(sealed)
    assert opened_id_numbers(sealed) == [ID_NUMBER.upper()]
    assert "4403**********" + ID_NUMBER[-4:].upper() in without_sealed_ids(sealed)


def test_other_digits_are_left_alone():
    for text in ("查进度 LG20261126-000123 尾号5678", "我的电话13912345678", "办护照要带什么", "12345678901234567890"):
        assert seal_id_numbers(text) == text


def test_a_forged_seal_opens_nothing():
    assert opened_id_numbers("〔证件号 4403**********1234 #v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA〕") == []


@pytest.mark.parametrize("text,answer", [("同意", "yes"), ("确认", "yes"), ("好的", "yes"), ("确定提交", "yes"),
                                         ("不同意", "no"), ("取消", "no"), ("算了不办了", "no"), ("张三", None)])
def test_yes_or_no(text, answer):
    assert yes_or_no(text) == answer


def test_case_numbers_and_last_four_digits():
    assert case_number_in("查一下lg20261126-000123的进度") == "LG20261126-000123"
    assert case_number_in("LGB20261126-0007 手机尾号5678") == "LGB20261126-0007"
    assert case_number_in("查进度") is None
    assert last4_in("LG20261126-000123 尾号5678") == "5678"
    assert last4_in("LG20261126-000123") is None


def test_complaint_details_exclude_the_trigger_words():
    assert details_of("我要投诉") == ""
    assert details_of("我有个建议") == ""
    assert details_of("我要投诉：窗口态度差").startswith("窗口态度差")
