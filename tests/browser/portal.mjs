// The customer portal in a real browser (integration.portal_browser runs this; docs/portal.md):
// Debian's chromium, headless, driven by playwright-core; axe-core checks every page in both
// languages. The shell script starts the server and an emulated phone and passes, by
// environment: PORTAL (https://127.0.0.1:PORT), HTTPS_PORT, PHONE (host:port of the phone's web
// page), OUT (where screenshots go), WAIT (seconds a slow step may take), and the logins.
import { env, OUT, WAIT_MS, check, checks, audited, axe, shot, launch } from "./harness.mjs";

const PORTAL = env("PORTAL"), PHONE = env("PHONE"), HTTPS_PORT = env("HTTPS_PORT");
const ALICE = env("ALICE"), ALICE_PW = env("ALICE_PW"), BOB = env("BOB"), BOB_PW = env("BOB_PW");
const BOB_MAC = env("BOB_MAC");

const browser = await launch();
// The server certificate is checked by integration.portal_curl with the data directory's CA;
// here the browser would need that CA in an NSS database, so it is told to accept it.
const newContext = (locale) =>
  browser.newContext({ ignoreHTTPSErrors: true, locale, viewport: { width: 1100, height: 900 } });

try {
  // --- Alice, in English: login, account, speed dial, code, bind, configured without reload.
  const ctx = await newContext("en-US");
  ctx.setDefaultTimeout(WAIT_MS);
  const page = await ctx.newPage();
  let res = await page.goto(`${PORTAL}/login`);
  check(res.status() === 200, "login page");
  check((await page.getAttribute("html", "lang")) === "en", "English from Accept-Language");
  await axe(page, "login-en");
  await shot(page, "01-login-en");
  await page.fill("#login", ALICE);
  await page.fill("#password", ALICE_PW);
  await Promise.all([page.waitForURL(`${PORTAL}/account`), page.click("button[type=submit]")]);
  const cookies = await ctx.cookies();
  const session = cookies.find((c) => c.name === "__Host-pv_session");
  check(session && session.httpOnly && session.secure && session.sameSite === "Strict",
    "session cookie Secure, HttpOnly, SameSite=Strict");
  check((await page.textContent("#account-name")) === "acme", "alice's account");
  await axe(page, "account-en");
  await shot(page, "02-account-en");

  await page.fill("#sd_name_3", "Bob");
  await page.fill("#sd_number_3", "1003");
  await Promise.all([page.waitForURL(/saved=1/), page.click("#save-settings")]);
  check((await page.inputValue("#sd_number_3")) === "1003", "speed dial 3 saved");
  check(await page.isVisible("#saved"), "saved notice");
  await shot(page, "03-settings-saved-en");

  // A POST without the CSRF token, with the browser's own session cookie: refused.
  res = await page.request.post(`${PORTAL}/settings`, { form: { version: "99", sd_number_4: "1004" } });
  check(res.status() === 403, `POST without CSRF token refused (got ${res.status()})`);

  await Promise.all([page.waitForURL(`${PORTAL}/codes`), page.click("#get-code")]);
  const code = (await page.textContent("#code")).trim();
  check(/^[0-9]{12}$/.test(code), `a 12-digit code (got ${code})`);
  console.log(`code: ${code}`); // the shell checks that no log line or audit row holds it
  const resyncText = await page.textContent("#resync-url");
  check(resyncText.includes(`https://127.0.0.1:${HTTPS_PORT}/init/${code}`), "the resync URL to type");
  check((await page.getAttribute("#bind-status", "class")).includes("bind-waiting"), "waiting");
  await axe(page, "code-en");
  await shot(page, "04-code-en");
  // A marker the page keeps only if it is never reloaded.
  await page.evaluate(() => { window.__notReloaded = true; });
  // The customer types the URL into the phone's web page (here: fetch it as a browser would).
  const phone = await fetch(`http://${PHONE}/admin/resync?https://127.0.0.1:${HTTPS_PORT}/init/${code}`);
  check(phone.ok, "the phone took the resync command");
  await page.waitForSelector("#bind-status.bind-configured", { timeout: WAIT_MS * 2 });
  check(await page.evaluate(() => window.__notReloaded === true), "configured shown without a reload");
  const statusText = await page.textContent("#bind-status");
  check(statusText.includes("Configured"), `status says configured (${statusText})`);
  await shot(page, "05-code-configured-en");

  await page.goto(`${PORTAL}/account`);
  const row = page.locator("#phones tbody tr").first();
  check((await row.textContent()).includes("SEC-PRV-2"), "the phone listed in SEC-PRV-2");
  const mac = await row.getAttribute("data-mac");
  await shot(page, "06-account-phone-en");
  await page.click(`a[href="/phones/${mac}"]`);
  await page.waitForSelector("#unbind");
  await axe(page, "phone-en");
  await shot(page, "07-phone-en");
  // "Resync my phone" (spec 5.5): the button sends the phone a NOTIFY; the page shows what
  // became of it, updated by its script while the answer is pending.
  check((await page.textContent("#push-status")).length > 0, "the last resync request is shown");
  await Promise.all([page.waitForURL(`${PORTAL}/phones/${mac}`), page.click("#resync")]);
  await page.evaluate(() => { window.__notReloaded = true; });
  await page.waitForSelector("#push-status.push-ok", { timeout: WAIT_MS * 2 });
  check(await page.evaluate(() => window.__notReloaded === true), "the outcome shown without a reload");
  const pushText = await page.textContent("#push-status");
  check(pushText.includes("accepted"), `the page says the phone accepted it (${pushText})`);
  check(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/.test(pushText),
        `the script's update says when, as the loaded page does (${pushText})`);
  check((await page.textContent("main")).includes("once a minute"), "the page says how often");
  await axe(page, "phone-resync-en");
  await shot(page, "14-phone-resync-en");
  res = await page.goto(`${PORTAL}/phones/${BOB_MAC}`);
  check(res.status() === 404, "alice cannot open bob's phone by URL");
  await axe(page, "not-found-en");

  // --- The same pages in Japanese, through the switch on the page.
  await page.goto(`${PORTAL}/account`);
  await Promise.all([page.waitForURL(`${PORTAL}/account`), page.click('a[hreflang="ja"]')]);
  check((await page.getAttribute("html", "lang")) === "ja", "switched to Japanese");
  check((await page.textContent("h1")).includes("アカウント"), "Japanese heading");
  await axe(page, "account-ja");
  await shot(page, "08-account-ja");
  await page.goto(`${PORTAL}/phones/${mac}`);
  await axe(page, "phone-ja");
  await shot(page, "09-phone-ja");
  // "Resync my phones" right after the phone's own button: refused (429), the page says to wait.
  await page.goto(`${PORTAL}/account`);
  const [again] = await Promise.all([page.waitForNavigation(), page.click("#resync-all")]);
  check(again.status() === 429, `resync my phones within the minute refused (${again.status()})`);
  check((await page.textContent("main")).includes("1分"), "the page says to wait a minute");
  await axe(page, "resync-all-ja");
  await shot(page, "15-resync-all-ja");
  await page.goto(`${PORTAL}/phones/${BOB_MAC}`);
  await axe(page, "not-found-ja");
  await page.goto(`${PORTAL}/account`);
  await Promise.all([page.waitForURL(`${PORTAL}/codes`), page.click("#get-code")]);
  await axe(page, "code-ja");
  await shot(page, "10-code-ja");
  await page.goto(`${PORTAL}/account`);
  await Promise.all([page.waitForURL(`${PORTAL}/login`), page.click(".logout button")]);
  await axe(page, "login-ja");
  await shot(page, "11-login-ja");
  await ctx.close();

  // --- Bob, in Japanese from Accept-Language: his account only; alice's phone is not found.
  const bobCtx = await newContext("ja-JP");
  bobCtx.setDefaultTimeout(WAIT_MS);
  const bob = await bobCtx.newPage();
  await bob.goto(`${PORTAL}/login`);
  check((await bob.getAttribute("html", "lang")) === "ja", "Japanese from Accept-Language");
  await bob.fill("#login", BOB);
  await bob.fill("#password", BOB_PW);
  await Promise.all([bob.waitForURL(`${PORTAL}/account`), bob.click("main button[type=submit]")]);
  check(!(await bob.content()).includes(mac), "bob's account does not list alice's phone");
  res = await bob.goto(`${PORTAL}/phones/${mac}`);
  check(res.status() === 404, "bob cannot open alice's phone by URL");
  await shot(bob, "12-bob-not-found-ja");
  res = await bob.request.post(`${PORTAL}/phones/${mac}/unbind`, { form: { csrf: "x" } });
  check(res.status() === 403, "bob cannot unbind it either");
  await bobCtx.close();

  // --- Wrong passwords lock the login (lockout_failures = 3 in this server), in English.
  const lockCtx = await newContext("en-US");
  lockCtx.setDefaultTimeout(WAIT_MS);
  const lock = await lockCtx.newPage();
  let status = 0;
  for (let i = 0; i < 3; i++) {
    await lock.goto(`${PORTAL}/login`);
    await lock.fill("#login", BOB);
    await lock.fill("#password", "not the password");
    const [response] = await Promise.all([lock.waitForNavigation(), lock.click("main button[type=submit]")]);
    status = response.status();
  }
  check(status === 429, `locked after 3 wrong passwords (got ${status})`);
  check((await lock.textContent("#login-error")).includes("locked"), "the page says locked");
  await axe(lock, "login-locked-en");
  await shot(lock, "13-login-locked-en");
  await lock.fill("#login", BOB);
  await lock.fill("#password", BOB_PW);
  const [locked] = await Promise.all([lock.waitForNavigation(), lock.click("main button[type=submit]")]);
  check(locked.status() === 429, "the right password is refused while locked");
  await lockCtx.close();

  const pages = new Set(audited.map((n) => n.replace(/-(en|ja)$/, "")));
  for (const p of ["login", "account", "code", "phone", "not-found"])
    check(audited.includes(`${p}-en`) && audited.includes(`${p}-ja`), `axe ran on ${p} in both languages`);
  console.log(`ok: portal_browser: ${checks()} checks; axe on ${audited.length} pages (${[...pages].join(", ")}); screenshots in ${OUT}`);
} catch (e) {
  console.error(e.message || e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
