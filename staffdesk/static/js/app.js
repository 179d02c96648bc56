// The staff desk's shell: sign-in, the navigation the role allows, and a hash router that
// loads one section module at a time (js/<section>.js exporting render(root, ctx)).
import { api, clear, el, showError, toast } from "./ui.js";

const SECTIONS = {
  lookup: "事项查询",
  handoff: "人工接待",
  cases: "办件处理",
  dashboard: "运行统计",
  accounts: "账号管理",
};

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let me = null;
let leaving = null; // AbortController of the section on screen

function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [section, ...rest] = hash.split("/");
  return { section, params: rest.map(decodeURIComponent) };
}

export function navigate(section, ...params) {
  location.hash = "#/" + [section, ...params.map(encodeURIComponent)].join("/");
}

function renderNav() {
  clear(nav);
  if (!me) return;
  const current = route().section;
  for (const name of me.sections) {
    nav.append(el("a", { href: "#/" + name, className: "nav-link" + (name === current ? " is-active" : ""),
      "aria-current": name === current ? "page" : undefined, text: SECTIONS[name] || name }));
  }
  document.getElementById("who").hidden = false;
  document.getElementById("who-name").textContent =
    `${me.display_name}（${me.role_name}${me.department ? " · " + me.department.name : ""}）`;
}

function renderLogin(message) {
  me = null;
  if (leaving) leaving.abort();
  clear(nav);
  document.getElementById("who").hidden = true;
  const error = el("p", { className: "error", role: "alert", hidden: !message, text: message || "" });
  const username = el("input", { name: "username", id: "username", autocomplete: "username", required: true, maxLength: 64 });
  const password = el("input", { name: "password", id: "password", type: "password", autocomplete: "current-password", required: true, maxLength: 256 });
  const submit = el("button", { type: "submit", className: "primary", text: "登录" });
  const form = el("form", { className: "login card", onsubmit: async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      me = await api("POST", "/api/v1/staff/login", { username: username.value, password: password.value });
      if (!route().section || route().section === "login") navigate(me.sections[0]);
      else show();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      password.value = "";
      password.focus();
    } finally {
      submit.disabled = false;
    }
  } }, [
    el("h1", { text: "工作人员登录" }),
    el("label", { for: "username", text: "用户名" }), username,
    el("label", { for: "password", text: "密码" }), password,
    error, submit,
  ]);
  main.replaceChildren(form);
  username.focus();
}

async function show() {
  if (!me) return renderLogin();
  let { section, params } = route();
  if (!section || !me.sections.includes(section)) {
    if (section && section !== "login" && SECTIONS[section]) toast(`您的角色无权使用“${SECTIONS[section]}”。`, "error");
    return navigate(me.sections[0]);
  }
  renderNav();
  if (leaving) leaving.abort();
  leaving = new AbortController();
  const root = el("section", { className: "section section--" + section, "aria-label": SECTIONS[section] });
  main.replaceChildren(root);
  document.title = `${SECTIONS[section]} · 一窗通办 · 工作台`;
  try {
    const module = await import(`./${section}.js`);
    await module.render(root, { me, params, signal: leaving.signal, navigate });
  } catch (err) {
    showError(root, err);
  }
}

document.getElementById("logout").addEventListener("click", async () => {
  try { await api("POST", "/api/v1/staff/logout"); } catch (err) { /* signed out either way */ }
  location.hash = "#/login";
  renderLogin("您已退出登录。");
});

window.addEventListener("staff:signed-out", (event) => renderLogin(event.detail || "登录已过期，请重新登录。"));
window.addEventListener("hashchange", () => { if (me) show(); });

(async function start() {
  try {
    me = await api("GET", "/api/v1/staff/me");
    show();
  } catch (err) {
    renderLogin(err.status === 401 ? "" : err.message);
  }
})();
