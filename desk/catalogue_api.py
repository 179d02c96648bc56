"""/api/v1: search the catalogue, read a service's full guide, departments and bundles."""
from __future__ import annotations

from typing import List

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from desk import schemas
from desk.dependencies import get_search, get_session
from desk.errors import ApiError
from knowledge import repository
from knowledge.models import Bundle, Department, Service
from knowledge.search import SearchService

router = APIRouter(prefix="/api/v1", tags=["catalogue"])

MAX_QUERY_LENGTH = 200


def _dept(department: Department) -> schemas.DepartmentRef:
    return schemas.DepartmentRef(code=department.code, name=department.name, short_name=department.short_name)


def _limit(value, unit):
    return schemas.LimitOut(value=value, unit=unit or "工作日") if value is not None else None


def service_guide(service: Service) -> schemas.ServiceGuide:
    return schemas.ServiceGuide(
        code=service.code,
        basic_code=service.basic_code,
        name=service.name,
        short_name=service.short_name,
        type=service.service_type,
        level=service.level,
        parent=schemas.ParentOut(code=service.parent.code, name=service.parent.name) if service.parent else None,
        variant=service.variant_name,
        department=_dept(service.department),
        co_departments=[_dept(d) for d in service.co_departments],
        co_handling_note=service.co_handling_note,
        entrusted_department=service.entrusted_department,
        service_objects=list(service.service_objects or []),
        themes=list(service.themes or []),
        aliases=[a.alias for a in service.aliases],
        conditions=service.conditions,
        legal_basis=service.legal_basis,
        materials=[
            schemas.MaterialOut(
                name=m.name,
                required=m.required,
                form=m.form,
                copies=m.copies,
                source=m.source,
                notes=m.notes,
                blank_form_url=m.blank_form_url,
                sample_url=m.sample_url,
            )
            for m in service.materials
        ],
        process=[schemas.StepOut(name=s.name, description=s.description) for s in service.steps],
        special_procedures=service.special_procedures,
        time_limit=schemas.TimeLimitOut(
            statutory=_limit(service.statutory_limit, service.statutory_unit),
            promised=_limit(service.promised_limit, service.promised_unit),
            immediate=service.immediate,
        ),
        fee=schemas.FeeOut(
            charged=service.fee_charged,
            standard=service.fee_standard,
            basis=service.fee_basis,
            reduction=service.fee_reduction,
        ),
        places=[
            schemas.PlaceOut(
                name=link.place.name,
                address=link.place.address,
                opening_hours=link.place.opening_hours,
                phone=link.place.phone,
                transport=link.place.transport,
                window=link.window,
            )
            for link in service.place_links
        ],
        online=schemas.OnlineOut(
            url=service.online_url,
            depth=service.online_depth,
            visits_on_site=service.visits_on_site,
            appointment=service.appointment,
            appointment_url=service.appointment_url,
            express_delivery=service.express_delivery,
        ),
        result=service.result_name,
        consult_phone=service.consult_phone,
        complaint_phone=service.complaint_phone,
        prerequisites=[
            schemas.PrerequisiteOut(
                code=link.prerequisite.code,
                name=link.prerequisite.name,
                department=link.prerequisite.department.name,
                note=link.note,
            )
            for link in service.prerequisite_links
        ],
        faqs=[schemas.FaqOut(question=f.get("question", ""), answer=f.get("answer", "")) for f in service.faqs or []],
        guide_url=service.guide_url,
        is_sample=service.is_sample,
        source=service.source,
    )


def bundle_out(bundle: Bundle) -> schemas.BundleOut:
    return schemas.BundleOut(
        id=bundle.id,
        code=bundle.code,
        name=bundle.name,
        description=bundle.description,
        aliases=list(bundle.aliases or []),
        lead_department=_dept(bundle.lead_department),
        partner_departments=[_dept(d) for d in bundle.partner_departments],
        promised_limit=_limit(bundle.promised_limit, bundle.promised_unit),
        members=[
            schemas.BundleMemberOut(
                code=m.service.code,
                name=m.service.name,
                department=m.service.department.name,
                optional=m.optional,
            )
            for m in bundle.members
        ],
        is_sample=bundle.is_sample,
    )


def _hit(hit) -> schemas.SearchHit:
    return schemas.SearchHit(**{field: getattr(hit, field) for field in schemas.SearchHit.__fields__})


@router.get("/services/search", response_model=schemas.SearchResponse, summary="Search services")
def search_services(
    q: str = Query(..., description="what the citizen typed, in Chinese"),
    limit: int = Query(10, ge=1, le=50),
    search: SearchService = Depends(get_search),
) -> schemas.SearchResponse:
    query = q.strip()
    if not query:
        raise ApiError(422, "empty_query", "请输入要查询的事项。", "parameter q is empty")
    if len(query) > MAX_QUERY_LENGTH:
        raise ApiError(
            422, "query_too_long", f"查询内容过长（最多 {MAX_QUERY_LENGTH} 字）。", f"q longer than {MAX_QUERY_LENGTH}"
        )
    result = search.search(query, limit=limit)
    group = result.variant_group
    return schemas.SearchResponse(
        query=query,
        results=[_hit(h) for h in result.hits],
        variants_of=schemas.VariantGroupOut(
            parent_code=group.parent_code, parent_name=group.parent_name, options=[_hit(h) for h in group.options]
        )
        if group
        else None,
    )


@router.get("/services/{code}", response_model=schemas.ServiceGuide, summary="The full guide of a service")
def get_service(code: str, session: Session = Depends(get_session)) -> schemas.ServiceGuide:
    service = repository.get_service(session, code)
    if service is None:
        raise ApiError(404, "service_not_found", f"未找到编码为 {code} 的事项。", f"no service with code {code!r}")
    return service_guide(service)


@router.get("/departments", response_model=List[schemas.DepartmentOut], summary="Departments")
def list_departments(session: Session = Depends(get_session)) -> List[schemas.DepartmentOut]:
    return [
        schemas.DepartmentOut(
            code=d.code,
            name=d.name,
            short_name=d.short_name,
            level=d.level,
            phone=d.phone,
            address=d.address,
            coordinating=d.coordinating,
            aliases=list(d.aliases or []),
            services=count,
        )
        for d, count in repository.list_departments(session)
    ]


@router.get("/bundles", response_model=List[schemas.BundleOut], summary="One-thing bundles (一件事)")
def list_bundles(session: Session = Depends(get_session)) -> List[schemas.BundleOut]:
    return [bundle_out(b) for b in repository.list_bundles(session)]


@router.get("/bundles/{bundle_id}", response_model=schemas.BundleOut, summary="One bundle, by code or id")
def get_bundle(bundle_id: str, session: Session = Depends(get_session)) -> schemas.BundleOut:
    bundle = repository.get_bundle(session, bundle_id)
    if bundle is None:
        raise ApiError(404, "bundle_not_found", f"未找到“{bundle_id}”对应的一件事。", f"no bundle {bundle_id!r}")
    return bundle_out(bundle)


@router.get("/stats", response_model=schemas.CatalogueStats, summary="Catalogue size")
def stats(session: Session = Depends(get_session)) -> schemas.CatalogueStats:
    return schemas.CatalogueStats(**repository.catalogue_stats(session))
