"""Import a Guangdong provincial portal export (../shared/catalogues/guangdong-2262.jsonl).

One JSON object per line (or a JSON array of them), with the portal's own field names
(TASK_CODE, TASK_NAME, DEPT_NAME, handle_time, material_intro, ...). "无", "" and null all mean
"not given". A record that cannot be imported (bad JSON, not an object, a required field missing,
a wrong type, a code too long) is reported with its line number and the rest still import.
Values that do not fit their column are shortened or dropped with a warning.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, List, Optional, Tuple

from sqlalchemy.orm import Session

from knowledge.catalogue_schema import CREDIT_CODE_RE
from knowledge.importers.report import ImportReport
from knowledge.importers.writer import ServiceRecord, ServiceWriter
from knowledge.models import LEVELS, Department, Place, Service

SOURCE = "gdportal"
ALIAS_ORIGIN = "import"
EMPTY_VALUES = {"", "无"}
NO_PLACE = "无线下办理窗口"
LOCATION_PREFIX_RE = re.compile(r"^\s*办理地点\s*[:：]\s*")
LIMIT_RE = re.compile(r"^(\d{1,4})\s*(?:个)?\s*(?:[(（]\s*(工作日|自然日)\s*[)）]|(工作日|自然日))?$")
ALIAS_SPLIT_RE = re.compile(r"[，,、；;]")
MATERIAL_SPLIT_RE = re.compile(r"[\r\n；;]+")
NUMBERING_RE = re.compile(r"^\s*(?:[(（]?\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*[)）、.．]|[①-⑳])\s*")
PHONE_RE = re.compile(
    r"(?<![A-Za-z0-9_/=&?.%@-])"  # not part of a URL, an e-mail address or a longer number
    r"(?:(?:0\d{2,3}[-－]?)?\d{7,8}(?:\s*转\s*\d{1,6})?|1[3-9]\d{9}|12\d{3})"
    r"(?![0-9@])"
)
CREDIT_CODE = re.compile(CREDIT_CODE_RE)


def _limit(column) -> Optional[int]:
    return getattr(column.type, "length", None)


# Column lengths, from the models (portable: PostgreSQL enforces them, SQLite does not).
SERVICE_LENGTHS = {c.name: _limit(c) for c in Service.__table__.columns}
DEPARTMENT_LENGTHS = {c.name: _limit(c) for c in Department.__table__.columns}
PLACE_LENGTHS = {c.name: _limit(c) for c in Place.__table__.columns}
ALIAS_LENGTH = 200
MATERIAL_NAME_LENGTH = 500


class RecordError(ValueError):
    """The record cannot be imported; the message says why."""


@dataclass
class PortalRecord:
    """A record mapped from the portal's fields, before its references are resolved."""

    where: str
    record: ServiceRecord
    department_name: str
    department_code: str
    department_values: dict
    places: List[str]  # addresses


