"""The schema of the human-editable YAML catalogue (data/catalogue/), with validation.

A catalogue is a folder:
    catalogue.yml        name, region, whether it is sample data (示例数据)
    departments.yml      list of departments
    places.yml           list of halls and windows with opening hours
    services/*.yml       lists of services (one file per department is the convention)
    bundles.yml          list of one-thing bundles (一件事)

Loading reports every problem with the file, the entry (position and name) and the reason, in
one `CatalogueError`, so an editor can fix them all in one pass.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml
from pydantic import BaseModel, Extra, ValidationError, conint, constr, root_validator, validator

from knowledge.models import LEVEL_DIGITS, LEVELS, MATERIAL_FORMS, SERVICE_TYPES, TIME_UNITS

CODE_RE = r"^[0-9A-Za-z][0-9A-Za-z_.-]{1,63}$"
BASIC_CODE_RE = r"^[0-9A-Z]{12}$"
CREDIT_CODE_RE = r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"
URL_RE = r"^https?://\S+$"


class Strict(BaseModel):
    class Config:
        extra = Extra.forbid
        anystr_strip_whitespace = True


class CatalogueInfo(Strict):
    name: constr(min_length=1)
    region: Optional[str] = None
    sample: bool = False
    description: Optional[str] = None


class DepartmentSpec(Strict):
    code: constr(regex=CODE_RE)
    name: constr(min_length=2, max_length=200)
    short_name: Optional[str] = None
    credit_code: constr(regex=CREDIT_CODE_RE)
    level: str = "区级"
    phone: Optional[str] = None
    address: Optional[str] = None
    coordinating: bool = False
    aliases: List[constr(min_length=1)] = []

    @validator("level")
    def _level(cls, v: str) -> str:
        if v not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}")
        return v


class PlaceSpec(Strict):
    code: constr(regex=CODE_RE)
    name: constr(min_length=2)
    address: constr(min_length=2)
    opening_hours: constr(min_length=2)
    phone: Optional[str] = None
    transport: Optional[str] = None


class MaterialSpec(Strict):
    name: constr(min_length=2)
    required: bool = True
    form: str = "原件"
    copies: conint(ge=0, le=99) = 1
    source: Optional[str] = None
    notes: Optional[str] = None
    blank_form: Optional[constr(regex=URL_RE)] = None
    sample: Optional[constr(regex=URL_RE)] = None

    @validator("form")
    def _form(cls, v: str) -> str:
        if v not in MATERIAL_FORMS:
            raise ValueError(f"form must be one of {', '.join(MATERIAL_FORMS)}")
        return v


class StepSpec(Strict):
    name: constr(min_length=1)
    description: Optional[str] = None


class LimitSpec(Strict):
    value: conint(ge=0, le=3650)
    unit: str = "工作日"

    @validator("unit")
    def _unit(cls, v: str) -> str:
        if v not in TIME_UNITS:
            raise ValueError(f"unit must be one of {', '.join(TIME_UNITS)}")
        return v


class TimeLimitSpec(Strict):
    statutory: Optional[LimitSpec] = None
    promised: Optional[LimitSpec] = None
    immediate: bool = False  # 即办件

    @root_validator(skip_on_failure=True)
    def _consistent(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        st, pr = values.get("statutory"), values.get("promised")
        if not values.get("immediate") and pr is None:
            raise ValueError("a promised time limit is required unless the item is immediate (即办件)")
        if st and pr and st.unit == pr.unit and pr.value > st.value:
            raise ValueError("the promised time limit exceeds the statutory one")
        return values


class FeeSpec(Strict):
    charged: bool = False
    standard: Optional[str] = None
    basis: Optional[str] = None
    reduction: Optional[str] = None

    @root_validator(skip_on_failure=True)
    def _standard_when_charged(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if values.get("charged") and not values.get("standard"):
            raise ValueError("a charged service needs its fee standard")
        return values


class OnlineSpec(Strict):
    url: Optional[constr(regex=URL_RE)] = None
    depth: Optional[str] = None  # 全程网办 / 网上预审 / 网上预约 / 不支持


class AppointmentSpec(Strict):
    available: bool = False
    url: Optional[constr(regex=URL_RE)] = None


class PhonesSpec(Strict):
    consult: constr(min_length=3)
    complaint: constr(min_length=3)


class ParentSpec(Strict):
    code: constr(regex=CODE_RE)
    name: constr(min_length=2)


class PlaceRefSpec(Strict):
    place: constr(regex=CODE_RE)
    window: Optional[str] = None


class FaqSpec(Strict):
    question: constr(min_length=2)
    answer: constr(min_length=2)


class PrerequisiteSpec(Strict):
    service: constr(regex=BASIC_CODE_RE)  # basic code of the service that must come first
    note: Optional[str] = None


class ServiceSpec(Strict):
    basic_code: constr(regex=BASIC_CODE_RE)
    name: constr(min_length=2, max_length=300)
    short_name: Optional[str] = None
    aliases: List[constr(min_length=1)] = []
    type: str
    level: str = "区级"
    department: constr(regex=CODE_RE)
    co_departments: List[constr(regex=CODE_RE)] = []
    co_handling_note: Optional[str] = None
    entrusted_department: Optional[str] = None
    parent: Optional[ParentSpec] = None
    variant: Optional[str] = None
    objects: List[str]
    themes: List[str] = []
    conditions: constr(min_length=2)
    legal_basis: constr(min_length=2)
    materials: List[MaterialSpec]
    process: List[StepSpec]
    special_procedures: Optional[str] = None
    time_limit: TimeLimitSpec
    fee: FeeSpec
    places: List[PlaceRefSpec]
    visits_on_site: conint(ge=0, le=10)
    online: OnlineSpec = OnlineSpec()
    appointment: AppointmentSpec = AppointmentSpec()
    express_delivery: bool = False
    result: constr(min_length=2)
    phones: PhonesSpec
    prerequisites: List[PrerequisiteSpec] = []
    faqs: List[FaqSpec] = []
    guide_url: Optional[constr(regex=URL_RE)] = None

    @validator("type")
    def _type(cls, v: str) -> str:
        if v not in SERVICE_TYPES:
            raise ValueError(f"type must be one of {', '.join(SERVICE_TYPES)}")
        return v

    @validator("level")
    def _level(cls, v: str) -> str:
        if v not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}")
        return v

    @validator("objects")
    def _objects(cls, v: List[str]) -> List[str]:
        if not v:
            raise ValueError("at least one service object (服务对象) is required")
        return v

    @validator("process")
    def _process(cls, v: List[StepSpec]) -> List[StepSpec]:
        if not v:
            raise ValueError("at least one process step is required")
        return v

    @root_validator(skip_on_failure=True)
    def _variant_needs_parent(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if values.get("variant") and not values.get("parent"):
            raise ValueError("a variant needs its parent item")
        return values


class BundleMemberSpec(Strict):
    service: constr(regex=BASIC_CODE_RE)
    optional: bool = False


class BundleSpec(Strict):
    code: constr(regex=CODE_RE)
    name: constr(min_length=2)
    description: constr(min_length=2)
    aliases: List[constr(min_length=1)] = []
    lead_department: constr(regex=CODE_RE)
    partner_departments: List[constr(regex=CODE_RE)] = []
    promised_limit: Optional[LimitSpec] = None
    members: List[BundleMemberSpec]

    @validator("members")
    def _members(cls, v: List[BundleMemberSpec]) -> List[BundleMemberSpec]:
        if len(v) < 2:
            raise ValueError("a bundle needs at least two member services")
        return v


class CatalogueError(Exception):
    """Every problem found in a catalogue; str() lists them one per line."""

    def __init__(self, problems: List[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class Catalogue(BaseModel):
    """A validated catalogue, ready to import."""

    root: Path
    info: CatalogueInfo
    departments: List[DepartmentSpec]
    places: List[PlaceSpec]
    services: List[ServiceSpec]
    bundles: List[BundleSpec]
    # basic code -> file the service came from (for messages)
    service_files: Dict[str, str] = {}

    def implementation_code(self, service: ServiceSpec) -> str:
        """实施编码 = department credit code + level digit + basic code."""
        department = next(d for d in self.departments if d.code == service.department)
        return f"{department.credit_code}{LEVEL_DIGITS[service.level]}{service.basic_code}"


def _read_yaml(path: Path, problems: List[str]) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problems.append(f"{path}:{where}: not valid YAML: {getattr(exc, 'problem', exc)}")
    except UnicodeDecodeError:
        problems.append(f"{path}: not UTF-8 text")
    return None


def _entry_label(index: int, raw: Any) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"entry {index + 1}" + (f" ({name})" if name else "")


def _format_error(error: Dict[str, Any]) -> str:
    loc = ".".join(str(part) for part in error["loc"] if part != "__root__")
    return f"{loc}: {error['msg']}" if loc else error["msg"]


def _parse_list(path: Path, model: type, problems: List[str]) -> List[Any]:
    data = _read_yaml(path, problems)
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append(f"{path}: expected a list of entries, found {type(data).__name__}")
        return []
    parsed = []
    for index, raw in enumerate(data):
        label = _entry_label(index, raw)
        if not isinstance(raw, dict):
            problems.append(f"{path}: {label}: expected a mapping, found {type(raw).__name__}")
            continue
        try:
            parsed.append(model.parse_obj(raw))
        except ValidationError as exc:
            for error in exc.errors():
                problems.append(f"{path}: {label}: {_format_error(error)}")
    return parsed


def _duplicates(values: List[str]) -> List[str]:
    seen, dups = set(), []
    for value in values:
        if value in seen and value not in dups:
            dups.append(value)
        seen.add(value)
    return dups


def load_catalogue(root: Path | str) -> Catalogue:
    """Read and validate a catalogue folder; raise CatalogueError listing every problem."""
    root = Path(root)
    problems: List[str] = []
    if not root.is_dir():
        raise CatalogueError([f"{root}: not a catalogue folder"])

    info_path = root / "catalogue.yml"
    info = None
    if info_path.exists():
        raw = _read_yaml(info_path, problems)
        try:
            info = CatalogueInfo.parse_obj(raw or {})
        except ValidationError as exc:
            problems.extend(f"{info_path}: {_format_error(e)}" for e in exc.errors())
    else:
        problems.append(f"{info_path}: missing (name the catalogue and say whether it is sample data)")

    def parse_optional(name: str, model: type) -> List[Any]:
        path = root / name
        return _parse_list(path, model, problems) if path.exists() else []

    departments = parse_optional("departments.yml", DepartmentSpec)
    places = parse_optional("places.yml", PlaceSpec)
    bundles = parse_optional("bundles.yml", BundleSpec)
    services: List[ServiceSpec] = []
    service_files: Dict[str, str] = {}
    service_dir = root / "services"
    for path in sorted(service_dir.glob("*.y*ml")) if service_dir.is_dir() else []:
        for spec in _parse_list(path, ServiceSpec, problems):
            if spec.basic_code in service_files:
                problems.append(
                    f"{path}: service {spec.basic_code} ({spec.name}): basic_code already used in "
                    f"{service_files[spec.basic_code]}"
                )
                continue
            service_files[spec.basic_code] = str(path)
            services.append(spec)

    # Cross references.
    for value in _duplicates([d.code for d in departments]):
        problems.append(f"{root / 'departments.yml'}: department code {value} is used twice")
    for value in _duplicates([d.name for d in departments]):
        problems.append(f"{root / 'departments.yml'}: department name {value} is used twice")
    for value in _duplicates([p.code for p in places]):
        problems.append(f"{root / 'places.yml'}: place code {value} is used twice")
    dept_codes = {d.code for d in departments}
    place_codes = {p.code for p in places}
    service_codes = set(service_files)
    seen_names: Dict[str, str] = {}
    for spec in services:
        where = f"{service_files[spec.basic_code]}: service {spec.basic_code} ({spec.name})"
        if spec.name in seen_names:
            problems.append(f"{where}: name already used by service {seen_names[spec.name]}")
        seen_names[spec.name] = spec.basic_code
        if spec.department not in dept_codes:
            problems.append(f"{where}: unknown department {spec.department}")
        for code in spec.co_departments:
            if code not in dept_codes:
                problems.append(f"{where}: unknown co-handling department {code}")
        for ref in spec.places:
            if ref.place not in place_codes:
                problems.append(f"{where}: unknown place {ref.place}")
        for pre in spec.prerequisites:
            if pre.service not in service_codes:
                problems.append(f"{where}: unknown prerequisite service {pre.service}")
            elif pre.service == spec.basic_code:
                problems.append(f"{where}: a service cannot be its own prerequisite")
    for index, bundle in enumerate(bundles):
        where = f"{root / 'bundles.yml'}: entry {index + 1} ({bundle.name})"
        if bundle.lead_department not in dept_codes:
            problems.append(f"{where}: unknown lead department {bundle.lead_department}")
        for code in bundle.partner_departments:
            if code not in dept_codes:
                problems.append(f"{where}: unknown partner department {code}")
        for member in bundle.members:
            if member.service not in service_codes:
                problems.append(f"{where}: unknown member service {member.service}")
        for value in _duplicates([m.service for m in bundle.members]):
            problems.append(f"{where}: member service {value} is listed twice")
    for value in _duplicates([b.code for b in bundles]):
        problems.append(f"{root / 'bundles.yml'}: bundle code {value} is used twice")

    if problems:
        raise CatalogueError(problems)
    return Catalogue(
        root=root,
        info=info,
        departments=departments,
        places=places,
        services=services,
        bundles=bundles,
        service_files=service_files,
    )
