// What the browser tests share (console.mjs, portal.mjs): their environment, checks that count,
// axe-core on a page, screenshots, and Debian's chromium launched headless by playwright-core.
// Every test passes OUT (where screenshots go) and WAIT (seconds a slow step may take).
import { chromium } from "playwright-core";
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
export const OUT = env("OUT");
export const WAIT_MS = Number(env("WAIT")) * 1000;
mkdirSync(OUT, { recursive: true });

let count = 0;
export function check(cond, what) {
  if (!cond) throw new Error(`FAIL: ${what}`);
  count++;
}
export const checks = () => count;

// axe-core on the page as it is now: no serious or critical violation. page.evaluate runs the
// library over the DevTools protocol, so the page's CSP (no inline script) stays as served.
export const audited = [];
export async function axe(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const text = bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  check(bad.length === 0, `axe on ${name}: ${text.join("; ")}`);
  audited.push(name);
}

export async function shot(page, name) {
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
    timeout: WAIT_MS,
  });
}
