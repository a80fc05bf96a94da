// What the console checks share: the browser, one page per check (a fresh
// context, so a fresh cookie jar), logging in, and calls to the server's
// API as a non-browser client with a bearer token.
import { chromium } from "playwright-core";

export const [base, screenshots] = process.argv.slice(2);
export const adminToken = process.env.ADMIN_TOKEN;
export const readToken = process.env.READ_TOKEN;
export const plugins = process.env.PLUGIN_DIRECTORY;

export const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--no-sandbox"] });
const failures = [];

export async function check(name, body, viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage({ viewport });
  try {
    await body(page);
    console.log(`ok: ${name}`);
  } catch (error) {
    failures.push(name);
    console.error(`FAILED: ${name}\n${error.stack}`);
    await page.screenshot({ path: `${screenshots}/failed-${name.replaceAll(/[^a-z0-9]+/gi, "-")}.png`, fullPage: true }).catch(() => {});
  } finally {
    await page.close();
  }
}

export async function finish() {
  await browser.close();
  if (failures.length > 0) {
    console.error(`${failures.length} console checks failed: ${failures.join("; ")}`);
    process.exit(1);
  }
}

// Logs in through the form, as a person would, and waits for the console.
export async function login(page, token = adminToken, scope = "admin", hash = "") {
  await page.goto(`${base}/console${hash}`);
  await page.locator("#token").fill(token);
  await page.locator("#token").press("Enter");
  await page.locator("#who", { hasText: `${scope} scope` }).waitFor();
}

// The API as a client outside the browser: bearer token, no Origin.
export async function call(path, init = {}) {
  const response = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json", ...(init.headers ?? {}) } });
  const body = await response.json().catch(() => null);
  return { status: response.status, body };
}

export function screenshot(page, name) {
  return page.screenshot({ path: `${screenshots}/${name}.png`, fullPage: true });
}
