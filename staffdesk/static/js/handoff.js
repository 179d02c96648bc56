// 人工接待: conversations waiting for a person. The inbox (waiting first, longest waiting on top),
// one conversation with its live transcript, 接入 / 回复 / 结束人工（交回智能助手）. Refreshes every 3 s
// while on screen. API: /api/v1/staff/handoff[/{id}[/take|/reply|/hand-back]].
import { api, el, every, formatTime, toast } from "./ui.js";

const BASE = "/api/v1/staff/handoff";
const POLL_MS = 3000;

function ensureStyles() {
  if (!document.querySelector('link[data-staff-css="handoff"]')) {
    const link = el("link", { rel: "stylesheet", href: "/staff/static/handoff.css" });
    link.dataset.staffCss = "handoff";
    document.head.append(link);
  }
}

function duration(seconds) {
  const minutes = Math.floor((seconds || 0) / 60);
  if (minutes < 1) return "不到1分钟";
  if (minutes < 60) return `${minutes}分钟`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}小时${minutes % 60 ? (minutes % 60) + "分钟" : ""}`;
  return `${Math.floor(hours / 24)}天${hours % 24 ? (hours % 24) + "小时" : ""}`;
}

const channelBadge = (item) =>
  el("span", { className: `badge ho-channel ho-channel--${item.channel}`, text: item.channel_name });

function deliveryLabel(delivery, channel) {
  if (!delivery) return "";
  switch (delivery.status) {
    case "sent": return "已送达";
    case "pending": return delivery.attempts ? "发送失败，正在重试…" : "发送中…";
    case "held": return channel === "rest" ? "已保存，市民下次查询时可见" : "市民暂时离线，上线后送达";
    case "failed": return "发送失败" + (channel === "wechat" ? "（可能已超过48小时未互动）" : "");
    default: return "无法送达（渠道未知）";
  }
}

function inboxItem(item, selectedId) {
  const mine = item.taken_by && item.taken_by.mine;
  const who = !item.taken_by ? null : item.status === "closed" ? `接待人：${mine ? "我" : item.taken_by.name}`
    : mine ? "我接待中" : `${item.taken_by.name}接待中`;
  const time = item.status === "closed" ? `结束于 ${formatTime(item.closed_at)}`
    : item.status === "waiting" ? `已等待 ${duration(item.waited_seconds)}` : `等待了 ${duration(item.waited_seconds)}`;
  return el("li", {}, el("a", {
    href: `#/handoff/${item.id}`,
    className: "list-item ho-item" + (item.id === selectedId ? " is-active" : "") + (item.status === "waiting" ? " ho-item--waiting" : ""),
    "aria-current": item.id === selectedId ? "true" : undefined,
    dataset: { id: item.id },
  }, [
    el("div", { className: "ho-item-head" }, [
      channelBadge(item),
      el("strong", { text: `排队号 ${item.id}` }),
      el("span", { className: "ho-wait" + (item.status === "waiting" && item.waited_seconds >= 600 ? " is-long" : ""), text: time }),
    ]),
    el("div", { className: "ho-last", text: item.last_message || "（无消息）" }),
    el("div", { className: "ho-item-foot muted" }, [
      item.reason_name,
      who ? el("span", { className: "ho-who" + (mine ? " is-mine" : ""), text: who }) : null,
      item.status !== "closed" && item.awaiting_reply && item.status === "taken" ? el("span", { className: "badge badge--warning", text: "待回复" }) : null,
    ]),
  ]));
}

function inboxGroup(title, items, selectedId, emptyText) {
  return el("section", { className: "ho-group" }, [
    el("h2", {}, [title, el("span", { className: "ho-count", text: String(items.length) })]),
    items.length ? el("ul", { className: "list" }, items.map((item) => inboxItem(item, selectedId)))
      : el("p", { className: "empty ho-empty", text: emptyText }),
  ]);
}

