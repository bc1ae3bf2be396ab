// The operator console in a real browser (integration.console_browser runs this; docs/console.md):
// Debian's chromium, headless, driven by playwright-core; axe-core checks every page. The shell
// script starts the server, seeds the devices and logins, and passes by environment: CONSOLE
// (http://127.0.0.1:ADMIN_PORT), MAC (the device to find), OUT (screenshots), WAIT (seconds a
// slow step may take), OPS/OPS_PW (an operator), VIEW/VIEW_PW (a viewer). Waits are locators
// (hasText), never page.waitForFunction: its polling evaluates a string, which the console's CSP
// (no unsafe-eval) refuses whenever the condition is not already true at the first look.
import { env, OUT, WAIT_MS, check, checks, audited, axe, shot, launch } from "./harness.mjs";
import { readFileSync } from "node:fs";

const CONSOLE = env("CONSOLE"), MAC = env("MAC");
const OPS = env("OPS"), OPS_PW = env("OPS_PW"), VIEW = env("VIEW"), VIEW_PW = env("VIEW_PW");

const browser = await launch();
const newContext = (locale) =>
  browser.newContext({ locale, viewport: { width: 1280, height: 900 } });

async function login(page, name, password) {
  const res = await page.goto(`${CONSOLE}/login`);
  check(res.status() === 200, "login page");
  await page.fill("#login", name);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL(`${CONSOLE}/devices`), page.click("main button[type=submit]")]);
}

