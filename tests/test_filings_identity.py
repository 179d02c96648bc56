"""Identity numbers: GB 11643 checksum, mobile numbers, masking, hashing, sealing, log redaction."""
from __future__ import annotations

import logging

import pytest

from filings import identity
from filings.errors import InvalidInput

VALID = "11010519491231002X"  # the worked example of GB 11643-1999


def test_the_standard_example_is_valid_and_normalised():
    assert identity.is_valid_id_number(VALID)
    assert identity.is_valid_id_number(VALID.lower())
    assert identity.validate_id_number(" １１０１０５１９４９１２３１００２ｘ ") == VALID  # full-width, lower-case x


@pytest.mark.parametrize(
    "value, problem",
    [
        ("110105194912310021", "校验位"),  # wrong check character
        ("11010519491231002", "18位"),
        ("1101051949123100211", "18位"),
        ("11010519491331002X", "出生日期"),  # month 13
        ("99010519491231002X", "地区码"),
        ("1101051949123100AX", "数字"),
        ("", "18位"),
    ],
)
def test_invalid_id_numbers_say_what_is_wrong(value, problem):
    assert problem in identity.id_number_problem(value)
    with pytest.raises(InvalidInput) as raised:
        identity.validate_id_number(value)
    assert problem in raised.value.message
    assert value[:6] not in raised.value.detail or not value  # the detail never repeats the number


def test_check_character_over_every_remainder():
    # Each of the 11 possible check characters is produced by some 17-digit prefix.
    seen = {identity.id_check_character(f"440307199001010{d}{e}") for d in range(10) for e in range(10)}
    assert seen == set("10X98765432")


@pytest.mark.parametrize("value", ["13812345678", "+86 138 1234 5678", "0086-13812345678", "19912345678"])
def test_valid_mobiles(value):
    assert identity.validate_mobile(value) == value.replace(" ", "").replace("-", "")[-11:]


@pytest.mark.parametrize("value", ["12812345678", "1381234567", "138123456789", "0755-28949000", "abc"])
def test_invalid_mobiles(value):
    assert not identity.is_valid_mobile(value)
    with pytest.raises(InvalidInput):
        identity.validate_mobile(value)


def test_masking():
    assert identity.mask_id_number("440307199001011234") == "4403**********1234"
    assert identity.mask_mobile("13812345678") == "138****5678"
    assert identity.mask_name("张三") == "张*" and identity.mask_name("欧阳娜娜") == "欧**娜"


def test_keyed_hash_is_stable_and_keyed(monkeypatch):
    first = identity.keyed_hash("id", VALID)
    assert first == identity.keyed_hash("id", VALID) and VALID not in first
    assert identity.keyed_hash("phone", VALID) != first
    monkeypatch.setenv("ONEWINDOW_IDENTITY_KEY", "another-secret-key-0123456789abcdefghijkl")
    assert identity.keyed_hash("id", VALID) != first


def test_sealing_round_trip_and_wrong_key(monkeypatch):
    sealed = identity.seal(VALID)
    assert VALID not in sealed and identity.unseal(sealed) == VALID
    assert identity.seal(VALID) != sealed  # a fresh nonce each time
    monkeypatch.setenv("ONEWINDOW_IDENTITY_KEY", "another-secret-key-0123456789abcdefghijkl")
    with pytest.raises(Exception) as raised:
        identity.unseal(sealed)
    assert "identity key" in str(raised.value)


def test_a_short_key_is_refused(monkeypatch):
    monkeypatch.setenv("ONEWINDOW_IDENTITY_KEY", "short")
    with pytest.raises(Exception) as raised:
        identity.keyed_hash("id", VALID)
    assert "32 characters" in str(raised.value)


def test_key_file_is_created_once_with_private_mode(monkeypatch, tmp_path):
    monkeypatch.delenv("ONEWINDOW_IDENTITY_KEY")
    monkeypatch.setattr(identity, "DEFAULT_KEY_FILE", tmp_path / "var" / "identity.key")
    first = identity.keyed_hash("id", VALID)
    key_file = tmp_path / "var" / "identity.key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert identity.keyed_hash("id", VALID) == first


def test_redact_masks_ids_and_mobiles_in_free_text():
    text = f"我的身份证是{VALID}，电话13812345678，订单号2026112612345678901234"
    cleaned = identity.redact(text)
    assert VALID not in cleaned and "13812345678" not in cleaned
    assert "1101**********002X" in cleaned and "138****5678" in cleaned
    assert "2026112612345678901234" in cleaned  # a longer run of digits is not an ID


def test_log_records_are_redacted(caplog):
    identity.install_log_redaction()
    identity.install_log_redaction()  # idempotent
    logger = logging.getLogger("onewindow.test")
    with caplog.at_level(logging.INFO):
        logger.info("applicant %s phone %s", VALID, "13812345678")
        logger.warning(f"inline {VALID}")
    assert VALID not in caplog.text and "13812345678" not in caplog.text
    assert "1101**********002X" in caplog.text


def test_the_filter_works_on_a_handler_too():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "id %s", (VALID,), None)
    assert identity.RedactingFilter().filter(record)
    assert VALID not in record.getMessage()


def test_tracker_events_can_be_redacted():
    event = {"event": "user", "text": f"身份证{VALID}", "parse_data": {"text": f"身份证{VALID}",
             "entities": [{"entity": "id_number", "value": VALID}]}, "timestamp": 1.5}
    cleaned = identity.redact_tracker_event(event)
    assert VALID not in str(cleaned) and cleaned["timestamp"] == 1.5 and VALID in event["text"]
