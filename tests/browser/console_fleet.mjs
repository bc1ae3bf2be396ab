// The console's firmware page, dashboard rates and report diff in a real browser
// (integration.console_fleet_browser runs this in two phases; docs/console.md). The shell script
// starts the server, the fleet and the desk phone, and passes by environment: CONSOLE, OUT, WAIT,
// PHASE ("create": the operator creates a rollout with the form; "halted": after the fleet made
// it halt), MODEL and OLD (the rollout's model and the version it leaves), DESK (a phone with a
// full report), SECRET (its line password, never to be on a page), OPS/OPS_PW, VIEW/VIEW_PW.
import { env, WAIT_MS, check, checks, audited, axe, shot, launch } from "./harness.mjs";

const CONSOLE = env("CONSOLE"), PHASE = env("PHASE"), MODEL = env("MODEL"), OLD = env("OLD");
const DESK = env("DESK"), SECRET = env("SECRET");
const OPS = env("OPS"), OPS_PW = env("OPS_PW"), VIEW = env("VIEW"), VIEW_PW = env("VIEW_PW");

const browser = await launch();

async function session(name, password, javaScriptEnabled = true) {
  const ctx = await browser.newContext({ locale: "en-US", viewport: { width: 1280, height: 900 },
    javaScriptEnabled });
  ctx.setDefaultTimeout(WAIT_MS);
  const page = await ctx.newPage();
  await page.goto(`${CONSOLE}/login`);
  await page.fill("#login", name);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL(`${CONSOLE}/devices`), page.click("main button[type=submit]")]);
  return page;
}

