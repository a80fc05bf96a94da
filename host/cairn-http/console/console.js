// The console: plain modules, no dependencies, served by `cairn serve` from
// the binary. It reads the same HTTP API as any client, with the bearer
// token the user gives (kept for this tab only, in sessionStorage).

const tokenKey = "cairn-token";

function headers() {
  const token = sessionStorage.getItem(tokenKey);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function api(path, init = {}) {
  const response = await fetch(path, { ...init, headers: { ...headers(), ...(init.headers ?? {}) } });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const message = body?.error?.message ?? `${response.status} ${response.statusText}`;
    throw new Error(`${path}: ${message}`);
  }
  return body;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (className) td.className = className;
  return td;
}

function codeCell(text) {
  const td = document.createElement("td");
  td.append(Object.assign(document.createElement("code"), { className: "hash", textContent: text }));
  return td;
}

function fill(tableId, rows) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren(
    ...rows.map((cells) => {
      const tr = document.createElement("tr");
      tr.append(...cells);
      return tr;
    }),
  );
}

async function showOverview() {
  const status = document.getElementById("status");
  try {
    const health = await api("/health");
    const store = document.getElementById("store");
    const facts = [
      ["status", health.status],
      ["backend", health.store.backend],
      ["head position", health.store.head_position],
      ["latest event", health.store.latest_event_at ?? "none yet"],
      ["hosts alive", (health.hosts ?? []).length],
      ["dead letters pending", health.dead_letters_pending ?? 0],
    ];
    store.replaceChildren(...facts.flatMap(([name, value]) => [Object.assign(document.createElement("dt"), { textContent: name }), Object.assign(document.createElement("dd"), { textContent: String(value) })]));
    fill("plugins", health.plugins.map((plugin) => [cell(plugin.name), cell(plugin.kind), cell(plugin.version), cell(plugin.loaded ? "yes" : plugin.error ?? "no", plugin.error ? "bad" : "")]));
    fill(
      "projections",
      health.projections.map((projection) => [
        cell(projection.handler),
        cell(projection.state, projection.state === "failed" ? "bad" : ""),
        cell(projection.holder ?? ""),
        cell(projection.position),
        cell(projection.lag, projection.lag > 0 ? "bad" : ""),
      ]),
    );
    status.textContent = `${health.status}; refreshed ${new Date().toLocaleTimeString()}`;
    status.className = health.status === "healthy" ? "" : "bad";
  } catch (error) {
    status.textContent = String(error.message);
    status.className = "bad";
  }
}

async function showPlugins() {
  try {
    const { plugins } = await api("/plugins");
    fill(
      "versions",
      plugins.map((plugin) => {
        const remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "Remove";
        remove.addEventListener("click", () => removePlugin(plugin.name, plugin.version));
        const action = document.createElement("td");
        action.append(remove);
        return [
          cell(plugin.name),
          cell(plugin.version),
          cell(plugin.kind),
          cell(plugin.description?.contract ?? ""),
          codeCell(plugin.content_hash.slice(0, 12)),
          cell(`${Math.round(plugin.size_bytes / 1024)} KiB`),
          cell(plugin.active ? "active" : "", plugin.load_error ? "bad" : ""),
          action,
        ];
      }),
    );
  } catch (error) {
    document.getElementById("upload-state").textContent = String(error.message);
  }
}

async function upload(file) {
  const state = document.getElementById("upload-state");
  const name = document.getElementById("upload-name").value.trim();
  state.textContent = `uploading ${file.name}…`;
  try {
    const added = await api(`/plugins${name ? `?name=${encodeURIComponent(name)}` : ""}`, { method: "POST", headers: { "content-type": "application/wasm" }, body: file });
    state.textContent = `${added.name} version ${added.version} is active${added.already_active ? " (it already was)" : ""}`;
  } catch (error) {
    state.textContent = String(error.message);
  }
  showPlugins();
}

async function removePlugin(name, version) {
  if (!confirm(`Remove ${name} version ${version}?`)) return;
  try {
    await api(`/plugins/${encodeURIComponent(name)}?version=${version}`, { method: "DELETE" });
  } catch (error) {
    document.getElementById("upload-state").textContent = String(error.message);
  }
  showPlugins();
}

const drop = document.getElementById("drop");
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  const [file] = event.dataTransfer.files;
  if (file) upload(file);
});
document.getElementById("upload-file").addEventListener("change", (event) => {
  const [file] = event.target.files;
  if (file) upload(file);
});

function streamPath() {
  const type = document.getElementById("aggregate-type").value.trim();
  const id = document.getElementById("aggregate-id").value.trim();
  return `${encodeURIComponent(type)}/${encodeURIComponent(id)}`;
}

