// The console in Chromium, as an operator uses it. Usage:
//   node console.test.mjs SCREENSHOT_DIRECTORY
// with CHROMIUM (the browser), CAIRN_BINARY, WORK_DIRECTORY (the template
// store and the tokens file), PLUGIN_DIRECTORY, ADMIN_TOKEN and READ_TOKEN,
// as tests/browser/run sets them. Each check has a server and store of its own.
// Each check prints one line; a failure saves a screenshot and, at the end,
// makes the run exit 1.
import assert from "node:assert/strict";
import { base, call, check, finish, login, openAccount, plugins, readToken, screenshot } from "./harness.mjs";
import { operationsChecks } from "./operations.test.mjs";

// 120 parcel events over three streams, four of them in one correlation.
async function appendParcels() {
  const parcels = Array.from({ length: 120 }, (_, index) => ({
    aggregate_type: "parcel",
    aggregate_id: `parcel-${index % 3}`,
    event_type: index === 0 ? "ParcelSent" : "ParcelScanned",
    payload: { scan: index },
    correlation_id: index < 4 ? "delivery-7" : undefined,
  }));
  const appended = await call("/events/batch", { method: "POST", body: JSON.stringify({ events: parcels }) });
  assert.equal(appended.status, 201, JSON.stringify(appended.body));
}

await check("logging in with a token opens the console; a wrong one is refused", async (page) => {
  await appendParcels();
  await page.goto(base);
  assert.equal(new URL(page.url()).pathname, "/console");
  await page.locator("#login").waitFor();
  assert.ok(await page.locator("main").isHidden(), "nothing shows before a login");
  await page.locator("#token").fill("not-a-token");
  await page.locator("#token").press("Enter");
  await page.locator("#login-state", { hasText: "not configured" }).waitFor();
  await login(page);
  const cookie = (await page.context().cookies()).find((one) => one.name === "cairn_session");
  assert.ok(cookie?.httpOnly, "the session cookie is HttpOnly");
  assert.equal(cookie.sameSite, "Strict");
  assert.equal(await page.evaluate(() => document.cookie), "", "no script can read the session");
  await page.locator("#plugins tbody tr", { hasText: "bank-account" }).waitFor();
  await page.locator("#projections tbody tr", { hasText: "account-summary" }).waitFor();
  await page.locator("#status", { hasText: "healthy" }).waitFor();
  await page.locator("#statistics dd", { hasText: "120" }).first().waitFor();
  await page.locator("#plugin-log tbody tr", { hasText: "picky" }).waitFor();
  // Two samples make a line on each chart.
  await page.locator("#throughput-chart path").first().waitFor({ state: "attached" });
  await page.locator("#lag-chart path").first().waitFor({ state: "attached" });
  await screenshot(page, "overview");
  await page.locator("#logout").click();
  await page.locator("#login").waitFor();
  assert.equal((await call("/session", { headers: { authorization: "", cookie: `cairn_session=${cookie.value}` } })).status, 401, "a closed session is over");
});

await check("a command's event appears in the live tail within a second", async (page) => {
  await login(page, undefined, "admin", "#tail");
  await page.locator("#tail-state", { hasText: "following the log" }).waitFor();
  const status = await page.evaluate(async () => {
    const response = await fetch("/commands/bank-account/console-1", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ command_type: "Open", payload: { owner: "Ann" } }) });
    return response.status;
  });
  assert.equal(status, 200);
  await page.locator("#events tbody tr", { hasText: "AccountOpened" }).waitFor({ timeout: 1000 });
  await screenshot(page, "live-tail");
});

