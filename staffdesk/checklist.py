"""The printable checklist (办事材料清单) a clerk hands to a citizen: one A4 page per service.

`render_checklist(service, printed_on=..., clerk=...)` returns a whole HTML page, every catalogue
value escaped. The page is laid out for one A4 sheet: a long list of materials switches to smaller
type, then to two columns, and long texts (conditions, notes) are cut to a summary; a small script
on the page shrinks the type further if the content still does not fit (a measured safety net).
Texts of time limit and fee are the bot's own (knowledge.answers), so the paper says what the bot
says.
"""
from __future__ import annotations

from datetime import date
from html import escape
from typing import Iterable, List, Optional

from knowledge.answers import fee_text, time_limit_text
from knowledge.models import Service

TITLE = "办事材料清单"
SAMPLE_NOTICE = "示例数据：本清单由演示用的示例目录生成，事项内容仅供演示，不作为正式办事依据。"
TERSE_NOTE = "材料较多，本页从略了材料说明和受理条件，详见办事指南。"
ADVICE = "本清单根据办事指南生成，请以受理窗口的一次性告知为准；材料齐全可在上方方框内打勾。"

# Densities, most readable first. A material's rows are the lines its name or its note takes in the
# normal table; the normal table takes up to NORMAL_ROWS of them, the compact one COMPACT_ROWS,
# longer lists go in two columns (each note cut shorter, under its material's name).
NORMAL, COMPACT, COLUMNS = "normal", "compact", "columns"
NORMAL_ROWS, COMPACT_ROWS = 20, 30
_NAME_CHARS, _NOTE_CHARS = 15, 20  # characters per line in the normal table's name and note columns
_WIDE_NAME_CHARS = 34  # in the name column when no material has a note (no note column)
_CONDITIONS_CHARS = {NORMAL: 200, COMPACT: 130, COLUMNS: 90}
_NOTES_CHARS = {NORMAL: 120, COMPACT: 70, COLUMNS: 44}
_PLACES_SHOWN = {NORMAL: 3, COMPACT: 2, COLUMNS: 2}


def _e(value) -> str:
    return escape(str(value), quote=True)


