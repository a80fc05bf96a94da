// Times each console page in Chromium, for `cairn bench console`: from the
// start of the navigation to the moment the page shows its data, read with
// the browser's own clock. The console sets a User Timing mark,
// "cairn:shown", when a page has drawn its data; its startTime is measured
// from the navigation's start. The baseline is a navigation to a static
// file of the same server (its load event), which needs no API call: the
// browser's floor.
// Usage: node page-timing.mjs BASE_URL RUNS; prints one JSON line per page.
import { chromium } from "playwright-core";

const [base, runsText] = process.argv.slice(2);
const runs = Number(runsText ?? 5);

const pages = {
  blank: "/console/console.css",
  overview: "/console#overview",
  streams: "/console#streams",
  aggregate: "/console#aggregate?type=bank-account&id=account-1",
  plugins: "/console#plugins-page",
  projections: "/console#projections-page",
  replay: "/console#replay",
  tail: "/console#tail",
};

// When the page was ready: the console's mark, or a static file's load
// event. A function, not a string: the console's content security policy
// forbids evaluating strings.
function shownAt() {
  const [mark] = performance.getEntriesByName("cairn:shown");
  if (mark) return mark.startTime;
  const [navigation] = performance.getEntriesByType("navigation");
  return !document.querySelector("main") && navigation?.loadEventEnd > 0 ? navigation.loadEventEnd : null;
}

// Loads `path` once in `context` and answers when it showed its data.
async function timeLoad(context, name, path) {
  const page = await context.newPage();
  await page.goto(`${base}${path}`, { waitUntil: "commit" });
  const shown = await page.waitForFunction(shownAt, null, { polling: 50, timeout: 30000 }).catch(() => null);
  const milliseconds = shown ? await shown.jsonValue() : null;
  if (!milliseconds) {
    const shownText = await page.evaluate(() => document.querySelector("main")?.innerText.slice(0, 400));
    throw new Error(`the ${name} page did not show its data within 30 s; it shows: ${shownText}`);
  }
  await page.close();
  return milliseconds;
}

function summary(timings) {
  timings.sort((one, other) => one - other);
  return { median_ms: timings[Math.floor(timings.length / 2)], max_ms: timings.at(-1) };
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--no-sandbox"] });
const viewport = { width: 1280, height: 800 };
try {
  for (const [name, path] of Object.entries(pages)) {
    // Cold: each load in a fresh context, with an empty cache and new
    // connections, after one unmeasured load that starts the browser's
    // processes.
    const cold = [];
    for (let run = 0; run <= runs; run += 1) {
      const context = await browser.newContext({ viewport });
      const milliseconds = await timeLoad(context, name, path);
      if (run > 0) cold.push(milliseconds);
      await context.close();
    }
    // Warm: a returning operator, whose browser revalidates the cached
    // files (304, by their entity tags) and keeps its connections.
    const warm = [];
    const context = await browser.newContext({ viewport });
    for (let run = 0; run <= runs; run += 1) {
      const milliseconds = await timeLoad(context, name, path);
      if (run > 0) warm.push(milliseconds);
    }
    await context.close();
    console.log(JSON.stringify({ page: name, cold: summary(cold), warm: summary(warm), runs }));
  }
} finally {
  await browser.close();
}
