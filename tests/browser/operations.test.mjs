// The console's operations pages: a failing handler's dead letter fixed by
// an upload and a retry, a blue/green rebuild, a replay job to 100%, and
// the read-model browser.
import assert from "node:assert/strict";
import { call, check, login, openAccount, plugins, screenshot } from "./harness.mjs";

export async function operationsChecks() {
  await check("a failing handler's dead letter is retried after a fixed handler is uploaded, and the projection recovers", async (page) => {
    const poisoned = await call("/events", { method: "POST", body: JSON.stringify({ aggregate_type: "parcel", aggregate_id: "poisoned-1", event_type: "ParcelScanned", payload: { poison: true } }) });
    assert.equal(poisoned.status, 201);
    await login(page, undefined, "admin", "#projections-page");
    const letter = page.locator("#dead-letters tbody tr", { hasText: "poisoned-1" });
    await letter.filter({ hasText: "is poisoned" }).waitFor({ timeout: 20000 });
    await page.locator("#projection-table tbody tr", { hasText: "picky" }).locator("td.bad", { hasText: "1 failed" }).waitFor();
    // Retrying the unchanged handler fails again, and says so.
    await letter.locator("button", { hasText: "Retry" }).click();
    await page.locator("#dead-letters-state.bad", { hasText: "failed again" }).waitFor();
    await screenshot(page, "projections");

    await page.goto(page.url().replace("#projections-page", "#plugins-page"));
    await page.locator("#upload-name").fill("picky");
    await page.locator("#upload-file").setInputFiles(`${plugins}/picky-handler-fixed.wasm`);
    await page.locator("#upload-state", { hasText: "picky version 2 is active" }).waitFor();

    await page.goto(page.url().replace("#plugins-page", "#projections-page"));
    await letter.locator("button", { hasText: "Retry" }).click();
    await page.locator("#dead-letters-state", { hasText: "retried parcel/poisoned-1: 1 handled" }).waitFor();
    await page.locator("#dead-letters tbody tr", { hasText: "no dead letters" }).waitFor();
    const picky = page.locator("#projection-table tbody tr", { hasText: "picky" });
    await picky.locator("td", { hasText: "0 failed, 0 parked" }).waitFor();
    await picky.locator("td", { hasText: "running" }).waitFor();
    const seen = await call("/read-models/picky/seen/parcel:poisoned-1");
    assert.deepEqual(seen.body, [1], "the fixed handler handled the event");
  });

  await check("a blue/green rebuild shows its progress and makes a new generation live", async (page) => {
    await openAccount("travel-1");
    await login(page, undefined, "admin", "#projections-page");
    const row = page.locator("#projection-table tbody tr", { hasText: "account-summary" });
    const before = Number((await row.locator("td").nth(7).textContent()).trim());
    await row.locator("button", { hasText: "Rebuild" }).click();
    await row.locator("td", { hasText: "rebuilt" }).waitFor({ timeout: 20000 });
    const after = Number((await row.locator("td").nth(7).textContent()).trim());
    assert.ok(after > before, `generation ${before} became ${after}`);
    const summary = await call("/read-models/account-summary/accounts/travel-1");
    assert.equal(summary.status, 200, "the rebuilt read model holds the accounts");
  });

  await check("a replay started from the form reaches 100%, and its read model can be browsed", async (page) => {
    for (const account of ["console-1", "console-2", "travel-1"]) await openAccount(account);
    await login(page, undefined, "admin", "#replay");
    await page.locator("#replay-handlers option", { hasText: "account-summary" }).waitFor({ state: "attached" });
    await page.locator("#replay-handlers").selectOption("account-summary");
    await page.locator("#replay-aggregate-types").fill("bank-account");
    await page.locator("#replay-checkpoint").fill("console-replay");
    await page.locator("#replay-batch-size").fill("1");
    await page.locator("#replay-form button[type=submit]").click();
    await page.locator("#replay-state", { hasText: "started" }).waitFor();
    const job = page.locator("#jobs tbody tr").first();
    await job.locator("td", { hasText: "completed" }).waitFor({ timeout: 20000 });
    await job.locator("progress[value='100']").waitFor();
    await job.locator("summary", { hasText: "results" }).click();
    await job.locator("table.inner tbody tr", { hasText: "account-summary" }).waitFor();
    await page.locator("#model-handler").selectOption("account-summary");
    await page.locator("#model-collection option", { hasText: "accounts" }).waitFor({ state: "attached" });
    await page.locator("#model-prefix").fill("console-");
    await page.locator("#models-form button[type=submit]").click();
    await page.locator("#documents tbody tr", { hasText: "console-1" }).waitFor();
    assert.equal(await page.locator("#documents tbody tr", { hasText: "travel-1" }).count(), 0, "the prefix holds");
    await screenshot(page, "replay");
  });
}
