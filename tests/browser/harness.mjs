// What the console checks share: the browser; for each check a `cairn serve`
// of its own on a fresh copy of the template store and one page (a fresh
// context, so a fresh cookie jar); logging in; and calls to the server's API
// as a non-browser client with a bearer token.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync } from "node:fs";
import { once } from "node:events";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const [screenshots] = process.argv.slice(2);
// The running check's server. A live binding: importers see each new one.
export let base = null;
export const adminToken = process.env.ADMIN_TOKEN;
export const readToken = process.env.READ_TOKEN;
export const plugins = process.env.PLUGIN_DIRECTORY;

export const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--no-sandbox"] });
const failures = [];

// `cairn serve` on a fresh copy of the template store, with the tokens.
async function startServer() {
  const work = process.env.WORK_DIRECTORY;
  const directory = mkdtempSync(join(work, "check-"));
  for (const suffix of ["", "-wal", "-shm"]) {
    if (existsSync(join(work, `template.db${suffix}`))) copyFileSync(join(work, `template.db${suffix}`), join(directory, `cairn.db${suffix}`));
  }
  const server = spawn(process.env.CAIRN_BINARY, ["serve", "--listen", "127.0.0.1:0", "--tokens-file", join(work, "tokens")], {
    env: { ...process.env, CAIRN_STORE: `sqlite://${directory}/cairn.db` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let errors = "";
  server.stderr.on("data", (chunk) => (errors += chunk));
  const address = await new Promise((resolve, reject) => {
    server.stdout.on("data", (chunk) => {
      output += chunk;
      const listening = output.match(/^listening on (\S+)$/m);
      if (listening) resolve(listening[1]);
    });
    server.on("exit", (code) => reject(new Error(`cairn serve exited (${code}) before listening: ${errors}`)));
  });
  return { address, stop: async () => (server.exitCode === null ? (server.kill("SIGTERM"), once(server, "exit")) : null) };
}

export async function check(name, body, viewport = { width: 1280, height: 800 }) {
  const server = await startServer();
  base = server.address;
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
    await server.stop();
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

// Opens an account with a command, as a client outside the browser.
export async function openAccount(id, owner = "Ann") {
  const opened = await call(`/commands/bank-account/${id}`, { method: "POST", body: JSON.stringify({ command_type: "Open", payload: { owner } }) });
  if (opened.status !== 200) throw new Error(`opening ${id}: ${JSON.stringify(opened.body)}`);
}

export function screenshot(page, name) {
  return page.screenshot({ path: `${screenshots}/${name}.png`, fullPage: true });
}