function bubble(entry, channel) {
  if (entry.role === "notice") {
    return el("div", { className: "ho-notice", role: "note" }, [
      el("span", { text: entry.text }),
      el("span", { className: "meta", text: `${formatTime(entry.time)} · ${deliveryLabel(entry.delivery, channel)}` }),
    ]);
  }
  const who = entry.role === "user" ? "市民" : entry.role === "bot" ? "智能助手" : `工作人员 · ${entry.staff_name}`;
  const meta = [who, formatTime(entry.time)];
  if (entry.role === "staff") meta.push(deliveryLabel(entry.delivery, channel));
  const text = entry.button ? `（点了按钮：${entry.text}）` : entry.text;
  const failed = entry.delivery && ["failed", "undeliverable"].includes(entry.delivery.status);
  return el("div", { className: `bubble bubble--${entry.role}` + (failed ? " is-failed" : "") }, [
    el("span", { className: "meta", text: meta.filter(Boolean).join(" · ") }),
    text,
  ]);
}

export async function render(root, ctx) {
  ensureStyles();
  const selectedId = /^\d{1,9}$/.test(ctx.params[0] || "") ? Number(ctx.params[0]) : null;
  const status = el("span", { className: "muted ho-status", "aria-live": "polite" });
  const inbox = el("div", { className: "ho-inbox card" }, el("p", { className: "muted", text: "正在加载……" }));
  const pane = el("div", { className: "ho-pane card" });
  root.append(
    el("div", { className: "ho-head" }, [el("h1", { text: "人工接待" }), status]),
    el("div", { className: "layout-2 ho-layout" }, [inbox, pane]),
  );

  // -- the conversation pane: built once, its parts updated on every refresh --------------------------
  const header = el("div", { className: "ho-conv-head" });
  const warning = el("p", { className: "ho-warning", role: "status", hidden: true });
  const transcript = el("div", { className: "transcript ho-transcript", role: "log", "aria-label": "对话记录", tabIndex: 0 });
  const actionError = el("p", { className: "error", role: "alert", hidden: true });
  const takeButton = el("button", { type: "button", className: "primary", text: "接入", hidden: true });
  const handBackButton = el("button", { type: "button", className: "danger", text: "结束人工（交回智能助手）", hidden: true });
  const holder = el("p", { className: "muted", hidden: true });
  const text = el("textarea", { id: "ho-reply", maxLength: 2000, rows: 3, placeholder: "输入回复，Enter 发送，Shift+Enter 换行" });
  const send = el("button", { type: "submit", className: "primary", text: "发送" });
  const form = el("form", { className: "ho-reply", hidden: true }, [
    el("label", { for: "ho-reply", className: "ho-visually-hidden", text: "回复市民" }), text,
    el("div", { className: "ho-reply-bar" }, [el("span", { className: "muted", text: "回复将通过市民所用的渠道送达" }), send]),
  ]);
  let detail = null;
  let shownTranscript = "";
  let busy = false;

  if (selectedId) {
    pane.append(header, warning, transcript, actionError, el("div", { className: "actions" }, [takeButton, handBackButton, holder]), form);
  } else {
    pane.append(el("p", { className: "empty", text: "请从左侧选择一个会话。" }));
  }

  function showActionError(error) {
    actionError.textContent = error.message;
    actionError.hidden = false;
    toast(error.message, "error");
  }

  function renderInbox(data) {
    const groups = [
      inboxGroup("等待接入", data.waiting, selectedId, "目前没有等待人工的会话。"),
      inboxGroup("接待中", data.taken, selectedId, "没有接待中的会话。"),
      inboxGroup("最近结束", data.closed, selectedId, "24小时内没有结束的会话。"),
    ];
    inbox.replaceChildren(...groups);
    const waiting = data.waiting.length;
    document.title = (waiting ? `(${waiting}) ` : "") + "人工接待 · 一窗通办 · 工作台";
  }

  function renderDetail(data) {
    detail = data;
    const item = data.request;
    const state = item.status === "waiting" ? ["等待接入", "badge--warning"] : item.status === "taken" ? ["接待中", "badge--normal"] : ["已结束", ""];
    header.replaceChildren(
      el("h2", {}, [channelBadge(item), ` 排队号 ${item.id} `, el("span", { className: "badge " + state[1], text: state[0] })]),
      el("p", { className: "muted ho-facts" }, [
        `${item.reason_name} · 转人工于 ${formatTime(item.requested_at)} · ${item.status === "waiting" ? "已等待" : "等待了"} ${duration(item.waited_seconds)}`,
        item.taken_by ? ` · 接待人：${item.taken_by.mine ? "我" : item.taken_by.name}` : "",
      ]),
    );
    warning.textContent = data.notice || "";
    warning.hidden = !data.notice;

    const key = JSON.stringify(data.transcript);
    if (key !== shownTranscript) {
      const atBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40 || !shownTranscript;
      shownTranscript = key;
      transcript.replaceChildren(...(data.transcript.length ? data.transcript.map((entry) => bubble(entry, item.channel))
        : [el("p", { className: "empty", text: "没有对话记录。" })]));
      if (atBottom) transcript.scrollTop = transcript.scrollHeight;
    }
    takeButton.hidden = !data.can.take;
    handBackButton.hidden = !data.can.hand_back;
    const otherHas = item.status === "taken" && !data.can.reply;
    holder.hidden = !otherHas && item.status !== "closed";
    holder.textContent = item.status === "closed" ? "人工服务已结束，智能助手已继续为市民服务。" : otherHas ? `该会话由${item.taken_by.name}接待。` : "";
    const wasHidden = form.hidden;
    form.hidden = !data.can.reply;
    if (wasHidden && !form.hidden) text.focus();
  }

  const errorLine = (error) => el("p", { className: "error", role: "alert", text: error.message });
  let inboxLoaded = false;

  async function refresh() {
    if (busy || ctx.signal.aborted) return;
    busy = true;
    try {
      const [list, one] = await Promise.allSettled([
        api("GET", BASE),
        selectedId ? api("GET", `${BASE}/${selectedId}`) : Promise.resolve(null),
      ]);
      if (ctx.signal.aborted) return;
      if (list.status === "fulfilled") {
        renderInbox(list.value);
        inboxLoaded = true;
      } else if (!inboxLoaded) {
        inbox.replaceChildren(errorLine(list.reason));
      }
      if (selectedId && one.status === "fulfilled") renderDetail(one.value);
      else if (selectedId && (one.reason.status === 404 || !detail)) pane.replaceChildren(errorLine(one.reason));
      const failure = [list, one].find((result) => result.status === "rejected");
      status.textContent = failure ? `刷新失败：${failure.reason.message}`
        : `每3秒自动刷新 · 更新于 ${new Date().toLocaleTimeString("zh-CN", { hour12: false })}`;
      status.classList.toggle("is-error", !!failure);
    } finally {
      busy = false;
    }
  }

  async function act(button, path, body, done) {
    actionError.hidden = true;
    button.disabled = true;
    try {
      await api("POST", `${BASE}/${selectedId}/${path}`, body);
      if (done) done();
    } catch (error) {
      showActionError(error);
    } finally {
      button.disabled = false;
      while (busy) await new Promise((resolve) => setTimeout(resolve, 50));
      await refresh();
    }
  }

  takeButton.addEventListener("click", () => act(takeButton, "take", undefined, () => toast("已接入，市民已收到通知。", "ok")));
  handBackButton.addEventListener("click", () => act(handBackButton, "hand-back", undefined, () => toast("已结束人工服务，智能助手将继续为市民服务。", "ok")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const reply = text.value.trim();
    if (!reply) { showActionError(new Error("回复内容不能为空。")); return; }
    if (send.disabled) return;
    text.readOnly = true;
    act(send, "reply", { text: reply }, () => { text.value = ""; }).finally(() => { text.readOnly = false; text.focus(); });
  });
  text.addEventListener("keydown", (event) => {
    // Enter sends; Shift+Enter is a new line; Enter that confirms an input method's candidate is not a send.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  await refresh();
  every(POLL_MS, refresh, ctx.signal);
}