// Images and plans (console_plans.c): plain forms posted, turned into the API's own calls.
const DMODEL = "CP-6871-3PCC", DVER = "sip6871.11-3-2MPP-77";
async function imagesAndPlans(ops) {
  // A file uploaded with the page's plain form in a browser with JavaScript off
  // (multipart/form-data, which the console turns into the API's PUT /firmware/files/{file}),
  // then registered with the next plain form; the image bytes hold CR, LF and dashes.
  const plain = await session(OPS, OPS_PW, false);
  await plain.goto(`${CONSOLE}/firmware`);
  await plain.setInputFiles("#fw-file", { name: "desk-77.bin", mimeType: "application/octet-stream",
    buffer: Buffer.from(`PVFW version=${DVER} model=${DMODEL}\r\n--\r\nnew load\n`) });
  await Promise.all([plain.waitForURL(/done=image_uploaded/), plain.click("#fw-upload-send")]);
  check((await plain.textContent("#fw-done")) === "File uploaded; register it below.", "uploaded without a script");
  check((await plain.inputValue("#image-file_name")) === "desk-77.bin", "the uploaded file's name in the form");
  await shot(plain, "00-firmware-uploaded-nojs");
  // axe-core runs in the page, which a browser without JavaScript cannot: the same page, read
  // by the operator's browser, is checked instead
  await ops.goto(plain.url());
  await axe(ops, "firmware-uploaded");
  await plain.fill("#image-model", DMODEL);
  await plain.fill("#image-version", DVER);
  await Promise.all([plain.waitForURL(/done=image_registered/), plain.click("#image-send")]);
  check((await plain.textContent("#fw-done")) === "Image registered.", "registered, said after the redirect");
  check(await plain.locator("#images + table tr", { hasText: "desk-77.bin" }).isVisible(), "the image listed");
  await plain.context().close();
  await ops.goto(`${CONSOLE}/firmware`);
  // The same version again: the API's refusal (409) on the page, the form as typed.
  await ops.fill("#image-model", DMODEL);
  await ops.fill("#image-version", DVER);
  await ops.fill("#image-file_name", "desk-77.bin");
  await Promise.all([ops.waitForEvent("load"), ops.click("#image-send")]);
  check((await ops.textContent("#image-verdict")).startsWith("409"), "a second registration refused (409)");
  check((await ops.inputValue("#image-version")) === DVER, "the refused form keeps what was typed");
  // A plan whose target has no registered image: every profile of the model would fail to
  // render, the API refuses it (422) and the page says why, the form as typed.
  await ops.fill("#plan-model", DMODEL);
  await ops.fill("#plan-target_version", "sip6871.12-0-1MPP-1");
  await Promise.all([ops.waitForEvent("load"), ops.click("#plan-send")]);
  let refused = await ops.textContent("#plan-verdict");
  check(refused.startsWith("422") && refused.includes("sip6871.12-0-1MPP-1"), `an unregistered target refused: ${refused}`);
  check((await ops.inputValue("#plan-target_version")) === "sip6871.12-0-1MPP-1", "the refused plan kept in the form");
  check(!(await ops.locator("#plans + table tr", { hasText: DMODEL }).count()), "no plan stored");
  await axe(ops, "firmware-plan-refused");
  await shot(ops, "00-firmware-plan-refused");
  // The plan to the registered image, with its steps as the CLI spells them (FROM:TO).
  await ops.fill("#plan-target_version", DVER);
  await ops.fill("#plan-stages", `sip6871.11-2-1MPP-5:${DVER}`);
  await Promise.all([ops.waitForURL(/done=plan_saved/), ops.click("#plan-send")]);
  const plan = ops.locator("#plans + table tr", { hasText: DMODEL });
  check((await plan.textContent()).includes(`sip6871.11-2-1MPP-5:${DVER}`), "the plan's step listed");
  // A post without the session's CSRF field (another site's form) is refused before the API.
  const noCsrf = await ops.evaluate(async (model) => (await fetch("/firmware/plans/delete", {
    method: "POST", body: new URLSearchParams({ model }),
  })).status, DMODEL);
  check(noCsrf === 403, `a plan delete without the CSRF field refused (${noCsrf})`);
  // Edit: the form holds the plan; an empty target is refused (422) on the page.
  await Promise.all([ops.waitForURL(/plan=/), plan.locator("a").click()]);
  check((await ops.inputValue("#plan-target_version")) === DVER, "the edit form holds the plan");
  await ops.fill("#plan-target_version", "");
  await Promise.all([ops.waitForEvent("load"), ops.click("#plan-send")]);
  refused = await ops.textContent("#plan-verdict");
  check(refused.startsWith("422"), `an empty target refused: ${refused}`);
  check((await plan.textContent()).includes(DVER), "the plan unchanged after the refusal");
  // A second image, deleted with its row's button.
  await ops.fill("#image-model", DMODEL);
  await ops.fill("#image-version", "sip6871.old");
  await ops.fill("#image-file_name", "desk-77.bin");
  await Promise.all([ops.waitForURL(/done=image_registered/), ops.click("#image-send")]);
  const old = ops.locator("#images + table tr", { hasText: "sip6871.old" });
  await Promise.all([ops.waitForURL(/done=image_deleted/), old.locator("button").click()]);
  check(!(await old.count()), "the deleted image gone");
}

