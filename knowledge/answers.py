"""Answers about a service or bundle, one aspect at a time, in Chinese.

`render_service(service, aspect)` and `render_bundle(bundle, aspect)` return an `Answer`: text
that is complete on its own (for channels that show only text) and a card (structured data the
web widget renders: materials checklist, time limit, fee, where and when, online link).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional

from knowledge.models import Bundle, Service

ASPECTS = (
    "overview",
    "materials",
    "conditions",
    "time_limit",
    "fee",
    "location",
    "process",
    "online",
    "contact",
    "result",
    "prerequisites",
)

ASPECT_LABELS: Dict[str, str] = {
    "overview": "办事指南",
    "materials": "申请材料",
    "conditions": "办理条件",
    "time_limit": "办理时限",
    "fee": "收费标准",
    "location": "办理地点和时间",
    "process": "办理流程",
    "online": "网上办理",
    "contact": "咨询和投诉电话",
    "result": "办理结果",
    "prerequisites": "前置事项",
}

SAMPLE_NOTE = "（示例数据，仅供演示）"


@dataclass
class Answer:
    text: str
    card: dict = field(default_factory=dict)


def _limit(value: Optional[int], unit: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    return f"{value}个{unit or '工作日'}"


def time_limit_text(service: Service) -> str:
    if service.immediate:
        base = "即办件：材料齐全、符合条件的，当场办结。"
        statutory = _limit(service.statutory_limit, service.statutory_unit)
        return base + (f"（法定时限{statutory}）" if statutory else "")
    promised = _limit(service.promised_limit, service.promised_unit)
    statutory = _limit(service.statutory_limit, service.statutory_unit)
    if promised and statutory and promised != statutory:
        return f"承诺办结时限{promised}（法定办结时限{statutory}），自受理之日起计算。"
    if promised or statutory:
        return f"办结时限{promised or statutory}，自受理之日起计算。"
    return "办事指南未注明办结时限，请向窗口咨询。"


def fee_text(service: Service) -> str:
    if service.fee_charged is None:
        return "办事指南未注明收费信息，请以窗口告知为准。"
    if not service.fee_charged:
        text = "不收费。"
    else:
        text = f"{service.fee_standard}"
        text += "" if text.endswith("。") else "。"
    if service.fee_basis:
        text += f"依据：{service.fee_basis}"
        text += "" if text.endswith("。") else "。"
    if service.fee_reduction:
        text += f"减免：{service.fee_reduction}"
        text += "" if text.endswith("。") else "。"
    return text


def _material_line(index: int, material) -> str:
    parts = []
    if material.form:
        parts.append(material.form)
    if material.copies:
        parts.append(f"{material.copies}份")
    if not material.required:
        parts.append("非必须")
    line = f"{index}. {material.name}" + (f"（{'，'.join(parts)}）" if parts else "")
    if material.notes:
        line += f"：{material.notes}"
    return line


def materials_text(service: Service) -> str:
    if not service.materials:
        return "办事指南未列出申请材料，请向窗口咨询。"
    lines = [_material_line(i, m) for i, m in enumerate(service.materials, start=1)]
    return "需要准备以下材料：\n" + "\n".join(lines)


def location_text(service: Service) -> str:
    lines = []
    for link in service.place_links:
        place = link.place
        line = f"· {place.name}"
        if link.window:
            line += f"（{link.window}）"
        if place.address and place.address != place.name:
            line += f"\n  地址：{place.address}"
        if place.opening_hours:
            line += f"\n  时间：{place.opening_hours}"
        lines.append(line)
    text = "办理地点：\n" + "\n".join(lines) if lines else "办事指南未列出线下办理地点。"
    if service.visits_on_site == 0:
        text += "\n本事项可全程网上办理，无需到现场。"
    elif service.visits_on_site:
        text += f"\n需到现场{service.visits_on_site}次。"
    return text


def online_text(service: Service) -> str:
    parts = []
    if service.online_url:
        depth = service.online_depth or "网上办理"
        parts.append(f"{depth}：{service.online_url}")
    else:
        parts.append("本事项暂不支持网上办理。")
    if service.visits_on_site == 0:
        parts.append("无需到现场。")
    elif service.visits_on_site:
        parts.append(f"需到现场{service.visits_on_site}次。")
    if service.appointment:
        parts.append("可网上预约" + (f"：{service.appointment_url}" if service.appointment_url else "。"))
    if service.express_delivery:
        parts.append("办理结果可快递送达。")
    return "\n".join(parts)


def process_text(service: Service) -> str:
    if not service.steps:
        return "办事指南未列出办理流程，请向窗口咨询。"
    lines = [
        f"{i}. {step.name}" + (f"：{step.description}" if step.description else "")
        for i, step in enumerate(service.steps, start=1)
    ]
    text = "办理流程：\n" + "\n".join(lines)
    if service.special_procedures:
        text += f"\n特别程序：{service.special_procedures}"
    return text


def contact_text(service: Service) -> str:
    parts = []
    if service.consult_phone:
        parts.append(f"咨询电话：{service.consult_phone}")
    if service.complaint_phone:
        parts.append(f"监督投诉电话：{service.complaint_phone}")
    return "\n".join(parts) or "办事指南未列出联系电话，可拨打12345政务服务便民热线。"


def prerequisites_text(service: Service) -> str:
    links = service.prerequisite_links
    if not links:
        return "本事项没有需要先办理的前置事项。"
    lines = [
        f"· {link.prerequisite.name}（{link.prerequisite.department.name}）" + (f"：{link.note}" if link.note else "")
        for link in links
    ]
    return "办理本事项前，需要先办好：\n" + "\n".join(lines)


def conditions_text(service: Service) -> str:
    text = service.conditions or "办事指南未列出受理条件，请向窗口咨询。"
    if service.service_objects:
        text = f"服务对象：{'、'.join(service.service_objects)}\n{text}"
    return text


def result_text(service: Service) -> str:
    if service.result_name:
        text = f"办理结果：{service.result_name}"
    else:
        text = "办事指南未注明办理结果名称。"
    if service.express_delivery:
        text += "\n结果可快递送达。"
    return text


def overview_text(service: Service) -> str:
    lines = [f"实施部门：{service.department.name}"]
    lines.append(f"办理时限：{time_limit_text(service)}")
    lines.append(f"收费标准：{fee_text(service)}")
    required = [m.name for m in service.materials if m.required]
    if required:
        shown = "、".join(required[:5]) + ("等" if len(required) > 5 else "")
        lines.append(f"主要材料：{shown}")
    if service.online_url:
        lines.append(f"网上办理：{service.online_url}")
    if service.place_links:
        place = service.place_links[0].place
        lines.append(f"办理地点：{place.name}" + (f"（{place.opening_hours}）" if place.opening_hours else ""))
    if service.prerequisite_links:
        lines.append("前置事项：" + "、".join(link.prerequisite.name for link in service.prerequisite_links))
    return "\n".join(lines)


_RENDERERS = {
    "overview": overview_text,
    "materials": materials_text,
    "conditions": conditions_text,
    "time_limit": time_limit_text,
    "fee": fee_text,
    "location": location_text,
    "process": process_text,
    "online": online_text,
    "contact": contact_text,
    "result": result_text,
    "prerequisites": prerequisites_text,
}


def service_card(service: Service) -> dict:
    """What the widget shows as a card, whatever the aspect."""
    return {
        "title": service.name,
        "department": service.department.name,
        "materials": [
            {"name": m.name, "required": m.required, "form": m.form, "copies": m.copies} for m in service.materials
        ],
        "time_limit": time_limit_text(service),
        "fee": fee_text(service),
        "places": [
            {
                "name": link.place.name,
                "address": link.place.address,
                "opening_hours": link.place.opening_hours,
                "window": link.window,
            }
            for link in service.place_links
        ],
        "online_url": service.online_url,
        "visits_on_site": service.visits_on_site,
        "consult_phone": service.consult_phone,
        "sample": bool(service.is_sample),
    }


def render_service(service: Service, aspect: str = "overview") -> Answer:
    if aspect not in _RENDERERS:
        aspect = "overview"
    heading = f"【{service.name}】{ASPECT_LABELS[aspect]}"
    if service.is_sample:
        heading += SAMPLE_NOTE
    return Answer(text=f"{heading}\n{_RENDERERS[aspect](service)}", card=service_card(service))


def render_bundle(bundle: Bundle, aspect: str = "overview") -> Answer:
    members = [m.service for m in bundle.members]
    departments = []
    for service in members:
        if service.department.name not in departments:
            departments.append(service.department.name)
    heading = f"【{bundle.name}】"
    if bundle.is_sample:
        heading += SAMPLE_NOTE
    promised = _limit(bundle.promised_limit, bundle.promised_unit)
    if aspect == "materials":
        seen, lines = set(), []
        for service in members:
            for material in service.materials:
                if material.required and material.name not in seen:
                    seen.add(material.name)
                    lines.append(f"{len(lines) + 1}. {material.name}（{service.name}）")
        body = "一套材料，一次提交：\n" + "\n".join(lines)
    elif aspect == "time_limit":
        body = f"各部门并联办理，承诺{promised}内全部办结。" if promised else "各部门并联办理，时限以各事项为准。"
    elif aspect == "location":
        lead = bundle.lead_department
        body = f"由牵头部门{lead.name}一窗受理" + (f"，地址：{lead.address}" if lead.address else "") + "。"
    else:
        lines = [
            f"{i}. {m.service.name}（{m.service.department.name}）" + ("，可选" if m.optional else "")
            for i, m in enumerate(bundle.members, start=1)
        ]
        body = (
            (bundle.description or "")
            + f"\n牵头部门：{bundle.lead_department.name}；配合部门：{'、'.join(d for d in departments if d != bundle.lead_department.name)}"
            + (f"\n承诺时限：{promised}" if promised else "")
            + "\n一次申请即可同时办理：\n"
            + "\n".join(lines)
        )
        aspect = "overview"
    card = {
        "title": bundle.name,
        "department": bundle.lead_department.name,
        "members": [{"code": m.service.code, "name": m.service.name, "department": m.service.department.name} for m in bundle.members],
        "time_limit": f"承诺{promised}内办结" if promised else None,
        "sample": bool(bundle.is_sample),
    }
    return Answer(text=f"{heading}{ASPECT_LABELS.get(aspect, '')}\n{body}", card=card)
