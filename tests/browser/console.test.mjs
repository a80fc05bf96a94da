// The console in Chromium, as an operator uses it. Usage:
//   node console.test.mjs BASE_URL SCREENSHOT_DIRECTORY   (CHROMIUM: the browser)
// Each check prints one line; the first failure ends the run with exit 1.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const [base, screenshots] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--no-sandbox"] });
const failures = [];

async function check(name, body) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await body(page);
    console.log(`ok: ${name}`);
  } catch (error) {
    failures.push(name);
    console.error(`FAILED: ${name}\n${error.stack}`);
    await page.screenshot({ path: `${screenshots}/failed-${name.replaceAll(/[^a-z0-9]+/gi, "-")}.png` }).catch(() => {});
  } finally {
    await page.close();
  }
}

await check("/ leads to the overview, which lists the plugins and projections", async (page) => {
  await page.goto(base);
  assert.equal(new URL(page.url()).pathname, "/console");
  await page.locator("#plugins tbody tr", { hasText: "bank-account" }).waitFor();
  await page.locator("#projections tbody tr", { hasText: "account-summary" }).waitFor();
  await page.locator("#status", { hasText: "healthy" }).waitFor();
  await page.screenshot({ path: `${screenshots}/overview.png`, fullPage: true });
});

await check("a command's event appears in the live tail", async (page) => {
  await page.goto(`${base}/console#tail`);
  await page.locator("#tail-state", { hasText: "following the log" }).waitFor();
  const answer = await page.evaluate(async () => {
    const response = await fetch("/commands/bank-account/console-1", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ command_type: "Open", payload: { owner: "Ann" } }) });
    return response.status;
  });
  assert.equal(answer, 200);
  await page.locator("#events tbody tr", { hasText: "AccountOpened" }).waitFor({ timeout: 5000 });
  await page.screenshot({ path: `${screenshots}/live-tail.png`, fullPage: true });
});

await check("pausing the tail stops it, and resuming catches up from where it stopped", async (page) => {
  await page.goto(`${base}/console#tail`);
  await page.locator("#tail-state", { hasText: "following the log" }).waitFor();
  await page.keyboard.press("Tab");
  await page.locator("#tail-toggle").focus();
  await page.keyboard.press("Enter");
  await page.locator("#tail-state", { hasText: "paused" }).waitFor();
  await page.evaluate(() => fetch("/commands/bank-account/console-2", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ command_type: "Open", payload: { owner: "Bo" } }) }));
  assert.equal(await page.locator("#events tbody tr", { hasText: "console-2" }).count(), 0, "nothing arrives while paused");
  await page.keyboard.press("Enter");
  await page.locator("#events tbody tr", { hasText: "console-2" }).waitFor({ timeout: 5000 });
});

await check("a plugin uploaded on the plugins page is active at once", async (page) => {
  await page.goto(`${base}/console#plugins-page`);
  await page.locator("#versions tbody tr", { hasText: "bank-account" }).waitFor();
  await page.locator("#upload-name").fill("counted");
  await page.locator("#upload-file").setInputFiles(`${process.env.PLUGIN_DIRECTORY}/event-counter.wasm`);
  await page.locator("#upload-state", { hasText: "counted version 1 is active" }).waitFor();
  await page.locator("#versions tbody tr", { hasText: "counted" }).waitFor();
  await page.screenshot({ path: `${screenshots}/plugins.png`, fullPage: true });
  await page.goto(`${base}/console`);
  await page.locator("#plugins tbody tr", { hasText: "counted" }).waitFor();
});

await check("the aggregate page sends commands, shows rejections, and travels to version 1", async (page) => {
  await page.goto(`${base}/console#aggregate`);
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
  await page.screenshot({ path: `${screenshots}/aggregate.png`, fullPage: true });
});

await check("a forged cross-origin POST is refused", async () => {
  const response = await fetch(`${base}/commands/bank-account/forged`, { method: "POST", headers: { "content-type": "text/plain", origin: "https://attacker.example" }, body: JSON.stringify({ command_type: "Open", payload: { owner: "Eve" } }) });
  assert.equal(response.status, 403, `status ${response.status}`);
});

await check("the overview is readable on a 390-px-wide phone", async () => {
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await phone.goto(`${base}/console`);
  await phone.locator("#plugins tbody tr", { hasText: "bank-account" }).waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
  await phone.screenshot({ path: `${screenshots}/overview-phone.png`, fullPage: true });
  await phone.close();
});

await browser.close();
if (failures.length > 0) {
  console.error(`${failures.length} console checks failed: ${failures.join("; ")}`);
  process.exit(1);
}
