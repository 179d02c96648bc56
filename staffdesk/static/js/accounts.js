// 账号管理 (admin only): every staff account, creating one with an initial password, changing
// name, role, department, enabling / disabling, resetting a password. API: /api/v1/staff/accounts.
import { api, el, formatTime, showError, toast } from "./ui.js";
import { ensureStyles } from "./dashboard.js";

const BASE = "/api/v1/staff/accounts";

function options(items, selected, placeholder) {
  const list = placeholder ? [el("option", { value: "", text: placeholder })] : [];
  for (const item of items) list.push(el("option", { value: item.code, text: item.name, selected: item.code === selected }));
  return list;
}

function createForm(data, reload) {
  const username = el("input", { id: "acc-username", name: "username", required: true, maxLength: 64, autocomplete: "off", placeholder: "如 zhang.san" });
  const name = el("input", { id: "acc-name", name: "display_name", maxLength: 100, autocomplete: "off", placeholder: "如 张三" });
  const role = el("select", { id: "acc-role", name: "role" }, options(data.roles, "clerk"));
  const department = el("select", { id: "acc-department", name: "department" }, options(data.departments, null, "请选择部门"));
  const departmentField = el("div", { className: "field" }, [el("label", { for: "acc-department", text: "所属部门" }), department]);
  const password = el("input", { id: "acc-password", name: "password", type: "password", required: true, maxLength: 256,
    autocomplete: "new-password" });
  const error = el("p", { className: "error", role: "alert", hidden: true });
  const submit = el("button", { type: "submit", className: "primary", text: "创建账号" });
  const needsDepartment = () => data.roles.find((r) => r.code === role.value)?.needs_department;
  const sync = () => { departmentField.hidden = !needsDepartment(); };
  role.addEventListener("change", sync);
  sync();
  const form = el("form", { className: "acc-form", onsubmit: async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      const created = await api("POST", BASE, {
        username: username.value.trim(), display_name: name.value.trim(), role: role.value,
        department: needsDepartment() ? department.value || null : null, password: password.value,
      });
      toast(`已创建账号 ${created.username}（${created.role_name}）`, "ok");
      form.reset();
      sync();
      reload();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  } }, [
    el("div", { className: "field" }, [el("label", { for: "acc-username", text: "用户名" }), username]),
    el("div", { className: "field" }, [el("label", { for: "acc-name", text: "姓名" }), name]),
    el("div", { className: "field" }, [el("label", { for: "acc-role", text: "角色" }), role]),
    departmentField,
    el("div", { className: "field" }, [el("label", { for: "acc-password", text: "初始密码" }), password]),
    el("div", { className: "form-actions" }, [submit]),
    el("p", { className: "hint", text: `密码至少 ${data.password_min_length} 个字符，混合字母、数字或符号，且不含用户名。请将初始密码当面告知本人，并提醒登录后修改。` }),
    error,
  ]);
  return el("section", { className: "card dash-panel" }, [el("h2", { text: "新建账号" }), form]);
}

