// 办件处理: a department's queue with due-date colours, the case detail with its materials and
// history, the filing actions as buttons (a small form where an action needs input), the
// coordinator's 需关注 view (overdue, escalated, unsigned; open cases per department) and work
// orders (工单). API: /api/v1/staff/cases (staffdesk/cases_api.py).
//
// Hash routes: #/cases, #/cases/<case number>, #/cases/attention, #/cases/workorders[/<number>].
// Choosing a row updates the hash with history.replaceState (no re-render of the section).
import { api, clear, el, formatTime, showError, toast, every } from "./ui.js";

const BASE = "/api/v1/staff/cases";
const DUE = [
  ["", "全部"],
  ["normal", "正常"],
  ["warning", "预警"],
  ["overdue", "逾期"],
  ["paused", "暂停计时"],
];
const CASE_STATUSES = [
  ["", "全部在办"], ["1", "已接件"], ["3", "已受理"], ["6", "补正开始"], ["7", "补正结束"], ["8", "部门开始办理"],
  ["9", "特别程序开始"], ["10", "特别程序结束"], ["11", "办结（通过）"], ["12", "办结（容缺通过）"], ["13", "办结（不通过）"],
  ["4", "不受理"], ["5", "不予受理"], ["2", "已撤件"], ["14", "撤回"], ["15", "撤销"],
];
const ORDER_STATUSES = [["", "全部未办结"], ["dispatched", "已派单"], ["signed", "已签收"], ["replied", "已答复"],
  ["returned", "已退单"], ["closed", "已办结"]];
const MATERIAL_BADGE = { submitted: "normal", missing: "overdue", tolerated: "warning" };
const PAGE = 100;
const REFRESH_MS = 30_000;

// Kept while the module is loaded, so coming back to the section keeps the filters.
const state = { tab: "queue", department: "", due: "", status: "", orderStatus: "", includeClosed: false, escalated: false };

function ensureStyles() {
  if (!document.querySelector('link[data-staff-css="cases"]')) {
    const link = el("link", { rel: "stylesheet", href: "/staff/static/cases.css" });
    link.dataset.staffCss = "cases";
    document.head.append(link);
  }
}

const isCoordinator = (me) => me.role === "coordinator" || me.role === "admin";
const dueBadge = (item) => el("span", { className: `badge badge--${item.due_state}`, text: item.due_state_name });
const late = (item) => (item.days_overdue > 0 ? el("span", { className: "cs-late", text: `逾期${item.days_overdue}天` }) : null);
const empty = (text) => el("p", { className: "empty", text });

function setHash(...parts) {
  const hash = "#/" + ["cases", ...parts.filter(Boolean).map(encodeURIComponent)].join("/");
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === "" || value === null || value === undefined || value === false) continue;
    search.append(key, String(value));
  }
  const text = search.toString();
  return text ? "?" + text : "";
}