def brief(text: Optional[str], limit: int) -> str:
    """The text whole when it fits `limit` characters, else cut at the last sentence end (or
    clause end) inside the limit, with an ellipsis."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    head = text[:limit]
    for stops in ("。；;！？", "，,、"):
        cut = max(head.rfind(s) for s in stops)
        if cut >= limit // 2:
            return head[: cut + 1].rstrip("，,、") + "……"
    return head + "……"


def density(service: Service) -> str:
    """How tightly the page is set: the normal table while the materials fit it, then smaller
    type, then two columns."""
    notes = [_material_note(m, _NOTES_CHARS[NORMAL]) for m in service.materials]
    name_chars = _NAME_CHARS if any(notes) else _WIDE_NAME_CHARS
    rows = sum(max(1, -(-len(m.name) // name_chars), -(-len(note) // _NOTE_CHARS))
               for m, note in zip(service.materials, notes))
    if rows <= NORMAL_ROWS:
        return NORMAL
    return COMPACT if rows <= COMPACT_ROWS else COLUMNS


def _safe_url(url: Optional[str]) -> Optional[str]:
    url = (url or "").strip()
    return url if url.lower().startswith(("http://", "https://")) else None


def _link(url: Optional[str]) -> str:
    safe = _safe_url(url)
    if safe is None:
        return _e(url or "")
    return f'<a href="{_e(safe)}">{_e(safe)}</a>'


def _fact(label: str, value_html: str, wide: bool = False) -> str:
    return f'<div class="fact{" fact--wide" if wide else ""}"><dt>{_e(label)}</dt><dd>{value_html}</dd></div>'


def _material_note(material, limit: int) -> str:
    note = brief(material.notes, limit)
    if material.source:
        if note and note[-1] not in "。；;！？…":
            note += "。"
        note += "来源：" + brief(material.source, limit)
    return note


def _material_rows(materials: Iterable, start: int, limit: int, notes_column: bool) -> str:
    rows = []
    for index, material in enumerate(materials, start=start):
        note = _material_note(material, limit)
        name = _e(material.name)
        if not notes_column and note:
            name += f'<span class="m-note">{_e(note)}</span>'
        required = "必须" if material.required else "非必须"
        cells = [
            '<td class="c-box"><span class="box" aria-hidden="true"></span></td>',
            f'<td class="c-no">{index}</td>',
            f'<td class="c-name">{name}</td>',
            f'<td class="c-form">{_e(material.form or "—")}</td>',
            f'<td class="c-copies">{_e(f"{material.copies}份" if material.copies else "—")}</td>',
            f'<td class="c-req{"" if material.required else " is-optional"}">{required}</td>',
        ]
        if notes_column:
            cells.append(f'<td class="c-note">{_e(note) or "—"}</td>')
        rows.append(f'<tr>{"".join(cells)}</tr>')
    return "".join(rows)


def _materials_table(materials: List, start: int, limit: int, notes_column: bool) -> str:
    head = ["<th class=\"c-box\"><span class=\"sr\">已备齐</span></th>", "<th class=\"c-no\">序号</th>",
            "<th class=\"c-name\">材料名称</th>", "<th class=\"c-form\">形式</th>",
            "<th class=\"c-copies\">份数</th>", f"<th class=\"c-req\">{'是否必须' if notes_column else '必须'}</th>"]
    if notes_column:
        head.append("<th class=\"c-note\">说明及来源</th>")
    return (f'<table class="materials{" with-notes" if notes_column else ""}"><thead><tr>{"".join(head)}</tr></thead>'
            f"<tbody>{_material_rows(materials, start, limit, notes_column)}</tbody></table>")


def _materials(service: Service, mode: str) -> str:
    materials = list(service.materials)
    required = sum(1 for m in materials if m.required)
    heading = f"申请材料（共{len(materials)}项，其中必须{required}项）" if materials else "申请材料"
    if not materials:
        body = '<p class="none">办事指南未列出申请材料，请向窗口咨询。</p>'
    elif mode == COLUMNS:
        half = (len(materials) + 1) // 2
        body = ('<div class="two-columns">'
                + _materials_table(materials[:half], 1, _NOTES_CHARS[mode], notes_column=False)
                + _materials_table(materials[half:], half + 1, _NOTES_CHARS[mode], notes_column=False)
                + "</div>")
    else:
        notes = any(m.notes or m.source for m in materials)
        body = _materials_table(materials, 1, _NOTES_CHARS[mode], notes_column=notes)
    return f'<section class="block block--materials"><h2>{_e(heading)}</h2>{body}</section>'


def _visits(service: Service) -> Optional[str]:
    if service.visits_on_site is None:
        return None
    if service.visits_on_site == 0:
        return "0次（可全程网上办理）"
    return f"{service.visits_on_site}次"


def _places(service: Service, mode: str) -> str:
    links = list(service.place_links)
    if not links:
        return ('<section class="block"><h2>办理地点和时间</h2>'
                '<p class="none">办事指南未列出线下办理地点，请向窗口咨询。</p></section>')
    shown = links[: _PLACES_SHOWN[mode]]
    items = []
    for link in shown:
        place = link.place
        line = f"<strong>{_e(place.name)}</strong>"
        if link.window:
            line += f"（{_e(link.window)}）"
        details = []
        if place.address and place.address != place.name:
            details.append(f"地址：{_e(place.address)}")
        if place.opening_hours:
            details.append(f"时间：{_e(place.opening_hours)}")
        if place.phone:
            details.append(f"电话：{_e(place.phone)}")
        if details:
            line += '<span class="place-details">' + "；".join(details) + "</span>"
        items.append(f"<li>{line}</li>")
    more = len(links) - len(shown)
    if more:
        items.append(f'<li class="more">另有{more}处办理地点，详见办事指南。</li>')
    return f'<section class="block"><h2>办理地点和时间</h2><ul class="places">{"".join(items)}</ul></section>'


def _online(service: Service) -> str:
    lines = []
    url = _safe_url(service.online_url) or (service.online_url or "").strip()
    if url:
        depth = service.online_depth or "网上办理"
        lines.append(f"{_e(depth)}：{_link(url)}")
    else:
        lines.append("本事项暂不支持网上办理。")
    extras = []
    if service.appointment:
        extras.append("可网上预约" + (f"：{_link(service.appointment_url)}" if service.appointment_url else ""))
    if service.express_delivery:
        extras.append("办理结果可快递送达")
    if extras:
        lines.append("；".join(extras) + "。")
    return '<section class="block"><h2>网上办理</h2><p>' + "<br>".join(lines) + "</p></section>"


def _footer(service: Service) -> str:
    parts = []
    if service.prerequisite_links:
        names = "、".join(f"{_e(link.prerequisite.name)}（{_e(link.prerequisite.department.name)}）"
                         for link in service.prerequisite_links)
        parts.append(f"<p><strong>需先办好：</strong>{names}</p>")
    facts = []
    if service.result_name:
        facts.append(f"<strong>办理结果：</strong>{_e(service.result_name)}")
    if service.complaint_phone:
        facts.append(f"<strong>监督投诉电话：</strong>{_e(service.complaint_phone)}")
    if facts:
        parts.append("<p>" + "　".join(facts) + "</p>")
    parts.append(f'<p class="terse-note">{_e(TERSE_NOTE)}</p>')
    parts.append(f'<p class="advice">{_e(ADVICE)}</p>')
    return '<footer class="foot">' + "".join(parts) + "</footer>"


def render_checklist(service: Service, printed_on: date, clerk: Optional[str] = None) -> str:
    """The whole checklist page of one service (its guide loaded: knowledge.repository.get_service)."""
    mode = density(service)
    department = _e(service.department.name)
    if service.co_departments:
        department += "；联办：" + "、".join(_e(d.name) for d in service.co_departments)
    printed = f"打印日期：{printed_on.year}年{printed_on.month}月{printed_on.day}日"
    if clerk:
        printed += f"　经办：{_e(clerk)}"
    facts = [
        _fact("办理时限", _e(time_limit_text(service)), wide=True),
        _fact("收费", _e(fee_text(service)), wide=True),
    ]
    visits = _visits(service)
    if visits:
        facts.append(_fact("到现场次数", _e(visits)))
    facts.append(_fact("咨询电话", _e(service.consult_phone or "12345（政务服务便民热线）")))
    conditions = ""
    if service.conditions:
        text = brief(service.conditions, _CONDITIONS_CHARS[mode])
        label = "受理条件" if text == " ".join(service.conditions.split()) else "受理条件（摘要，详见办事指南）"
        conditions = f'<section class="block block--conditions"><h2>{_e(label)}</h2><p>{_e(text)}</p></section>'
    sample = f'<p class="sample" role="note">{_e(SAMPLE_NOTICE)}</p>' if service.is_sample else ""
    title = f"{TITLE} · {service.name}"
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{_e(title)}</title>
<style>{CSS}</style>
</head>
<body class="density-{mode}">
<div class="toolbar no-print">
  <button type="button" id="print">打印本清单</button>
  <span>A4纸，一页。打印时请选择“无页眉页脚”。</span>
</div>
<div class="paper">
<main class="sheet" id="sheet" data-density="{mode}">
  <header class="head">
    <div class="title-row"><h1>{TITLE}</h1><p class="printed">{printed}</p></div>
    <p class="service"><span class="service-name">{_e(service.name)}</span>
      <span class="code">事项编码：{_e(service.code)}</span></p>
    <p class="dept">实施部门：{department}</p>
  </header>
  {sample}
  <dl class="facts">{"".join(facts)}</dl>
  {_materials(service, mode)}
  {conditions}
  {_places(service, mode)}
  {_online(service)}
  {_footer(service)}
</main>
</div>
<script>{FIT_SCRIPT}</script>
</body>
</html>
"""


