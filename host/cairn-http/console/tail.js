// The live tail: the server's SSE stream, filtered by aggregate and event
// type, with pause and resume from the last event seen (Last-Event-ID).
// EventSource sends the session cookie, since the stream is same-origin.
import { api, cell, element, say } from "./api.js";

let tail = null;
let paused = false;
let lastEventId = null;

function filters() {
  const query = new URLSearchParams();
  for (const [field, id] of [["aggregate_type", "tail-aggregate-type"], ["type", "tail-event-type"]]) {
    const value = document.getElementById(id).value.trim();
    if (value) query.set(field, value);
  }
  return query;
}

export async function startTail() {
  // From where the log ends now (or where a paused tail stopped), not from
  // the start of history.
  const after = lastEventId ?? (await api("/health").then((health) => health.store.head_position ?? 0).catch(() => 0));
  // A resumed tail goes on from here, even if nothing arrived before the pause.
  lastEventId = String(after);
  const query = filters();
  query.set("after", after);
  tail?.close();
  tail = new EventSource(`/events/stream?${query}`);
  const opened = new Promise((resolve) => tail.addEventListener("open", resolve, { once: true }));
  tail.addEventListener("open", () => say("tail-state", "following the log"));
  tail.addEventListener("event", (message) => {
    lastEventId = message.lastEventId;
    const event = JSON.parse(message.data);
    const row = element("tr", {}, [cell(event.global_position), cell(`${event.aggregate_type}/${event.aggregate_id}`), cell(event.event_type), cell(JSON.stringify(event.payload), "payload")]);
    const body = document.querySelector("#events tbody");
    body.prepend(row);
    while (body.children.length > 200) body.lastElementChild.remove();
  });
  const source = tail;
  source.addEventListener("error", () => {
    // The browser retries a dropped stream by itself, but not a refused
    // one (401 before a login): that one starts again on the next visit.
    if (source.readyState === EventSource.CLOSED && tail === source) tail = null;
    say("tail-state", "disconnected; the browser retries (log in again if the session ended)", true);
  });
  return opened;
}

export function tailRunning() {
  return tail !== null || paused;
}

function toggleTail() {
  const button = document.getElementById("tail-toggle");
  if (paused) {
    startTail();
    button.textContent = "Pause";
  } else {
    tail?.close();
    tail = null;
    say("tail-state", "paused");
    button.textContent = "Resume";
  }
  paused = !paused;
}

document.getElementById("tail-toggle").addEventListener("click", toggleTail);
// New filters apply from where the tail stands.
document.getElementById("tail-filters").addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  if (!paused) startTail();
});
