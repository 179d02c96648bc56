// 事项查询: search the catalogue as you type (the bot's own search), read a service's full guide,
// print the citizen's one-page checklist, and browse the one-thing bundles (一件事).
//
// Routes: #/lookup (search), #/lookup/<code> (a guide), #/lookup/bundles,
// #/lookup/bundles/<bundle code>[/<member code>]. Moving inside the section updates the address
// with history.pushState (no reload of the section, the search box keeps its text and focus);
// Back and Forward go through the shell's router, and the section is drawn again from `state`.
import { api, clear, debounce, el, showError } from "./ui.js";

const API = "/api/v1/staff/lookup";
const CSS = "/staff/static/lookup.css";
const DEBOUNCE_MS = 120;
const LIMIT = 12;

// Kept while the page lives, so that coming back to the section shows what was there (the query
// also survives a reload of the tab).
const QUERY_KEY = "onewindow.lookup.query";
const state = { query: readQuery(), results: null, seq: 0 };

function readQuery() {
  try { return sessionStorage.getItem(QUERY_KEY) || ""; } catch (err) { return ""; }
}

function keepQuery(query) {
  try { sessionStorage.setItem(QUERY_KEY, query); } catch (err) { /* private mode: memory only */ }
}

function ensureCss() {
  if (!document.querySelector(`link[href="${CSS}"]`)) {
    document.head.append(el("link", { rel: "stylesheet", href: CSS }));
  }
}

function hrefOf(...parts) {
  return "#/" + ["lookup", ...parts].map(encodeURIComponent).join("/");
}

// A link that moves inside the section without redrawing it (ordinary link for new tabs).
function innerLink(text, parts, onFollow, props = {}) {
  return el("a", Object.assign({ href: hrefOf(...parts), onclick: (event) => {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    history.pushState(null, "", hrefOf(...parts));
    onFollow();
  } }, props), [text]);
}

function safeUrl(url) {
  return typeof url === "string" && /^https?:\/\//i.test(url.trim()) ? url.trim() : null;
}

function externalLink(url, text) {
  const safe = safeUrl(url);
  if (!safe) return document.createTextNode(url || "");
  return el("a", { href: safe, target: "_blank", rel: "noopener noreferrer", text: text || safe });
}

function limitText(limit) {
  return limit ? `${limit.value}个${limit.unit}` : null;
}

export async function render(root, ctx) {
  ensureCss();
  const [first, second, third] = ctx.params;
  const onBundles = first === "bundles";
  root.append(el("nav", { className: "lk-tabs", "aria-label": "查询方式" }, [
    el("a", { href: "#/lookup", className: "lk-tab" + (onBundles ? "" : " is-active"),
      "aria-current": onBundles ? undefined : "page", text: "查事项" }),
    el("a", { href: "#/lookup/bundles", className: "lk-tab" + (onBundles ? " is-active" : ""),
      "aria-current": onBundles ? "page" : undefined, text: "一件事" }),
  ]));
  if (onBundles) await renderBundles(root, ctx, second, third);
  else renderSearch(root, ctx, first);
}

