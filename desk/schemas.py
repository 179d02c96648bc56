"""Response models of the desk API (pydantic v1, as Rasa pins it)."""
from __future__ import annotations

from typing import List, Optional

from pydantic import BaseModel


class ErrorBody(BaseModel):
    status: int
    code: str
    message: str  # Chinese, fit to show a citizen or clerk
    detail: str  # English, for developers and logs


class ErrorResponse(BaseModel):
    error: ErrorBody


class SearchHit(BaseModel):
    code: str
    name: str
    department: str
    score: float
    kind: str = "service"
    parent_code: Optional[str] = None
    parent_name: Optional[str] = None
    variant: Optional[str] = None


class VariantGroupOut(BaseModel):
    parent_code: str
    parent_name: str
    options: List[SearchHit]


class SearchResponse(BaseModel):
    query: str
    results: List[SearchHit]
    variants_of: Optional[VariantGroupOut] = None


class DepartmentRef(BaseModel):
    code: str
    name: str
    short_name: Optional[str] = None


class DepartmentOut(DepartmentRef):
    level: Optional[str] = None
    phone: Optional[str] = None
    address: Optional[str] = None
    coordinating: bool = False
    aliases: List[str] = []
    services: int = 0


class MaterialOut(BaseModel):
    name: str
    required: bool
    form: Optional[str] = None
    copies: Optional[int] = None
    source: Optional[str] = None
    notes: Optional[str] = None
    blank_form_url: Optional[str] = None
    sample_url: Optional[str] = None


class StepOut(BaseModel):
    name: str
    description: Optional[str] = None


class LimitOut(BaseModel):
    value: int
    unit: str


class TimeLimitOut(BaseModel):
    statutory: Optional[LimitOut] = None
    promised: Optional[LimitOut] = None
    immediate: bool = False


class FeeOut(BaseModel):
    charged: Optional[bool] = None  # None: the catalogue does not say
    standard: Optional[str] = None
    basis: Optional[str] = None
    reduction: Optional[str] = None


class PlaceOut(BaseModel):
    name: str
    address: str
    opening_hours: Optional[str] = None
    phone: Optional[str] = None
    transport: Optional[str] = None
    window: Optional[str] = None


class OnlineOut(BaseModel):
    url: Optional[str] = None
    depth: Optional[str] = None
    visits_on_site: Optional[int] = None
    appointment: bool = False
    appointment_url: Optional[str] = None
    express_delivery: bool = False


class ServiceRef(BaseModel):
    code: str
    name: str
    department: str


class PrerequisiteOut(ServiceRef):
    note: Optional[str] = None


class ParentOut(BaseModel):
    code: str
    name: str


class FaqOut(BaseModel):
    question: str
    answer: str


class ServiceGuide(BaseModel):
    code: str
    basic_code: Optional[str] = None
    name: str
    short_name: Optional[str] = None
    type: Optional[str] = None
    level: Optional[str] = None
    parent: Optional[ParentOut] = None
    variant: Optional[str] = None
    department: DepartmentRef
    co_departments: List[DepartmentRef] = []
    co_handling_note: Optional[str] = None
    entrusted_department: Optional[str] = None
    service_objects: List[str] = []
    themes: List[str] = []
    aliases: List[str] = []
    conditions: Optional[str] = None
    legal_basis: Optional[str] = None
    materials: List[MaterialOut] = []
    process: List[StepOut] = []
    special_procedures: Optional[str] = None
    time_limit: TimeLimitOut
    fee: FeeOut
    places: List[PlaceOut] = []
    online: OnlineOut
    result: Optional[str] = None
    consult_phone: Optional[str] = None
    complaint_phone: Optional[str] = None
    prerequisites: List[PrerequisiteOut] = []
    faqs: List[FaqOut] = []
    guide_url: Optional[str] = None
    is_sample: bool = False
    source: Optional[str] = None


class BundleMemberOut(ServiceRef):
    optional: bool = False


class BundleOut(BaseModel):
    id: int
    code: str
    name: str
    description: Optional[str] = None
    aliases: List[str] = []
    lead_department: DepartmentRef
    partner_departments: List[DepartmentRef] = []
    promised_limit: Optional[LimitOut] = None
    members: List[BundleMemberOut] = []
    is_sample: bool = False


class CatalogueStats(BaseModel):
    services: int
    departments: int
    bundles: int


class Health(BaseModel):
    status: str
    components: dict