try {
  const ops = await session(OPS, OPS_PW);
  if (PHASE === "create") {
    await ops.goto(`${CONSOLE}/firmware`);
    check((await ops.textContent("main")).includes("No rollout yet"), "no rollout yet");
    check(await ops.isVisible("form.api-form"), "the create form for an operator");
    await axe(ops, "firmware-empty");
    await shot(ops, "01-firmware-empty");
    await imagesAndPlans(ops);
    // The form is the API's POST /rollouts: empty fields keep its defaults.
    await ops.fill("#rc-name", "bad");
    await ops.fill("#rc-model", MODEL);
    await ops.fill("#rc-from_version", OLD);
    await ops.fill("#rc-canary", "10");
    await ops.fill("#rc-cohorts", "50, 100");
    await ops.fill("#rc-max_in_flight", "10");
    await ops.fill("#rc-per_minute", "600");
    await ops.fill("#rc-soak_s", "20");
    await Promise.all([ops.waitForEvent("load"), ops.click("#rollout-create")]);
    const section = ops.locator("section.rollout", { hasText: "bad" });
    check(await section.isVisible(), "the new rollout on the page");
    check((await section.locator(".rstate").textContent()) === "running", "it runs");
    check((await section.locator("tbody tr").count()) === 3, "canary, 50 %, 100 %: three stages");
    check(await section.locator("button.api[data-path$='/abort']").isVisible(), "abort offered");
    check(!(await section.locator("button.api[data-path$='/resume']").count()), "no resume while running");
    await axe(ops, "firmware-running");
    await shot(ops, "02-firmware-running");
    // A refusal of the API is said on the page: the same name again (409).
    await ops.fill("#rc-name", "bad");
    await ops.fill("#rc-model", MODEL);
    await ops.click("#rollout-create");
    await ops.locator("#rollout-form .verdict", { hasText: /^409/ }).waitFor();
    const refused = await ops.textContent("#rollout-form .verdict");
    check(refused.includes("exists") || refused.includes("bad"), `a second 'bad' refused: ${refused}`);
  } else {
    // The halted rollout: its reason, the canary's failures, the decisions offered.
    await ops.goto(`${CONSOLE}/firmware`);
    const section = ops.locator("section.rollout", { hasText: "bad" });
    check((await section.locator(".rstate").textContent()) === "halted", "halted on the page");
    const alert = await section.locator("p.error[role=alert]").textContent();
    check(alert.includes("failed the upgrade"), `the halt's reason shown (${alert})`);
    const canary = section.locator("tbody tr").first();
    check((await canary.locator("th").textContent()).includes("canary 10"), "the canary's row");
    const failed = Number(await canary.locator("td").nth(6).textContent());
    check(failed > 0, `the canary's failures counted (${failed})`);
    check(await canary.locator("td.bad").count() > 0, "failures marked");
    const later = section.locator("tbody tr").nth(1).locator("td");
    const beyond = Number(await later.nth(4).textContent()) + Number(await later.nth(5).textContent()) +
      Number(await later.nth(6).textContent()) + Number(await later.nth(7).textContent());
    check(beyond === 0, "no device of the next stage admitted");
    check(await section.locator("button.api[data-path$='/resume']").isVisible(), "resume offered");
    await axe(ops, "firmware-halted");
    await shot(ops, "03-firmware-halted");

    // The dashboard: the hour's rates from the server's samples, and the halt "now".
    await ops.goto(`${CONSOLE}/dashboard`);
    const rates = await ops.locator("#rates figure").count();
    check(rates === 3, `three per-minute charts (${rates})`);
    const title = await ops.locator("#rates figure.m0 svg title").textContent();
    const hour = Number(title.replace(/^[^:]*: /, "").split(" ")[0]);
    check(hour > 0, `resyncs in the last hour (${title})`);
    check((await ops.locator("#rates figure.m0 rect.bar[height]").evaluateAll(
      (rs) => rs.filter((r) => Number(r.getAttribute("height")) > 0).length)) > 0, "a resync column drawn");
    const now = await ops.textContent("#now");
    check(now.includes("bad") && now.includes("halted"), "the halted rollout under 'happening now'");
    check(now.includes("failed the upgrade"), "with its reason");
    await ops.click("details summary");
    await axe(ops, "dashboard");
    await shot(ops, "04-dashboard");

    // Dead phones (the device search by last seen): the fleet's phones stopped at FLEET_END,
    // the desk phone resyncs on. "Not seen for" the time since just after FLEET_END finds the
    // fleet, "seen within" it the desk phone alone; an age without a unit is said on the page.
    const FLEET = Number(env("FLEET")), FLEET_END = Number(env("FLEET_END"));
    const search = async (seen, age) => {
      await ops.goto(`${CONSOLE}/devices`);
      await ops.selectOption("#q-seen", seen);
      await ops.fill("#q-age", age);
      await Promise.all([ops.waitForURL(/seen=/), ops.click("form.search button[type=submit]")]);
    };
    const since = () => `${Math.floor(Date.now() / 1000) - (FLEET_END + 1)}s`;
    await search("not_for", since());
    const dead = await ops.locator("table.devices tbody tr").count();
    check(dead === FLEET, `not seen since the fleet stopped: its ${FLEET} phones (got ${dead})`);
    check(!(await ops.locator(`a[href="/devices/${DESK}"]`).count()), "not the desk phone, which resyncs");
    check((await ops.locator("#q-seen").inputValue()) === "not_for", "the filter stays in the form");
    const deadMs = Number((await ops.textContent(".took")).replace(/[^0-9]/g, ""));
    check(deadMs < 1000, `the search took ${deadMs} ms on the server`);
    await axe(ops, "devices-not-seen");
    await shot(ops, "04b-devices-not-seen");
    await search("within", since());
    const seen = await ops.locator("table.devices tbody tr").count();
    check(seen === 1 && (await ops.locator(`a[href="/devices/${DESK}"]`).count()) === 1,
      `seen since: the desk phone alone (got ${seen})`);
    await search("never", "");
    check((await ops.textContent("#found")).startsWith("0 devices"), "every device fetched: none never seen");
    await search("not_for", "soon");
    const refusedAge = await ops.textContent("p.error[role=alert]");
    check(refusedAge.includes("unit"), `a bad age refused on the page (${refusedAge})`);
    await axe(ops, "devices-bad-age");

    // The desk phone's full report against its rendering now.
    await ops.goto(`${CONSOLE}/devices/${DESK}`);
    const diff = ops.locator("#report-diff");
    check((await diff.locator(".kind").textContent()) === "full", "the newest report is a full one");
    const changed = diff.locator("tr.changed", { hasText: "Station_Name" });
    check(await changed.isVisible(), "Station_Name changed since the report");
    check((await changed.textContent()).includes("front-desk"), "its rendered value");
    check(await diff.locator("tr.missing", { hasText: "Text_Logo" }).isVisible(), "Text_Logo missing");
    check(!(await diff.locator("tr", { hasText: "Password_1_" }).count()), "the unreported password no difference");
    check(!(await ops.content()).includes(SECRET), "the line password nowhere on the page");
    await axe(ops, "device-report-diff");
    await shot(ops, "05-report-diff");
    await Promise.all([ops.waitForURL(/\/reveal$/), ops.click("#reveal")]);
    check(!(await ops.locator("#report-diff").innerHTML()).includes(SECRET), "not in the diff after a reveal either");

    // The viewer: the same pages, no button and no form; the API refuses a decision (403).
    const view = await session(VIEW, VIEW_PW);
    await view.goto(`${CONSOLE}/firmware`);
    check((await view.locator("section.rollout").count()) === 1, "the viewer reads the rollout");
    check(!(await view.locator("button.api").count()), "no decision button for a viewer");
    check(!(await view.locator("form.api-form").count()), "no create form for a viewer");
    check(await view.locator("#plans + table tr", { hasText: DMODEL }).isVisible(), "the viewer reads the plan");
    check(!(await view.locator("#fw-upload, #image-form, #plan-form, form[action^='/firmware/']").count()),
      "no image or plan form for a viewer");
    const forced = await view.evaluate(async ([token, model]) => (await fetch("/firmware/plans", {
      method: "POST", body: new URLSearchParams({ csrf: token, model, target_version: "x" }),
    })).status, [await view.getAttribute("#role", "data-csrf"), DMODEL]);
    check(forced === 403, `a viewer's plan form refused by the API (${forced})`);
    await axe(view, "firmware-viewer");
    await shot(view, "06-firmware-viewer");
    const csrf = await view.getAttribute("#role", "data-csrf");
    const status = await view.evaluate(async ([path, token]) => (await fetch(path, {
      method: "POST", headers: { "X-CSRF-Token": token, "Content-Type": "application/json" }, body: "{}",
    })).status, ["/api/v1/rollouts/bad/resume", csrf]);
    check(status === 403, `a viewer's resume refused (${status})`);

    // The operator decides: roll back (the previous version's rule to every admitted member).
    await ops.goto(`${CONSOLE}/firmware`);
    await Promise.all([ops.waitForEvent("load"),
      ops.click("section.rollout button.api[data-path$='/rollback']")]);
    const after = ops.locator("section.rollout", { hasText: "bad" });
    check((await after.locator(".rstate").textContent()) === "rolled back", "rolled back on the page");
    check(!(await after.locator("button.api").count()), "nothing left to decide");
    await axe(ops, "firmware-rolled-back");
    await shot(ops, "07-firmware-rolled-back");
  }
  console.log(`ok: console fleet browser (${PHASE}): ${checks()} checks; axe on ${audited.join(", ")}`);
} finally {
  await browser.close();
}
