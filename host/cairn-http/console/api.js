// What every page shares: calls to the server's API, the session's scope,
// and small DOM helpers. The console holds no token: a login opens a session
// whose HttpOnly cookie the browser sends with every same-origin request.

const scopeRank = { read: 1, write: 2, admin: 3 };
let session = { scope: null, access_control: true };

export async function api(path, init = {}) {
  const response = await fetch(path, { ...init, credentials: "same-origin" });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const message = body?.error?.message ?? `${response.status} ${response.statusText}`;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return body;
}

export function postJson(path, value, method = "POST") {
  return api(path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(value) });
}

export function currentSession() {
  return session;
}

export function setSession(value) {
  session = value ?? { scope: null, access_control: true };
  applyScope();
}

export function allows(needed) {
  return (scopeRank[session.scope] ?? 0) >= scopeRank[needed];
}

// Shows what the session's scope may do, and hides the rest: every element
// marked data-needs="write" or "admin", and the buttons pages make later
// (they ask `allows` when they are made).
export function applyScope() {
  for (const element of document.querySelectorAll("[data-needs]")) element.hidden = !allows(element.dataset.needs);
}

export function element(tag, properties = {}, children = []) {
  const made = Object.assign(document.createElement(tag), properties);
  made.append(...children);
  return made;
}

export function cell(text, className) {
  return element("td", { textContent: text ?? "", className: className ?? "" });
}

export function codeCell(text) {
  return element("td", {}, [element("code", { className: "hash", textContent: text })]);
}

export function button(text, onClick, needs) {
  const made = element("button", { type: "button", textContent: text });
  made.addEventListener("click", onClick);
  if (needs) {
    made.dataset.needs = needs;
    made.hidden = !allows(needs);
  }
  return made;
}

export function fill(tableId, rows, empty = "nothing here") {
  const body = document.querySelector(`#${tableId} tbody`);
  const columns = document.querySelectorAll(`#${tableId} thead th`).length || 1;
  if (rows.length === 0) {
    body.replaceChildren(element("tr", { className: "empty" }, [element("td", { colSpan: columns, textContent: empty })]));
    return;
  }
  body.replaceChildren(...rows.map((cells) => element("tr", {}, cells)));
}

export function say(id, text, bad = false) {
  const target = document.getElementById(id);
  target.textContent = text;
  target.className = bad ? "bad" : "";
}

export function progressBar(done, total) {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const percent = Math.round(fraction * 100);
  const bar = element("progress", { max: 100, value: percent, textContent: `${percent}%` });
  bar.setAttribute("aria-label", `${percent}%`);
  return element("span", { className: "progress" }, [bar, ` ${percent}%`]);
}

export function formatBytes(bytes) {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(1)} GiB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}

export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

// A link to another page of the console, with its state in the hash.
export function consoleLink(text, hash) {
  return element("a", { href: hash, textContent: text });
}

export function hashParameters() {
  const query = location.hash.split("?")[1] ?? "";
  return new URLSearchParams(query);
}