# The page's own script: the print button, and making the sheet fit one A4 page (297 mm less the
# margins): smaller type down to 7 pt; if that is not enough, material notes and conditions are
# left out (the page says so) and the type goes from its size down to 5.5 pt; past that the whole
# sheet is scaled down. The sheet has the same width on screen as on paper, so its height on
# screen is its height in print.
FIT_SCRIPT = """
(function () {
  var sheet = document.getElementById("sheet");
  var body = document.body;
  var pt = 96 / 72, mm = 96 / 25.4;
  var room = (297 - 2 * 11 - 4) * mm;
  var size, steps;
  function height() { return sheet.getBoundingClientRect().height; }
  function shrinkTo(floor) {
    while (height() > room && size - 0.25 >= floor) {
      size -= 0.25;
      steps += 1;
      sheet.style.fontSize = size + "px";
    }
  }
  function start() {
    sheet.style.fontSize = "";
    size = parseFloat(getComputedStyle(sheet).fontSize);
  }
  function fit() {
    body.classList.remove("terse");
    sheet.style.zoom = "";
    steps = 0;
    start();
    shrinkTo(7 * pt);
    var state = steps ? "shrunk" : "as-is";
    if (height() > room) {
      body.classList.add("terse");
      state = "terse";
      start();
      shrinkTo(5.5 * pt);
    }
    for (var i = 0; i < 5 && height() > room; i++) {
      sheet.style.zoom = String((parseFloat(sheet.style.zoom) || 1) * room / height() * 0.99);
      state = "scaled";
    }
    body.setAttribute("data-fit", state);
  }
  fit();
  window.addEventListener("load", fit);
  document.getElementById("print").addEventListener("click", function () { window.print(); });
})();
"""

