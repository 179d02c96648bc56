/*!
 * onewindow web chat widget (一窗通办助手).
 *
 * Embed with one tag:
 *   <script src="http://HOST:8000/static/widget/onewindow-widget.js"
 *           data-server="http://HOST:5005" data-title="一窗通办助手" defer></script>
 *
 * The script finds its own base URL from its src and loads, from there, its stylesheet
 * (onewindow-widget.css) and the vendored socket.io client (../vendor/socket.io.min.js).
 * data-server defaults to the page's hostname on port data-port (default 5005); data-socket-path
 * to /socket.io.
 *
 * Protocol (docs/conversation.md): emit `session_request` {session_id} on every connect and
 * wait for `session_confirm`; send `user_uttered` {message, session_id}; bot messages arrive
 * by push as `bot_uttered` {text, quick_replies, custom}, one event per bot message.
 * The session id and the transcript (last 200 messages) are kept in localStorage, with the ID and
 * mobile numbers the citizen typed masked once sent.
 */
(function () {
  "use strict";

  if (window.__onewindowWidget) return; // included twice: keep the first one
  window.__onewindowWidget = true;

  var STORAGE_PREFIX = "onewindow-widget:";
  var MAX_MESSAGES = 200;
  var MAX_LENGTH = 500;
  var TYPING_TIMEOUT_MS = 30000;
  var CONFIRM_TIMEOUT_MS = 5000;
  var DEFAULT_TITLE = "一窗通办助手";
  var WELCOME_TEXT =
    "您好，我是一窗通办助手，可以为您解答龙岗区政务服务事项怎么办：要带什么材料、办理条件、时限、收费、在哪里办等。\n请直接输入您想办的事。";
  var EXAMPLES = ["办护照要带什么材料", "低保怎么申请", "我想开个个体户"];
  var NOTICE_LABELS = { handoff: "转接人工", staff_joined: "人工服务", staff_left: "人工服务结束" };
  var ASPECT_SECTION = {
    materials: "materials",
    time_limit: "time_limit",
    fee: "fee",
    location: "places",
    online: "online",
    contact: "contact",
  };

  // ---------------------------------------------------------------- configuration

  var script =
    document.currentScript ||
    (function () {
      var all = document.querySelectorAll("script[src]");
      for (var i = all.length - 1; i >= 0; i--) {
        if (/onewindow-widget(\.min)?\.js(\?|#|$)/.test(all[i].src)) return all[i];
      }
      return null;
    })();
  var scriptSrc = script && script.src ? script.src : location.href;
  var baseUrl = new URL(".", scriptSrc).href;
  var data = (script && script.dataset) || {};
  var port = /^\d{1,5}$/.test((data.port || "").trim()) ? data.port.trim() : "5005";
  var serverUrl = (data.server || "").trim() || location.protocol + "//" + location.hostname + ":" + port;
  var socketPath = (data.socketPath || "").trim() || "/socket.io";
  var title = (data.title || "").trim() || DEFAULT_TITLE;

  // ---------------------------------------------------------------- storage

  function storageGet(key) {
    try {
      return window.localStorage.getItem(STORAGE_PREFIX + key);
    } catch (e) {
      return null;
    }
  }
  function storageSet(key, value) {
    try {
      window.localStorage.setItem(STORAGE_PREFIX + key, value);
    } catch (e) {
      /* private mode or quota: the conversation still works, it just is not kept */
    }
  }
  function storageRemove(key) {
    try {
      window.localStorage.removeItem(STORAGE_PREFIX + key);
    } catch (e) {
      /* ignore */
    }
  }

  function newSessionId() {
    var bytes = new Uint8Array(16);
    // getRandomValues works on plain http too (randomUUID needs a secure context).
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  function loadTranscript(id) {
    try {
      var parsed = JSON.parse(storageGet("transcript:" + id) || "[]");
      return Array.isArray(parsed) ? parsed.filter(function (m) { return m && (m.role === "user" || m.role === "bot"); }) : [];
    } catch (e) {
      return [];
    }
  }

  var sessionId = storageGet("session");
  if (!sessionId || !/^[A-Za-z0-9_-]{8,64}$/.test(sessionId)) {
    sessionId = newSessionId();
    storageSet("session", sessionId);
  }
  var messages = loadTranscript(sessionId);
  var messageSeq = messages.reduce(function (max, m) { return Math.max(max, m.id || 0); }, 0);

  // ID and mobile numbers the citizen typed are not kept on the device in clear: once a message
  // is sent, its stored copy has them masked (the server seals them too: connectors/privacy.py).
  // A message still waiting to be sent keeps its text, to send it after a reload.
  var ID_NUMBER = /(^|\D)(\d{4})\d{10}(\d{3}[\dXx])(?![\dXx])/g;
  var MOBILE = /(^|\D)(1[3-9]\d)\d{4}(\d{4})(?!\d)/g;

  function maskNumbers(text) {
    return String(text).replace(ID_NUMBER, "$1$2**********$3").replace(MOBILE, "$1$2****$3");
  }

  function saveTranscript() {
    if (messages.length > MAX_MESSAGES) messages = messages.slice(messages.length - MAX_MESSAGES);
    var stored = messages.map(function (m) {
      if (m.role !== "user" || m.pending) return m;
      var copy = Object.assign({}, m, { text: maskNumbers(m.text) });
      delete copy.send;
      return copy;
    });
    storageSet("transcript:" + sessionId, JSON.stringify(stored));
  }

  // ---------------------------------------------------------------- DOM helpers

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === null || value === undefined || value === false) return;
        if (name === "className") node.className = value;
        else if (name === "text") node.textContent = value;
        else if (name.slice(0, 2) === "on" && typeof value === "function") node.addEventListener(name.slice(2), value);
        else node.setAttribute(name, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function safeUrl(value) {
    if (typeof value !== "string" || !value.trim()) return null;
    try {
      var url = new URL(value.trim(), location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  // Text with line breaks and clickable links; never parsed as HTML.
  var URL_RE = /https?:\/\/[^\s<>"'\u3000-\u303f\uff01-\uff0f\uff1a-\uff20（）【】《》，。；：、！？“”‘’]+/g;
  function richText(text) {
    var fragment = document.createDocumentFragment();
    String(text || "").split("\n").forEach(function (line, index) {
      if (index > 0) fragment.appendChild(document.createElement("br"));
      var last = 0;
      line.replace(URL_RE, function (match, offset) {
        var url = match.replace(/[.,;:!?)\]]+$/, "");
        if (offset > last) fragment.appendChild(document.createTextNode(line.slice(last, offset)));
        var href = safeUrl(url);
        fragment.appendChild(
          href ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: url }) : document.createTextNode(url)
        );
        last = offset + url.length;
        return match;
      });
      if (last < line.length) fragment.appendChild(document.createTextNode(line.slice(last)));
    });
    return fragment;
  }

  function icon(name) {
    var paths = {
      chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0-.01zm5 0a1.5 1.5 0 1 0 0-.01zm5 0a1.5 1.5 0 1 0 0-.01z",
      close: "M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z",
      send: "M3 20.5 21 12 3 3.5v6.6l12.9 1.9L3 13.9z",
      person: "M12 12a4.5 4.5 0 1 0 0-9 4.5 4.5 0 0 0 0 9zm0 2c-4.4 0-8 2.2-8 5v2h16v-2c0-2.8-3.6-5-8-5z",
    };
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "ow-icon");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", paths[name]);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  // ---------------------------------------------------------------- the UI

  var host = el("div", { id: "onewindow-widget", "data-session": sessionId });
  var shadow = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var stylesheet = el("link", { rel: "stylesheet", href: new URL("onewindow-widget.css", baseUrl).href });
  var root = el("div", { className: "ow-root", hidden: true, lang: "zh-CN" });

  var badge = el("span", { className: "ow-badge", hidden: true, "aria-hidden": "true" });
  var launcher = el(
    "button",
    { type: "button", className: "ow-launcher", "aria-haspopup": "dialog", "aria-expanded": "false", "aria-controls": "ow-panel", "aria-label": "打开" + title },
    [icon("chat"), el("span", { className: "ow-launcher-label", text: title }), badge]
  );
  var status = el("div", { className: "ow-status", role: "status", "aria-live": "polite", hidden: true });
  var log = el("div", { className: "ow-log", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": "对话记录", tabindex: "0" });
  var input = el("textarea", {
    id: "ow-input",
    className: "ow-input",
    rows: "1",
    maxlength: String(MAX_LENGTH),
    placeholder: "请输入您的问题",
    "aria-label": "输入您的问题",
    enterkeyhint: "send",
    autocomplete: "off",
  });
  var counter = el("span", { className: "ow-counter", "aria-live": "polite", hidden: true });
  var sendButton = el("button", { type: "submit", className: "ow-send", "aria-label": "发送", disabled: true }, [icon("send")]);
  var form = el("form", { className: "ow-composer", novalidate: true }, [input, counter, sendButton]);
  var clearButton = el("button", { type: "button", className: "ow-clear", text: "清空对话", "aria-label": "清空对话，开始新的对话" });
  var closeButton = el("button", { type: "button", className: "ow-close", "aria-label": "关闭对话窗口" }, [icon("close")]);
  var panel = el(
    "section",
    { id: "ow-panel", className: "ow-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "ow-title", hidden: true },
    [
      el("header", { className: "ow-header" }, [
        el("div", { className: "ow-header-text" }, [
          el("h2", { id: "ow-title", className: "ow-title", text: title }),
          el("p", { className: "ow-subtitle", text: "龙岗区政务服务 · 在线咨询" }),
        ]),
        clearButton,
        closeButton,
      ]),
      status,
      log,
      form,
      el("p", { className: "ow-footnote", text: "回答仅供参考，办理要求以窗口最终告知为准" }),
    ]
  );
  root.appendChild(launcher);
  root.appendChild(panel);
  shadow.appendChild(stylesheet);
  shadow.appendChild(root);

  function reveal() {
    root.hidden = false;
    scrollToBottom(); // laid out only now that the stylesheet is in
  }
  stylesheet.addEventListener("load", reveal);
  stylesheet.addEventListener("error", reveal);

  function mount() {
    document.body.appendChild(host);
    renderAll();
    if (storageGet("open") === "1") openPanel(false);
    if (messages.length) connect(); // a returning visitor: listen for replies (e.g. staff) at once
  }

  // ---------------------------------------------------------------- rendering

  var rendered = {}; // message id -> element
  var typingNode = null;
  var typingTimer = null;
  var unread = 0;

  function renderAll() {
    log.textContent = "";
    rendered = {};
    log.appendChild(renderWelcome());
    messages.forEach(function (m) {
      var node = renderMessage(m);
      rendered[m.id] = node;
      log.appendChild(node);
    });
    if (typingNode) log.appendChild(typingNode);
    scrollToBottom();
  }

  function renderWelcome() {
    var children = [el("div", { className: "ow-bubble" }, [richText(WELCOME_TEXT)])];
    if (!messages.length) {
      children.push(
        el(
          "div",
          { className: "ow-quick-replies ow-examples", role: "group", "aria-label": "常见问题示例" },
          EXAMPLES.map(function (example) {
            return el("button", { type: "button", className: "ow-chip", text: example, onclick: function () { sendText(example); } });
          })
        )
      );
    }
    return el("div", { className: "ow-msg ow-msg--bot ow-welcome" }, children);
  }

  function renderMessage(m) {
    var custom = m.custom && typeof m.custom === "object" ? m.custom : {};
    var type = custom.type || "";
    if (m.role === "user") {
      return el("div", { className: "ow-msg ow-msg--user" + (m.pending ? " is-pending" : ""), "data-id": m.id }, [
        el("span", { className: "ow-visually-hidden", text: "我：" }),
        el("div", { className: "ow-bubble" }, [richText(m.text)]),
        m.pending ? el("div", { className: "ow-meta", text: "等待发送…" }) : null,
      ]);
    }
    var classes = "ow-msg ow-msg--bot";
    var children = [];
    if (type === "handoff" || type === "staff_joined" || type === "staff_left") {
      // Notices of the handoff: queued for a person, a person joined, the assistant is back.
      classes = "ow-msg ow-msg--notice";
      children.push(
        el("div", { className: "ow-notice" + (type === "handoff" ? "" : " ow-notice--" + type), role: "note" }, [
          el("span", { className: "ow-notice-label" }, [icon("person"), NOTICE_LABELS[type]]),
          el("div", { className: "ow-notice-text" }, [richText(m.text)]),
        ])
      );
    } else if (type === "staff_message") {
      classes = "ow-msg ow-msg--staff";
      var who = custom.staff_name || custom.staff || custom.name;
      children.push(el("div", { className: "ow-label" }, [icon("person"), "工作人员" + (typeof who === "string" && who ? " · " + who : "")]));
      children.push(el("div", { className: "ow-bubble" }, [richText(m.text)]));
    } else {
      children.push(el("span", { className: "ow-visually-hidden", text: "助手：" }));
      if (m.text) children.push(el("div", { className: "ow-bubble" }, [richText(m.text)]));
      if (type === "service_answer" && custom.card && typeof custom.card === "object") children.push(renderCard(m, custom));
      if (m.image) children.push(el("a", { className: "ow-attachment", href: m.image, target: "_blank", rel: "noopener noreferrer", text: "查看图片" }));
    }
    if (Array.isArray(m.quick_replies) && m.quick_replies.length) children.push(renderQuickReplies(m));
    return el("div", { className: classes + (type ? " ow-type-" + type.replace(/[^a-z_]/g, "") : ""), "data-id": m.id }, children);
  }

  function renderQuickReplies(m) {
    var used = typeof m.chosen === "number";
    return el(
      "div",
      { className: "ow-quick-replies" + (used ? " is-used" : ""), role: "group", "aria-label": "可选项" },
      m.quick_replies.map(function (reply, index) {
        var label = String(reply.title || reply.payload || "");
        return el("button", {
          type: "button",
          className: "ow-chip" + (m.chosen === index ? " is-chosen" : ""),
          disabled: used,
          "aria-pressed": used ? String(m.chosen === index) : null,
          text: label,
          onclick: function () { chooseReply(m, index); },
        });
      })
    );
  }

  function renderCard(m, custom) {
    var card = custom.card;
    var service = custom.service && typeof custom.service === "object" ? custom.service : {};
    var focus = ASPECT_SECTION[custom.aspect] || "";
    var cardTitle = String(card.title || service.name || "办事指南");
    var sections = [];

    var head = el("header", { className: "ow-card-head" }, [
      el("div", { className: "ow-card-titlebar" }, [
        el("h3", { className: "ow-card-title", text: cardTitle }),
        card.sample ? el("span", { className: "ow-tag ow-tag--sample", title: "示例数据，仅供演示", text: "示例数据" }) : null,
      ]),
      card.department || service.department
        ? el("p", { className: "ow-card-dept", text: "实施部门：" + (card.department || service.department) })
        : null,
    ]);

    if (Array.isArray(card.materials) && card.materials.length) {
      var checked = Array.isArray(m.checked) ? m.checked : [];
      sections.push(
        el("section", { className: "ow-card-sec ow-card-materials" + (focus === "materials" ? " is-focus" : "") }, [
          el("h4", { text: "申请材料（" + card.materials.length + "项）" }),
          el(
            "ul",
            { className: "ow-checklist" },
            card.materials.map(function (material, index) {
              var extra = [material.form, material.copies ? material.copies + "份" : ""].filter(Boolean).join(" · ");
              var box = el("input", {
                type: "checkbox",
                className: "ow-check",
                checked: checked.indexOf(index) >= 0,
                "aria-label": "已准备：" + (material.name || ""),
                onchange: function (event) { toggleMaterial(m, index, event.target.checked); },
              });
              return el("li", { className: material.required ? "is-required" : "is-optional" }, [
                el("label", { className: "ow-check-label" }, [
                  box,
                  el("span", { className: "ow-mat" }, [
                    el("span", { className: "ow-mat-name", text: String(material.name || "") }),
                    material.required
                      ? el("span", { className: "ow-tag ow-tag--required", text: "必须" })
                      : el("span", { className: "ow-tag ow-tag--optional", text: "非必须" }),
                    extra ? el("span", { className: "ow-mat-extra", text: extra }) : null,
                  ]),
                ]),
              ]);
            })
          ),
        ])
      );
    }

    if (Array.isArray(card.members) && card.members.length) {
      sections.push(
        el("section", { className: "ow-card-sec ow-card-members" }, [
          el("h4", { text: "一次申请可同时办理" }),
          el(
            "ol",
            { className: "ow-members" },
            card.members.map(function (member) {
              return el("li", { text: String(member.name || "") + (member.department ? "（" + member.department + "）" : "") });
            })
          ),
        ])
      );
    }

    var facts = [];
    function fact(key, label, value) {
      if (value === null || value === undefined || value === "") return;
      facts.push(
        el("div", { className: "ow-fact" + (focus === key ? " is-focus" : "") }, [
          el("dt", { text: label }),
          el("dd", {}, [typeof value === "string" ? richText(value) : value]),
        ])
      );
    }
    fact("time_limit", "办理时限", card.time_limit);
    fact("fee", "收费标准", card.fee);
    if (typeof card.visits_on_site === "number") {
      fact("visits", "到现场次数", card.visits_on_site === 0 ? "0次（全程网上办理）" : card.visits_on_site + "次");
    }
    if (card.consult_phone) {
      var tel = String(card.consult_phone);
      var telHref = tel.replace(/[^0-9+\-]/g, "");
      fact("contact", "咨询电话", telHref ? el("a", { href: "tel:" + telHref, text: tel }) : tel);
    }
    if (facts.length) sections.push(el("dl", { className: "ow-card-sec ow-facts" }, facts));

    if (Array.isArray(card.places) && card.places.length) {
      sections.push(
        el("section", { className: "ow-card-sec ow-card-places" + (focus === "places" ? " is-focus" : "") }, [
          el("h4", { text: "办理地点和时间" }),
          el(
            "ul",
            { className: "ow-places" },
            card.places.map(function (place) {
              return el("li", {}, [
                el("div", { className: "ow-place-name" }, [String(place.name || ""), place.window ? "（" + place.window + "）" : ""]),
                place.address && place.address !== place.name ? el("div", { className: "ow-place-line", text: "地址：" + place.address }) : null,
                place.opening_hours ? el("div", { className: "ow-place-line ow-place-hours", text: "时间：" + place.opening_hours }) : null,
              ]);
            })
          ),
        ])
      );
    }

    var online = safeUrl(card.online_url);
    if (online) {
      sections.push(
        el("div", { className: "ow-card-sec ow-card-actions" + (focus === "online" ? " is-focus" : "") }, [
          el("a", { className: "ow-btn ow-btn--primary", href: online, target: "_blank", rel: "noopener noreferrer", text: "网上办理" }),
        ])
      );
    }

    sections.push(renderRating(m, service.code));

    return el("article", { className: "ow-card", "aria-label": "办事指南：" + cardTitle }, [head].concat(sections));
  }

  function renderRating(m, code) {
    if (m.rated) {
      return el("footer", { className: "ow-rating is-done" }, [el("span", { className: "ow-rating-thanks", role: "status", text: "感谢您的评价" })]);
    }
    function rate(rating) {
      return function () {
        var payload = { rating: rating };
        if (code) payload.service = String(code);
        m.rated = rating;
        saveTranscript();
        enqueue("/rate_answer" + JSON.stringify(payload), null);
        rerender(m);
      };
    }
    return el("footer", { className: "ow-rating" }, [
      el("span", { className: "ow-rating-q", text: "这个回答对您有帮助吗？" }),
      el("button", { type: "button", className: "ow-rate ow-rate--good", text: "有帮助", "aria-label": "有帮助", onclick: rate("good") }),
      el("button", { type: "button", className: "ow-rate ow-rate--bad", text: "没帮助", "aria-label": "没帮助", onclick: rate("bad") }),
    ]);
  }

  function rerender(m) {
    var old = rendered[m.id];
    var node = renderMessage(m);
    rendered[m.id] = node;
    if (old && old.parentNode) old.parentNode.replaceChild(node, old);
  }

  function appendMessage(m) {
    messages.push(m);
    saveTranscript();
    if (messages.length === 1) {
      renderAll(); // drop the example chips of the welcome
      return rendered[m.id];
    }
    var node = renderMessage(m);
    rendered[m.id] = node;
    log.insertBefore(node, typingNode && typingNode.parentNode === log ? typingNode : null);
    // trimmed away from the transcript: drop from the view as well
    Object.keys(rendered).forEach(function (id) {
      if (!messages.some(function (x) { return String(x.id) === id; })) {
        var gone = rendered[id];
        if (gone.parentNode) gone.parentNode.removeChild(gone);
        delete rendered[id];
      }
    });
    return node;
  }

  function scrollToBottom() {
    log.scrollTop = log.scrollHeight;
    pinned = true;
  }

  // Stay at the bottom when the log changes size (panel opened, phone rotated, keyboard shown)
  // unless the reader has scrolled up.
  var pinned = true;
  log.addEventListener("scroll", function () {
    pinned = log.scrollTop + log.clientHeight >= log.scrollHeight - 40;
  });
  if (window.ResizeObserver) {
    new ResizeObserver(function () {
      if (pinned) log.scrollTop = log.scrollHeight;
    }).observe(log);
  }

  // Show a new bot message from its top when it is taller than the view (long cards).
  function scrollToMessage(node) {
    if (node && node.offsetHeight > log.clientHeight - 24) {
      log.scrollTop = node.offsetTop - log.offsetTop - 8;
      pinned = false;
    } else {
      scrollToBottom();
    }
  }

  function showTyping() {
    clearTimeout(typingTimer);
    if (!typingNode) {
      typingNode = el("div", { className: "ow-msg ow-msg--bot ow-typing", "aria-label": "助手正在回复" }, [
        el("div", { className: "ow-bubble" }, [el("span", { className: "ow-dot" }), el("span", { className: "ow-dot" }), el("span", { className: "ow-dot" })]),
      ]);
    }
    log.appendChild(typingNode);
    scrollToBottom();
    typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    if (typingNode && typingNode.parentNode) typingNode.parentNode.removeChild(typingNode);
    typingNode = null;
  }

  function setStatus(text, kind) {
    status.textContent = text || "";
    status.hidden = !text;
    status.className = "ow-status" + (kind ? " is-" + kind : "");
  }

  function setUnread(count) {
    unread = count;
    badge.hidden = !count;
    badge.textContent = count > 9 ? "9+" : String(count || "");
    launcher.setAttribute("aria-label", "打开" + title + (count ? "（" + count + "条新消息）" : ""));
  }

  // ---------------------------------------------------------------- panel

  function isOpen() {
    return !panel.hidden;
  }

  function openPanel(focusInput) {
    panel.hidden = false;
    root.classList.add("is-open");
    launcher.setAttribute("aria-expanded", "true");
    storageSet("open", "1");
    setUnread(0);
    connect();
    scrollToBottom();
    var coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
    if (focusInput !== false && !coarse) input.focus();
  }

  function closePanel() {
    panel.hidden = true;
    root.classList.remove("is-open");
    launcher.setAttribute("aria-expanded", "false");
    storageSet("open", "0");
    launcher.focus();
  }

  launcher.addEventListener("click", function () { openPanel(true); });
  closeButton.addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      closePanel();
    }
  });

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
    var length = input.value.length;
    sendButton.disabled = !input.value.trim();
    counter.hidden = length < MAX_LENGTH - 100;
    counter.textContent = length + "/" + MAX_LENGTH;
  }
  input.addEventListener("input", autosize);
  input.addEventListener("keydown", function (event) {
    // Enter sends, Shift+Enter is a new line; Enter that confirms an IME composition does neither.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submit();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });

  function submit() {
    var text = input.value.trim();
    if (!text) return; // empty messages are not sent
    input.value = "";
    autosize();
    sendText(text);
    input.focus();
  }

  clearButton.addEventListener("click", function () {
    storageRemove("transcript:" + sessionId);
    sessionId = newSessionId();
    storageSet("session", sessionId);
    host.setAttribute("data-session", sessionId);
    messages = [];
    outbox = [];
    inflight = [];
    hideTyping();
    renderAll();
    if (socket) {
      // a fresh socket id, so nothing of the old conversation reaches this page any more
      socket.disconnect();
      socket.connect();
    }
    input.focus();
  });

  // ---------------------------------------------------------------- sending

  var outbox = []; // {message, id} in order; id = the user message shown, or null (silent)
  messages.forEach(function (m) {
    if (m.role === "user" && m.pending) outbox.push({ message: m.send || m.text, id: m.id });
  });

  function sendText(text, shown) {
    var m = { id: ++messageSeq, role: "user", text: shown || text, ts: Date.now(), pending: true };
    if (shown && shown !== text) m.send = text;
    var node = appendMessage(m);
    scrollToMessage(node);
    enqueue(text, m.id);
  }

  function chooseReply(m, index) {
    if (typeof m.chosen === "number") return;
    var reply = m.quick_replies[index];
    m.chosen = index;
    saveTranscript();
    rerender(m);
    var label = String(reply.title || reply.payload || "");
    sendText(String(reply.payload || reply.title || ""), label);
  }

  function toggleMaterial(m, index, on) {
    var list = Array.isArray(m.checked) ? m.checked.slice() : [];
    var at = list.indexOf(index);
    if (on && at < 0) list.push(index);
    if (!on && at >= 0) list.splice(at, 1);
    m.checked = list;
    saveTranscript();
  }

  function enqueue(message, id) {
    outbox.push({ message: message, id: id });
    connect();
    flush();
  }

  // Each message stays in flight until the server acknowledges it (python-socketio acks an event
  // once its handler returns, i.e. after Rasa has processed the turn). Messages still in flight
  // when the connection drops go back to the front of the outbox and are sent again on reconnect.
  var inflight = [];
  var INFLIGHT_MS = 120000; // past this, assume delivered (a server that never acks)

  function flush() {
    if (!socket || !socket.connected || !confirmed) return;
    var sentVisible = false;
    var now = Date.now();
    inflight = inflight.filter(function (item) { return now - item.sentAt < INFLIGHT_MS; });
    while (outbox.length) {
      var item = outbox.shift();
      item.sentAt = now;
      inflight.push(item);
      socket.emit("user_uttered", { message: item.message, session_id: sessionId }, acknowledge(item));
      if (item.id !== null) {
        sentVisible = true;
        setPending(item.id, false);
      }
    }
    saveTranscript();
    if (sentVisible && !withStaff()) showTyping();
  }

  // Queued for or taken by a person: the assistant is paused, so no "typing" dots for the citizen.
  function withStaff() {
    for (var i = messages.length - 1; i >= 0; i--) {
      var type = messages[i].custom && messages[i].custom.type;
      if (type === "staff_left") return false;
      if (type === "handoff" || type === "staff_joined" || type === "staff_message") return true;
    }
    return false;
  }

  function acknowledge(item) {
    return function () {
      inflight = inflight.filter(function (x) { return x !== item; });
    };
  }

  function requeueInflight() {
    if (!inflight.length) return;
    outbox = inflight.concat(outbox);
    inflight = [];
    outbox.forEach(function (item) { if (item.id !== null) setPending(item.id, true); });
    saveTranscript();
  }

  function setPending(id, pending) {
    var m = messages.filter(function (x) { return x.id === id; })[0];
    if (!m || !!m.pending === pending) return;
    if (pending) m.pending = true;
    else delete m.pending;
    rerender(m);
  }

  // ---------------------------------------------------------------- receiving

  function receive(payload) {
    if (!payload || typeof payload !== "object") return;
    var custom = payload.custom && typeof payload.custom === "object" ? payload.custom : null;
    if (!custom && typeof payload.type === "string" && payload.type !== "text") custom = payload; // bare custom json
    if (custom && custom.type === "rating_ack" && custom.rating === "good") { hideTyping(); return; } // the card already says thanks
    var replies = Array.isArray(payload.quick_replies) ? payload.quick_replies : Array.isArray(payload.buttons) ? payload.buttons : [];
    var m = { id: ++messageSeq, role: "bot", text: typeof payload.text === "string" ? payload.text : "", ts: Date.now() };
    if (replies.length) {
      m.quick_replies = replies
        .filter(function (r) { return r && (r.title || r.payload); })
        .map(function (r) { return { title: String(r.title || r.payload), payload: String(r.payload || r.title) }; });
    }
    if (custom) m.custom = custom;
    var attachment = payload.attachment;
    if (attachment && attachment.type === "image" && attachment.payload) m.image = safeUrl(attachment.payload.src) || undefined;
    if (!m.text && !m.custom && !m.image && !(m.quick_replies && m.quick_replies.length)) return;
    hideTyping();
    var node = appendMessage(m);
    scrollToMessage(node);
    if (!isOpen()) setUnread(unread + 1);
  }

  // ---------------------------------------------------------------- connection

  var socket = null;
  var confirmed = false;
  var everConnected = false;
  var confirmTimer = null;
  var ioReady = null;

  function loadSocketIo() {
    if (ioReady) return ioReady;
    ioReady = new Promise(function (resolve, reject) {
      var previousIo = window.io;
      var previousDefine = window.define;
      // Keep the UMD bundle from registering itself with a page's AMD loader.
      if (previousDefine && previousDefine.amd) window.define = undefined;
      var tag = document.createElement("script");
      tag.src = new URL("../vendor/socket.io.min.js", baseUrl).href;
      tag.async = true;
      tag.onload = function () {
        var ours = window.io;
        if (previousDefine) window.define = previousDefine;
        if (previousIo && previousIo !== ours) window.io = previousIo; // leave the page's own io alone
        if (typeof ours === "function") resolve(ours);
        else reject(new Error("socket.io client did not load"));
      };
      tag.onerror = function () {
        if (previousDefine) window.define = previousDefine;
        reject(new Error("socket.io client could not be loaded"));
      };
      document.head.appendChild(tag);
    });
    return ioReady;
  }

  function connect() {
    if (socket) {
      if (!socket.connected && !socket.active) socket.connect();
      return;
    }
    loadSocketIo().then(
      function (io) {
        if (socket) return;
        socket = io(serverUrl, {
          path: socketPath,
          transports: ["websocket", "polling"],
          tryAllTransports: true, // fall back to long-polling when websocket is not possible
          reconnection: true,
          reconnectionDelay: 1000,
          reconnectionDelayMax: 5000,
          timeout: 20000,
        });
        socket.on("connect", onConnect);
        socket.on("session_confirm", onConfirm);
        socket.on("bot_uttered", receive);
        socket.on("disconnect", onDisconnect);
        socket.on("connect_error", function () {
          setStatus(everConnected ? "连接中断，正在重连…" : "暂时无法连接服务，正在重试…", "warn");
        });
      },
      function () {
        setStatus("无法加载聊天组件，请稍后刷新页面重试。", "error");
      }
    );
  }

  function onConnect() {
    confirmed = false;
    socket.emit("session_request", { session_id: sessionId });
    clearTimeout(confirmTimer);
    confirmTimer = setTimeout(function () {
      if (socket.connected && !confirmed) onConfirm(sessionId); // a server that does not confirm
    }, CONFIRM_TIMEOUT_MS);
  }

  function onConfirm(confirmedId) {
    clearTimeout(confirmTimer);
    var id = typeof confirmedId === "string" ? confirmedId : confirmedId && confirmedId.session_id;
    if (id && id !== sessionId) {
      // the server chose another id: keep the transcript under it
      storageRemove("transcript:" + sessionId);
      sessionId = id;
      storageSet("session", sessionId);
      host.setAttribute("data-session", sessionId);
      saveTranscript();
    }
    confirmed = true;
    everConnected = true;
    setStatus("");
    flush();
  }

  function onDisconnect(reason) {
    confirmed = false;
    hideTyping();
    if (reason === "io client disconnect") return; // ours (清空对话)
    requeueInflight();
    setStatus("连接中断，正在重连…", "warn");
    if (reason === "io server disconnect") socket.connect(); // the server hung up: not retried on its own
  }

  // ---------------------------------------------------------------- public API

  window.OneWindowWidget = {
    open: function () { openPanel(true); },
    close: closePanel,
    send: function (text) {
      text = String(text || "").trim().slice(0, MAX_LENGTH);
      if (text) sendText(text);
    },
    get sessionId() { return sessionId; },
    server: serverUrl,
  };

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
