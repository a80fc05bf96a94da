// Times each console page in Chromium, for `cairn bench console`: from the
// start of the navigation to the moment the page shows its data, read with
// the browser's own clock (performance.now(), whose origin is the
// navigation's start). The baseline is a navigation to a static file of the
// same server, which needs no API call: the browser's floor. Readiness is
// checked on every animation frame, so each figure is exact to a frame.
// Usage: node page-timing.mjs BASE_URL RUNS; prints one JSON line per page.
import { chromium } from "playwright-core";

const [base, runsText] = process.argv.slice(2);
const runs = Number(runsText ?? 5);

// Each page, and what it shows once its data has arrived.
const pages = {
  blank: { path: "/console/console.css", ready: () => document.readyState === "complete" },
  overview: { path: "/console#overview", ready: () => document.getElementById("status")?.textContent.includes("refreshed") && document.querySelector("#plugins tbody tr:not(.empty)") },
  streams: { path: "/console#streams", ready: () => document.getElementById("streams-state")?.textContent.startsWith("page 1") },
  aggregate: { path: "/console#aggregate?type=bank-account&id=account-1", ready: () => document.getElementById("aggregate-state-line")?.textContent.includes("folded by") && document.querySelector("#audit tbody tr:not(.empty)") },
  plugins: { path: "/console#plugins-page", ready: () => document.querySelector("#versions tbody tr:not(.empty)") },
  projections: { path: "/console#projections-page", ready: () => document.getElementById("projections-state")?.textContent.includes("log head") },
  replay: { path: "/console#replay", ready: () => document.querySelector("#jobs tbody tr") && document.querySelector("#replay-handlers option") },
  tail: { path: "/console#tail", ready: () => document.getElementById("tail-state")?.textContent.includes("following the log") },
};

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--no-sandbox"] });
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
try {
  for (const [name, { path, ready }] of Object.entries(pages)) {
    const timings = [];
    // One load first, unmeasured: the first navigation starts the renderer.
    for (let run = 0; run <= runs; run += 1) {
      const page = await context.newPage();
      await page.goto(`${base}${path}`, { waitUntil: "commit" });
      const shown = await page.waitForFunction(`(${ready})() && performance.now()`, null, { polling: "raf", timeout: 30000 }).catch(() => null);
      const milliseconds = shown ? await shown.jsonValue() : await page.evaluate(`(${ready})() && performance.now()`);
      if (!milliseconds) throw new Error(`the ${name} page did not show its data within 30 s`);
      if (run > 0) timings.push(milliseconds);
      await page.close();
    }
    timings.sort((one, other) => one - other);
    console.log(JSON.stringify({ page: name, median_ms: timings[Math.floor(timings.length / 2)], max_ms: timings.at(-1), runs: timings.length }));
  }
} finally {
  await browser.close();
}
