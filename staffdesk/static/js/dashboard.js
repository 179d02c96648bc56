// 运行统计: the coordinator's figures over a period and the learning loop (questions the bot could
// not answer, each turned into an alias of the service it meant with one click).
// API: /api/v1/staff/dashboard/{figures, unanswered, services, aliases}.
import { api, clear, debounce, el, formatTime, showError, toast } from "./ui.js";

const BASE = "/api/v1/staff/dashboard";
const PERIODS = [[7, "近7天"], [30, "近30天"], [90, "近90天"]];
const DEFAULT_DAYS = 30;

export function ensureStyles() {
  if (!document.querySelector('link[data-staff-css="dashboard"]')) {
    const link = el("link", { rel: "stylesheet", href: "/staff/static/dashboard.css" });
    link.dataset.staffCss = "dashboard";
    document.head.append(link);
  }
}

const percent = (share) => (share === null || share === undefined ? "—" : `${Math.round(share * 1000) / 10}%`);

// A horizontal bar of one or more parts: [[value, kind], ...] against `max`.
function bar(parts, max, label) {
  const node = el("div", { className: "bar", role: "img", "aria-label": label || "" });
  for (const [value, kind] of parts) {
    if (!value || !max) continue;
    const part = el("span", { className: kind ? "bar--" + kind : "" });
    part.style.width = `${Math.max(0.5, (100 * value) / max)}%`;
    node.append(part);
  }
  return node;
}

function legend(items) {
  return el("div", { className: "legend" }, items.map(([kind, text]) => el("span", {}, [el("i", { className: "bar--" + kind }), text])));
}

function figure(label, value, sub, kind) {
  return el("div", { className: "figure" + (kind ? " figure--" + kind : "") }, [
    el("div", { className: "value", text: String(value) }),
    el("div", { className: "label", text: label }),
    sub ? el("div", { className: "sub", text: sub }) : null,
  ]);
}

function panel(title, note, children) {
  return el("section", { className: "card dash-panel" }, [
    el("h2", {}, [title, note ? el("span", { className: "muted", text: note }) : null]),
    ...children,
  ]);
}

function table(headers, rows, className) {
  return el("div", { className: "table-wrap" }, el("table", { className: className || "" }, [
    el("thead", {}, el("tr", {}, headers.map((h) => (Array.isArray(h) ? el("th", { className: h[1], text: h[0] }) : el("th", { text: h }))))),
    el("tbody", {}, rows),
  ]));
}

const empty = (text) => el("p", { className: "empty", text });

// -- figure cards ------------------------------------------------------------------------------------
function renderCards(f) {
  const q = f.questions, ar = f.answer_ratings, cr = f.case_ratings, c = f.cases.totals, h = f.handoffs;
  return el("div", { className: "figures" }, [
    figure("机器人回答的问题", q.answered, `回答率 ${percent(q.answer_rate)}`, "ok"),
    figure("未能回答的问题", q.unanswered, `待处理 ${q.unresolved}`, q.unresolved ? "warn" : "ok"),
    figure("答复好评率", percent(ar.good_share), `有用 ${ar.good} · 没用 ${ar.bad}`, ar.bad_share > 0.3 ? "bad" : ""),
    figure("好差评满意率", percent(cr.satisfied_share), `共 ${cr.total} 条，差评 ${cr.bad_count}`, cr.bad_count ? "bad" : ""),
    figure("在办办件", c.open, `预警 ${c.warning} · 暂停 ${c.paused}`, c.warning ? "warn" : ""),
    figure("逾期办件", c.overdue, c.overdue ? "请督办" : "无逾期", c.overdue ? "bad" : "ok"),
    figure("等待人工接待", h.waiting, h.waiting ? `最久已等 ${h.oldest_waiting_minutes} 分钟` : `本期转人工 ${h.requested} 次`, h.waiting ? "warn" : ""),
  ]);
}

// -- figures -----------------------------------------------------------------------------------------
function renderMostAsked(items) {
  if (!items.length) return panel("最常问的事项", "", [empty("这段时间还没有机器人回答过的问题。")]);
  const max = Math.max(...items.map((i) => i.count));
  return panel("最常问的事项", "按机器人回答次数", [table(["事项", ["次数", "num"], "", "常问内容"], items.map((i) =>
    el("tr", {}, [
      el("td", { text: i.name }),
      el("td", { className: "num", text: `${i.count}（${percent(i.share)}）` }),
      el("td", { className: "bar-cell" }, bar([[i.count, ""]], max, `${i.count} 次`)),
      el("td", { className: "aspects", text: i.aspects.map((a) => `${a.name} ${a.count}`).join("、") }),
    ])))]);
}

