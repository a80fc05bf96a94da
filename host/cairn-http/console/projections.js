// Projections and dead letters: each live projection's state, checkpoint and
// lag, a blue/green rebuild with its progress, and the dead letters with
// their event, error and attempts, retried or skipped one at a time or all.
import { allows, api, button, cell, consoleLink, element, fill, progressBar, say } from "./api.js";

function rebuildCell(projection) {
  const rebuild = projection.rebuild;
  const parts = [];
  if (rebuild?.status === "running") parts.push(progressBar(rebuild.position, Math.max(rebuild.head, 1)));
  else if (rebuild?.status === "failed") parts.push(element("span", { className: "bad", textContent: `failed: ${rebuild.error}` }), " ");
  else if (rebuild?.status === "completed") parts.push(element("span", { textContent: "rebuilt " }));
  if (rebuild?.status !== "running") parts.push(button("Rebuild", () => startRebuild(projection.handler), "admin"));
  return element("td", {}, parts);
}

async function startRebuild(handler) {
  try {
    await api(`/projections/${encodeURIComponent(handler)}/rebuild`, { method: "POST" });
    say("projections-state", `rebuilding ${handler} beside the live read model`);
  } catch (error) {
    say("projections-state", error.message, true);
  }
  showProjections();
}

function seconds(value) {
  return value >= 1 ? `${value.toFixed(1)} s` : value > 0 ? `${Math.round(value * 1000)} ms` : "0";
}

async function release(letter, action) {
  const outcome = await api(`/dead-letters/${letter.id}/${action}`, { method: "POST" });
  if (outcome.still_failing) throw new Error(`${letter.handler} failed again on position ${outcome.still_failing.global_position}: ${outcome.still_failing.error}`);
  return outcome;
}

async function releaseOne(letter, action) {
  try {
    const outcome = await release(letter, action);
    say("dead-letters-state", `${action === "retry" ? "retried" : "skipped"} ${letter.aggregate_type}/${letter.aggregate_id}: ${outcome.handled} handled, ${outcome.skipped} skipped`);
  } catch (error) {
    say("dead-letters-state", error.message, true);
  }
  showProjections();
}

// Every stream's head dead letter, one after another; parked ones follow
// their head.
async function releaseAll(action) {
  let released = 0;
  try {
    const { dead_letters: letters } = await api("/dead-letters?limit=10000");
    for (const letter of letters) {
      await release(letter, action);
      released += 1;
    }
    say("dead-letters-state", `${action === "retry" ? "retried" : "skipped"} ${released} dead letters`);
  } catch (error) {
    say("dead-letters-state", `after ${released}: ${error.message}`, true);
  }
  showProjections();
}

async function showDeadLetters() {
  if (!allows("admin")) return;
  const { dead_letters: letters } = await api("/dead-letters?parked=true&limit=200");
  fill(
    "dead-letters",
    letters.map((letter) => [
      cell(letter.handler),
      element("td", {}, [consoleLink(String(letter.global_position), `#streams?aggregate_type=${encodeURIComponent(letter.aggregate_type)}&aggregate_id=${encodeURIComponent(letter.aggregate_id)}`)]),
      cell(`${letter.aggregate_type}/${letter.aggregate_id}`),
      cell(letter.event_type),
      cell(letter.status, letter.status === "failed" ? "bad" : ""),
      cell(letter.error ?? "", "payload"),
      cell(letter.attempts),
      element("td", {}, letter.status === "failed" ? [button("Retry", () => releaseOne(letter, "retry"), "admin"), " ", button("Skip", () => releaseOne(letter, "skip"), "admin")] : []),
    ]),
    "no dead letters",
  );
  for (const id of ["retry-all", "skip-all"]) document.getElementById(id).disabled = letters.length === 0;
}

export async function showProjections() {
  try {
    const { projections, head_position: head } = await api("/projections");
    fill(
      "projection-table",
      projections.map((projection) => [
        cell(projection.handler),
        cell(projection.state, projection.state === "failed" ? "bad" : ""),
        cell(projection.holder ?? ""),
        cell(projection.position),
        cell(projection.lag, projection.lag > 0 ? "bad" : ""),
        cell(seconds(projection.lag_seconds)),
        cell(`${projection.dead_letters.failed} failed, ${projection.dead_letters.parked} parked`, projection.dead_letters.failed > 0 ? "bad" : ""),
        cell(projection.generation.building ? `${projection.generation.live} (building ${projection.generation.building})` : projection.generation.live),
        rebuildCell(projection),
      ]),
      "no handlers",
    );
    if (!document.getElementById("projections-state").classList.contains("bad")) say("projections-state", `log head ${head}; refreshed ${new Date().toLocaleTimeString()}`);
    await showDeadLetters();
  } catch (error) {
    say("projections-state", error.message, true);
  }
}

document.getElementById("retry-all").addEventListener("click", () => releaseAll("retry"));
document.getElementById("skip-all").addEventListener("click", () => releaseAll("skip"));