function accountRow(account, data, reload) {
  const self = account.username === data.me;
  const row = el("tr", { className: account.active ? "" : "is-disabled" });
  row.dataset.username = account.username;
  const name = el("input", { value: account.display_name, maxLength: 100, "aria-label": `${account.username} 的姓名` });
  const role = el("select", { "aria-label": `${account.username} 的角色`, disabled: self,
    title: self ? "不能更改自己的角色" : "" }, options(data.roles, account.role));
  const department = el("select", { "aria-label": `${account.username} 的部门` },
    options(data.departments, account.department ? account.department.code : null, "请选择部门"));
  const save = el("button", { type: "button", className: "primary", text: "保存", disabled: true });
  const needsDepartment = () => data.roles.find((r) => r.code === role.value)?.needs_department;
  const dirty = () => name.value.trim() !== account.display_name || role.value !== account.role
    || (needsDepartment() && department.value !== (account.department ? account.department.code : ""));
  const sync = () => { department.hidden = !needsDepartment(); save.disabled = !dirty(); };
  for (const input of [name, role, department]) input.addEventListener(input.tagName === "INPUT" ? "input" : "change", sync);
  sync();

  async function change(body, done) {
    try {
      const updated = await api("PATCH", `${BASE}/${encodeURIComponent(account.username)}`, body);
      toast(done(updated), "ok");
      reload();
    } catch (err) {
      toast(err.message, "error");
      save.disabled = !dirty();
      toggle.disabled = self;
    }
  }
  save.addEventListener("click", () => {
    save.disabled = true;
    const body = { display_name: name.value.trim(), role: role.value };
    if (needsDepartment()) body.department = department.value || null;
    change(body, (u) => `已保存 ${u.username}`);
  });
  const toggle = el("button", { type: "button", className: account.active ? "danger" : "", text: account.active ? "停用" : "启用",
    disabled: self, title: self ? "不能停用自己的账号" : "" });
  toggle.addEventListener("click", () => {
    if (account.active && !confirm(`停用账号 ${account.username}（${account.display_name}）？其登录会立即失效。`)) return;
    toggle.disabled = true;
    change({ active: !account.active }, (u) => (u.active ? `已启用 ${u.username}` : `已停用 ${u.username}`));
  });

  const passwordBox = el("div", { className: "acc-password", hidden: true });
  const newPassword = el("input", { type: "password", autocomplete: "new-password", maxLength: 256,
    "aria-label": `${account.username} 的新密码`, placeholder: `新密码（至少 ${data.password_min_length} 个字符）` });
  const confirmPassword = el("button", { type: "button", className: "primary", text: "确定" });
  const cancel = el("button", { type: "button", text: "取消", onclick: () => { passwordBox.hidden = true; newPassword.value = ""; } });
  confirmPassword.addEventListener("click", async () => {
    confirmPassword.disabled = true;
    try {
      await api("POST", `${BASE}/${encodeURIComponent(account.username)}/password`, { password: newPassword.value });
      toast(`已重置 ${account.username} 的密码${self ? "" : "，其登录已全部失效"}`, "ok");
      passwordBox.hidden = true;
      newPassword.value = "";
    } catch (err) {
      toast(err.message, "error");
      newPassword.focus();
    } finally {
      confirmPassword.disabled = false;
    }
  });
  passwordBox.append(newPassword, confirmPassword, cancel);
  const reset = el("button", { type: "button", text: "重置密码", onclick: () => { passwordBox.hidden = false; newPassword.focus(); } });

  row.append(
    el("td", {}, [el("strong", { text: account.username }), self ? el("div", { className: "hint", text: "（当前登录）" }) : null]),
    el("td", {}, name),
    el("td", {}, role),
    el("td", {}, [department, needsDepartment() ? null : el("span", { className: "muted", text: "—" })]),
    el("td", {}, [
      el("span", { className: "badge " + (account.active ? "badge--normal" : "badge--overdue"), text: account.active ? "启用" : "已停用" }),
      account.locked ? el("span", { className: "badge badge--warning", text: "已锁定" }) : null,
    ]),
    el("td", { text: account.last_login_at ? formatTime(account.last_login_at) : "从未登录" }),
    el("td", {}, [el("div", { className: "acc-row-actions" }, [save, toggle, reset]), passwordBox]),
  );
  role.addEventListener("change", () => {
    const dash = row.children[3].querySelector(".muted");
    if (dash) dash.hidden = needsDepartment();
  });
  return row;
}

export async function render(root, ctx) {
  ensureStyles();
  const body = el("div", {}, el("p", { className: "muted", text: "正在加载……" }));
  root.append(el("div", { className: "dash-head" }, [el("h1", { text: "账号管理" })]), body);

  async function load() {
    try {
      const data = await api("GET", BASE);
      if (ctx.signal.aborted) return;
      const rows = data.accounts.map((a) => accountRow(a, data, load));
      body.replaceChildren(
        createForm(data, load),
        el("section", { className: "card dash-panel" }, [
          el("h2", {}, ["全部账号", el("span", { className: "muted", text: `共 ${data.accounts.length} 个；停用或更改角色后，该账号的登录立即失效` })]),
          el("div", { className: "table-wrap" }, el("table", { className: "acc-table" }, [
            el("thead", {}, el("tr", {}, ["用户名", "姓名", "角色", "所属部门", "状态", "最近登录", "操作"].map((h) => el("th", { text: h })))),
            el("tbody", {}, rows),
          ])),
        ]),
      );
    } catch (err) {
      if (!ctx.signal.aborted) showError(body, err);
    }
  }
  await load();
}
