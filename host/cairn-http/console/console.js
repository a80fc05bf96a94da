// The console: plain ES modules, no dependencies, served by `cairn serve`
// from the binary. This one logs in and out, shows the page the address
// names, and refreshes the live ones every two seconds.
import { api, applyScope, currentSession, postJson, say, setSession } from "./api.js";
import { showAggregate } from "./aggregate.js";
import { showOverview } from "./overview.js";
import { showPlugins } from "./plugins.js";
import { showProjections } from "./projections.js";
import { showJobs, showReplay } from "./replay.js";
import { showStreams } from "./streams.js";
import { startTail, tailRunning } from "./tail.js";

const pages = {
  overview: { show: showOverview, refresh: showOverview },
  streams: { show: showStreams },
  aggregate: { show: showAggregate },
  "plugins-page": { show: showPlugins, needs: "admin" },
  "projections-page": { show: showProjections, refresh: showProjections },
  replay: { show: showReplay, refresh: showJobs, needs: "admin" },
  tail: { show: () => tailRunning() || startTail() },
};

function currentPage() {
  const name = location.hash.slice(1).split("?")[0];
  return pages[name] ? name : "overview";
}

function route(show = true) {
  const page = currentPage();
  for (const name of Object.keys(pages)) document.getElementById(name).hidden = name !== page;
  for (const link of document.querySelectorAll("nav a")) link.setAttribute("aria-current", link.hash.slice(1) === page ? "page" : "false");
  if (show && currentSession().scope) pages[page].show();
}

function showSession() {
  const session = currentSession();
  const signedIn = Boolean(session.scope);
  document.getElementById("login").hidden = signedIn || !session.access_control;
  document.getElementById("logout").hidden = !signedIn || !session.access_control;
  document.getElementById("who").textContent = !signedIn ? "not logged in" : session.access_control ? `${session.scope} scope` : "open server (no tokens)";
  document.querySelector("main").hidden = !signedIn;
  applyScope();
}

// The first page's data and the session are asked for at once, which saves
// a round trip; the page is drawn hidden and shown once the session is
// known (or the login form, and the page again after the login).
async function start() {
  const session = api("/session").catch(() => null);
  const page = currentPage();
  route(false);
  const shown = Promise.resolve(pages[page].show()).catch(() => {});
  setSession(await session);
  showSession();
  if (!currentSession().scope) return;
  await shown;
  // A User Timing mark once the page shows its data: what `cairn bench
  // console` reads, with the browser's own clock.
  performance.mark("cairn:shown", { detail: page });
}

document.getElementById("login").addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  const field = document.getElementById("token");
  try {
    setSession(await postJson("/session", { token: field.value.trim() }));
    say("login-state", "");
  } catch (error) {
    say("login-state", error.message, true);
  }
  field.value = "";
  showSession();
  route();
});
document.getElementById("logout").addEventListener("click", async () => {
  await api("/session", { method: "DELETE" }).catch(() => {});
  location.reload();
});
window.addEventListener("hashchange", () => route());
start();
setInterval(() => {
  const page = pages[currentPage()];
  if (currentSession().scope && page.refresh && !document.hidden) page.refresh();
}, 2000);