export async function render(root, ctx) {
  ensureStyles();
  const { me, params, signal } = ctx;
  const coordinator = isCoordinator(me);
  if (params[0] === "attention" && coordinator) state.tab = "attention";
  else if (params[0] === "workorders") state.tab = "workorders";
  else if (params[0]) state.tab = "queue";
  if (state.tab === "attention" && !coordinator) state.tab = "queue";
  let selected = null; // {kind: "case"|"order", number}
  let pendingError = null; // a refusal to show after reloading the detail
  if (params[0] === "workorders" && params[1]) selected = { kind: "order", number: params[1] };
  else if (params[0] && !["attention", "workorders"].includes(params[0])) selected = { kind: "case", number: params[0] };

  const listBox = el("div", { className: "cs-list" });
  const detailBox = el("aside", { className: "cs-detail card", "aria-label": "办件详情", "aria-live": "polite" });
  const tabs = el("div", { className: "segmented cs-tabs", role: "group", "aria-label": "视图" });
  const picker = el("select", { className: "cs-picker", "aria-label": "部门", hidden: !coordinator });
  const title = me.department ? `办件处理 · ${me.department.name}` : "办件处理";
  root.append(
    el("div", { className: "cs-head" }, [el("h1", { text: title }), tabs, picker]),
    el("div", { className: "cs-body" }, [listBox, detailBox]),
  );

  // -- tabs and department picker ----------------------------------------------------------------
  const TABS = [["queue", "办件队列"], ...(coordinator ? [["attention", "需关注"]] : []), ["workorders", "工单"]];
  function renderTabs() {
    clear(tabs);
    for (const [name, label] of TABS) {
      tabs.append(el("button", { type: "button", text: label, dataset: { tab: name }, "aria-pressed": String(state.tab === name),
        onclick: () => { if (state.tab !== name) { state.tab = name; selected = null; renderTabs(); showDetailPlaceholder(); setHash(name === "queue" ? "" : name); loadList(); } } }));
    }
    picker.hidden = !coordinator || state.tab === "attention";
  }
  if (coordinator) {
    picker.append(el("option", { value: "", text: "全部部门" }));
    picker.addEventListener("change", () => { state.department = picker.value; loadList(); });
    api("GET", `${BASE}/departments`).then((data) => {
      for (const d of data.departments) picker.append(el("option", { value: d.code, text: d.name + (d.coordinating ? "（统筹协调）" : "") }));
      picker.value = state.department;
    }).catch((err) => toast(err.message, "error"));
  }

  // -- lists -------------------------------------------------------------------------------------
  let listToken = 0;
  let lastList = null;

  async function loadList(more) {
    const token = ++listToken;
    try {
      if (state.tab === "attention") {
        const data = await api("GET", `${BASE}/attention`);
        if (token === listToken) renderAttention(data);
      } else if (state.tab === "workorders") {
        const data = await api("GET", `${BASE}/workorders` + query({ department: coordinator ? state.department : "",
          status: state.orderStatus, include_closed: state.includeClosed, limit: PAGE }));
        if (token === listToken) renderOrders(data);
      } else {
        const offset = more && lastList ? lastList.cases.length : 0;
        const data = await api("GET", BASE + query({ department: coordinator ? state.department : "", due: state.due,
          status: state.status, include_closed: state.includeClosed, escalated: state.escalated, limit: PAGE, offset }));
        if (token !== listToken) return;
        if (more && lastList) data.cases = lastList.cases.concat(data.cases);
        lastList = data;
        renderQueue(data);
      }
    } catch (err) {
      if (token === listToken) showError(listBox, err);
    }
  }

  function filterBar(children) {
    return el("div", { className: "cs-filters" }, children);
  }

  function closedToggle() {
    const box = el("input", { type: "checkbox", id: "cs-closed", checked: state.includeClosed,
      onchange: () => { state.includeClosed = box.checked; loadList(); } });
    return el("label", { className: "cs-check", for: "cs-closed" }, [box, "含已结束"]);
  }

  function renderQueue(data) {
    const chips = el("div", { className: "segmented cs-due", role: "group", "aria-label": "到期状态" },
      DUE.map(([due, label]) => el("button", {
        type: "button", className: due ? `cs-chip cs-chip--${due}` : "cs-chip", "aria-pressed": String(state.due === due),
        dataset: { due }, onclick: () => { state.due = due; loadList(); },
      }, [label, el("span", { className: "cs-count", text: String(data.counts[due || "all"] ?? 0) })])));
    const status = el("select", { "aria-label": "办件状态", onchange: () => { state.status = status.value; loadList(); } },
      CASE_STATUSES.map(([value, label]) => el("option", { value, text: label, selected: state.status === value })));
    const all = !data.department;
    const rows = data.cases.map((c) => caseRow(c, all || state.escalated));
    // Escalated cases: every department's (all), or those escalated to the coordinating office.
    let escalated = null;
    if (all || data.department.coordinating) {
      const box = el("input", { type: "checkbox", id: "cs-escalated", checked: state.escalated,
        onchange: () => { state.escalated = box.checked; loadList(); } });
      escalated = el("label", { className: "cs-check", for: "cs-escalated" }, [box, all ? "仅看已督办" : "督办至本部门"]);
    } else if (state.escalated) {
      state.escalated = false;
      return loadList();
    }
    clear(listBox).append(
      filterBar([chips, status, closedToggle(), escalated, el("button", { type: "button", text: "刷新", onclick: () => loadList() })]),
      rows.length
        ? el("div", { className: "table-wrap" }, el("table", { className: "cs-table" }, [
          el("thead", {}, el("tr", {}, ["办件编号", all ? "事项 / 承办部门" : "事项", "申请人", "状态", "到期"].map((h) => el("th", { text: h })))),
          el("tbody", {}, rows),
        ]))
        : empty(state.due || state.status ? "没有符合条件的办件。" : "暂无在办件。"),
      el("p", { className: "muted cs-more" }, [
        `显示 ${data.cases.length} / ${data.total} 件`,
        data.cases.length < data.total ? el("button", { type: "button", className: "link", text: "加载更多", onclick: () => loadList(true) }) : null,
      ]),
    );
  }

  function caseRow(c, withDepartment, extra) {
    const open = () => selectItem({ kind: "case", number: c.number });
    return el("tr", {
      className: `cs-row due--${c.due_state}` + (selected && selected.kind === "case" && selected.number === c.number ? " is-active" : ""),
      dataset: { number: c.number }, onclick: open,
    }, [
      el("td", {}, [el("button", { type: "button", className: "link cs-number", text: c.number, onclick: (e) => { e.stopPropagation(); open(); } }),
        c.bundle ? el("div", { className: "muted small", text: `一件事 ${c.bundle}` }) : null]),
      el("td", {}, [c.service.name, withDepartment ? el("div", { className: "muted small", text: c.department.short_name || c.department.name }) : null]),
      ...(extra || [el("td", { text: c.applicant || "" })]),
      el("td", {}, [c.status_name, c.status === 1 && !c.signed ? el("div", { className: "muted small", text: "待签收" }) : null]),
      el("td", { className: "cs-due-cell" }, [dueBadge(c), el("div", { className: "small", text: c.due_date }), late(c)]),
    ]);
  }

  function renderAttention(data) {
    const t = data.totals;
    const figure = (label, value, kind) => el("div", { className: "cs-figure" + (kind ? " cs-figure--" + kind : "") },
      [el("div", { className: "value", text: String(value) }), el("div", { className: "label", text: label })]);
    const caseRows = data.cases.map((c) => caseRow(c, true, [
      el("td", {}, c.reasons.map((r) => el("span", { className: `badge cs-reason cs-reason--${r.code}`, text: r.label }))),
    ]));
    const departments = data.departments.map((d) => el("tr", {}, [
      el("td", {}, [d.short_name || d.name, d.coordinating ? el("span", { className: "muted small", text: "（统筹协调）" }) : null]),
      el("td", { className: "num", text: String(d.open) }),
      el("td", { className: "num" + (d.overdue ? " cs-bad" : ""), text: String(d.overdue) }),
      el("td", { className: "num" + (d.warning ? " cs-warn" : ""), text: String(d.warning) }),
      el("td", { className: "num", text: String(d.escalated) }),
      el("td", { className: "num" + (d.unsigned ? " cs-warn" : ""), text: String(d.unsigned) }),
      el("td", {}, d.officers || d.tokens
        ? `${d.officers}人 / ${d.tokens}个接口`
        : el("span", { className: "badge badge--overdue", text: "无人值守" })),
    ]));
    const orders = data.workorders.map((o) => el("tr", {
      className: `cs-row due--${o.due_state}`, dataset: { number: o.number },
      onclick: () => selectItem({ kind: "order", number: o.number }),
    }, [
      el("td", {}, el("button", { type: "button", className: "link cs-number", text: o.number })),
      el("td", {}, [o.kind_name, el("div", { className: "muted small", text: o.department.name })]),
      el("td", {}, o.reasons.map((r) => el("span", { className: `badge cs-reason cs-reason--${r.code}`, text: r.label }))),
      el("td", { className: "cs-due-cell" }, [dueBadge(o), el("div", { className: "small", text: o.due_date }), late(o)]),
    ]));
    clear(listBox).append(
      el("div", { className: "cs-figures" }, [
        figure("需关注办件", t.cases, t.cases ? "bad" : "ok"), figure("逾期", t.overdue, t.overdue ? "bad" : ""),
        figure("已督办", t.escalated, ""), figure("超时未签收", t.unsigned, t.unsigned ? "warn" : ""),
        figure("需关注工单", t.workorders, t.workorders ? "warn" : ""),
      ]),
      el("h2", { text: "逾期、督办或无人签收的办件" }),
      el("p", { className: "muted small", text: "全部部门，逾期最久的在前；“超时未签收”：接件后超过一个工作日仍无人签收。" }),
      caseRows.length
        ? el("div", { className: "table-wrap" }, el("table", { className: "cs-table cs-attention" }, [
          el("thead", {}, el("tr", {}, ["办件编号", "事项 / 承办部门", "原因", "状态", "到期"].map((h) => el("th", { text: h })))),
          el("tbody", {}, caseRows),
        ]))
        : empty("没有逾期、督办或无人签收的办件。"),
      el("h2", { text: "各部门在办件" }),
      departments.length
        ? el("div", { className: "table-wrap" }, el("table", { className: "cs-table cs-departments" }, [
          el("thead", {}, el("tr", {}, ["部门", "在办", "逾期", "预警", "已督办", "未签收", "审批人员 / 接口"].map((h) => el("th", { text: h })))),
          el("tbody", {}, departments),
        ]))
        : empty("各部门暂无在办件。"),
      el("h2", { text: "需关注的工单" }),
      orders.length
        ? el("div", { className: "table-wrap" }, el("table", { className: "cs-table" }, [
          el("thead", {}, el("tr", {}, ["工单编号", "类型 / 部门", "原因", "到期"].map((h) => el("th", { text: h })))),
          el("tbody", {}, orders),
        ]))
        : empty("没有逾期、督办或退单待改派的工单。"),
    );
  }

  function renderOrders(data) {
    const status = el("select", { "aria-label": "工单状态", onchange: () => { state.orderStatus = status.value; loadList(); } },
      ORDER_STATUSES.map(([value, label]) => el("option", { value, text: label, selected: state.orderStatus === value })));
    const rows = data.workorders.map((o) => el("tr", {
      className: `cs-row due--${o.due_state}` + (selected && selected.kind === "order" && selected.number === o.number ? " is-active" : ""),
      dataset: { number: o.number }, onclick: () => selectItem({ kind: "order", number: o.number }),
    }, [
      el("td", {}, el("button", { type: "button", className: "link cs-number", text: o.number })),
      el("td", {}, [el("span", { className: "badge", text: o.kind_name }), " ", el("span", { className: "cs-text", text: o.text })]),
      el("td", {}, [o.status_name, el("div", { className: "muted small", text: o.department.name })]),
      el("td", { className: "cs-due-cell" }, [dueBadge(o), el("div", { className: "small", text: o.due_date }), late(o)]),
    ]));
    clear(listBox).append(
      filterBar([status, closedToggle(), el("button", { type: "button", text: "刷新", onclick: () => loadList() })]),
      rows.length
        ? el("div", { className: "table-wrap" }, el("table", { className: "cs-table" }, [
          el("thead", {}, el("tr", {}, ["工单编号", "内容", "状态 / 部门", "到期"].map((h) => el("th", { text: h })))),
          el("tbody", {}, rows),
        ]))
        : empty("暂无工单。"),
    );
  }

  // -- detail ------------------------------------------------------------------------------------
  function showDetailPlaceholder() {
    detailBox.className = "cs-detail card";
    clear(detailBox).append(el("p", { className: "muted cs-placeholder", text: "选择左侧的办件或工单，查看详情和办理。" }));
  }

  function markActive() {
    for (const row of listBox.querySelectorAll(".cs-row")) {
      row.classList.toggle("is-active", !!selected && row.dataset.number === selected.number);
    }
  }

  async function selectItem(item) {
    selected = item;
    markActive();
    if (item.kind === "order") setHash("workorders", item.number);
    else setHash(item.number);
    await loadDetail();
    if (window.matchMedia("(max-width: 1000px)").matches) detailBox.scrollIntoView({ block: "start" });
  }

  async function loadDetail() {
    if (!selected) return showDetailPlaceholder();
    const item = selected;
    try {
      const path = item.kind === "order" ? `${BASE}/workorders/${encodeURIComponent(item.number)}` : `${BASE}/${encodeURIComponent(item.number)}`;
      const data = await api("GET", path);
      if (selected === item) renderDetail(item.kind, data);
    } catch (err) {
      pendingError = null;
      if (selected === item) showError(detailBox, err);
    }
  }

  function fact(label, value) {
    if (value === null || value === undefined || value === "") return null;
    return [el("dt", { text: label }), el("dd", {}, value)];
  }

  function renderDetail(kind, d) {
    detailBox.className = `cs-detail card due--${d.due_state}`;
    const applicant = d.applicant;
    const masked = !(d.viewer && d.viewer.numbers_revealed);
    const content = [
      el("div", { className: "cs-detail-head" }, [
        el("h2", { text: d.number }),
        el("span", { className: "badge cs-status", text: d.status_name }),
        dueBadge(d), late(d),
      ]),
      kind === "case"
        ? el("p", { className: "cs-service", text: d.service.name })
        : el("p", { className: "cs-service" }, [el("span", { className: "badge", text: d.kind_name }), " ", d.text]),
    ];
    const facts = kind === "case"
      ? [
        fact("承办部门", d.department.name),
        fact("首问负责", [d.owner.label || "", d.owner.name ? el("span", { className: "muted", text: `（${d.owner.name}）` }) : null]),
        fact("签收人", d.signed_by ? d.history.filter((h) => h.action === "sign").map((h) => h.actor_label).pop() || d.signed_by : "未签收"),
        fact("一件事", d.bundle),
        fact("接件时间", formatTime(d.filed_at)),
        fact("受理时间", formatTime(d.accepted_at)),
        fact("办结时间", formatTime(d.completed_at)),
        fact("办理时限", d.time_limit),
        fact("到期日", `${d.due_date}（${d.due_date === d.warn_date ? "当日到期" : "预警日 " + d.warn_date}）`),
        fact("逾期督办", d.escalated_to ? `${d.escalated_to.name} · ${formatTime(d.escalated_at)}` : null),
        fact("办理结果", d.result),
        fact("原因 / 说明", d.reason),
      ]
      : [
        fact("承办部门", d.department.name),
        fact("关联办件", d.case), fact("关联一件事", d.bundle),
        fact("登记时间", formatTime(d.filed_at)),
        fact("到期日", d.due_date),
        fact("答复", d.reply), fact("答复时间", formatTime(d.replied_at)),
        fact("重新办理次数", d.reopen_count ? String(d.reopen_count) : null),
      ];
    content.push(el("dl", { className: "cs-facts" }, facts.filter(Boolean).flat()));

    if (applicant) {
      content.push(el("h3", { text: "申请人" }), el("dl", { className: "cs-facts" }, [
        fact("姓名", applicant.name), fact("证件号码", applicant.id_number), fact("手机号码", applicant.phone),
        fact("地址", applicant.address),
      ].filter(Boolean).flat()));
      if (masked) content.push(el("p", { className: "muted small", text: "证件号码和手机号码已脱敏，仅承办部门审批人员可见完整号码。" }));
    }

    if (kind === "case") {
      content.push(el("h3", { text: `材料清单（${d.materials.length}）` }), d.materials.length
        ? el("table", { className: "cs-materials" }, [
          el("thead", {}, el("tr", {}, ["材料", "", "状态"].map((h) => el("th", { text: h })))),
          el("tbody", {}, d.materials.map((m) => el("tr", {}, [
            el("td", { text: m.name }),
            el("td", { className: "muted small", text: m.required ? "必要" : "非必要" }),
            el("td", {}, el("span", { className: `badge badge--${m.required || m.status !== "missing" ? MATERIAL_BADGE[m.status] : "grey"}`, text: m.status_name })),
          ]))),
        ])
        : empty("该事项无材料要求。"));
    }

    const actionsBox = el("div", { className: "cs-actions" });
    content.push(el("h3", { text: "办理" }), actionsBox);
    renderActions(actionsBox, kind, d);

    content.push(el("h3", { text: "办理历史" }), el("ol", { className: "cs-history" }, d.history.map((h) => el("li", {
      className: `cs-event cs-event--${h.actor_kind}`,
    }, [
      el("div", { className: "cs-event-head" }, [
        el("strong", { text: h.action_label }),
        h.status_change ? el("span", { className: "muted", text: h.status_change }) : null,
        el("time", { className: "muted small", datetime: h.at, text: formatTime(h.at) }),
      ]),
      el("div", { className: "small", text: h.actor_label }),
      h.note ? el("div", { className: "cs-note", text: h.note }) : null,
    ])).reverse()));
    clear(detailBox).append(...content);
  }

  // -- actions -----------------------------------------------------------------------------------
  function renderActions(box, kind, d) {
    const buttons = el("div", { className: "actions" });
    const formBox = el("div", { className: "cs-form-box" });
    const error = el("p", { className: "error", role: "alert", hidden: !pendingError, text: pendingError || "" });
    pendingError = null;
    if (!d.actions.length) {
      if (!error.hidden) box.append(error);
      box.append(el("p", { className: "muted", text: (d.viewer && d.viewer.note) || "当前状态下没有可执行的操作。" }));
      return;
    }
    const setBusy = (busy) => { for (const b of box.querySelectorAll("button")) b.disabled = busy; };
    const perform = async (action, body) => {
      error.hidden = true;
      setBusy(true);
      try {
        const path = kind === "order"
          ? `${BASE}/workorders/${encodeURIComponent(d.number)}/${action.name}`
          : `${BASE}/${encodeURIComponent(d.number)}/${action.name}`;
        const updated = await api("POST", path, body);
        toast(`已${action.label}：${d.number}`, "ok");
        renderDetail(kind, updated);
        loadList();
      } catch (err) {
        toast(err.message, "error");
        if (err.status === 409 || err.status === 404) {
          // The case changed meanwhile (or is gone): show it as it is now, with the refusal.
          pendingError = err.message;
          await loadDetail();
          loadList();
          return;
        }
        error.textContent = err.message;
        error.hidden = false;
        setBusy(false);
      }
    };
    for (const action of d.actions) {
      const form = FORMS[`${kind}:${action.name}`];
      buttons.append(el("button", {
        type: "button", className: form ? "" : "primary", text: action.label + (form ? "…" : ""), dataset: { action: action.name },
        onclick: () => {
          error.hidden = true;
          if (!form) return perform(action, {});
          clear(formBox).append(form(d, (body) => perform(action, body), () => clear(formBox), error));
        },
      }));
    }
    box.append(buttons, formBox, error);
  }

  // A small form: fields, then 确定/取消. `collect()` returns the body or throws a Chinese message.
  function smallForm(title, fields, collect, submit, cancel, error) {
    const form = el("form", { className: "cs-form", onsubmit: (event) => {
      event.preventDefault();
      let body;
      try { body = collect(); } catch (message) {
        error.textContent = String(message);
        error.hidden = false;
        return;
      }
      submit(body);
    } }, [
      el("h4", { text: title }), ...fields,
      el("div", { className: "actions" }, [
        el("button", { type: "submit", className: "primary", text: "确定" }),
        el("button", { type: "button", text: "取消", onclick: () => { error.hidden = true; cancel(); } }),
      ]),
    ]);
    setTimeout(() => { const first = form.querySelector("textarea, input, select"); if (first) first.focus(); }, 0);
    return form;
  }

  let fieldCounter = 0;
  function textField(label, { multiline = true, value = "", placeholder = "" } = {}) {
    const id = `cs-field-${++fieldCounter}`;
    const input = multiline
      ? el("textarea", { id, maxLength: 4000, placeholder, rows: 3 })
      : el("input", { id, type: "text", maxLength: 4000, placeholder });
    input.value = value;
    return { input, node: el("div", { className: "cs-field" }, [el("label", { for: id, text: label }), input]) };
  }

  function checkField(label, checked) {
    const id = `cs-field-${++fieldCounter}`;
    const input = el("input", { type: "checkbox", id, checked });
    return { input, node: el("label", { className: "cs-check", for: id }, [input, label]) };
  }

  function materialChecks(names, ticked) {
    const checks = names.map((name) => checkField(name, ticked.includes(name)));
    return { node: el("div", { className: "cs-checklist" }, checks.map((c) => c.node)),
      values: () => names.filter((name, i) => checks[i].input.checked) };
  }

  const required = (value, message) => {
    const text = (value || "").trim();
    if (!text) throw message;
    return text;
  };
  const splitNames = (text) => (text || "").split(/[、，,；;\n]+/).map((s) => s.trim()).filter(Boolean);

  const FORMS = {
    "case:reject": (d, submit, cancel, error) => {
      const reason = textField("不予受理的原因（将告知申请人）");
      const notRequired = checkField("申请事项依法不需要办理（不受理）", false);
      return smallForm("不予受理", [reason.node, notRequired.node],
        () => ({ reason: required(reason.input.value, "请填写不予受理的原因。"), not_required: notRequired.input.checked }),
        submit, cancel, error);
    },
    "case:supplements": (d, submit, cancel, error) => {
      const materials = materialChecks(d.materials.map((m) => m.name), d.missing);
      const extra = textField("其他需补正的材料（多个用顿号分隔）", { multiline: false });
      const note = textField("补正说明（可选）", { placeholder: "例如：请补交原件" });
      return smallForm("要求补正：一次性告知全部需补正的材料", [
        el("p", { className: "muted small", text: "勾选需要补正的材料：" }), materials.node, extra.node, note.node],
      () => {
        const missing = [...materials.values(), ...splitNames(extra.input.value)];
        if (!missing.length) throw "请至少勾选或填写一项需要补正的材料。";
        return { missing, note: note.input.value.trim() || null };
      }, submit, cancel, error);
    },
    "case:special-start": (d, submit, cancel, error) => {
      const procedure = textField("特别程序（听证、专家评审、检验检测等，不计入办理时限）");
      return smallForm("开始特别程序", [procedure.node],
        () => ({ procedure: required(procedure.input.value, "请填写特别程序的名称或说明。") }), submit, cancel, error);
    },
    "case:complete": (d, submit, cancel, error) => {
      const id = `cs-field-${++fieldCounter}`;
      const approved = el("input", { type: "radio", name: id, id: id + "-yes", value: "yes", checked: true });
      const denied = el("input", { type: "radio", name: id, id: id + "-no", value: "no" });
      const result = textField("办理结果（证照或批文名称）", { multiline: false });
      const toleratedNames = d.materials.map((m) => m.name);
      const tolerated = materialChecks(toleratedNames, d.tolerated || []);
      const toleratedBox = el("div", { className: "cs-field" }, [
        el("p", { className: "muted small", text: "容缺后补的材料（勾选则办结为“容缺通过”）：" }), tolerated.node]);
      const sync = () => {
        result.node.querySelector("label").textContent = approved.checked ? "办理结果（证照或批文名称）" : "不通过的原因（将告知申请人）";
        toleratedBox.hidden = !approved.checked || !toleratedNames.length;
      };
      approved.addEventListener("change", sync);
      denied.addEventListener("change", sync);
      sync();
      return smallForm("办结", [
        el("div", { className: "cs-radios", role: "radiogroup", "aria-label": "办结结果" }, [
          el("label", { className: "cs-check", for: id + "-yes" }, [approved, "通过"]),
          el("label", { className: "cs-check", for: id + "-no" }, [denied, "不通过"]),
        ]),
        result.node, toleratedBox,
      ], () => ({
        result: required(result.input.value, approved.checked ? "请填写办理结果。" : "请填写不通过的原因。"),
        approved: approved.checked,
        tolerated: approved.checked ? tolerated.values() : [],
      }), submit, cancel, error);
    },
    "case:revoke": (d, submit, cancel, error) => {
      const reason = textField("撤销的原因（将告知申请人）");
      return smallForm("撤销", [reason.node], () => ({ reason: required(reason.input.value, "请填写撤销的原因。") }),
        submit, cancel, error);
    },
    "order:reply": (d, submit, cancel, error) => {
      const reply = textField("答复内容（将发送给群众）");
      return smallForm("答复", [reply.node], () => ({ reply: required(reply.input.value, "请填写答复内容。") }),
        submit, cancel, error);
    },
    "order:return": (d, submit, cancel, error) => {
      const reason = textField("退单原因（由统筹协调部门改派）");
      return smallForm("退单", [reason.node], () => ({ reason: required(reason.input.value, "请填写退单原因。") }),
        submit, cancel, error);
    },
    "order:reassign": (d, submit, cancel, error) => {
      const id = `cs-field-${++fieldCounter}`;
      const select = el("select", { id }, [el("option", { value: "", text: "请选择部门" })]);
      api("GET", `${BASE}/departments`).then((data) => {
        for (const dep of data.departments) {
          if (dep.code !== d.department.code) select.append(el("option", { value: dep.code, text: dep.name }));
        }
      }).catch((err) => { error.textContent = err.message; error.hidden = false; });
      const note = textField("改派说明（可选）");
      return smallForm("改派", [el("div", { className: "cs-field" }, [el("label", { for: id, text: "改派到" }), select]), note.node],
        () => ({ department: required(select.value, "请选择改派到的部门。"), note: note.input.value.trim() || null }),
        submit, cancel, error);
    },
  };

  // -- start -------------------------------------------------------------------------------------
  renderTabs();
  showDetailPlaceholder();
  await loadList();
  if (selected) {
    markActive();
    await loadDetail();
  }
  every(REFRESH_MS, () => loadList(), signal);
}
