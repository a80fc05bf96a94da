// Streams: search the log by aggregate type, id, event type, correlation or
// causation id and time; page through the answers; view one event, upcast
// or as stored, with links along its causation and correlation.
import { api, cell, consoleLink, element, fill, hashParameters, pretty, say } from "./api.js";

const pageSize = 50;
const fields = ["aggregate_type", "aggregate_id", "type", "correlation_id", "causation_id", "since", "until"];
// Where each page shown so far started, so that "previous" can go back.
let pageStarts = [0];
let nextAfter = null;
let shownEvent = null;

function searchQuery() {
  const query = new URLSearchParams();
  for (const field of fields) {
    let value = document.getElementById(`search-${field}`).value.trim();
    // <input type="datetime-local"> gives local time without a zone.
    if (value && (field === "since" || field === "until")) value = new Date(value).toISOString();
    if (value) query.set(field, value);
  }
  return query;
}

async function showPage(after) {
  const query = searchQuery();
  query.set("after", after);
  query.set("limit", pageSize);
  try {
    const page = await api(`/events?${query}`);
    nextAfter = page.events.length === pageSize ? page.next_after : null;
    fill(
      "stream-events",
      page.events.map((event) => {
        const open = element("button", { type: "button", textContent: String(event.global_position), className: "link" });
        open.addEventListener("click", () => showEvent(event.id));
        return [
          element("td", {}, [open]),
          element("td", {}, [consoleLink(`${event.aggregate_type}/${event.aggregate_id}`, `#aggregate?type=${encodeURIComponent(event.aggregate_type)}&id=${encodeURIComponent(event.aggregate_id)}`)]),
          cell(event.stream_version),
          cell(event.event_type),
          cell(event.timestamp.replace("T", " ").slice(0, 23)),
          cell(JSON.stringify(event.payload), "payload"),
        ];
      }),
      "no events match",
    );
    const number = pageStarts.length;
    say("streams-state", `page ${number}: ${page.events.length} events${nextAfter ? "; more follow" : ""}`);
    document.getElementById("page-previous").disabled = number <= 1;
    document.getElementById("page-next").disabled = nextAfter === null;
  } catch (error) {
    say("streams-state", error.message, true);
  }
}

export function search() {
  pageStarts = [0];
  return showPage(0);
}

function nextPage() {
  if (nextAfter === null) return;
  pageStarts.push(nextAfter);
  showPage(nextAfter);
}

function previousPage() {
  if (pageStarts.length <= 1) return;
  pageStarts.pop();
  showPage(pageStarts.at(-1));
}

function searchFor(field, value) {
  for (const other of fields) document.getElementById(`search-${other}`).value = "";
  document.getElementById(`search-${field}`).value = value;
  search();
}

function linkButton(text, onClick) {
  const made = element("button", { type: "button", className: "link", textContent: text });
  made.addEventListener("click", onClick);
  return made;
}

async function showEvent(id) {
  const raw = document.getElementById("event-raw").checked;
  try {
    const event = await api(`/events/${encodeURIComponent(id)}${raw ? "?raw=true" : ""}`);
    shownEvent = event.id;
    document.getElementById("event-viewer").hidden = false;
    document.getElementById("event-title").textContent = `${event.event_type} at position ${event.global_position} (${raw ? "as stored" : "upcast"}, schema version ${event.schema_version})`;
    document.getElementById("event-payload").textContent = pretty(event.payload);
    document.getElementById("event-metadata").textContent = pretty(event.metadata);
    const links = [element("dt", { textContent: "event id" }), element("dd", { textContent: event.id })];
    const correlation = event.correlation_id;
    const causation = event.causation_id;
    if (correlation) links.push(element("dt", { textContent: "correlation" }), element("dd", {}, [linkButton(`every event of ${correlation}`, () => searchFor("correlation_id", correlation))]));
    // A causation id names an event (a UUID) or a command.
    const causedByEvent = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(causation ?? "");
    if (causation) links.push(element("dt", { textContent: "caused by" }), element("dd", {}, [causedByEvent ? linkButton(causation, () => showEvent(causation)) : linkButton(`command ${causation}: its events`, () => searchFor("causation_id", causation))]));
    for (const [name, value] of [["user", event.user_id], ["source", event.source], ["recorded at", event.recorded_at]]) {
      if (value) links.push(element("dt", { textContent: name }), element("dd", { textContent: value }));
    }
    links.push(element("dt", { textContent: "caused" }), element("dd", {}, [linkButton("events caused by this one", () => searchFor("causation_id", event.id))]));
    document.getElementById("event-links").replaceChildren(...links);
  } catch (error) {
    say("streams-state", error.message, true);
  }
}

export function showStreams() {
  const parameters = hashParameters();
  for (const field of fields) {
    if (parameters.has(field)) document.getElementById(`search-${field}`).value = parameters.get(field);
  }
  return search();
}

document.getElementById("search-form").addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  search();
});
document.getElementById("page-next").addEventListener("click", nextPage);
document.getElementById("page-previous").addEventListener("click", previousPage);
document.getElementById("event-raw").addEventListener("change", () => shownEvent && showEvent(shownEvent));
// Keyboard paging: Alt+→ and Alt+← (or n and p outside a text field).
document.addEventListener("keydown", (pressed) => {
  if (document.getElementById("streams").hidden) return;
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement?.tagName);
  if ((pressed.altKey && pressed.key === "ArrowRight") || (!typing && pressed.key === "n")) nextPage();
  else if ((pressed.altKey && pressed.key === "ArrowLeft") || (!typing && pressed.key === "p")) previousPage();
  else if (!typing && pressed.key === "/") {
    pressed.preventDefault();
    document.getElementById("search-aggregate_type").focus();
  }
});
