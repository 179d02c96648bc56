// Small helpers shared by every section of the staff desk: the API client, element building,
// messages and formatting. No framework, nothing loaded from outside the deployment.

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || "请求无法完成，请稍后再试。");
    this.status = status;
    this.code = error.code || "error";
    this.detail = error.detail || "";
  }
}

// fetch() against the desk's API: JSON in and out, the CSRF header on every request,
// errors as ApiError with the server's Chinese message. A 401 sends the user to sign in.
export async function api(method, path, body) {
  const options = { method, headers: { "X-Requested-With": "onewindow", Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    throw new ApiError(0, { error: { message: "无法连接服务器，请检查网络后重试。", code: "network" } });
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try { data = JSON.parse(text); } catch (err) { data = null; }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && !path.endsWith("/login")) {
      window.dispatchEvent(new CustomEvent("staff:signed-out", { detail: error.message }));
    }
    throw error;
  }
  return data;
}

// el("div", {className: "x", onclick: fn, dataset: {a: 1}}, [children or strings])
export function el(tag, props, children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else if (key in node && key !== "list" && key !== "form") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of [].concat(children || [])) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

let toastTimer = null;
export function toast(message, kind) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.className = "toast" + (kind ? " toast--" + kind : "");
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 6000 : 3000);
}

// An error shown where the user looks (and in the toast).
export function showError(container, error) {
  const message = (error && error.message) || String(error);
  toast(message, "error");
  if (container) container.replaceChildren(el("p", { className: "error", role: "alert", text: message }));
}

export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (isNaN(date)) return iso;
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// A section's polling that stops when the user leaves the section.
export function every(ms, fn, signal) {
  const timer = setInterval(() => { if (!document.hidden) fn(); }, ms);
  signal.addEventListener("abort", () => clearInterval(timer));
}
