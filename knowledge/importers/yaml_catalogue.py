"""Import the project's YAML catalogue (data/catalogue/, see knowledge.catalogue_schema).

Departments and places are upserted by code, services by implementation code, bundles by code,
parent items by code. The lists inside a service or bundle (materials, steps, place links,
prerequisites, co-departments, members, partners) are replaced by what the file says; aliases
made by staff (origin "staff") are kept. An invalid catalogue writes nothing.
"""
from __future__ import annotations

import re
from typing import Dict, List

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from knowledge.catalogue_schema import Catalogue, CatalogueError, ServiceSpec, load_catalogue
from knowledge.importers.report import ImportReport
from knowledge.importers.writer import ServiceRecord, ServiceWriter, assign
from knowledge.models import (
    Bundle,
    BundleMember,
    Department,
    Material,
    ParentItem,
    Place,
    ProcessStep,
    Service,
    ServicePlace,
)

SOURCE = "catalogue"
ALIAS_ORIGIN = "catalogue"

# "<file>: entry 3 (name): reason" / "<file>: service <code> (<name>): reason" / "<file>: reason"
_WHERE_RE = re.compile(r"^(?P<where>.+?: (?:entry \d+(?: \(.*?\))?|service \S+ \(.*?\)))(?:: |$)(?P<reason>.*)$")
_FILE_RE = re.compile(r"^(?P<where>[^:]+?\.ya?ml(?:: line \d+)?): (?P<reason>.*)$")


def split_problem(message: str) -> tuple[str, str]:
    """Split a CatalogueError line into (where, reason) for the report."""
    for pattern in (_WHERE_RE, _FILE_RE):
        match = pattern.match(message)
        if match and match.group("reason"):
            return match.group("where"), match.group("reason")
    return "", message


def import_yaml_catalogue(session: Session, root, report: ImportReport) -> None:
    try:
        catalogue = load_catalogue(root)
    except CatalogueError as exc:
        report.aborted = True
        for message in exc.problems:
            report.error(*split_problem(message))
        return
    import_catalogue(session, catalogue, report)


def import_catalogue(session: Session, catalogue: Catalogue, report: ImportReport) -> None:
    """Upsert a validated catalogue into the session (no commit)."""
    sample = catalogue.info.sample
    departments = [(spec.code, _department_values(spec)) for spec in catalogue.departments]
    places = [(spec.code, _place_values(spec)) for spec in catalogue.places]
    codes: Dict[str, str] = {spec.basic_code: catalogue.implementation_code(spec) for spec in catalogue.services}
    records = [_service_record(catalogue, spec, codes, sample) for spec in catalogue.services]
    if _check_fits(catalogue, departments, places, records, report):
        report.aborted = True
        return
    writer = ServiceWriter(session, report)

    # Departments by code.
    for code, values in departments:
        department = writer.departments.get(code)
        if department is None:
            writer.add_department(Department(code=code, **values))
            report.count("departments", "created")
        else:
            old_name = department.name
            if assign(department, values):
                writer.departments_by_name.pop(old_name, None)
                writer.departments_by_name[department.name] = department
                report.count("departments", "updated")
            else:
                report.count("departments", "unchanged")

    # Places by code.
    for code, values in places:
        place = writer.places.get(code)
        if place is None:
            place = Place(code=code, **values)
            session.add(place)
            writer.places[code] = place
            report.count("places", "created")
        elif assign(place, values):
            report.count("places", "updated")
        else:
            report.count("places", "unchanged")
    session.flush()

    # Services by implementation code.
    writer.write(records)

    # Bundles by code.
    service_ids: Dict[str, int] = {}
    if codes:
        service_ids = dict(
            session.execute(select(Service.code, Service.id).where(Service.code.in_(list(codes.values())))).all()
        )
    existing = {
        b.code: b
        for b in session.execute(
            select(Bundle)
            .options(selectinload(Bundle.members), selectinload(Bundle.partner_departments))
            .execution_options(populate_existing=True)
        ).scalars()
    }
    for index, spec in enumerate(catalogue.bundles):
        where = f"{catalogue.root / 'bundles.yml'}: entry {index + 1} ({spec.name})"
        bundle = existing.get(spec.code)
        created = bundle is None
        if created:
            bundle = Bundle(code=spec.code)
            session.add(bundle)
        changed = assign(
            bundle,
            dict(
                name=spec.name,
                description=spec.description,
                lead_department_id=writer.departments[spec.lead_department].id,
                promised_limit=spec.promised_limit.value if spec.promised_limit else None,
                promised_unit=spec.promised_limit.unit if spec.promised_limit else None,
                aliases=list(spec.aliases),
                is_sample=sample,
            ),
        )
        partners = [writer.departments[code] for code in dict.fromkeys(spec.partner_departments)]
        # The link table keeps no order: compare as sets.
        if {id(d) for d in bundle.partner_departments} != {id(d) for d in partners}:
            bundle.partner_departments = partners
            changed = True
        # Members, keyed by service so that a kept member is updated in place, not re-inserted.
        current = {m.service_id: m for m in bundle.members}
        members: List[BundleMember] = []
        for position, member in enumerate(spec.members):
            service_id = service_ids.get(codes[member.service])
            if service_id is None:  # the member service failed to import
                report.warning(where, f"member service {member.service} is not in the database; left out")
                continue
            link = current.get(service_id)
            if link is None:
                link = BundleMember(service_id=service_id, position=position, optional=member.optional)
            else:
                changed |= assign(link, dict(position=position, optional=member.optional))
            members.append(link)
        if [id(m) for m in bundle.members] != [id(m) for m in members]:
            bundle.members = members
            changed = True
        report.count("bundles", "created" if created else "updated" if changed else "unchanged")
    session.flush()