# -- reading ---------------------------------------------------------------------------------
def iter_records(path: Path) -> Iterator[Tuple[str, Any, Optional[str]]]:
    """Yield (where, object, error) for each record: JSON Lines, or a JSON array of records."""
    raw = path.read_bytes()
    stripped = raw.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        try:
            data = json.loads(stripped.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            data = None
        if isinstance(data, list):
            for index, item in enumerate(data):
                yield f"record {index + 1}", item, None
            return
    for number, line in enumerate(raw.splitlines(), start=1):
        where = f"line {number}"
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            yield where, None, "not UTF-8 text"
            continue
        text = text.lstrip("\ufeff").strip()
        if not text:
            continue
        try:
            yield where, json.loads(text), None
        except ValueError as exc:
            yield where, None, f"not valid JSON ({exc.msg} at column {exc.colno})"


def looks_like_export(path: Path, sample: int = 50) -> bool:
    """True when the first records that parse are objects with TASK_CODE."""
    seen = 0
    for _, obj, error in iter_records(path):
        if error is None and isinstance(obj, dict):
            if "TASK_CODE" in obj:
                return True
            seen += 1
        if seen >= sample:
            break
    return False


# -- field helpers ---------------------------------------------------------------------------
def _text(obj: dict, key: str) -> Optional[str]:
    """A string field; "无", "" and null are None; other types are an error."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RecordError(f"{key} must be a string, found {type(value).__name__}")
    value = str(value).strip()
    return None if value in EMPTY_VALUES else value


def _required(obj: dict, key: str) -> str:
    value = _text(obj, key)
    if value is None:
        raise RecordError(f"missing {key}")
    return value


def _code(obj: dict, key: str, limit: int, required: bool = False) -> Optional[str]:
    value = _required(obj, key) if required else _text(obj, key)
    if value is not None and len(value) > limit:
        raise RecordError(f"{key} is too long ({len(value)} characters, at most {limit})")
    return value


def _string_list(obj: dict, key: str, split: Optional[re.Pattern] = None) -> List[str]:
    value = obj.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        items = split.split(value) if split else [value]
    elif isinstance(value, list):
        items = value
        for item in items:
            if not isinstance(item, str):
                raise RecordError(f"{key} must be a list of strings, found an item of type {type(item).__name__}")
    else:
        raise RecordError(f"{key} must be a list or a string, found {type(value).__name__}")
    cleaned = (item.strip() for item in items)
    return list(dict.fromkeys(item for item in cleaned if item and item not in EMPTY_VALUES))


def _yes(obj: dict, key: str) -> bool:
    value = obj.get(key)
    if isinstance(value, bool):
        return value
    text = _text(obj, key)
    return text in ("是", "支持", "1", "true", "True", "yes")


def _int(obj: dict, key: str) -> Optional[int]:
    value = obj.get(key)
    if isinstance(value, bool):
        raise RecordError(f"{key} must be a number, found a boolean")
    if isinstance(value, int):
        return value
    text = _text(obj, key)
    if text is None:
        return None
    if not re.fullmatch(r"\d{1,4}", text):
        raise RecordError(f"{key} must be a whole number, found {text!r}")
    return int(text)


def parse_time_limit(text: Optional[str]) -> Optional[Tuple[int, str]]:
    """"30(工作日)", "30（自然日）", "30工作日", "30" -> (30, unit); a bare number counts in 工作日.
    Returns None for empty text; raises ValueError for text it cannot read."""
    if text is None:
        return None
    match = LIMIT_RE.match(text.strip())
    if not match:
        raise ValueError(f"cannot read the time limit {text!r}")
    return int(match.group(1)), match.group(2) or match.group(3) or "工作日"


def _material_names(obj: dict) -> List[str]:
    value = obj.get("material_intro")
    if isinstance(value, str):
        names = [NUMBERING_RE.sub("", part).strip() for part in MATERIAL_SPLIT_RE.split(value)]
        return list(dict.fromkeys(n for n in names if n and n not in EMPTY_VALUES))
    return _string_list(obj, "material_intro")


class _Fitter:
    """Shortens values to their column length, with a warning for each one."""

    def __init__(self, report: ImportReport, where: str):
        self.report = report
        self.where = where

    def __call__(self, field: str, value: Optional[str], limit: Optional[int]) -> Optional[str]:
        if value is None or limit is None or len(value) <= limit:
            return value
        self.report.warning(self.where, f"{field} is {len(value)} characters long; shortened to {limit}")
        return value[: limit - 1] + "…"

    def phone(self, field: str, value: Optional[str], limit: int) -> Optional[str]:
        """Long consultation texts (address, e-mail, hours...) are reduced to their phone numbers."""
        if value is None or len(value) <= limit:
            return value
        numbers = list(dict.fromkeys(m.group(0).strip() for m in PHONE_RE.finditer(value)))
        joined = "、".join(numbers)
        if numbers and len(joined) <= limit:
            self.report.warning(
                self.where, f"{field} is {len(value)} characters long; kept its phone numbers only ({joined})"
            )
            return joined
        return self(field, value, limit)


# -- mapping ---------------------------------------------------------------------------------
def map_record(where: str, obj: Any, report: ImportReport) -> PortalRecord:
    """Map one portal record; raise RecordError when it cannot be imported."""
    if not isinstance(obj, dict):
        raise RecordError(f"not a JSON object (found {type(obj).__name__})")
    code = _code(obj, "TASK_CODE", SERVICE_LENGTHS["code"], required=True)
    where = f"{where} ({code})"
    name = _code(obj, "TASK_NAME", SERVICE_LENGTHS["name"], required=True)
    department_name = _code(obj, "DEPT_NAME", DEPARTMENT_LENGTHS["name"], required=True)
    basic_code = _code(obj, "CATAID", SERVICE_LENGTHS["basic_code"])
    parent_code = _code(obj, "parentCatalogId", 64)
    parent_name = _code(obj, "parentCatalogName", 300)
    org_code = _text(obj, "ORGCODE")
    level = _text(obj, "matter_level")
    fit = _Fitter(report, where)

    credit_code = code[:18] if CREDIT_CODE.match(code[:18]) else None
    if org_code:
        department_code = f"gd-{org_code}"
    elif credit_code:
        department_code = f"gd-{credit_code}"
    else:
        department_code = "gd-" + hashlib.sha1(department_name.encode("utf-8")).hexdigest()[:16]
    if len(department_code) > DEPARTMENT_LENGTHS["code"]:
        raise RecordError(f"ORGCODE is too long ({len(org_code or '')} characters)")
    department_level = level if level in LEVELS else None

    limits = {}
    for key, column in (("handle_time", "statutory"), ("handle_time_limit", "promised")):
        try:
            parsed = parse_time_limit(_text(obj, key))
        except ValueError as exc:
            report.warning(where, f"{key}: {exc}; left empty")
            parsed = None
        limits[f"{column}_limit"] = parsed[0] if parsed else None
        limits[f"{column}_unit"] = parsed[1] if parsed else None

    location = _text(obj, "handle_location")
    addresses: List[str] = []
    if location:
        address = LOCATION_PREFIX_RE.sub("", location).strip()
        if address and address not in EMPTY_VALUES and address != NO_PLACE:
            addresses.append(fit("handle_location", address, PLACE_LENGTHS["address"]))

    aliases = []
    for alias in _string_list(obj, "matter_daily", ALIAS_SPLIT_RE):
        if len(alias) > ALIAS_LENGTH:
            report.warning(where, f"alias {alias[:20]}… is longer than {ALIAS_LENGTH} characters; dropped")
        elif alias != name:
            aliases.append(alias)

    materials = [
        dict(name=fit("material_intro", m, MATERIAL_NAME_LENGTH), required=True)
        for m in _material_names(obj)
    ]
    url = _text(obj, "URL")
    appointment = _yes(obj, "online_book")
    fields = dict(
        basic_code=basic_code,
        name=name,
        short_name=fit("matter_short", _text(obj, "matter_short"), SERVICE_LENGTHS["short_name"]),
        service_type=fit("TASK_TYPE_TEXT", _text(obj, "TASK_TYPE_TEXT"), SERVICE_LENGTHS["service_type"]),
        level=fit("matter_level", level, SERVICE_LENGTHS["level"]),
        variant_name=fit("subTaskName", _text(obj, "subTaskName"), SERVICE_LENGTHS["variant_name"]),
        co_handling_note=_text(obj, "co_department"),
        entrusted_department=None,
        service_objects=_string_list(obj, "service_object_name", ALIAS_SPLIT_RE),
        themes=_string_list(obj, "theme_category", ALIAS_SPLIT_RE),
        conditions=_text(obj, "accept_standard"),
        legal_basis=None,
        special_procedures=None,
        immediate=False,
        fee_charged=None,  # the export does not say
        fee_standard=None,
        fee_basis=None,
        fee_reduction=None,
        visits_on_site=_int(obj, "visit_number"),
        online_url=fit("URL", url, SERVICE_LENGTHS["online_url"]),
        online_depth=fit("bear_paltform", _text(obj, "bear_paltform"), SERVICE_LENGTHS["online_depth"]),
        appointment=appointment,
        appointment_url=fit("online_book_addr", _text(obj, "online_book_addr"), SERVICE_LENGTHS["appointment_url"]),
        express_delivery=_yes(obj, "courier_service"),
        result_name=None,
        consult_phone=fit.phone("consult_phone", _text(obj, "consult_phone"), SERVICE_LENGTHS["consult_phone"]),
        complaint_phone=fit.phone(
            "complain_phone", _text(obj, "complain_phone"), SERVICE_LENGTHS["complaint_phone"]
        ),
        faqs=[],
        source=SOURCE,
        is_sample=False,
        guide_url=fit("URL", url, SERVICE_LENGTHS["guide_url"]),
        **limits,
    )
    record = ServiceRecord(
        where=where,
        code=code,
        department=department_code,  # replaced by the resolved department's code
        fields=fields,
        parent=(parent_code, parent_name or name) if parent_code else None,
        materials=materials,
        places=[],  # filled in once the places exist
        aliases=aliases,
        alias_origin=ALIAS_ORIGIN,
    )
    return PortalRecord(
        where=where,
        record=record,
        department_name=department_name,
        department_code=department_code,
        department_values=dict(credit_code=credit_code, level=department_level),
        places=addresses,
    )


def place_code(address: str) -> str:
    return "gdp-" + hashlib.sha1(address.encode("utf-8")).hexdigest()[:16]


# -- import ----------------------------------------------------------------------------------
def import_gdportal(session: Session, path: Path, report: ImportReport) -> None:
    """Read every record, resolve departments and places, then upsert the services."""
    mapped: List[PortalRecord] = []
    for where, obj, error in iter_records(path):
        if error is not None:
            report.error(where, error)
            report.count("services", "failed")
            continue
        warnings_before = len(report.problems)
        try:
            mapped.append(map_record(where, obj, report))
        except RecordError as exc:
            del report.problems[warnings_before:]  # warnings about a record that failed anyway
            report.error(where, str(exc))
            report.count("services", "failed")

    writer = ServiceWriter(session, report)
    records: List[ServiceRecord] = []
    departments = {}
    for item in mapped:
        # The first record naming a department sets its fields, so that records that disagree
        # (a department with items at two levels) cannot flip them back and forth.
        department = departments.get(item.department_name)
        if department is None:
            department = writer.ensure_department(
                item.department_code, item.department_name, **item.department_values
            )
            departments[item.department_name] = department
        item.record.department = department.code
        for address in item.places:
            code = place_code(address)
            name = address[: PLACE_LENGTHS["name"]]
            place = writer.ensure_place(code, name, address, opening_hours=None)
            item.record.places.append((place.code or code, None))
            if place.code is None:  # a place that was already there without a code
                writer.places[code] = place
        records.append(item.record)
    writer.write(records)
