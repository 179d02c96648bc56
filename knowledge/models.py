"""The catalogue of services (办事指南) as relational models.

Every element of a service guide in ../shared/docs/domain.md has a home here: identity and codes,
who handles it, conditions, materials, process, time limits, fee, places and hours, phones, online
handling, result, legal basis, aliases, themes, prerequisites; and the one-thing bundles (一件事).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from database.base import Base

# Service types (事项类型) and levels (层级) as they appear in real catalogues.
SERVICE_TYPES = (
    "行政许可",
    "行政给付",
    "行政确认",
    "行政奖励",
    "行政裁决",
    "行政征收",
    "行政检查",
    "其他行政权力",
    "公共服务",
)
LEVELS = ("国家级", "省级", "市级", "区级", "街道", "社区")
# The level digit inside an implementation code (实施编码 = credit code + level digit + basic code).
LEVEL_DIGITS = {"国家级": "1", "省级": "2", "市级": "3", "区级": "4", "街道": "5", "社区": "6"}
TIME_UNITS = ("工作日", "自然日")
MATERIAL_FORMS = ("原件", "复印件", "原件和复印件", "电子", "原件或电子")


def _now() -> datetime:
    return datetime.utcnow()


service_co_departments = Table(
    "service_co_departments",
    Base.metadata,
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True),
)

bundle_partner_departments = Table(
    "bundle_partner_departments",
    Base.metadata,
    Column("bundle_id", ForeignKey("bundles.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True),
)


class Department(Base):
    """An agency that implements services (实施主体)."""

    __tablename__ = "departments"

    id = Column(Integer, primary_key=True)
    code = Column(String(64), nullable=False, unique=True)
    name = Column(String(200), nullable=False, unique=True)
    short_name = Column(String(100))
    credit_code = Column(String(18))  # 统一社会信用代码
    level = Column(String(10))
    phone = Column(String(100))
    address = Column(String(300))
    # The coordinating office receives whatever has no clear owner (管理缝隙).
    coordinating = Column(Boolean, nullable=False, default=False)
    aliases = Column(JSON, nullable=False, default=list)  # names citizens use: 社保局, 派出所 ...

    services = relationship("Service", back_populates="department", foreign_keys="Service.department_id")


class Place(Base):
    """A hall or window where services are handled, with its opening hours."""

    __tablename__ = "places"
    __table_args__ = (UniqueConstraint("name", "address", name="uq_places_name_address"),)

    id = Column(Integer, primary_key=True)
    code = Column(String(64), unique=True)
    name = Column(String(200), nullable=False)
    address = Column(String(300), nullable=False, default="")
    opening_hours = Column(String(300))
    phone = Column(String(100))
    transport = Column(String(300))


class ServicePlace(Base):
    __tablename__ = "service_places"

    service_id = Column(ForeignKey("services.id", ondelete="CASCADE"), primary_key=True)
    place_id = Column(ForeignKey("places.id", ondelete="CASCADE"), primary_key=True)
    window = Column(String(200))  # e.g. 综合受理窗口 5-8 号

    place = relationship("Place")


class ParentItem(Base):
    """A catalogue item (事项) that has several variants (业务办理项)."""

    __tablename__ = "parent_items"

    id = Column(Integer, primary_key=True)
    code = Column(String(64), nullable=False, unique=True)
    name = Column(String(300), nullable=False)

    services = relationship("Service", back_populates="parent")


class Service(Base):
    """One service item (政务服务事项) with its whole guide."""

    __tablename__ = "services"

    id = Column(Integer, primary_key=True)
    # Identity
    code = Column(String(64), nullable=False, unique=True)  # implementation code (实施编码)
    basic_code = Column(String(32), index=True)  # 基本编码
    name = Column(String(300), nullable=False, index=True)
    short_name = Column(String(200))
    service_type = Column(String(20))
    level = Column(String(10))
    parent_id = Column(ForeignKey("parent_items.id", ondelete="SET NULL"), index=True)
    variant_name = Column(String(300))  # which case of the parent item this variant covers
    # Who
    department_id = Column(ForeignKey("departments.id"), nullable=False, index=True)
    co_handling_note = Column(Text)  # free-text division of work among co-handling departments
    entrusted_department = Column(String(200))
    service_objects = Column(JSON, nullable=False, default=list)  # 自然人, 企业法人 ...
    themes = Column(JSON, nullable=False, default=list)
    # Conditions and basis
    conditions = Column(Text)
    legal_basis = Column(Text)
    # Process
    special_procedures = Column(Text)
    # Time limits
    statutory_limit = Column(Integer)
    statutory_unit = Column(String(10))
    promised_limit = Column(Integer)
    promised_unit = Column(String(10))
    immediate = Column(Boolean, nullable=False, default=False)  # 即办件
    # Fee
    fee_charged = Column(Boolean)  # None: the source does not say
    fee_standard = Column(Text)
    fee_basis = Column(Text)
    fee_reduction = Column(Text)
    # Where, when, how
    visits_on_site = Column(Integer)  # 到现场次数; 0 means fully online
    online_url = Column(String(500))
    online_depth = Column(String(50))  # 全程网办 / 网上预审 / 网上预约 ...
    appointment = Column(Boolean, nullable=False, default=False)
    appointment_url = Column(String(500))
    express_delivery = Column(Boolean, nullable=False, default=False)
    # Result and contact
    result_name = Column(String(300))
    consult_phone = Column(String(200))
    complaint_phone = Column(String(200))
    faqs = Column(JSON, nullable=False, default=list)  # [{"question": ..., "answer": ...}]
    # Provenance
    source = Column(String(50), nullable=False, default="catalogue")  # sample / gdportal / ...
    is_sample = Column(Boolean, nullable=False, default=False)  # 示例数据
    guide_url = Column(String(500))
    content_hash = Column(String(64))  # fingerprint of the imported record: unchanged input, no write
    updated_at = Column(DateTime, nullable=False, default=_now, onupdate=_now)

    department = relationship("Department", back_populates="services", foreign_keys=[department_id])
    co_departments = relationship("Department", secondary=service_co_departments)
    parent = relationship("ParentItem", back_populates="services")
    materials = relationship(
        "Material", order_by="Material.position", cascade="all, delete-orphan", back_populates="service"
    )
    steps = relationship(
        "ProcessStep", order_by="ProcessStep.position", cascade="all, delete-orphan", back_populates="service"
    )
    place_links = relationship("ServicePlace", cascade="all, delete-orphan")
    aliases = relationship("ServiceAlias", cascade="all, delete-orphan", back_populates="service")
    prerequisite_links = relationship(
        "Prerequisite",
        foreign_keys="Prerequisite.service_id",
        cascade="all, delete-orphan",
        back_populates="service",
    )

    @property
    def places(self) -> list[Place]:
        return [link.place for link in self.place_links]

    @property
    def prerequisites(self) -> list["Service"]:
        return [link.prerequisite for link in self.prerequisite_links]


class Material(Base):
    """An application material (申请材料)."""

    __tablename__ = "materials"

    id = Column(Integer, primary_key=True)
    service_id = Column(ForeignKey("services.id", ondelete="CASCADE"), nullable=False, index=True)
    position = Column(Integer, nullable=False, default=0)
    name = Column(String(500), nullable=False)
    required = Column(Boolean, nullable=False, default=True)
    form = Column(String(20))  # 原件 / 复印件 / 电子 ...
    copies = Column(Integer)
    source = Column(String(300))  # where the applicant gets it
    notes = Column(Text)  # 填报须知
    blank_form_url = Column(String(500))
    sample_url = Column(String(500))

    service = relationship("Service", back_populates="materials")


class ProcessStep(Base):
    """A step of the process (办理流程)."""

    __tablename__ = "process_steps"

    id = Column(Integer, primary_key=True)
    service_id = Column(ForeignKey("services.id", ondelete="CASCADE"), nullable=False, index=True)
    position = Column(Integer, nullable=False, default=0)
    name = Column(String(200), nullable=False)
    description = Column(Text)

    service = relationship("Service", back_populates="steps")


class ServiceAlias(Base):
    """A name people use for a service (俗称), from the catalogue or added by staff."""

    __tablename__ = "service_aliases"
    __table_args__ = (UniqueConstraint("service_id", "alias", name="uq_service_aliases_service_alias"),)

    id = Column(Integer, primary_key=True)
    service_id = Column(ForeignKey("services.id", ondelete="CASCADE"), nullable=False, index=True)
    alias = Column(String(200), nullable=False)
    origin = Column(String(20), nullable=False, default="catalogue")  # catalogue / staff / import
    created_at = Column(DateTime, nullable=False, default=_now)

    service = relationship("Service", back_populates="aliases")


class Prerequisite(Base):
    """A service that must be done before another (审批缝隙: explained up front)."""

    __tablename__ = "service_prerequisites"

    service_id = Column(ForeignKey("services.id", ondelete="CASCADE"), primary_key=True)
    prerequisite_id = Column(ForeignKey("services.id", ondelete="CASCADE"), primary_key=True)
    note = Column(Text)

    service = relationship("Service", foreign_keys=[service_id], back_populates="prerequisite_links")
    prerequisite = relationship("Service", foreign_keys=[prerequisite_id])


class Bundle(Base):
    """A one-thing bundle (一件事一次办) across departments."""

    __tablename__ = "bundles"

    id = Column(Integer, primary_key=True)
    code = Column(String(64), nullable=False, unique=True)
    name = Column(String(200), nullable=False, unique=True)
    description = Column(Text)
    lead_department_id = Column(ForeignKey("departments.id"), nullable=False)
    promised_limit = Column(Integer)
    promised_unit = Column(String(10))
    aliases = Column(JSON, nullable=False, default=list)
    is_sample = Column(Boolean, nullable=False, default=False)

    lead_department = relationship("Department")
    partner_departments = relationship("Department", secondary=bundle_partner_departments)
    members = relationship(
        "BundleMember", order_by="BundleMember.position", cascade="all, delete-orphan", back_populates="bundle"
    )


class BundleMember(Base):
    __tablename__ = "bundle_members"

    bundle_id = Column(ForeignKey("bundles.id", ondelete="CASCADE"), primary_key=True)
    service_id = Column(ForeignKey("services.id", ondelete="CASCADE"), primary_key=True)
    position = Column(Integer, nullable=False, default=0)
    optional = Column(Boolean, nullable=False, default=False)

    bundle = relationship("Bundle", back_populates="members")
    service = relationship("Service")


class CatalogueState(Base):
    """Key/value state of the catalogue: its revision (bumped on every change, so that search
    indexes know when to rebuild) and the fingerprint of the last imported default catalogue."""

    __tablename__ = "catalogue_state"

    key = Column(String(64), primary_key=True)
    value = Column(String(200), nullable=False)