try {
  // --- The operator, in English.
  const ctx = await newContext("en-US");
  ctx.setDefaultTimeout(WAIT_MS);
  let page = await ctx.newPage();
  await page.goto(`${CONSOLE}/login`);
  await axe(page, "login-en");
  await shot(page, "01-login");
  await login(page, OPS, OPS_PW);
  const session = (await ctx.cookies()).find((c) => c.name === "__Host-pv_console");
  check(session && session.httpOnly && session.secure && session.sameSite === "Strict",
    "console session cookie Secure, HttpOnly, SameSite=Strict");
  await axe(page, "devices");
  await shot(page, "02-devices");

  // Find the one device among many by MAC prefix, in under a second (server side).
  await page.fill("#q-mac", MAC.slice(0, 8));
  const t0 = Date.now();
  await Promise.all([page.waitForURL(/\/devices\?mac=/), page.click("form.search button[type=submit]")]);
  const took = Date.now() - t0;
  const rows = await page.locator("table.devices tbody tr").count();
  check(rows === 1, `one device found by prefix (got ${rows})`);
  const serverMs = Number((await page.textContent(".took")).replace(/[^0-9]/g, ""));
  check(serverMs < 1000, `the search took ${serverMs} ms on the server (under a second)`);
  await axe(page, "search");
  await shot(page, "03-search");
  await Promise.all([page.waitForURL(`${CONSOLE}/devices/${MAC}`), page.click(`a[href="/devices/${MAC}"]`)]);

  // Its layered parameters: the device layer wins for Display_Name_1_, the secret masked.
  const layers = await page.textContent("#layers");
  check(layers.includes("Display_Name_1_") && layers.includes("Front desk"), "the device layer shown");
  check(!layers.includes("s3cret-line"), "the line password masked");
  const proxyRow = page.locator("#layers tr", { hasText: "Proxy_1_" });
  check((await proxyRow.locator("td.wins").count()) === 1, "one layer wins for Proxy_1_");
  check(await page.isVisible("button.api[data-path$='/actions']"), "action buttons for an operator");
  await axe(page, "device");
  await shot(page, "04-device");
  await Promise.all([page.waitForLoadState(), page.click("#reveal")]);
  check((await page.textContent("#layers")).includes("s3cret-line"), "revealed after the button");
  await shot(page, "05-device-revealed");

  // An edit whose dry run fails to render, refused; the save refused (422) too; then fixed.
  await page.goto(`${CONSOLE}/params/set?scope=account:acme`);
  await page.fill("#p-name", "Display_Name_2_");
  await page.fill("#p-value", "Front {{nope}}");
  let [res] = await Promise.all([page.waitForNavigation(), page.click("#dry-run")]);
  check(res.status() === 422, `dry run of an unrenderable value answers 422 (got ${res.status()})`);
  const verdict = await page.textContent("#verdict");
  check(verdict.includes(MAC) || verdict.includes("nope"), `the dry run names the failure: ${verdict}`);
  await axe(page, "params-dry-run-refused");
  await shot(page, "06-dry-run-refused");
  await page.click("#save");
  await page.locator("#verdict", { hasText: /^422/ }).waitFor();
  check((await page.textContent("#verdict")).startsWith("422"), "the save refused with 422");
  await shot(page, "07-save-refused");
  await page.fill("#p-value", "Front {{lines.0.user}}");
  [res] = await Promise.all([page.waitForNavigation(), page.click("#dry-run")]);
  check(res.status() === 200, "the fixed value's dry run passes");
  check((await page.textContent("#verdict")).includes("1 device changes"), "it reaches acme's one device");
  await page.click("#save");
  await page.locator("#verdict", { hasText: /^2\d\d/ }).waitFor();
  await axe(page, "params-saved");
  await shot(page, "08-saved");

  // A resync action through the API with the session.
  await page.goto(`${CONSOLE}/devices/${MAC}`);
  await page.click("button.api[data-body*=resync]");
  await page.locator("#outcome", { hasText: /^202/ }).waitFor();
  await shot(page, "09-resync");

  await page.goto(`${CONSOLE}/dashboard`);
  // devices by state, model, firmware, the totals since the start; three per-minute charts
  check((await page.locator("svg[role=img]").count()) === 7, "seven charts");
  await axe(page, "dashboard");
  await shot(page, "10-dashboard");
  await page.goto(`${CONSOLE}/audit?subject=${MAC}`);
  check((await page.textContent("table.audit")).includes(`login:${OPS}`), "the audit log names the login");
  await axe(page, "audit");
  await shot(page, "11-audit");
  await page.goto(`${CONSOLE}/params`);
  await axe(page, "params");
  await page.goto(`${CONSOLE}/firmware`);
  await axe(page, "firmware");
  await page.goto(`${CONSOLE}/accounts`);
  check((await page.textContent("main table")).includes("acme"), "the accounts listed");
  await axe(page, "accounts");

  // An account created from the list's form, then deleted (no devices: an operator may).
  await page.fill("#n-name", "globex");
  await page.fill("#n-customer", "Globex Corp");
  await Promise.all([page.waitForURL(`${CONSOLE}/accounts/globex`),
    page.click("#account-create button[type=submit]")]);
  check((await page.textContent("#account-name")) === "globex", "the new account's page");
  await page.fill("#a-name", "globex2");
  await Promise.all([page.waitForURL(`${CONSOLE}/accounts/globex2`), page.click("#account-edit button[type=submit]")]);
  check((await page.textContent("#account-name")) === "globex2", "the account renamed");
  await Promise.all([page.waitForURL(`${CONSOLE}/accounts`),
    page.click("#account-delete button[type=submit]")]);
  check(!(await page.textContent("main table")).includes("globex"), "the account deleted");
  // acme has a device: an operator's delete is refused by the API's role table (403).
  await page.goto(`${CONSOLE}/accounts/acme`);
  await page.click("#account-delete button[type=submit]");
  await page.locator("#account-delete .verdict", { hasText: /^403/ }).waitFor();

  // acme's settings as a form. Its parameters fill {{lines.0.user}}: without line 1 its device
  // would not render, which the dry run says and the save refuses (422); then fixed.
  await page.goto(`${CONSOLE}/accounts/acme`);
  check((await page.inputValue("#lines-0-user")) === "1001", "line 1's user in the form");
  check((await page.inputValue("#lines-0-password")) === "" &&
    !(await page.content()).includes("line-pw-1"), "the line's password is not on the page");
  await axe(page, "account");
  for (const f of ["line", "user", "auth_id", "display_name", "proxy"]) await page.fill(`#lines-0-${f}`, "");
  const verdictIs = (re) => page.locator("#settings-verdict", { hasText: re }).waitFor();
  await page.click("#settings-dry-run");
  await verdictIs(/would fail/);
  const dry = await page.textContent("#settings-verdict");
  check(dry.includes("1 would fail to render") && dry.includes(MAC), `the dry run names the failing device: ${dry}`);
  await axe(page, "account-dry-run-refused");
  await shot(page, "12c-settings-dry-run-refused");
  await page.click("#settings-save");
  await verdictIs(/^422/);
  check((await page.textContent("#settings-verdict")).includes("would fail to render"), "the save refused (422)");
  await page.fill("#lines-0-line", "1");
  await page.fill("#lines-0-user", "1002");
  await page.fill("#lines-0-display_name", "Front");
  await page.click("#settings-dry-run");
  await verdictIs(/0 would fail/);
  check((await page.textContent("#settings-verdict")).startsWith("1 of 1 devices change"), "the fix changes the one device");
  await page.click("#settings-save");
  await verdictIs(/^200/);
  await shot(page, "12d-settings-saved");
  // A customer login for acme, then a new password for it.
  await page.fill("#c-login", "bob");
  await page.fill("#c-password", "bob password 1");
  await Promise.all([page.waitForNavigation(), page.click("#customer-create button[type=submit]")]);
  const bob = page.locator("#customers tbody tr", { hasText: "bob" });
  check((await bob.count()) === 1, "the customer listed");
  await bob.locator("input[type=password]").fill("bob password 2");
  await Promise.all([page.waitForNavigation(), bob.locator("button[type=submit]").click()]);
  const alice = page.locator("#customers tbody tr", { hasText: "alice" });
  await Promise.all([page.waitForNavigation(), alice.locator("button.api[data-method=DELETE]").click()]);
  check((await page.locator("#customers tbody tr", { hasText: "alice" }).count()) === 0, "a customer deleted");
  await axe(page, "account-customers");
  await shot(page, "12e-account-customers");

  // A CSV import uploaded from the page, run by the server: 40 000 rows as a distributor's
  // delivery note has them (colon MACs, two models, serials, a comment, a quoted serial with a
  // comma) among four bad ones — an unknown model, a malformed MAC, a MAC given twice, an
  // unknown account. The operator closes the page while the job runs, comes back later: the
  // job finished on its own, and its error report downloads in line order.
  await page.goto(`${CONSOLE}/import`);
  await axe(page, "import");
  const hex = (n) => n.toString(16).padStart(2, "0");
  const good = [];
  for (let i = 0; i < 40000; i++) {
    const model = i % 3 ? "CP-8841-3PCC" : "SPA504G";
    const serial = i === 777 ? '"FCH0000777, rack 2"' : `FCH${String(i).padStart(7, "0")}`;
    good.push(`00:0e:09:${hex(i >> 16)}:${hex((i >> 8) & 255)}:${hex(i & 255)},${model},acme,${serial}`);
  }
  const csv = ["MAC,Model,Account,Serial", "# delivery 2026-12-07, pallet 9", good[0],
    "00:0e:09:ff:00:01,NoSuchPhone-1,acme,FCHX1", "zz-not-a-mac,SPA504G,acme,FCHX2",
    good[0].replace("CP-8841-3PCC", "SPA504G").replace("SPA504G,acme,FCH0000000", "CP-8841-3PCC,acme,FCH9999999"),
    "00:0e:09:ff:00:02,SPA504G,nosuchaccount,FCHX3", ...good.slice(1)].join("\r\n") + "\r\n";
  await page.setInputFiles("#import-file", { name: "delivery-9.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await Promise.all([page.waitForURL(/\/import\/\d+$/), page.click("#import-form button[type=submit]")]);
  const jobUrl = page.url();
  const state0 = await page.getAttribute("#import-job", "data-state");
  check(state0 === "running" || state0 === "done", `the job's page (${state0})`);
  await axe(page, "import-job-running");
  await shot(page, "12f-import-running");
  if (state0 !== "running") console.log("note: the import finished before its page was read");
  await page.close(); // the operator closes the tab while the server imports

  const back = await ctx.newPage();
  await back.goto(`${CONSOLE}/dashboard`);
  const listed = await back.locator(`#now a[href="${new URL(jobUrl).pathname}"]`).count();
  if (listed) await shot(back, "12g-dashboard-import");
  await back.goto(`${CONSOLE}/import`);
  await Promise.all([back.waitForURL(jobUrl), back.click(`main table a[href="${new URL(jobUrl).pathname}"]`)]);
  // the page's script reads the job every second and loads the page again once it is done
  await back.locator("#import-job[data-state=done]").waitFor();
  const done = await back.textContent("#import-status");
  check(done.includes("created 40000") && done.includes("errors 4"), `the import's counts: ${done}`);
  check((await back.getAttribute("#import-progress", "value")) === (await back.getAttribute("#import-progress", "max")),
    "the progress bar full");
  check((await back.locator("#errors-h + p + table tbody tr").count()) === 4, "its errors on the page");
  const [download] = await Promise.all([back.waitForEvent("download"), back.click("#import-errors")]);
  const report = readFileSync(await download.path(), "utf8").trim().split("\r\n");
  check(report[0] === "line,mac,reason" && report.length === 5, `an error report of 4 rows: ${report.join(" | ")}`);
  check(report.slice(1).map((l) => l.split(",")[0]).join(" ") === "4 5 6 7", `in line order: ${report.join(" | ")}`);
  check(report[1].includes("NoSuchPhone-1") && report[3].includes("already on line 3") && report[4].includes("nosuchaccount"),
    `each with its reason: ${report.join(" | ")}`);
  await axe(back, "import-done");
  await shot(back, "12f-import");
  page = back; // the rest of the visit goes on in the new tab

  // A binding code for acme: created through the API with the session, shown once on a card.
  await page.goto(`${CONSOLE}/codes?account=acme`);
  await page.click("button.api[data-path$='/codes']");
  await page.waitForSelector("#card:not([hidden])");
  const code = (await page.textContent("#card-code")).trim();
  check(/^[0-9]{12}$/.test(code), `a 12-digit code on the card (got ${code})`);
  // The card says where to point the phone, as the portal's code page does (one text).
  const url = (await page.textContent("#card #resync-url")).trim();
  const rule = (await page.textContent("#card #profile-rule")).trim();
  check(/^http:\/\/.+\/admin\/resync\?https:\/\//.test(url) && url.endsWith(`/${code}`),
    `the card shows the resync URL with the code (got ${url})`);
  check(rule.startsWith("https://") && rule.endsWith(`/${code}`), `and the keypad's rule (got ${rule})`);
  await axe(page, "codes");
  await shot(page, "12-code-card");
  await page.emulateMedia({ media: "print" });
  await shot(page, "12b-code-card-print");
  await page.emulateMedia({ media: "screen" });
  await page.reload();
  check((await page.locator("table.codes tbody tr").count()) === 1, "the code listed (its hint only)");
  check(!(await page.content()).includes(code), "the code itself is not shown again");
  await page.click("button.api[data-method=DELETE]");
  await page.locator("#outcome", { hasText: /^204/ }).waitFor();

  // The same in Japanese through the switch.
  await page.goto(`${CONSOLE}/devices/${MAC}`);
  await Promise.all([page.waitForURL(`${CONSOLE}/devices/${MAC}`), page.click('a[hreflang="ja"]')]);
  check((await page.getAttribute("html", "lang")) === "ja", "switched to Japanese");
  await axe(page, "device-ja");
  await shot(page, "13-device-ja");
  await ctx.close();

  // --- The viewer: every page, no button that changes anything, and the API's 403.
  const vctx = await newContext("en-US");
  vctx.setDefaultTimeout(WAIT_MS);
  const v = await vctx.newPage();
  await login(v, VIEW, VIEW_PW);
  await v.goto(`${CONSOLE}/devices/${MAC}`);
  check((await v.locator("button.api").count()) === 0, "no action button for a viewer");
  check((await v.locator("#reveal").count()) === 0, "no reveal button for a viewer");
  await axe(v, "device-viewer");
  await shot(v, "14-device-viewer");
  await v.goto(`${CONSOLE}/params/set?scope=account:acme`);
  check((await v.locator("#save").count()) === 0, "no save button for a viewer");
  await shot(v, "15-params-viewer");
  await v.goto(`${CONSOLE}/accounts/acme`);
  check((await v.locator("main button").count()) === 0, "no edit button on an account for a viewer");
  check(await v.isDisabled("#lines-0-user"), "the settings read-only for a viewer");
  await axe(v, "account-viewer");
  await shot(v, "15b-account-viewer");
  await v.goto(`${CONSOLE}/import`);
  check((await v.locator("#import-form").count()) === 0, "no import form for a viewer");
  await v.goto(`${CONSOLE}/codes?account=acme`);
  check((await v.locator("button.api").count()) === 0, "no code buttons for a viewer");
  await axe(v, "codes-viewer");
  await shot(v, "16-codes-viewer");
  const csrf = await v.getAttribute("#role", "data-csrf");
  // The calls a page's script would make, from the page (the browser's cookie and origin).
  const call = (method, path, body) => v.evaluate(async ([m, u, b, t]) => {
    const r = await fetch(u, { method: m, credentials: "same-origin",
      headers: { "X-CSRF-Token": t, "Content-Type": "application/json" }, body: b });
    return r.status;
  }, [method, path, body, csrf]);
  const r = await call("POST", `/api/v1/devices/${MAC}/actions`, JSON.stringify({ action: "resync" }));
  check(r === 403, `a viewer's resync refused (got ${r})`);
  const p = await call("PATCH", "/api/v1/params/account:acme",
    JSON.stringify({ entries: { Display_Name_2_: { value: "x" } } }));
  check(p === 403, `a viewer's edit refused (got ${p})`);
  const s = await call("PATCH", "/api/v1/accounts/acme", JSON.stringify({ customer: "x" }));
  check(s === 403, `a viewer's account edit refused (got ${s})`);
  await vctx.close();

  console.log(`ok: console_browser: ${checks()} checks; axe on ${audited.length} pages (${audited.join(", ")}); ` +
    `prefix search ${took} ms in the browser; screenshots in ${OUT}`);
} catch (e) {
  console.error(e.message || e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