await check("the tail pauses, resumes from where it stopped, and filters, from the keyboard", async (page) => {
  await login(page, undefined, "admin", "#tail");
  await page.locator("#tail-state", { hasText: "following the log" }).waitFor();
  await page.locator("#tail-toggle").focus();
  await page.keyboard.press("Enter");
  await page.locator("#tail-state", { hasText: "paused" }).waitFor();
  await openAccount("console-2", "Bo");
  assert.equal(await page.locator("#events tbody tr", { hasText: "console-2" }).count(), 0, "nothing arrives while paused");
  await page.keyboard.press("Enter");
  await page.locator("#events tbody tr", { hasText: "console-2" }).waitFor({ timeout: 5000 });
  await page.locator("#tail-event-type").fill("MoneyDeposited");
  await page.locator("#tail-event-type").press("Enter");
  await call("/commands/bank-account/console-2", { method: "POST", body: JSON.stringify({ command_type: "Deposit", payload: { amount: 5 } }) });
  await call("/events", { method: "POST", body: JSON.stringify({ aggregate_type: "parcel", aggregate_id: "filtered-out", event_type: "ParcelScanned", payload: {} }) });
  await page.locator("#events tbody tr", { hasText: "MoneyDeposited" }).waitFor({ timeout: 5000 });
  assert.equal(await page.locator("#events tbody tr", { hasText: "filtered-out" }).count(), 0, "the filter holds");
});

await check("a plugin uploaded on the plugins page is active at once", async (page) => {
  await login(page, undefined, "admin", "#plugins-page");
  const bankAccount = page.locator("#versions tbody tr", { has: page.locator("td:first-child", { hasText: /^bank-account$/ }) });
  await bankAccount.waitFor();
  await page.locator("#upload-name").fill("counted");
  await page.locator("#upload-file").setInputFiles(`${plugins}/event-counter.wasm`);
  await page.locator("#upload-state", { hasText: "counted version 1 is active" }).waitFor();
  await page.locator("#versions tbody tr", { hasText: "counted" }).waitFor();
  await bankAccount.locator("summary").click();
  await bankAccount.locator("pre", { hasText: "snapshot_every" }).waitFor();
  await screenshot(page, "plugins");
  await page.goto(`${base}/console`);
  await page.locator("#plugins tbody tr", { hasText: "counted" }).waitFor();
});

await check("the aggregate page sends commands, shows rejections, and travels to version 1", async (page) => {
  await login(page, undefined, "admin", "#aggregate");
  await page.locator("#aggregate-type").fill("bank-account");
  await page.locator("#aggregate-id").fill("travel-1");
  const send = async (commandType, payload) => {
    await page.locator("#command-type").fill(commandType);
    await page.locator("#command-payload").fill(JSON.stringify(payload));
    await page.locator("#command-form button").click();
  };
  await send("Open", { owner: "Ann" });
  await page.locator("#command-result", { hasText: "recorded AccountOpened" }).waitFor();
  await send("Deposit", { amount: 70 });
  await page.locator("#command-result", { hasText: "version 2" }).waitFor();
  await send("Withdraw", { amount: 1000 });
  await page.locator("#command-result", { hasText: "insufficient funds" }).waitFor();
  await page.locator("#audit tbody tr").nth(1).waitFor();
  assert.equal(await page.locator("#audit tbody tr").count(), 2, "the rejection recorded nothing");
  assert.match(await page.locator("#state").textContent(), /"balance": 70/);
  await page.locator("#version").focus();
  await page.keyboard.press("Home");
  await page.locator("#version-shown", { hasText: "version 1" }).waitFor();
  assert.match(await page.locator("#state").textContent(), /"balance": 0/);
  await screenshot(page, "aggregate");
});

