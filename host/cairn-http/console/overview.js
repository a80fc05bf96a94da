// The overview: health, store statistics, throughput and projection lag as
// live charts (sampled every two seconds), and the plugin load log.
import { allows, api, cell, element, fill, formatBytes, say } from "./api.js";
import { draw, Samples } from "./chart.js";

const throughput = new Samples();
const lag = new Samples();
let previous = null;
let statisticsReadAt = 0;

// Commands this server has answered, from its Prometheus counters.
async function commandsAnswered() {
  const response = await fetch("/metrics", { credentials: "same-origin" });
  if (!response.ok) return null;
  const text = await response.text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("cairn_http_requests_total{") && line.includes('route="/commands/')) total += Number(line.split(" ").at(-1)) || 0;
  }
  return total;
}

function sample(health, commands) {
  const now = Date.now();
  const head = health.store.head_position ?? 0;
  if (previous) {
    const seconds = Math.max(0.001, (now - previous.time) / 1000);
    throughput.add("events/s", now, Math.max(0, head - previous.head) / seconds);
    if (commands !== null && previous.commands !== null) throughput.add("commands/s", now, Math.max(0, commands - previous.commands) / seconds);
  }
  previous = { time: now, head, commands };
  for (const projection of health.projections) lag.add(projection.handler, now, projection.lag);
  draw(document.getElementById("throughput-chart"), throughput, "/s");
  draw(document.getElementById("lag-chart"), lag, "events");
}

function showFacts(health) {
  const pending = health.dead_letters_pending ?? 0;
  const failed = health.projections.filter((projection) => projection.state === "failed").length;
  const facts = [
    ["status", health.status, health.status !== "healthy"],
    ["backend", health.store.backend],
    ["head position", (health.store.head_position ?? 0).toLocaleString()],
    ["latest event", health.store.latest_event_at ?? "none yet"],
    ["hosts alive", (health.hosts ?? []).length || 1],
    ["failed projections", failed, failed > 0],
    ["dead letters pending", pending, pending > 0],
  ];
  document.getElementById("store").replaceChildren(
    ...facts.flatMap(([name, value, bad]) => [element("dt", { textContent: name }), element("dd", { textContent: String(value), className: bad ? "bad" : "" })]),
  );
}

// Counting by type reads the whole log, so it is done once a minute at most.
async function showStatistics() {
  if (Date.now() - statisticsReadAt < 60_000) return;
  statisticsReadAt = Date.now();
  try {
    const statistics = await api("/events/stats");
    const rows = [
      ["events", statistics.total_events.toLocaleString()],
      ["streams", statistics.total_streams.toLocaleString()],
      ["size", formatBytes(statistics.store_size_bytes)],
      ["first event", statistics.first_event_timestamp ?? "none yet"],
      ...statistics.events_by_aggregate_type.slice(0, 8).map(({ name, count }) => [`· ${name}`, count.toLocaleString()]),
    ];
    document.getElementById("statistics").replaceChildren(...rows.flatMap(([name, value]) => [element("dt", { textContent: name }), element("dd", { textContent: value })]));
  } catch (error) {
    statisticsReadAt = 0;
  }
}

async function showPluginLog() {
  if (!allows("admin")) return;
  const { plugins } = await api("/plugins");
  const newestFirst = [...plugins].sort((one, other) => other.added_at.localeCompare(one.added_at)).slice(0, 20);
  fill(
    "plugin-log",
    newestFirst.map((plugin) => [cell(plugin.added_at.slice(5, 19).replace("T", " ")), cell(plugin.name), cell(`v${plugin.version}`), cell(plugin.kind), cell(plugin.active ? "active" : "replaced", plugin.load_error ? "bad" : "")]),
    "no plugins yet",
  );
}

export async function showOverview() {
  try {
    const health = await api("/health");
    showFacts(health);
    fill("plugins", health.plugins.map((plugin) => [cell(plugin.name), cell(plugin.kind), cell(plugin.version), cell(plugin.loaded ? "yes" : plugin.error ?? "no", plugin.error ? "bad" : "")]), "no plugins yet");
    fill(
      "projections",
      health.projections.map((projection) => [
        cell(projection.handler),
        cell(projection.state, projection.state === "failed" ? "bad" : ""),
        cell(projection.holder ?? ""),
        cell(projection.position),
        cell(projection.lag, projection.lag > 0 ? "bad" : ""),
      ]),
      "no handlers",
    );
    say("status", `${health.status}; refreshed ${new Date().toLocaleTimeString()}`, health.status !== "healthy");
    // The charts follow when the counters arrive; the page shows already.
    (allows("read") ? commandsAnswered().catch(() => null) : Promise.resolve(null)).then((commands) => sample(health, commands));
    if (allows("read")) showStatistics();
    showPluginLog().catch(() => {});
  } catch (error) {
    say("status", error.message, true);
  }
}