// The state at `version` (the latest when absent), folded by the plugin.
async function showState(version) {
  const line = document.getElementById("aggregate-state-line");
  try {
    const state = await api(`/aggregates/${streamPath()}${version ? `?at_version=${version}` : ""}`);
    document.getElementById("state").textContent = JSON.stringify(state.state, null, 2);
    document.getElementById("version-shown").textContent = `version ${state.stream_version}`;
    line.textContent = `${state.aggregate_type}/${state.aggregate_id} at version ${state.stream_version}, folded by ${state.plugin} version ${state.plugin_version}`;
    return state;
  } catch (error) {
    line.textContent = String(error.message);
    return null;
  }
}

async function loadAggregate() {
  const state = await showState();
  const slider = document.getElementById("version");
  if (state) {
    Object.assign(slider, { max: Math.max(1, state.stream_version), value: state.stream_version, disabled: state.stream_version < 1 });
  }
  try {
    const audit = await api(`/aggregates/${streamPath()}/audit`);
    fill("audit", audit.entries.map((entry) => [cell(entry.stream_version), cell(entry.global_position), cell(entry.at), cell(entry.event_type), cell(entry.source), cell(JSON.stringify(entry.payload), "payload")]));
  } catch (error) {
    fill("audit", []);
  }
}

async function sendCommand() {
  const result = document.getElementById("command-result");
  let payload;
  try {
    payload = JSON.parse(document.getElementById("command-payload").value || "{}");
  } catch (error) {
    result.textContent = `the payload is not JSON: ${error.message}`;
    result.className = "bad";
    return;
  }
  const command = { command_type: document.getElementById("command-type").value.trim(), payload };
  try {
    const answer = await api(`/commands/${streamPath()}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(command) });
    result.textContent = `recorded ${answer.events.map((event) => event.event_type).join(", ") || "no events"}; the stream is at version ${answer.stream_version}`;
    result.className = "";
  } catch (error) {
    result.textContent = String(error.message);
    result.className = "bad";
  }
  loadAggregate();
}

document.getElementById("aggregate-form").addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  loadAggregate();
});
document.getElementById("command-form").addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  sendCommand();
});
document.getElementById("version").addEventListener("input", (moved) => showState(moved.target.value));

let tail = null;
let paused = false;
let lastEventId = null;

async function startTail() {
  const state = document.getElementById("tail-state");
  // From where the log ends now (or where a paused tail stopped), not from
  // the start of history. EventSource sends no headers; with tokens
  // configured the live tail needs a session the console does not make yet.
  const after = lastEventId ?? (await api("/health").then((health) => health.store.head_position ?? 0).catch(() => 0));
  // A resumed tail goes on from here, even if nothing arrived before the pause.
  lastEventId = String(after);
  tail = new EventSource(`/events/stream?after=${encodeURIComponent(after)}`);
  tail.addEventListener("open", () => (state.textContent = "following the log"));
  tail.addEventListener("event", (message) => {
    lastEventId = message.lastEventId;
    const event = JSON.parse(message.data);
    const row = document.createElement("tr");
    row.append(cell(event.global_position), cell(`${event.aggregate_type}/${event.aggregate_id}`), cell(event.event_type), cell(JSON.stringify(event.payload), "payload"));
    const body = document.querySelector("#events tbody");
    body.prepend(row);
    while (body.children.length > 200) body.lastElementChild.remove();
  });
  tail.addEventListener("error", () => (state.textContent = "disconnected; the browser retries (a token-protected server needs a session the console does not make yet)"));
}

function toggleTail() {
  const button = document.getElementById("tail-toggle");
  if (paused) {
    startTail();
    button.textContent = "Pause";
  } else {
    tail?.close();
    document.getElementById("tail-state").textContent = "paused";
    button.textContent = "Resume";
  }
  paused = !paused;
}

function route() {
  const pages = { "#tail": "tail", "#plugins-page": "plugins-page", "#aggregate": "aggregate" };
  const page = pages[location.hash] ?? "overview";
  for (const id of ["overview", "aggregate", "plugins-page", "tail"]) document.getElementById(id).hidden = page !== id;
  if (page === "tail" && !tail && !paused) startTail();
  if (page === "plugins-page") showPlugins();
}

document.getElementById("login").addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  const token = document.getElementById("token").value.trim();
  if (token) sessionStorage.setItem(tokenKey, token);
  else sessionStorage.removeItem(tokenKey);
  showOverview();
});
document.getElementById("tail-toggle").addEventListener("click", toggleTail);
window.addEventListener("hashchange", route);
route();
showOverview();
setInterval(showOverview, 2000);