await check("streams are searched and paged from the keyboard, and an event links to its correlation", async (page) => {
  await appendParcels();
  await login(page, undefined, "admin", "#streams");
  await page.keyboard.press("/");
  await page.keyboard.type("parcel");
  await page.keyboard.press("Enter");
  await page.locator("#streams-state", { hasText: "page 1: 50 events; more follow" }).waitFor();
  await page.locator("#stream-events").click({ position: { x: 5, y: 5 } });
  await page.keyboard.press("n");
  await page.locator("#streams-state", { hasText: "page 2: 50 events" }).waitFor();
  await page.keyboard.press("n");
  await page.locator("#streams-state", { hasText: /page 3: 20 events$/ }).waitFor();
  await page.keyboard.press("p");
  await page.locator("#streams-state", { hasText: "page 2" }).waitFor();
  await page.keyboard.press("p");
  await page.locator("#streams-state", { hasText: "page 1" }).waitFor();
  await page.locator("#stream-events tbody tr", { hasText: "ParcelSent" }).locator("button").click();
  await page.locator("#event-title", { hasText: "ParcelSent" }).waitFor();
  assert.match(await page.locator("#event-payload").textContent(), /"scan": 0/);
  await page.locator("#event-raw").check();
  await page.locator("#event-title", { hasText: "as stored" }).waitFor();
  await page.locator("#event-links button", { hasText: "delivery-7" }).click();
  await page.locator("#streams-state", { hasText: "page 1: 4 events" }).waitFor();
  await screenshot(page, "streams");
});

await operationsChecks();

await check("a read-scope token sees no write buttons, and its session cannot write", async (page) => {
  await login(page, readToken, "read");
  await page.locator("#plugins tbody tr", { hasText: "bank-account" }).waitFor();
  for (const hash of ["#overview", "#aggregate", "#projections-page", "#streams", "#tail"]) {
    await page.goto(`${base}/console${hash}`);
    await page.locator("#who", { hasText: "read scope" }).waitFor();
    const writeButtons = page.locator("button:visible", { hasText: /^(Send|Remove|Retry|Skip|Retry all|Skip all|Rebuild|Start replay)$/ });
    assert.equal(await writeButtons.count(), 0, `write buttons on ${hash}`);
    assert.ok(await page.locator("#nav-plugins").isHidden(), "no plugins page");
    assert.ok(await page.locator("#nav-replay").isHidden(), "no replay page");
  }
  assert.ok(await page.locator("#command-form").isHidden());
  const status = await page.evaluate(async () => {
    const response = await fetch("/commands/bank-account/read-only", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ command_type: "Open", payload: { owner: "Eve" } }) });
    return response.status;
  });
  assert.equal(status, 403);
});

await check("a forged cross-origin POST is refused, with a token or a session", async (page) => {
  const forged = await call("/commands/bank-account/forged", { method: "POST", headers: { origin: "https://attacker.example", "content-type": "text/plain" }, body: JSON.stringify({ command_type: "Open", payload: { owner: "Eve" } }) });
  assert.equal(forged.status, 403, `status ${forged.status}`);
  assert.equal(forged.body.error.code, "cross_origin");
  // A cookie stolen into another client, which sends no Origin.
  await login(page);
  const cookie = (await page.context().cookies()).find((one) => one.name === "cairn_session");
  const replayed = await call("/commands/bank-account/forged", { method: "POST", headers: { authorization: "", cookie: `cairn_session=${cookie.value}` }, body: JSON.stringify({ command_type: "Open", payload: { owner: "Eve" } }) });
  assert.equal(replayed.status, 403, `status ${replayed.status}`);
  assert.equal((await call("/streams/bank-account/forged")).body.version, 0, "nothing was written");
});

await check("the overview is readable on a 390-px-wide phone", async (page) => {
  await login(page);
  await page.locator("#plugins tbody tr", { hasText: "bank-account" }).waitFor();
  for (const hash of ["#overview", "#projections-page", "#streams"]) {
    await page.goto(`${base}/console${hash}`);
    await page.locator("#who", { hasText: "admin scope" }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${hash} is ${overflow} px wider than the screen`);
  }
  await page.goto(`${base}/console`);
  await page.locator("#plugins tbody tr", { hasText: "bank-account" }).waitFor();
  await screenshot(page, "overview-phone");
}, { width: 390, height: 844 });

await finish();