CSS = """
@page { size: A4; margin: 11mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; color: #111; background: #e9edf1;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; }
.toolbar { display: flex; gap: 1rem; align-items: center; justify-content: center; padding: .6rem;
  font-size: 14px; color: #444; }
.toolbar button { font: inherit; padding: .4rem 1.2rem; border-radius: 6px; border: 1px solid #0b5cad;
  background: #0b5cad; color: #fff; cursor: pointer; }
.paper { width: 210mm; margin: 0 auto 1.5rem; padding: 11mm; background: #fff; box-shadow: 0 2px 12px rgba(0,0,0,.18); }
.sheet { width: 188mm; font-size: 10pt; line-height: 1.42; }
.density-compact .sheet { font-size: 9pt; line-height: 1.36; }
.density-columns .sheet { font-size: 8.4pt; line-height: 1.32; }
h1 { font-size: 1.75em; margin: 0; letter-spacing: .25em; }
h2 { font-size: 1.05em; margin: .7em 0 .3em; padding-left: .4em; border-left: .25em solid #b3261e; }
p { margin: .2em 0; }
.title-row { display: flex; justify-content: space-between; align-items: flex-end; border-bottom: 2px solid #111; padding-bottom: .25em; }
.printed { font-size: .9em; color: #333; }
.service { margin-top: .4em; }
.service-name { font-size: 1.3em; font-weight: 700; margin-right: .8em; }
.code, .dept { color: #333; }
.code { font-size: .9em; white-space: nowrap; }
.sample { border: 1px dashed #a61b1b; color: #a61b1b; padding: .2em .5em; margin: .4em 0; font-weight: 600; }
.facts { display: grid; grid-template-columns: 1fr 1fr; gap: .15em 1.2em; margin: .5em 0 0; padding: .4em .6em; background: #f3f5f7; border-radius: 4px; }
.fact { display: flex; gap: .5em; }
.fact--wide { grid-column: 1 / -1; }
.fact dt { font-weight: 700; white-space: nowrap; min-width: 5.2em; }
.fact dd { margin: 0; }
table.materials { width: 100%; border-collapse: collapse; table-layout: fixed; }
.materials th, .materials td { border: 1px solid #777; padding: .22em .35em; vertical-align: top; text-align: left; word-break: break-word; }
.materials th { background: #eceff2; font-weight: 700; }
.c-box { width: 2.1em; text-align: center !important; }
.c-no { width: 3em; text-align: center !important; }
.c-form { width: 6.3em; }
.c-copies { width: 3.3em; }
.c-req { width: 4.9em; }
.is-optional { color: #555; }
td.c-note, .m-note { font-size: .88em; color: #333; }
.m-note { display: block; }
.with-notes .c-name { width: 31%; }
.box { display: inline-block; width: 1.05em; height: 1.05em; border: 1.5px solid #111; border-radius: 2px; vertical-align: -0.15em; }
.two-columns { display: grid; grid-template-columns: 1fr 1fr; gap: 0 1em; align-items: start; }
.two-columns .c-form { width: 6.9em; }
.two-columns .c-req { width: 3.9em; }
.two-columns .c-copies { width: 3.2em; }
.two-columns .c-no { width: 3em; }
.places { margin: 0; padding-left: 1.2em; }
.places li { margin: .1em 0; }
.place-details { display: block; color: #333; }
.more, .none { color: #444; }
.foot { margin-top: .6em; border-top: 1px solid #999; padding-top: .3em; font-size: .95em; }
.advice { color: #444; font-size: .9em; }
a { color: #0b3d91; word-break: break-all; }
.terse-note { display: none; }
.terse .terse-note { display: block; color: #444; }
.terse .c-note, .terse .m-note, .terse .block--conditions { display: none; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media print {
  body { background: #fff; }
  .no-print { display: none !important; }
  .paper { width: auto; margin: 0; padding: 0; box-shadow: none; }
  a { color: #111; text-decoration: none; }
  tr, li, .fact { break-inside: avoid; }
}
"""
