// The operator console's one script (docs/console.md). Pages are server-rendered; a change is an
// admin API call made with the session: the cookie, and the CSRF token in X-CSRF-Token. The API
// checks the login's role on every route, so a viewer is refused (403) even without the page.
"use strict";
(function () {
  var role = document.getElementById("role");
  var csrf = role ? role.getAttribute("data-csrf") : "";
  function call(method, path, body, type) {
    return fetch(path, {
      method: method, credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": type || "application/json", "X-CSRF-Token": csrf },
      body: body
    }).then(function (r) {
      return r.text().then(function (t) {
        var j = null;
        try { j = JSON.parse(t); } catch (e) { j = null; }
        return { status: r.status, json: j };
      });
    });
  }
  function say(el, res) {
    var msg = res.json && res.json.error ? res.json.error.message : "";
    var job = res.status >= 400 ? "" : res.json && res.json.action && res.json.id ? " — job " + res.json.id : " — ok";
    el.textContent = res.status + (msg ? " — " + msg : job);
    el.classList.toggle("error", res.status >= 400);
    el.classList.toggle("ok", res.status < 400);
  }
  var each = function (sel, fn, root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(sel), fn);
  };
  // After a change that worked: data-then="reload", or a page ("{name}": the body's name).
  function then(el, res, body) {
    var to = el.getAttribute("data-then");
    if (!to || res.status >= 300) return;
    if (to === "reload") location.reload();
    else location.href = to.replace("{name}", encodeURIComponent((body && body.name) || ""));
  }
  var outcome = document.getElementById("outcome");
  each("button.api", function (b) {
    b.addEventListener("click", function () {
      b.disabled = true;
      call(b.getAttribute("data-method"), b.getAttribute("data-path"), b.getAttribute("data-body"))
        .then(function (res) {
          if (outcome) say(outcome, res);
          b.disabled = false;
          then(b, res, null);
          // A rollout's decision changes what the page shows: read it again.
          if (res.status < 400 && b.closest(".reload")) location.reload();
          // A new binding code: shown this once, on the card to print for the customer.
          var card = document.getElementById("card");
          if (card && res.status === 201 && res.json && res.json.code) {
            document.getElementById("card-code").textContent = res.json.code;
            Array.prototype.forEach.call(card.querySelectorAll(".code-slot"), function (s) {
              s.textContent = res.json.code;
            });
            document.getElementById("card-expires").textContent =
              new Date(res.json.expires_at * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
            card.hidden = false;
          }
        })
        .catch(function () { outcome.textContent = "network error"; b.disabled = false; });
    });
  });
  // A form sent as JSON: its [data-key] inputs are the body (data-type="int" or "number": a
  // number; "list": numbers separated by commas, an array; data-null: empty is null; a form
  // with data-omit-empty leaves empty inputs out, so the API's defaults apply).
  each("form.api-form", function (f) {
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = {};
      each("[data-key]", function (el) {
        var v = el.value, type = el.getAttribute("data-type");
        if (v.trim() === "" && f.hasAttribute("data-omit-empty")) return;
        if (type === "int" || type === "number") v = v === "" ? null : Number(v);
        else if (type === "list") v = v.split(",").map(function (x) { return Number(x.trim()); });
        else if (v === "" && el.hasAttribute("data-null")) v = null;
        body[el.getAttribute("data-key")] = v;
      }, f);
      call(f.getAttribute("data-method"), f.getAttribute("data-path"), JSON.stringify(body))
        .then(function (res) { say(f.querySelector(".verdict"), res); then(f, res, body); });
    });
  });
  // Deleting an account: force (an admin's, with devices) only when ticked.
  var del = document.getElementById("account-delete");
  if (del) {
    del.addEventListener("submit", function (e) {
      e.preventDefault();
      var force = document.getElementById("force");
      call("DELETE", del.getAttribute("data-path") + (force && force.checked ? "?force=1" : ""))
        .then(function (res) {
          say(del.querySelector(".verdict"), res);
          if (res.status === 204) location.href = "/accounts";
        });
    });
  }
  // An account's settings: the form back into the settings object, sent as the API's PUT (with
  // ?dry_run=1 for the dry run); the API renders the account's devices with it and refuses
  // (422) what would not render. An empty line password keeps the line's password.
  var sf = document.getElementById("settings");
  function rows(name, current) {
    var out = [];
    each('[data-array="' + name + '"] tr[data-row]', function (tr) {
      var o = {}, any = false;
      each("[data-field]", function (el) {
        var v = el.value.trim();
        if (v === "") return;
        any = true;
        o[el.getAttribute("data-field")] = el.getAttribute("data-type") === "int" ? Number(v) : v;
      }, tr);
      if (!any) return;
      if (name === "lines" && o.password === undefined) {
        (current.lines || []).forEach(function (l) {
          if (l.line === o.line && l.password !== undefined) o.password = l.password;
        });
      }
      out.push(o);
    });
    return out;
  }
  function list(id) {
    return document.getElementById(id).value.split(",").map(function (x) { return x.trim(); })
      .filter(function (x) { return x !== ""; });
  }
  function settingsBody(current) {
    var s = JSON.parse(document.getElementById("s-other").value || "{}");
    if (s === null || typeof s !== "object" || Array.isArray(s)) throw new Error("not an object");
    var lines = rows("lines", current), dials = rows("speed_dials", current);
    if (lines.length) s.lines = lines;
    if (dials.length) s.speed_dials = dials;
    var hunt = document.getElementById("s-hunt-number").value.trim();
    if (hunt !== "") {
      s.hunt_group = { number: hunt, members: list("s-hunt-members") };
      var policy = document.getElementById("s-hunt-policy").value;
      if (policy) s.hunt_group.policy = policy;
    }
    var features = list("s-features");
    if (features.length) s.user_features = features;
    var delivery = document.getElementById("s-delivery").value;
    if (delivery) s.sip_delivery = delivery;
    return s;
  }
  function sendSettings(dry) {
    var verdict = document.getElementById("settings-verdict"), path = sf.getAttribute("data-path");
    call("GET", path).then(function (cur) {
      var settings;
      try { settings = settingsBody((cur.json && cur.json.settings) || {}); } catch (e) {
        verdict.textContent = sf.getAttribute("data-t-json");
        verdict.className = "verdict error";
        return null;
      }
      var body = { customer: sf.getAttribute("data-customer"), settings: settings,
        version: Number(sf.getAttribute("data-version")) };
      return call("PUT", path + (dry ? "?dry_run=1" : ""), JSON.stringify(body)).then(function (res) {
        var j = res.json || {};
        if (dry && res.status === 200) {
          verdict.textContent = fill(sf.getAttribute("data-t-dry"),
            { changed: j.changed, devices: j.devices, failed: j.would_fail }) +
            (j.first_failure ? " " + fill(sf.getAttribute("data-t-first"), { first: j.first_failure }) : "");
          verdict.className = "verdict " + (j.would_fail ? "error" : "ok");
          return;
        }
        say(verdict, res);
        if (res.status === 200 && j.version) sf.setAttribute("data-version", j.version);
      });
    });
  }
  if (sf && document.getElementById("settings-save")) {
    sf.addEventListener("submit", function (e) { e.preventDefault(); sendSettings(false); });
    document.getElementById("settings-dry-run")
      .addEventListener("click", function () { sendSettings(true); });
  }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return values[k] !== undefined ? values[k] : m; });
  }
  // A CSV import job's page (console_import.c): the server runs the job; while it runs, its
  // progress is read again every second (GET /api/v1/import-jobs/{id}), and once it has
  // finished the page is loaded again for its errors and report. Without the script the
  // page's "Refresh" link does the same.
  var job = document.getElementById("import-job");
  if (job && job.getAttribute("data-state") === "running") {
    var bar = document.getElementById("import-progress"), status = document.getElementById("import-status");
    var poll = function () {
      call("GET", "/api/v1/import-jobs/" + job.getAttribute("data-job")).then(function (res) {
        var j = res.json;
        if (res.status !== 200 || !j) { setTimeout(poll, 5000); return; }
        if (j.state !== "running") { location.reload(); return; }
        var v = { done: j.done, total: j.rows, created: j.created, updated: j.updated,
          unchanged: j.unchanged, errors: j.errors };
        bar.max = Math.max(j.rows, j.done, 1);
        bar.value = j.done;
        status.textContent = fill(job.getAttribute("data-t-progress"), v) + " — " +
          fill(job.getAttribute("data-t-counts"), v);
        setTimeout(poll, 1000);
      }).catch(function () { setTimeout(poll, 5000); });
    };
    setTimeout(poll, 1000);
  }
  var print = document.getElementById("print");
  if (print) print.addEventListener("click", function () { window.print(); });
  // Save: PATCH of the scope's set; the API refuses (422) a value that would not render.
  var save = document.getElementById("save");
  if (save) {
    save.addEventListener("click", function () {
      var name = document.getElementById("p-name").value, value = document.getElementById("p-value").value;
      var entries = {};
      entries[name] = { value: value };
      call("PATCH", save.getAttribute("data-path"), JSON.stringify({ entries: entries }))
        .then(function (res) { say(document.getElementById("verdict"), res); });
    });
  }
})();
