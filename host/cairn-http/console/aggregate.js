// One aggregate: its state now and at any version (time travel, folded by
// the plugin), its audit table, and a form that sends it a command.
import { api, cell, fill, hashParameters, postJson, pretty, say } from "./api.js";

function streamPath() {
  const type = document.getElementById("aggregate-type").value.trim();
  const id = document.getElementById("aggregate-id").value.trim();
  return `${encodeURIComponent(type)}/${encodeURIComponent(id)}`;
}

// The state at `version` (the latest when absent).
async function showState(version) {
  try {
    const state = await api(`/aggregates/${streamPath()}${version ? `?at_version=${version}` : ""}`);
    document.getElementById("state").textContent = pretty(state.state);
    document.getElementById("version-shown").textContent = `version ${state.stream_version}`;
    say("aggregate-state-line", `${state.aggregate_type}/${state.aggregate_id} at version ${state.stream_version}, folded by ${state.plugin} version ${state.plugin_version}`);
    return state;
  } catch (error) {
    say("aggregate-state-line", error.message, true);
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
    fill(
      "audit",
      audit.entries.map((entry) => [cell(entry.stream_version), cell(entry.global_position), cell(entry.at), cell(entry.event_type), cell(entry.source), cell(JSON.stringify(entry.payload), "payload")]),
      "no events yet",
    );
  } catch (error) {
    fill("audit", [], "no events yet");
  }
}

async function sendCommand() {
  let payload;
  try {
    payload = JSON.parse(document.getElementById("command-payload").value || "{}");
  } catch (error) {
    say("command-result", `the payload is not JSON: ${error.message}`, true);
    return;
  }
  const command = { command_type: document.getElementById("command-type").value.trim(), payload };
  try {
    const answer = await postJson(`/commands/${streamPath()}`, command);
    say("command-result", `recorded ${answer.events.map((event) => event.event_type).join(", ") || "no events"}; the stream is at version ${answer.stream_version}`);
  } catch (error) {
    say("command-result", error.message, true);
  }
  loadAggregate();
}

// Opened from a link (#aggregate?type=…&id=…): load that aggregate.
export function showAggregate() {
  const parameters = hashParameters();
  if (parameters.has("type") && parameters.has("id")) {
    document.getElementById("aggregate-type").value = parameters.get("type");
    document.getElementById("aggregate-id").value = parameters.get("id");
    return loadAggregate();
  }
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