function renderAnswerRatings(r) {
  const overall = el("div", {}, [
    el("p", { text: `本期回答 ${r.answered} 次，市民评价 ${r.rated} 次（${percent(r.rated_share)}）：有用 ${r.good}，没用 ${r.bad}。` }),
    bar([[r.good, "good"], [r.bad, "bad"]], r.good + r.bad, `有用 ${r.good}，没用 ${r.bad}`),
    legend([["good", "有用"], ["bad", "没用"]]),
  ]);
  const rows = r.services.map((s) => el("tr", {}, [
    el("td", { text: s.name }),
    el("td", { className: "num", text: String(s.good) }),
    el("td", { className: "num", text: String(s.bad) }),
    el("td", { className: "bar-cell" }, bar([[s.good, "good"], [s.bad, "bad"]], s.good + s.bad, `没用 ${percent(s.bad_share)}`)),
  ]));
  return panel("答复评价", "市民对机器人答复的“有用/没用”", [overall,
    rows.length ? table(["事项（差评率高的在前）", ["有用", "num"], ["没用", "num"], ""], rows) : empty("这段时间还没有评价。")]);
}

function renderCaseRatings(r) {
  const max = Math.max(1, ...r.levels.map((l) => l.count));
  const levels = table(["评价", ["条数", "num"], ""], r.levels.map((l) => el("tr", {}, [
    el("td", { text: l.label }),
    el("td", { className: "num", text: `${l.count}（${percent(l.share)}）` }),
    el("td", { className: "bar-cell" }, bar([[l.count, l.bad ? "bad" : "good"]], max, `${l.count} 条`)),
  ])));
  const bad = r.bad.length ? table(["办件", "事项 / 部门", "评价", "整改工单", "时间"], r.bad.map((b) => el("tr", {}, [
    el("td", { text: b.number || "" }),
    el("td", {}, [b.name, el("div", { className: "muted", text: b.department })]),
    el("td", {}, [el("span", { className: "badge badge--overdue", text: b.label }), b.comment ? el("div", { text: b.comment }) : null]),
    el("td", { text: b.followup ? `${b.followup.number}（${followupStatus(b.followup.status)}）` : "—" }),
    el("td", { text: formatTime(b.rated_at) }),
  ])), "wide-table") : el("p", { className: "muted", text: "这段时间没有差评。" });
  return panel("办件好差评", `共 ${r.total} 条`, [el("div", { className: "dash-split" }, [
    el("div", {}, [el("h3", { text: "评价分布" }), levels]),
    el("div", {}, [el("h3", { text: "差评（不满意、非常不满意）" }), bad]),
  ])]);
}

function followupStatus(status) {
  return { dispatched: "已派单", signed: "已签收", replied: "已答复", closed: "已办结", returned: "已退单" }[status] || status;
}

function renderCases(cases) {
  const rows = cases.departments.map((d) => el("tr", { className: d.state === "overdue" ? "is-overdue" : d.state === "warning" ? "is-warning" : "" }, [
    el("td", { text: d.name }),
    el("td", { className: "num", text: String(d.open) }),
    el("td", { className: "num", text: String(d.normal) }),
    el("td", { className: "num" }, d.warning ? el("span", { className: "badge badge--warning", text: String(d.warning) }) : "0"),
    el("td", { className: "num" }, d.overdue ? el("span", { className: "badge badge--overdue", text: String(d.overdue) }) : "0"),
    el("td", { className: "num", text: String(d.paused) }),
    el("td", { className: "bar-cell" }, bar([[d.normal, "good"], [d.warning, "warning"], [d.overdue, "bad"], [d.paused, "paused"]], d.open,
      `正常 ${d.normal}，预警 ${d.warning}，逾期 ${d.overdue}，暂停 ${d.paused}`)),
    el("td", { className: "num", text: `${d.filed} / ${d.closed}` }),
  ]));
  const t = cases.totals;
  return panel("各部门办件", `截至 ${cases.today}：在办 ${t.open}，预警 ${t.warning}，逾期 ${t.overdue}`, [
    legend([["good", "正常"], ["warning", "预警"], ["bad", "逾期"], ["paused", "暂停计时"]]),
    rows.length ? table(["部门", ["在办", "num"], ["正常", "num"], ["预警", "num"], ["逾期", "num"], ["暂停", "num"], "", ["本期受理 / 办结", "num"]], rows, "wide-table")
      : empty("目前没有在办的办件。"),
  ]);
}

function renderHandoffs(h) {
  const reasons = { requested: "市民要求", repeated_failure: "多次未能回答" };
  const by = Object.entries(h.requested_by_reason).map(([k, n]) => `${reasons[k] || k} ${n}`).join("、");
  return panel("人工接待", "", [
    el("p", { text: h.waiting ? `现在有 ${h.waiting} 个对话等待人工接待，最早的已等 ${h.oldest_waiting_minutes} 分钟（自 ${formatTime(h.oldest_waiting_since)}）。`
      : "现在没有等待人工接待的对话。" }),
    el("p", { className: "muted", text: `正在接待 ${h.taken} 个；本期转人工 ${h.requested} 次${by ? "（" + by + "）" : ""}。` }),
  ]);
}

