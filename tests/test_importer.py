"""Importers: the YAML catalogue and the Guangdong portal export, idempotent upserts."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select

from catalogue_helpers import edit_yaml
from catalogue_helpers import DEFAULT_CATALOGUE, FIXTURE_CATALOGUE, GUANGDONG_EXPORT
from database.engine import get_engine
from knowledge.importers import GDPORTAL, YAML_CATALOGUE, ImportFormatError, detect_format, import_path
from knowledge.importers.gdportal import parse_time_limit
from knowledge.models import Department, Material, ParentItem, Place, Service, ServiceAlias
from knowledge.repository import catalogue_stats, get_bundle, get_service, list_bundles, list_departments
from knowledge.revision import bump_revision, get_revision

BIRTH_REGISTRATION = "11440307MB2C10185H4440307006001"
BIRTH_CERTIFICATE = "11440307MB2C10185H4440307006002"
HOUSEHOLD = "11440307MB2C10037W4440307002004"


class WriteCounter:
    """Counts INSERT / UPDATE / DELETE statements sent to the database."""

    def __init__(self, url: str):
        self.engine = get_engine(url)
        self.statements: list[str] = []

    def _listen(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.statements.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._listen)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._listen)


# -- revision --------------------------------------------------------------------------------
def test_revision_counter(session):
    assert get_revision(session) == 0
    assert bump_revision(session) == 1
    assert bump_revision(session) == 2
    session.commit()
    assert get_revision(session) == 2


# -- format detection ------------------------------------------------------------------------
def test_detect_format(tmp_path):
    assert detect_format(FIXTURE_CATALOGUE) == YAML_CATALOGUE
    assert detect_format(FIXTURE_CATALOGUE / "catalogue.yml") == YAML_CATALOGUE
    export = tmp_path / "export.jsonl"
    export.write_text('not json\n{"TASK_CODE": "X1"}\n', encoding="utf-8")
    assert detect_format(export) == GDPORTAL
    array = tmp_path / "export.json"
    array.write_text('[{"TASK_CODE": "X1"}]', encoding="utf-8")
    assert detect_format(array) == GDPORTAL
    other = tmp_path / "other.jsonl"
    other.write_text('{"id": 1}\n', encoding="utf-8")
    with pytest.raises(ImportFormatError, match="TASK_CODE"):
        detect_format(other)
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="unknown format"):
        detect_format(text)
    with pytest.raises(ImportFormatError, match="no such file"):
        detect_format(tmp_path / "missing.jsonl")


# -- YAML catalogue --------------------------------------------------------------------------
def test_fixture_catalogue_lands_every_element(session):
    report = import_path(session, FIXTURE_CATALOGUE)
    assert not report.aborted and report.errors == [], report.problems
    assert (report.created, report.updated, report.unchanged, report.failed) == (9, 0, 0, 0)
    assert report.revision == 1 == get_revision(session)
    assert "9 created" in report.summary()
    assert catalogue_stats(session) == {"services": 3, "departments": 3, "bundles": 1}

    departments = {d.code: d for d in session.execute(select(Department)).scalars()}
    police = departments["T-GA"]
    assert (police.name, police.short_name, police.credit_code, police.level) == (
        "测试市公安局测试分局", "公安分局", "11440307MB2C10037W", "区级"
    )
    assert (police.phone, police.address, police.aliases) == ("0755-10000001", "测试区公安路1号", ["公安局", "派出所"])
    assert departments["T-ZSJ"].coordinating and not police.coordinating

    hall = session.execute(select(Place).where(Place.code == "t-hall")).scalar_one()
    assert (hall.name, hall.address, hall.phone, hall.transport) == (
        "测试区行政服务大厅", "测试区政务路3号", "0755-10000000", "地铁1号线测试站A出口"
    )
    assert hall.opening_hours.startswith("周一至周五")

    birth = get_service(session, BIRTH_REGISTRATION)
    assert birth.basic_code == "440307006001" and birth.department.code == "T-WJ"
    assert (birth.name, birth.short_name, birth.service_type, birth.level) == ("生育登记", "生育登记", "公共服务", "区级")
    assert sorted(a.alias for a in birth.aliases) == ["准生证", "生育服务证"]
    assert {a.origin for a in birth.aliases} == {"catalogue"}
    assert birth.service_objects == ["自然人"] and birth.themes == ["生育收养"]
    assert birth.conditions.startswith("夫妻双方") and "条例" in birth.legal_basis
    assert birth.immediate and birth.promised_limit is None and birth.statutory_limit is None
    assert birth.fee_charged is False
    assert [(m.position, m.name, m.required, m.form, m.copies) for m in birth.materials] == [
        (0, "夫妻双方居民身份证", True, "原件", 1),
        (1, "结婚证", False, "复印件", 2),
    ]
    marriage = birth.materials[1]
    assert (marriage.source, marriage.notes, marriage.blank_form_url, marriage.sample_url) == (
        "婚姻登记机关", "复印件需清晰", "https://example.org/form.doc", "https://example.org/sample.pdf"
    )
    assert [(s.name, s.description) for s in birth.steps] == [("申请", "网上或窗口提交申请"), ("登记", None)]
    assert [(link.place.code, link.window) for link in birth.place_links] == [("t-hall", "综合窗口 1-4 号")]
    assert (birth.visits_on_site, birth.online_url, birth.online_depth) == (0, "https://example.org/apply", "全程网办")
    assert (birth.result_name, birth.consult_phone, birth.complaint_phone) == ("生育登记服务单", "0755-10000002", "12345")
    assert birth.faqs == [{"question": "可以网上办吗？", "answer": "可以，全程网办。"}]
    assert birth.source == "catalogue" and birth.is_sample and len(birth.content_hash) == 64

    certificate = get_service(session, BIRTH_CERTIFICATE)
    assert [d.code for d in certificate.co_departments] == ["T-GA"]
    assert certificate.co_handling_note == "公安部门核验身份信息"
    assert certificate.entrusted_department == "测试区人民医院"
    assert (certificate.parent.code, certificate.parent.name, certificate.variant_name) == (
        "440307006002P", "出生医学证明签发", "首次签发"
    )
    assert certificate.special_procedures == "亲子鉴定不计入办理时限"
    assert (certificate.statutory_limit, certificate.statutory_unit) == (20, "工作日")
    assert (certificate.promised_limit, certificate.promised_unit, certificate.immediate) == (5, "工作日", False)
    assert certificate.fee_charged and certificate.fee_standard == "补发收取工本费10元"
    assert (certificate.fee_basis, certificate.fee_reduction) == ("粤价〔2010〕1号", "首次签发免费")
    assert certificate.appointment and certificate.appointment_url == "https://example.org/book"
    assert certificate.express_delivery
    assert certificate.guide_url == "https://example.org/guide/birth-certificate"
    assert [(link.place.code, link.window) for link in certificate.place_links] == [("t-hospital", None)]
    assert [(link.prerequisite.code, link.note) for link in certificate.prerequisite_links] == [
        (BIRTH_REGISTRATION, "先办生育登记")
    ]
    household = get_service(session, HOUSEHOLD)
    assert [p.code for p in household.prerequisites] == [BIRTH_CERTIFICATE]
    assert (household.statutory_limit, household.statutory_unit, household.promised_unit) == (30, "自然日", "自然日")
    assert get_service(session, "440307002004").code == HOUSEHOLD  # basic code works too
    assert get_service(session, "nope") is None

    bundle = get_bundle(session, "newborn")
    assert get_bundle(session, bundle.id) is bundle and get_bundle(session, str(bundle.id)) is bundle
    assert (bundle.name, bundle.lead_department.code, bundle.promised_limit, bundle.promised_unit) == (
        "新生儿出生一件事", "T-WJ", 5, "工作日"
    )
    assert bundle.description.startswith("一次申请") and bundle.aliases == ["宝宝出生办证"] and bundle.is_sample
    assert sorted(d.code for d in bundle.partner_departments) == ["T-GA", "T-ZSJ"]
    assert [(m.position, m.service.code, m.optional) for m in bundle.members] == [
        (0, BIRTH_REGISTRATION, False),
        (1, BIRTH_CERTIFICATE, False),
        (2, HOUSEHOLD, True),
    ]
    assert [b.code for b in list_bundles(session)] == ["newborn"]
    counts = {row.department.code: row.services for row in list_departments(session)}
    assert counts == {"T-GA": 1, "T-WJ": 2, "T-ZSJ": 0}


def test_second_import_changes_nothing(session, db_url):
    import_path(session, FIXTURE_CATALOGUE)
    stamp = session.execute(select(Service.updated_at).where(Service.code == BIRTH_REGISTRATION)).scalar_one()
    with WriteCounter(db_url) as writes:
        report = import_path(session, FIXTURE_CATALOGUE)
    assert (report.created, report.updated, report.unchanged, report.failed) == (0, 0, 9, 0)
    assert not report.changed and report.revision == 1 == get_revision(session)
    assert writes.statements == []
    assert session.execute(select(Service.updated_at).where(Service.code == BIRTH_REGISTRATION)).scalar_one() == stamp


def test_changed_catalogue_updates_and_bumps_the_revision_once(session, catalogue_copy):
    import_path(session, catalogue_copy)

    def change_services(services):
        services[0]["materials"] = [{"name": "申请人居民身份证", "form": "电子"}]
        services[0]["aliases"] = ["准生证"]
        services[1]["places"] = [{"place": "t-hall", "window": "9号窗"}]
        services[1]["prerequisites"] = []

    edit_yaml(catalogue_copy / "services" / "health.yml", change_services)
    edit_yaml(catalogue_copy / "bundles.yml", lambda bundles: bundles[0].update(members=bundles[0]["members"][:2]))
    edit_yaml(catalogue_copy / "places.yml", lambda places: places[0].update(phone="0755-99999999"))

    report = import_path(session, catalogue_copy)
    assert report.counts["services"]["updated"] == 2 and report.counts["services"]["unchanged"] == 1
    assert report.counts["bundles"]["updated"] == 1 and report.counts["places"]["updated"] == 1
    assert report.revision == 2 == get_revision(session)

    session.expire_all()
    birth = get_service(session, BIRTH_REGISTRATION)
    assert [(m.name, m.form) for m in birth.materials] == [("申请人居民身份证", "电子")]
    assert [a.alias for a in birth.aliases] == ["准生证"]
    assert session.execute(select(func.count()).select_from(Material)).scalar_one() == 3
    certificate = get_service(session, BIRTH_CERTIFICATE)
    assert [(link.place.code, link.window) for link in certificate.place_links] == [("t-hall", "9号窗")]
    assert certificate.prerequisite_links == []
    assert [m.service.code for m in get_bundle(session, "newborn").members] == [BIRTH_REGISTRATION, BIRTH_CERTIFICATE]
    assert session.execute(select(Place.phone).where(Place.code == "t-hall")).scalar_one() == "0755-99999999"


def test_staff_aliases_survive_reimport(session, catalogue_copy):
    import_path(session, catalogue_copy)
    birth = get_service(session, BIRTH_REGISTRATION)
    session.add_all(
        [
            ServiceAlias(service_id=birth.id, alias="办准生证", origin="staff"),
            ServiceAlias(service_id=birth.id, alias="计生证", origin="staff"),
        ]
    )
    session.commit()
    edit_yaml(catalogue_copy / "services" / "health.yml", lambda s: s[0].update(aliases=["生育服务证", "计生证"]))

    report = import_path(session, catalogue_copy)
    assert report.counts["services"]["updated"] == 1
    session.expire_all()
    aliases = {a.alias: a.origin for a in get_service(session, BIRTH_REGISTRATION).aliases}
    assert aliases == {"生育服务证": "catalogue", "办准生证": "staff", "计生证": "staff"}


def test_invalid_catalogue_writes_nothing(session, catalogue_copy):
    edit_yaml(catalogue_copy / "services" / "health.yml", lambda s: s[0].update(department="T-NOPE"))
    report = import_path(session, catalogue_copy)
    assert report.aborted and not report.changed
    assert any("unknown department T-NOPE" in p.reason and "health.yml" in p.where for p in report.problems)
    assert "aborted" in report.summary()
    assert catalogue_stats(session) == {"services": 0, "departments": 0, "bundles": 0}
    assert get_revision(session) == 0


def test_values_the_database_cannot_hold_abort_the_import_with_their_entry(session, catalogue_copy):
    edit_yaml(catalogue_copy / "services" / "health.yml", lambda s: s[0]["online"].update(depth="全程网办" * 20))
    edit_yaml(catalogue_copy / "places.yml", lambda p: p[1].update(name=p[0]["name"], address=p[0]["address"]))
    report = import_path(session, catalogue_copy)
    assert report.aborted
    messages = [str(p) for p in report.problems]
    assert any("health.yml: service 440307006001 (生育登记)" in m and "online_depth is 80 characters" in m for m in messages)
    assert any("places.yml: entry 2" in m and "same name and address as place t-hall" in m for m in messages)
    assert catalogue_stats(session)["services"] == 0


def test_default_catalogue_imports_without_problems(session):
    """data/catalogue is being written by others; this passes once it is complete."""
    report = import_path(session, DEFAULT_CATALOGUE)
    assert not report.aborted and report.errors == [], "\n".join(map(str, report.problems))
    assert report.created > 0 and report.failed == 0
    assert catalogue_stats(session)["services"] > 0


# -- Guangdong portal export -----------------------------------------------------------------
def portal_record(code: str = "11440000006939756B2440101007000", **fields) -> dict:
    record = {
        "TASK_CODE": code,
        "ORGCODE": "006939756",
        "TASK_TYPE_TEXT": "行政许可",
        "DEPT_NAME": "广东省发展和改革委员会",
        "parentCatalogId": "440101007000",
        "TASK_NAME": "临时价格干预范围事项提价申报",
        "subTaskName": None,
        "parentCatalogName": "临时价格干预范围事项提价申报",
        "CATAID": "440101007000",
        "URL": "https://www.gdzwfw.gov.cn/gaio/apply.html#/" + code,
        "matter_short": "无",
        "matter_daily": "无",
        "matter_level": "省级",
        "visit_number": "0",
        "co_department": "无",
        "handle_location": "办理地点：广州市越秀区东风中路305号5号楼808房",
        "handle_time": "30(工作日)",
        "handle_time_limit": "7(工作日)",
        "accept_standard": "符合条件的申请人。",
        "consult_phone": "020-34121084",
        "courier_service": "是",
        "bear_paltform": "广东省政务服务网统一申办平台",
        "complain_phone": "020-83134173",
        "online_book": "是",
        "online_book_addr": "无",
        "theme_category": ["其他"],
        "service_object_name": ["自然人", "企业法人"],
        "material_intro": ["提价申报申请报告"],
    }
    record.update(fields)
    return record


@pytest.mark.parametrize(
    "text, expected",
    [
        ("30(工作日)", (30, "工作日")),
        ("90(自然日)", (90, "自然日")),
        ("15（自然日）", (15, "自然日")),
        ("20工作日", (20, "工作日")),
        ("7", (7, "工作日")),
        (None, None),
    ],
)
def test_parse_time_limit(text, expected):
    assert parse_time_limit(text) == expected


def test_parse_time_limit_rejects_text_it_cannot_read():
    with pytest.raises(ValueError):
        parse_time_limit("三十天")


def test_portal_record_mapping(session, tmp_path):
    variant = portal_record(
        "11440000006940116U2440103001001",
        ORGCODE="006940116",
        DEPT_NAME="广东省科学技术厅",
        TASK_NAME="实验动物生产许可(变更)",
        subTaskName="变更",
        CATAID="440103001001",
        parentCatalogId="44010300100Y",
        parentCatalogName="实验动物生产和使用许可核准",
        matter_short="动物许可变更",
        matter_daily="动物证，实验动物许可、动物证；变更",
        handle_time="60（自然日）",
        handle_time_limit="20",
        handle_location="无线下办理窗口",
        visit_number="2",
        courier_service="不支持",
        online_book="是",
        online_book_addr="http://book.example.org/",
        consult_phone="无",
        material_intro="1、申请表；2、营业执照复印件\n3、实验动物质量检测报告",
        matter_level="市级",
    )
    path = tmp_path / "export.jsonl"
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in (portal_record(), variant)) + "\n", encoding="utf-8"
    )
    report = import_path(session, path)
    assert (report.created, report.failed) == (2, 0), report.problems

    first = get_service(session, "11440000006939756B2440101007000")
    assert (first.basic_code, first.service_type, first.level, first.variant_name) == (
        "440101007000", "行政许可", "省级", None
    )
    assert (first.parent.code, first.parent.name) == ("440101007000", "临时价格干预范围事项提价申报")
    assert (first.statutory_limit, first.statutory_unit, first.promised_limit, first.promised_unit) == (
        30, "工作日", 7, "工作日"
    )
    assert first.short_name is None and first.aliases == [] and first.co_handling_note is None
    assert [(p.name, p.address, p.opening_hours) for p in first.places] == [
        ("广州市越秀区东风中路305号5号楼808房", "广州市越秀区东风中路305号5号楼808房", None)
    ]
    assert first.appointment and first.appointment_url is None and first.express_delivery
    assert first.online_url == first.guide_url and first.online_url.startswith("https://www.gdzwfw.gov.cn/")
    assert first.online_depth == "广东省政务服务网统一申办平台"
    assert first.fee_charged is None and first.source == "gdportal" and not first.is_sample
    assert first.service_objects == ["自然人", "企业法人"] and first.themes == ["其他"]
    assert first.conditions == "符合条件的申请人。"
    assert (first.consult_phone, first.complaint_phone) == ("020-34121084", "020-83134173")
    assert [m.name for m in first.materials] == ["提价申报申请报告"]
    department = first.department
    assert (department.code, department.name, department.credit_code, department.level) == (
        "gd-006939756", "广东省发展和改革委员会", "11440000006939756B", "省级"
    )

    second = get_service(session, "11440000006940116U2440103001001")
    assert (second.parent.code, second.parent.name, second.variant_name) == (
        "44010300100Y", "实验动物生产和使用许可核准", "变更"
    )
    assert second.short_name == "动物许可变更" and second.level == "市级"
    assert [a.alias for a in second.aliases] == ["动物证", "实验动物许可", "变更"]
    assert {a.origin for a in second.aliases} == {"import"}
    assert (second.statutory_limit, second.statutory_unit, second.promised_limit, second.promised_unit) == (
        60, "自然日", 20, "工作日"
    )
    assert second.places == [] and second.visits_on_site == 2
    assert not second.express_delivery and second.appointment_url == "http://book.example.org/"
    assert second.consult_phone is None
    assert [m.name for m in second.materials] == ["申请表", "营业执照复印件", "实验动物质量检测报告"]
    assert second.department.level == "市级"


def test_portal_import_reports_broken_lines_and_imports_the_rest(session, tmp_path):
    lines = [
        json.dumps(portal_record("11440000006939756B2440101007001"), ensure_ascii=False),  # 1 good
        '{"TASK_CODE": "broken", ',  # 2 bad JSON
        json.dumps({k: v for k, v in portal_record().items() if k != "TASK_CODE"}, ensure_ascii=False),  # 3
        "[1, 2, 3]",  # 4 not an object
        "",  # 5 blank: skipped
        json.dumps(portal_record("11440000006939756B2440101007005", theme_category=5)),  # 6 wrong type
        json.dumps(portal_record("X" * 65)),  # 7 code too long
        json.dumps(portal_record("11440000006939756B2440101007008", visit_number="两次")),  # 8 not a number
        json.dumps(portal_record("11440000006939756B2440101007009", handle_time="另行通知")),  # 9 good, warning
        json.dumps(portal_record("11440000006939756B2440101007001")),  # 10 duplicate of line 1
    ]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_path(session, path)
    assert not report.aborted
    assert (report.created, report.failed) == (2, 7), report.problems
    errors = {p.where.split(" (")[0]: p.reason for p in report.errors}
    assert set(errors) == {"line 2", "line 3", "line 4", "line 6", "line 7", "line 8", "line 10"}
    assert "not valid JSON" in errors["line 2"]
    assert errors["line 3"] == "missing TASK_CODE"
    assert "not a JSON object" in errors["line 4"]
    assert "theme_category" in errors["line 6"]
    assert "TASK_CODE is too long" in errors["line 7"]
    assert "visit_number" in errors["line 8"]
    assert "already used at line 1" in errors["line 10"]
    assert [p.where.split(" (")[0] for p in report.warnings] == ["line 9"]
    codes = set(session.execute(select(Service.code)).scalars())
    assert codes == {"11440000006939756B2440101007001", "11440000006939756B2440101007009"}
    assert get_service(session, "11440000006939756B2440101007009").statutory_limit is None


def test_portal_reimport_of_a_changed_record_updates_it(session, tmp_path):
    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps(portal_record(matter_daily="提价申报")) + "\n", encoding="utf-8")
    import_path(session, path)
    service = get_service(session, "11440000006939756B2440101007000")
    session.add(ServiceAlias(service_id=service.id, alias="价格申报", origin="staff"))
    session.commit()
    changed = portal_record(
        matter_daily="涨价申报", handle_location="无线下办理窗口", DEPT_NAME="广东省价格局", ORGCODE="000000001"
    )
    path.write_text(json.dumps(changed) + "\n", encoding="utf-8")
    report = import_path(session, path)
    assert (report.updated, report.revision) == (1, 2)
    # Same session, no expire_all: what the session already held is brought up to date.
    service = get_service(session, "11440000006939756B2440101007000")
    assert sorted((a.alias, a.origin) for a in service.aliases) == [("价格申报", "staff"), ("涨价申报", "import")]
    assert service.places == []
    assert (service.department.code, service.department.name) == ("gd-000000001", "广东省价格局")


@pytest.mark.skipif(not GUANGDONG_EXPORT.exists(), reason=f"the shared export is not at {GUANGDONG_EXPORT}")
def test_real_guangdong_export(session, db_url):
    report = import_path(session, GUANGDONG_EXPORT)
    assert report.format == GDPORTAL
    assert (report.created, report.updated, report.failed) == (2262, 0, 0), report.errors[:5]
    assert report.elapsed < 30, f"import took {report.elapsed:.1f} s"
    assert catalogue_stats(session) == {"services": 2262, "departments": 177, "bundles": 0}
    assert session.execute(select(func.count()).select_from(ParentItem)).scalar_one() == 1491
    assert session.execute(select(func.count()).select_from(Service).where(Service.parent_id.is_(None))).scalar_one() == 0

    # Variants stay under their parent item.
    rows = [json.loads(line) for line in GUANGDONG_EXPORT.read_text(encoding="utf-8").splitlines() if line.strip()]
    parents = dict(
        session.execute(select(Service.code, ParentItem.code).join(ParentItem, Service.parent_id == ParentItem.id)).all()
    )
    assert all(parents[r["TASK_CODE"]] == r["parentCatalogId"] for r in rows)
    variants = session.execute(
        select(Service).join(ParentItem).where(ParentItem.code == "44010300100Y").order_by(Service.code)
    ).scalars().all()
    assert len(variants) >= 4 and all(v.parent.name == "实验动物生产和使用许可核准" for v in variants)
    assert sum(1 for r in rows if r["subTaskName"]) == session.execute(
        select(func.count()).select_from(Service).where(Service.variant_name.is_not(None))
    ).scalar_one()

    with WriteCounter(db_url) as writes:
        again = import_path(session, GUANGDONG_EXPORT)
    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 0, 2262, 0)
    assert again.revision == report.revision == 1
    assert writes.statements == []