def _service_record(catalogue: Catalogue, spec: ServiceSpec, codes: Dict[str, str], sample: bool) -> ServiceRecord:
    where = f"{catalogue.service_files.get(spec.basic_code, catalogue.root)}: service {spec.basic_code} ({spec.name})"
    limits = spec.time_limit
    fields = dict(
        basic_code=spec.basic_code,
        name=spec.name,
        short_name=spec.short_name,
        service_type=spec.type,
        level=spec.level,
        variant_name=spec.variant,
        co_handling_note=spec.co_handling_note,
        entrusted_department=spec.entrusted_department,
        service_objects=list(spec.objects),
        themes=list(spec.themes),
        conditions=spec.conditions,
        legal_basis=spec.legal_basis,
        special_procedures=spec.special_procedures,
        statutory_limit=limits.statutory.value if limits.statutory else None,
        statutory_unit=limits.statutory.unit if limits.statutory else None,
        promised_limit=limits.promised.value if limits.promised else None,
        promised_unit=limits.promised.unit if limits.promised else None,
        immediate=limits.immediate,
        fee_charged=spec.fee.charged,
        fee_standard=spec.fee.standard,
        fee_basis=spec.fee.basis,
        fee_reduction=spec.fee.reduction,
        visits_on_site=spec.visits_on_site,
        online_url=spec.online.url,
        online_depth=spec.online.depth,
        appointment=spec.appointment.available,
        appointment_url=spec.appointment.url,
        express_delivery=spec.express_delivery,
        result_name=spec.result,
        consult_phone=spec.phones.consult,
        complaint_phone=spec.phones.complaint,
        faqs=[{"question": f.question, "answer": f.answer} for f in spec.faqs],
        source=SOURCE,
        is_sample=sample,
        guide_url=spec.guide_url,
    )
    return ServiceRecord(
        where=where,
        code=codes[spec.basic_code],
        department=spec.department,
        fields=fields,
        co_departments=list(spec.co_departments),
        parent=(spec.parent.code, spec.parent.name) if spec.parent else None,
        materials=[
            dict(
                name=m.name,
                required=m.required,
                form=m.form,
                copies=m.copies,
                source=m.source,
                notes=m.notes,
                blank_form_url=m.blank_form,
                sample_url=m.sample,
            )
            for m in spec.materials
        ],
        steps=[dict(name=s.name, description=s.description) for s in spec.process],
        places=[(ref.place, ref.window) for ref in spec.places],
        aliases=list(spec.aliases),
        alias_origin=ALIAS_ORIGIN,
        prerequisites=[(codes[p.service], p.note) for p in spec.prerequisites],
    )


def _department_values(spec) -> dict:
    return dict(
        name=spec.name,
        short_name=spec.short_name,
        credit_code=spec.credit_code,
        level=spec.level,
        phone=spec.phone,
        address=spec.address,
        coordinating=spec.coordinating,
        aliases=list(spec.aliases),
    )


def _place_values(spec) -> dict:
    return dict(
        name=spec.name,
        address=spec.address,
        opening_hours=spec.opening_hours,
        phone=spec.phone,
        transport=spec.transport,
    )


def _too_long(model, values: dict, prefix: str = "") -> List[str]:
    """Values longer than their column (PostgreSQL rejects them; SQLite would not notice)."""
    problems = []
    for key, value in values.items():
        column = model.__table__.columns.get(key)
        length = getattr(column.type, "length", None) if column is not None else None
        if isinstance(value, str) and length and len(value) > length:
            problems.append(f"{prefix}{key} is {len(value)} characters long, at most {length}")
    return problems


def _check_fits(catalogue: Catalogue, departments, places, records, report: ImportReport) -> bool:
    """Report values that do not fit the database (the schema does not bound every length) and
    places that share a name and address; True when there is any."""
    problems: List[tuple] = []
    root = catalogue.root
    for index, ((code, values), spec) in enumerate(zip(departments, catalogue.departments)):
        where = f"{root / 'departments.yml'}: entry {index + 1} ({spec.name})"
        problems += [(where, p) for p in _too_long(Department, values)]
        problems += [(where, f"alias {a} is longer than 200 characters") for a in values["aliases"] if len(a) > 200]
    seen: Dict[tuple, str] = {}
    for index, (code, values) in enumerate(places):
        where = f"{root / 'places.yml'}: entry {index + 1} ({values['name']})"
        problems += [(where, p) for p in _too_long(Place, values)]
        key = (values["name"], values["address"])
        if key in seen:
            problems.append((where, f"same name and address as place {seen[key]}"))
        seen.setdefault(key, code)
    for record in records:
        found = _too_long(Service, record.fields)
        for i, material in enumerate(record.materials):
            found += _too_long(Material, material, f"materials.{i}.")
        for i, step in enumerate(record.steps):
            found += _too_long(ProcessStep, step, f"process.{i}.")
        for i, (_, window) in enumerate(record.places):
            found += _too_long(ServicePlace, {"window": window}, f"places.{i}.")
        if record.parent:
            found += _too_long(ParentItem, {"name": record.parent[1]}, "parent.")
        found += [f"alias {a} is longer than 200 characters" for a in record.aliases if len(a) > 200]
        problems += [(record.where, p) for p in found]
    for index, spec in enumerate(catalogue.bundles):
        where = f"{root / 'bundles.yml'}: entry {index + 1} ({spec.name})"
        problems += [(where, p) for p in _too_long(Bundle, {"name": spec.name})]
    for where, reason in problems:
        report.error(where, reason)
    return bool(problems)