// -- search ------------------------------------------------------------------------------------------
function renderSearch(root, ctx, code) {
  const input = el("input", {
    type: "search", id: "lk-query", className: "lk-query", autocomplete: "off", spellcheck: false, maxLength: 200,
    placeholder: "事项名称或群众的说法，如：个体户、驾照到期、生孩子要办的证",
    role: "combobox", "aria-autocomplete": "list", "aria-controls": "lk-results", "aria-expanded": "false",
  });
  const status = el("p", { className: "lk-status muted", "aria-live": "polite" });
  const notice = el("p", { className: "lk-notice", hidden: true });
  const list = el("ul", { id: "lk-results", className: "list lk-results", role: "listbox", "aria-label": "查询结果" });
  const guide = el("div", { className: "lk-guide card", tabIndex: -1 });
  root.append(el("div", { className: "layout-2 lk-layout" }, [
    el("div", { className: "lk-side card" }, [
      el("label", { for: "lk-query", text: "查询事项" }), input,
      el("p", { className: "lk-hint muted", text: "边输入边查询；↑ ↓ 选择，回车打开。与智能助手使用同一套检索。" }),
      status, notice, list,
    ]),
    guide,
  ]));

  let active = -1;
  let current = code; // the service whose guide is shown
  let lastRun = null; // the query of the latest search sent
  let openFirst = false; // Enter pressed before the results arrived

  function options() { return [...list.querySelectorAll(".lk-option")]; }

  function setActive(index) {
    const items = options();
    if (!items.length) return;
    active = Math.max(0, Math.min(index, items.length - 1));
    items.forEach((item, i) => {
      item.classList.toggle("is-active", i === active);
      item.setAttribute("aria-selected", i === active ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", items[active].id);
    items[active].scrollIntoView({ block: "nearest" });
  }

  function open(hit) {
    if (hit.kind === "bundle") {
      ctx.navigate("lookup", "bundles", hit.code);
      return;
    }
    history.pushState(null, "", hrefOf(hit.code));
    current = hit.code;
    markCurrent();
    showGuide(guide, hit.code, ctx);
  }

  function markCurrent() {
    for (const item of options()) item.classList.toggle("is-current", item.dataset.code === current);
  }

  function drawResults(data) {
    const wanted = openFirst;
    openFirst = false;
    clear(list);
    active = -1;
    input.removeAttribute("aria-activedescendant");
    if (!data) {
      status.textContent = "";
      notice.hidden = true;
      input.setAttribute("aria-expanded", "false");
      return;
    }
    notice.hidden = !data.notice;
    notice.textContent = data.notice || "";
    if (!data.results.length) {
      status.textContent = `没有找到与“${data.query}”相关的事项，换个说法试试。`;
      input.setAttribute("aria-expanded", "false");
      return;
    }
    status.textContent = `找到${data.results.length}项`;
    const grouped = new Set((data.variants_of ? data.variants_of.options : []).map((h) => h.code));
    data.results.forEach((hit, i) => {
      const bundle = hit.kind === "bundle";
      const item = el("li", {
        id: `lk-option-${i}`, role: "option", "aria-selected": "false",
        className: "lk-option" + (grouped.has(hit.code) ? " is-variant" : ""), dataset: { code: hit.code },
      }, [
        el("a", { className: "list-item", href: bundle ? hrefOf("bundles", hit.code) : hrefOf(hit.code), tabIndex: -1,
          onclick: (event) => {
            if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
            event.preventDefault();
            setActive(i);
            open(hit);
          } }, [
          el("span", { className: "lk-hit-name" }, [bundle ? el("span", { className: "badge lk-badge-bundle", text: "一件事" }) : null, hit.name]),
          el("span", { className: "lk-hit-dept", text: hit.department }),
          hit.note && !bundle ? el("span", { className: "lk-hit-note", text: hit.note }) : null,
        ]),
      ]);
      list.append(item);
    });
    input.setAttribute("aria-expanded", "true");
    markCurrent();
    if (wanted) {
      setActive(0);
      open(data.results[0]);
    }
  }

  async function run(query) {
    const seq = ++state.seq;
    lastRun = query;
    state.query = query;
    keepQuery(query);
    if (!query) {
      state.results = null;
      drawResults(null);
      return;
    }
    try {
      const data = await api("GET", `${API}/search?q=${encodeURIComponent(query)}&limit=${LIMIT}`);
      if (seq !== state.seq || ctx.signal.aborted) return; // a later keystroke has its own answer
      state.results = data;
      drawResults(data);
    } catch (err) {
      if (seq !== state.seq || ctx.signal.aborted) return;
      openFirst = false;
      lastRun = null; // the same text may be tried again
      status.textContent = err.message;
    }
  }

  // A search per pause in typing; none when that text was searched already (Enter, or typed back).
  const later = debounce((query) => { if (query !== lastRun) run(query); }, DEBOUNCE_MS);
  let composing = false;
  input.addEventListener("compositionstart", () => { composing = true; });
  input.addEventListener("compositionend", () => { composing = false; later(input.value.trim()); });
  input.addEventListener("input", (event) => {
    if (composing || event.isComposing) return; // wait for the IME to commit the characters
    later(input.value.trim());
  });
  input.addEventListener("keydown", (event) => {
    if (event.isComposing) return;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      setActive(active + 1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      setActive(active - 1);
    } else if (event.key === "Enter") {
      event.preventDefault();
      const query = input.value.trim();
      if (!query) return;
      if (state.results && state.results.query === query && state.query === query) {
        const hits = state.results.results;
        if (!hits.length) return;
        const index = active >= 0 ? active : 0;
        setActive(index);
        open(hits[index]);
      } else {
        openFirst = true;
        run(query);
      }
    } else if (event.key === "Escape" && input.value) {
      event.preventDefault();
      input.value = "";
      run("");
    }
  });

  // Drawn again (Back, Forward, coming back to the section): what was there before.
  input.value = state.query;
  if (state.results && state.results.query === state.query) drawResults(state.results);
  else if (state.query) run(state.query);
  if (code) showGuide(guide, code, ctx);
  else guide.replaceChildren(emptyGuide());
  input.focus({ preventScroll: true });
}

function emptyGuide() {
  return el("div", { className: "empty lk-empty" }, [
    el("p", { text: "在左侧输入事项名称或群众的说法，选择事项后这里显示完整的办事指南。" }),
    el("p", { text: "可以打印给群众的一页办事材料清单；“一件事”页列出跨部门一次办理的事项组合。" }),
  ]);
}

// -- the guide ---------------------------------------------------------------------------------------
let guideSeq = 0;

async function showGuide(container, code, ctx, context) {
  const seq = ++guideSeq;
  container.setAttribute("aria-busy", "true");
  try {
    const guide = await api("GET", `${API}/services/${encodeURIComponent(code)}`);
    if (seq !== guideSeq || ctx.signal.aborted) return;
    container.replaceChildren(...guideView(guide, ctx, container, context));
    document.title = `${guide.name} · 事项查询 · 一窗通办 · 工作台`;
  } catch (err) {
    if (seq !== guideSeq || ctx.signal.aborted) return;
    showError(container, err);
  } finally {
    if (seq === guideSeq) container.removeAttribute("aria-busy");
  }
}

function section(id, title, children) {
  const body = [].concat(children).filter((c) => c !== null && c !== undefined && c !== false);
  if (!body.length) return null;
  return el("section", { className: "lk-section", id: `lk-${id}`, "aria-labelledby": `lk-${id}-title` }, [
    el("h3", { id: `lk-${id}-title`, text: title }), ...body,
  ]);
}

function para(text, className) {
  return text ? el("p", { className: "lk-text" + (className ? " " + className : ""), text }) : null;
}

function line(label, value) {
  if (value === null || value === undefined || value === "") return null;
  return el("p", { className: "lk-line" }, [el("span", { className: "lk-label", text: label + "：" }), value]);
}

function materialsTable(materials) {
  if (!materials.length) return para("办事指南未列出申请材料，请向部门咨询。", "muted");
  return el("table", { className: "lk-materials lk-materials--guide" }, [
    el("thead", {}, [el("tr", {}, ["", "材料名称", "形式", "份数", "是否必须", "来源", "填报说明"].map((h) => el("th", { text: h })))]),
    el("tbody", {}, materials.map((m, i) => el("tr", { className: m.required ? "" : "is-optional" }, [
      el("td", { className: "lk-num", text: String(i + 1) }),
      el("td", {}, [m.name,
        safeUrl(m.blank_form_url) ? el("span", { className: "lk-file" }, [externalLink(m.blank_form_url, "空白表格")]) : null,
        safeUrl(m.sample_url) ? el("span", { className: "lk-file" }, [externalLink(m.sample_url, "示例样表")]) : null]),
      el("td", { text: m.form || "—" }),
      el("td", { text: m.copies ? `${m.copies}份` : "—" }),
      el("td", {}, [el("span", { className: "badge " + (m.required ? "lk-required" : ""), text: m.required ? "必须" : "非必须" })]),
      el("td", { text: m.source || "—" }),
      el("td", { text: m.notes || "—" }),
    ]))),
  ]);
}

function timeLimit(guide) {
  const t = guide.time_limit;
  const lines = [];
  if (t.immediate) lines.push(el("p", { className: "lk-line" }, [el("span", { className: "badge badge--green", text: "即办件" }), " 材料齐全、符合条件的当场办结"]));
  lines.push(line("承诺办结时限", limitText(t.promised)));
  lines.push(line("法定办结时限", limitText(t.statutory)));
  if (!t.immediate && !t.promised && !t.statutory) lines.push(para("办事指南未注明办结时限，请向部门咨询。", "muted"));
  return lines;
}

function fee(guide) {
  const f = guide.fee;
  if (f.charged === null || f.charged === undefined) {
    return [para("办事指南未注明收费信息。", "muted"), line("收费依据", f.basis)];
  }
  return [
    line("是否收费", f.charged ? "收费" : "不收费"),
    f.charged ? line("收费标准", f.standard) : null,
    line("收费依据", f.basis),
    line("减免政策", f.reduction),
  ];
}

function places(guide) {
  const out = guide.places.map((p) => el("li", { className: "lk-place" }, [
    el("strong", { text: p.name }), p.window ? `（${p.window}）` : "",
    p.address && p.address !== p.name ? line("地址", p.address) : null,
    line("办公时间", p.opening_hours),
    line("电话", p.phone),
    line("交通", p.transport),
  ]));
  const visits = guide.online.visits_on_site;
  return [
    out.length ? el("ul", { className: "lk-places" }, out) : para("办事指南未列出线下办理地点。", "muted"),
    visits === 0 ? line("到现场次数", "0次（可全程网上办理）") : visits ? line("到现场次数", `${visits}次`) : null,
  ];
}

function online(guide) {
  const o = guide.online;
  return [
    o.url ? line(o.depth || "网上办理", externalLink(o.url)) : para("本事项暂不支持网上办理。", "muted"),
    o.appointment ? line("预约", o.appointment_url ? externalLink(o.appointment_url) : "可预约办理") : null,
    o.express_delivery ? line("结果送达", "可快递送达") : null,
  ];
}

function guideView(guide, ctx, container, context) {
  const sample = guide.is_sample ? el("span", { className: "badge lk-sample", title: "示例目录中的演示内容，不是正式办事指南", text: "示例数据" }) : null;
  const meta = [guide.type, guide.level, guide.time_limit.immediate ? "即办件" : null,
    guide.online.visits_on_site === 0 ? "全程网办" : null].filter(Boolean);
  const parts = [];
  if (context) parts.push(context);
  parts.push(el("header", { className: "lk-guide-head" }, [
    el("div", { className: "lk-title-row" }, [
      el("h2", { className: "lk-title", text: guide.name }),
      el("a", { className: "lk-print", href: guide.checklist_url, target: "_blank", rel: "noopener",
        title: "在新标签页打开一页A4的办事材料清单，打印给群众", text: "打印清单" }),
    ]),
    el("p", { className: "lk-meta" }, [
      el("span", { text: `事项编码 ${guide.code}` }),
      guide.basic_code ? el("span", { text: `基本编码 ${guide.basic_code}` }) : null,
      ...meta.map((m) => el("span", { className: "badge", text: m })), sample,
    ]),
    line("实施部门", guide.department.name + (guide.department.short_name ? `（${guide.department.short_name}）` : "")),
    guide.parent ? line("所属事项", `${guide.parent.name}${guide.variant ? "：本项为“" + guide.variant + "”情形" : ""}`) : (guide.variant ? line("办理情形", guide.variant) : null),
    guide.bundles.length ? el("p", { className: "lk-line" }, [el("span", { className: "lk-label", text: "所属一件事：" }),
      ...guide.bundles.flatMap((b, i) => [i ? "、" : "", el("a", { href: hrefOf("bundles", b.code), text: b.name })])]) : null,
  ]));

  const sections = [
    section("materials", `申请材料（${guide.materials.length}项）`, materialsTable(guide.materials)),
    section("conditions", "受理条件", [line("服务对象", guide.service_objects.join("、")),
      para(guide.conditions) || para("办事指南未列出受理条件。", "muted")]),
    section("time", "办理时限", timeLimit(guide)),
    section("fee", "收费", fee(guide)),
    section("places", "地点和时间", places(guide)),
    section("process", "办理流程", [
      guide.process.length ? el("ol", { className: "lk-steps" }, guide.process.map((s) => el("li", {}, [
        el("strong", { text: s.name }), s.description ? el("span", { className: "lk-step-text", text: s.description }) : null]))) :
        para("办事指南未列出办理流程。", "muted"),
      line("特别程序", guide.special_procedures)]),
    section("online", "网上办理", online(guide)),
    section("contact", "咨询电话", [line("咨询电话", guide.consult_phone || "12345（政务服务便民热线）"),
      line("监督投诉电话", guide.complaint_phone)]),
    section("result", "办理结果", [para(guide.result) || para("办事指南未注明办理结果名称。", "muted")]),
    section("basis", "设定依据", [para(guide.legal_basis) || para("办事指南未列出设定依据。", "muted")]),
    section("prerequisites", "前置事项", guide.prerequisites.length ? el("ul", { className: "lk-prereqs" }, guide.prerequisites.map((p) =>
      el("li", {}, [el("a", { href: hrefOf(p.code), text: p.name }), `（${p.department}）`, p.note ? `：${p.note}` : ""]))) :
      para("没有需要先办理的前置事项。", "muted")),
    section("co", "联办部门", [
      guide.co_departments.length ? line("联办部门", guide.co_departments.map((d) => d.name).join("、")) : null,
      line("分工", guide.co_handling_note), line("受委托部门", guide.entrusted_department)]),
    section("faqs", "常见问题", guide.faqs.map((f) => el("details", { className: "lk-faq" }, [
      el("summary", { text: f.question }), el("p", { className: "lk-text", text: f.answer })]))),
    section("aliases", "群众常用说法", guide.aliases.length || guide.themes.length ? [
      line("别名", guide.aliases.join("、")), line("主题", guide.themes.join("、"))] : []),
    guide.guide_url ? section("source", "办事指南原文", [para(null), line("网址", externalLink(guide.guide_url))]) : null,
  ].filter(Boolean);

  parts.push(el("nav", { className: "lk-toc", "aria-label": "指南目录" }, sections.map((s) =>
    el("button", { type: "button", className: "lk-toc-item", text: s.querySelector("h3").textContent.replace(/（.*）$/, ""),
      onclick: () => s.scrollIntoView({ behavior: "smooth", block: "start" }) }))));
  parts.push(...sections);
  return parts;
}

// -- bundles -----------------------------------------------------------------------------------------
async function renderBundles(root, ctx, bundleCode, memberCode) {
  const listBox = el("div", { className: "lk-bundles" }, [el("p", { className: "muted", text: "正在加载……" })]);
  const guide = el("div", { className: "lk-guide card", tabIndex: -1 });
  root.append(el("div", { className: "layout-2 lk-layout lk-layout--bundles" }, [listBox, guide]));
  let bundles;
  try {
    bundles = await api("GET", `${API}/bundles`);
  } catch (err) {
    showError(listBox, err);
    return;
  }
  if (ctx.signal.aborted) return;
  if (!bundles.length) {
    listBox.replaceChildren(el("p", { className: "empty card", text: "当前目录中没有“一件事”。" }));
    guide.replaceChildren(emptyGuide());
    return;
  }

  function select(bundle, member) {
    for (const card of listBox.querySelectorAll(".lk-bundle")) {
      card.classList.toggle("is-current", card.dataset.code === (bundle && bundle.code));
    }
    for (const link of listBox.querySelectorAll(".lk-member")) {
      link.classList.toggle("is-current", !!member && link.dataset.code === member && link.dataset.bundle === bundle.code);
    }
    if (bundle && member) {
      const context = el("p", { className: "lk-crumb muted" }, [`一件事：${bundle.name} › `, "成员事项"]);
      showGuide(guide, member, ctx, context);
    } else if (bundle) {
      guide.replaceChildren(...bundleSummary(bundle));
    } else {
      guide.replaceChildren(el("div", { className: "empty lk-empty" }, [
        el("p", { text: "“一件事”把多个部门的事项组合成一次申请、一套材料、一窗受理。" }),
        el("p", { text: "点击左侧的成员事项，查看它的完整办事指南。" }),
      ]));
    }
  }

  listBox.replaceChildren(...bundles.map((b) => {
    const departments = [b.lead_department.name, ...b.partner_departments.map((d) => d.name)];
    return el("article", { className: "lk-bundle card", id: `lk-bundle-${b.code}`, dataset: { code: b.code } }, [
      el("h3", {}, [innerLink(b.name, ["bundles", b.code], () => select(b, null)),
        b.is_sample ? el("span", { className: "badge lk-sample", text: "示例数据" }) : null]),
      line("牵头部门", b.lead_department.name),
      b.partner_departments.length ? line("配合部门", b.partner_departments.map((d) => d.name).join("、")) : null,
      line("承诺时限", limitText(b.promised_limit)),
      el("ol", { className: "lk-members", "aria-label": `${b.name}的成员事项` }, b.members.map((m) => el("li", {}, [
        innerLink(m.name, ["bundles", b.code, m.code], () => select(b, m.code),
          { className: "lk-member", dataset: { code: m.code, bundle: b.code } }),
        el("span", { className: "lk-member-dept", text: m.department }),
        m.optional ? el("span", { className: "badge", text: "可选" }) : null,
      ]))),
      el("p", { className: "lk-dept-count muted", text: `涉及${new Set([...departments, ...b.members.map((m) => m.department)]).size}个部门` }),
    ]);
  }));
  const bundle = bundles.find((b) => b.code === bundleCode || String(b.id) === bundleCode) || null;
  if (bundleCode && !bundle) showError(guide, new Error(`未找到“${bundleCode}”对应的一件事。`));
  else select(bundle, bundle ? memberCode : null);
  if (bundle) document.getElementById(`lk-bundle-${bundle.code}`).scrollIntoView({ block: "nearest" });
}

function bundleSummary(bundle) {
  const departments = [...new Set([bundle.lead_department.name, ...bundle.members.map((m) => m.department)])];
  return [
    el("header", { className: "lk-guide-head" }, [
      el("h2", { className: "lk-title", text: bundle.name }),
      el("p", { className: "lk-meta" }, [el("span", { className: "badge", text: "一件事" }),
        bundle.is_sample ? el("span", { className: "badge lk-sample", text: "示例数据" }) : null]),
    ]),
    para(bundle.description),
    line("牵头部门", bundle.lead_department.name),
    line("配合部门", bundle.partner_departments.map((d) => d.name).join("、")),
    line("承诺时限", limitText(bundle.promised_limit)),
    section("bundle-members", `成员事项（${bundle.members.length}项，涉及${departments.length}个部门）`, el("table", { className: "lk-materials" }, [
      el("thead", {}, [el("tr", {}, ["", "事项", "办理部门", ""].map((h) => el("th", { text: h })))]),
      el("tbody", {}, bundle.members.map((m, i) => el("tr", {}, [
        el("td", { className: "lk-num", text: String(i + 1) }),
        el("td", {}, [el("a", { href: hrefOf("bundles", bundle.code, m.code), text: m.name })]),
        el("td", { text: m.department }),
        el("td", { text: m.optional ? "可选" : "" }),
      ]))),
    ])),
  ];
}