// -- the learning loop -------------------------------------------------------------------------------
function questionRow(q, maxLength, onAdded) {
  const row = el("li", { className: "uq" + (q.resolved ? " uq--resolved" : "") });
  row.dataset.text = q.text;
  const head = el("div", { className: "uq-head" }, [
    el("span", { className: "uq-text", text: q.example }),
    el("span", { className: "badge", text: `问了 ${q.count} 次` }),
    el("span", { className: "badge badge--warning", text: q.reason_name }),
    el("span", { className: "muted", text: `最近 ${formatTime(q.last_asked_at)}` }),
  ]);
  row.append(head);
  if (q.resolved) {
    row.append(el("p", { className: "uq-resolved-note", text: `已解决：已添加为“${q.resolved_services.map((s) => s.name).join("、")}”的别名。` }));
    return row;
  }
  if (q.unresolved < q.count && q.resolved_services.length) {
    row.append(el("p", { className: "muted", text: `其中 ${q.count - q.unresolved} 次已在添加别名“${q.resolved_services.map((s) => s.name).join("、")}”前解决，之后又有 ${q.unresolved} 次未能回答。` }));
  }

  let chosen = null;
  const uid = "uq" + Math.random().toString(36).slice(2, 9);
  const phrase = el("input", { type: "text", id: uid + "-phrase", className: "uq-phrase", value: q.text, maxLength, autocomplete: "off" });
  const choices = el("fieldset", { className: "uq-choices" }, [el("legend", { text: "选择对应的事项" })]);
  const add = el("button", { type: "button", className: "primary uq-add", text: "添加为别名", disabled: true });
  const feedback = el("p", { className: "uq-feedback", role: "status", hidden: true });

  function choose(service) {
    chosen = service;
    add.disabled = false;
    for (const input of choices.querySelectorAll("input[type=radio]")) input.checked = input.value === service.code;
  }
  function addChoice(service, check) {
    let input = [...choices.querySelectorAll("input[type=radio]")].find((i) => i.value === service.code);
    if (!input) {
      input = el("input", { type: "radio", name: uid + "-service", value: service.code, onchange: () => choose(service) });
      choices.append(el("label", { className: "uq-choice" }, [input, el("span", {}, [service.name, " ", el("span", { className: "muted", text: service.department || "" })])]));
    }
    if (check) choose(service);
  }
  for (const s of q.suggestions) addChoice(s, false);
  if (!q.suggestions.length) choices.append(el("p", { className: "muted uq-nosuggest", text: "没有合适的建议，请在右侧搜索事项。" }));

  const results = el("ul", { className: "uq-results", role: "listbox", "aria-label": "搜索结果" });
  const search = el("input", { type: "search", id: uid + "-search", className: "uq-search-input", placeholder: "输入事项名称或关键词，如“上牌”", autocomplete: "off", maxLength: 100 });
  let seq = 0;
  const lookup = debounce(async () => {
    const text = search.value.trim();
    const mine = ++seq;
    if (!text) { clear(results); return; }
    try {
      const data = await api("GET", `${BASE}/services?q=${encodeURIComponent(text)}&limit=8`);
      if (mine !== seq) return;
      clear(results);
      if (!data.results.length) results.append(el("li", { className: "muted", text: "没有找到事项，请换个关键词。" }));
      for (const s of data.results) {
        results.append(el("li", {}, el("button", { type: "button", role: "option", onclick: () => {
          addChoice(s, true);
          clear(results);
          search.value = "";
          add.focus();
        } }, [s.name, " ", el("span", { className: "muted", text: s.department })])));
      }
    } catch (err) {
      if (mine === seq) { clear(results); results.append(el("li", { className: "error", text: err.message })); }
    }
  }, 250);
  search.addEventListener("input", lookup);

  add.addEventListener("click", async () => {
    if (!chosen) return;
    const text = phrase.value.trim();
    feedback.hidden = false;
    feedback.className = "uq-feedback";
    if (!text) { feedback.className = "uq-feedback error"; feedback.textContent = "别名不能为空。"; phrase.focus(); return; }
    add.disabled = true;
    feedback.textContent = "正在添加……";
    try {
      const result = await api("POST", `${BASE}/aliases`, { phrase: text, service_code: chosen.code, question: q.text });
      feedback.className = "uq-feedback " + (result.rank === 1 && !result.also_alias_of.length ? "ok" : "warn");
      feedback.textContent = result.message + (result.resolved_questions ? `（${result.resolved_questions} 条提问已标记为已解决）` : "");
      row.classList.add("uq--resolved");
      body.remove();
      row.append(el("p", { className: "uq-resolved-note", text: `已解决：“${result.alias}”已添加为“${result.service.name}”的别名。` }));
      toast(`已添加别名“${result.alias}”`, "ok");
      onAdded(result);
    } catch (err) {
      feedback.className = "uq-feedback error";
      feedback.textContent = err.message;
      add.disabled = false;
    }
  });

  const body = el("div", { className: "uq-body" }, [
    el("div", { className: "uq-field" }, [
      el("label", { for: uid + "-phrase", text: `别名（可删去“怎么办”等多余的字，最多 ${maxLength} 字）` }), phrase,
      choices,
    ]),
    el("div", { className: "uq-field uq-search" }, [
      el("label", { for: uid + "-search", text: "搜索其他事项" }), search, results,
    ]),
    el("div", { className: "uq-actions" }, [add, el("span", { className: "hint", text: "添加后搜索立即生效，机器人几秒内即可回答，无需重新训练。" })]),
  ]);
  row.append(body, feedback);
  return row;
}

