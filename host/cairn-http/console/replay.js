// Replay: a form with every filter of `cairn replay`, the jobs with their
// live progress (a bar, and an events/s chart for the newest running one)
// and result tables, and a browser for read models by collection and key
// prefix.
import { api, cell, element, fill, postJson, pretty, progressBar, say } from "./api.js";
import { draw, Samples } from "./chart.js";

const speed = new Samples();
let followed = null;
let lastLook = null;
const openResults = new Set();

function list(id) {
  const text = document.getElementById(id).value.trim();
  return text ? text.split(",").map((part) => part.trim()).filter(Boolean) : undefined;
}

function text(id) {
  return document.getElementById(id).value.trim() || undefined;
}

function number(id) {
  const value = document.getElementById(id).value.trim();
  return value === "" ? undefined : Number(value);
}

function instant(id) {
  const value = text(id);
  return value ? new Date(value).toISOString() : undefined;
}

export async function showHandlers() {
  const { plugins } = await api("/plugins");
  const handlers = [...new Set(plugins.filter((plugin) => plugin.kind === "handler" && plugin.active).map((plugin) => plugin.name))];
  for (const id of ["replay-handlers", "model-handler"]) {
    const select = document.getElementById(id);
    const chosen = new Set([...select.selectedOptions].map((option) => option.value));
    select.replaceChildren(...handlers.map((name) => element("option", { value: name, textContent: name, selected: chosen.has(name) })));
  }
}

async function startReplay() {
  const handlers = [...document.getElementById("replay-handlers").selectedOptions].map((option) => option.value);
  const request = {
    handlers,
    filter: {
      event_types: list("replay-event-types"),
      aggregate_types: list("replay-aggregate-types"),
      aggregate_id: text("replay-aggregate-id"),
      correlation_id: text("replay-correlation-id"),
      causation_id: text("replay-causation-id"),
      user_id: text("replay-user-id"),
      since: instant("replay-since"),
      until: instant("replay-until"),
      to_position: number("replay-to-position"),
    },
    from_position: number("replay-from-position"),
    checkpoint: text("replay-checkpoint"),
    batch_size: number("replay-batch-size"),
    workers: number("replay-workers"),
    max_retries: number("replay-max-retries"),
    stop_on_error: document.getElementById("replay-stop-on-error").checked,
  };
  try {
    const started = await postJson("/replay", request);
    say("replay-state", `job ${started.id} started`);
    followed = started.id;
    speed.clear();
  } catch (error) {
    say("replay-state", error.message, true);
  }
  showJobs();
}

function resultTable(job) {
  const results = Array.isArray(job.result) ? job.result : [];
  if (results.length === 0) return cell(job.error ?? "", job.error ? "bad" : "");
  const head = element("tr", {}, ["handler", "processed", "failed", "skipped", "events/s", "position"].map((name) => element("th", { textContent: name })));
  const rows = results.map((result) =>
    element("tr", {}, [cell(result.handler), cell(result.processed), cell(result.failed, result.failed > 0 ? "bad" : ""), cell(result.skipped), cell(Math.round(result.events_per_second ?? 0)), cell(result.position)]),
  );
  const raw = element("details", {}, [element("summary", { textContent: "as JSON" }), element("pre", { textContent: pretty(job.result) })]);
  // The table is redrawn every 2 s; results a user opened stay open.
  const details = element("details", { open: openResults.has(job.id) }, [element("summary", { textContent: "results" }), element("table", { className: "inner" }, [element("thead", {}, [head]), element("tbody", {}, rows)]), raw]);
  details.addEventListener("toggle", () => (details.open ? openResults.add(job.id) : openResults.delete(job.id)));
  return element("td", {}, [details]);
}

export async function showJobs() {
  try {
    const { jobs } = await api("/replay");
    fill(
      "jobs",
      jobs.slice(0, 20).map((job) => [
        cell(job.id.slice(0, 8)),
        cell(job.handlers.join(", ")),
        cell(job.status, job.status === "failed" ? "bad" : ""),
        // A finished job went through everything it meant to.
        element("td", {}, [job.status === "completed" ? progressBar(1, 1) : progressBar(job.position, job.head)]),
        cell(job.started_at?.replace("T", " ").slice(0, 19) ?? ""),
        resultTable(job),
      ]),
      "no replay jobs yet",
    );
    // events/s of the job followed (the one started here, else the newest
    // running one), from how far it moved since the last look.
    const running = jobs.find((job) => job.id === followed) ?? jobs.find((job) => job.status === "running");
    if (running && running.status === "running") {
      const now = Date.now();
      if (lastLook?.id === running.id) speed.add("events/s", now, Math.max(0, running.position - lastLook.position) / Math.max(0.001, (now - lastLook.time) / 1000));
      lastLook = { id: running.id, position: running.position, time: now };
    }
    draw(document.getElementById("replay-chart"), speed, "events/s");
  } catch (error) {
    say("replay-state", error.message, true);
  }
}

let modelAfter = null;
let modelPages = [null];

async function showCollections() {
  const handler = document.getElementById("model-handler").value;
  if (!handler) return;
  const { collections } = await api(`/read-models/${encodeURIComponent(handler)}`);
  const select = document.getElementById("model-collection");
  const chosen = select.value;
  select.replaceChildren(...collections.map((name) => element("option", { value: name, textContent: name, selected: name === chosen })));
}

async function showDocuments(after) {
  const handler = document.getElementById("model-handler").value;
  const collection = document.getElementById("model-collection").value;
  if (!handler || !collection) return say("models-state", "choose a handler and a collection", true);
  const query = new URLSearchParams({ prefix: document.getElementById("model-prefix").value, limit: 25 });
  if (after) query.set("after", after);
  try {
    const page = await api(`/read-models/${encodeURIComponent(handler)}/${encodeURIComponent(collection)}?${query}`);
    modelAfter = page.next_after;
    fill("documents", page.documents.map((document) => [cell(document.key), element("td", {}, [element("pre", { textContent: pretty(document.value) })])]), "no documents");
    say("models-state", `page ${modelPages.length}: ${page.documents.length} documents${modelAfter ? "; more follow" : ""}`);
    document.getElementById("model-next").disabled = !modelAfter;
    document.getElementById("model-previous").disabled = modelPages.length <= 1;
  } catch (error) {
    say("models-state", error.message, true);
  }
}

document.getElementById("replay-form").addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  startReplay();
});
document.getElementById("model-handler").addEventListener("change", showCollections);
document.getElementById("models-form").addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  modelPages = [null];
  showDocuments(null);
});
document.getElementById("model-next").addEventListener("click", () => {
  modelPages.push(modelAfter);
  showDocuments(modelAfter);
});
document.getElementById("model-previous").addEventListener("click", () => {
  modelPages.pop();
  showDocuments(modelPages.at(-1));
});

export async function showReplay() {
  await showHandlers().catch((error) => say("replay-state", error.message, true));
  await showCollections().catch(() => {});
  await showJobs();
}