function renderUnanswered(data, onAdded) {
  const open = data.questions.filter((q) => !q.resolved).length;
  const list = el("ul", { className: "uq-list" }, data.questions.map((q) => questionRow(q, data.max_alias_length, onAdded)));
  return panel("未能回答的问题", `待处理 ${open} 组，相同说法已合并；为每组选择对应事项，添加为别名`, [
    data.questions.length ? list : empty("这段时间机器人没有遇到回答不了的问题。"),
  ]);
}

function renderAliases(aliases, reload) {
  const rows = aliases.map((a) => el("tr", {}, [
    el("td", { text: a.alias }),
    el("td", { text: a.service.name }),
    el("td", { text: formatTime(a.created_at) }),
    el("td", {}, el("button", { type: "button", className: "danger", text: "删除", onclick: async (event) => {
      if (!confirm(`删除别名“${a.alias}”？删除后搜索“${a.alias}”将不再找到“${a.service.name}”。`)) return;
      event.target.disabled = true;
      try {
        await api("DELETE", `${BASE}/aliases/${a.id}`);
        toast(`已删除别名“${a.alias}”`, "ok");
        reload();
      } catch (err) {
        toast(err.message, "error");
        event.target.disabled = false;
      }
    } })),
  ]));
  return panel("工作人员添加的别名", "最近添加的在前", [
    rows.length ? table(["别名", "事项", "添加时间", ""], rows) : empty("还没有工作人员添加的别名。"),
  ]);
}

// -- the page ----------------------------------------------------------------------------------------
export async function render(root, ctx) {
  ensureStyles();
  const days = PERIODS.some(([d]) => String(d) === ctx.params[0]) ? Number(ctx.params[0]) : DEFAULT_DAYS;
  const selector = el("div", { className: "segmented", role: "group", "aria-label": "统计周期" }, PERIODS.map(([d, label]) =>
    el("button", { type: "button", text: label, "aria-pressed": String(d === days), onclick: () => ctx.navigate("dashboard", String(d)) })));
  const refresh = el("button", { type: "button", text: "刷新", onclick: () => load() });
  const body = el("div", {}, el("p", { className: "muted", text: "正在加载……" }));
  root.append(el("div", { className: "dash-head" }, [el("h1", { text: "运行统计" }), selector, refresh]), body);

  const aliasSlot = el("div");
  async function loadAliases() {
    try {
      const data = await api("GET", `${BASE}/aliases`);
      aliasSlot.replaceChildren(renderAliases(data.aliases, loadAliases));
    } catch (err) {
      showError(aliasSlot, err);
    }
  }

  async function load() {
    refresh.disabled = true;
    try {
      const [figures, unanswered] = await Promise.all([
        api("GET", `${BASE}/figures?days=${days}`),
        api("GET", `${BASE}/unanswered?days=${days}`),
      ]);
      if (ctx.signal.aborted) return;
      body.replaceChildren(
        el("p", { className: "muted", text: `统计周期：${formatTime(figures.period.since)} 至 ${formatTime(figures.period.until)}` }),
        renderCards(figures),
        renderUnanswered(unanswered, () => loadAliases()),
        el("div", { className: "dash-grid" }, [
          renderMostAsked(figures.most_asked),
          renderAnswerRatings(figures.answer_ratings),
        ]),
        renderCases(figures.cases),
        renderCaseRatings(figures.case_ratings),
        el("div", { className: "dash-grid" }, [renderHandoffs(figures.handoffs), aliasSlot]),
      );
      loadAliases();
    } catch (err) {
      if (!ctx.signal.aborted) showError(body, err);
    } finally {
      refresh.disabled = false;
    }
  }
  await load();
}
