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
  // A firmware file into the data directory (the API's PUT /firmware/files/{file}, its size
  // bounded by the admin listener's body limit: 413 beyond), then its name into the form that
  // registers it (a plain form: without a script, copy the file to <data>/firmware/ instead).
  var up = document.getElementById("fw-upload");
  if (up) {
    up.addEventListener("submit", function (e) {
      e.preventDefault();
      var file = document.getElementById("fw-file").files[0];
      if (!file) return;
      call("PUT", "/api/v1/firmware/files/" + encodeURIComponent(file.name), file,
        "application/octet-stream").then(function (res) {
        say(up.querySelector(".verdict"), res);
        if (res.status === 201) document.getElementById("image-file_name").value = file.name;
      });
    });
  }
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
  // The CSV import (console_import.c): the file read by the server (its rows, the file's own
  // faults, the job), then sent in batches to the API's import as the command line does, from
  // where a run of the same job stopped; the errors in line order as a CSV to download.
  var imp = document.getElementById("import-form");
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return values[k] !== undefined ? values[k] : m; });
  }
  function csvField(v) { return '"' + String(v).replace(/"/g, '""') + '"'; }
  function runImport(parsed, status, bar) {
    var rows = parsed.rows, errors = parsed.faults.slice(), macs = {};
    rows.forEach(function (r) { macs[r.line] = r.mac; });
    var total = rows.length + parsed.faults.length;
    var counts = { created: 0, updated: 0, unchanged: 0, skipped: 0, done: parsed.faults.length, total: total };
    bar.max = total || 1;
    bar.hidden = false;
    function show() { bar.value = counts.done; status.textContent = fill(imp.getAttribute("data-t-progress"), counts); }
    return call("GET", "/api/v1/imports/" + parsed.job).then(function (st) {
      var from = st.status === 200 ? st.json.next_line : 1;
      if (st.status === 200)
        st.json.errors.forEach(function (e) { if (e.line < from) errors.push(e); });
      var todo = rows.filter(function (r) { return r.line >= from; });
      counts.skipped = rows.length - todo.length;
      counts.done += counts.skipped;
      show();
      function batch(i) {
        if (i >= todo.length) return true;
        var part = todo.slice(i, i + 1000);
        var next = i + 1000 < todo.length ? todo[i + 1000].line : parsed.end_line;
        return call("POST", "/api/v1/devices:import",
          JSON.stringify({ job: parsed.job, next_line: next, devices: part })).then(function (res) {
          if (res.status !== 200) { say(status, res); return false; }
          ["created", "updated", "unchanged"].forEach(function (k) { counts[k] += res.json[k]; });
          errors = errors.concat(res.json.errors);
          counts.done += part.length;
          show();
          return batch(i + 1000);
        });
      }
      return batch(0);
    }).then(function (finished) {
      if (!finished) return;
      errors.sort(function (a, b) { return a.line - b.line; });
      counts.errors = errors.length;
      status.textContent = fill(imp.getAttribute("data-t-done"), counts);
      var link = document.getElementById("import-errors");
      if (!errors.length) return;
      var csv = "line,mac,reason\r\n" + errors.map(function (e) {
        return [e.line, csvField(e.mac !== undefined ? e.mac : (macs[e.line] || "")),
          csvField(e.field + ": " + e.message)].join(",");
      }).join("\r\n") + "\r\n";
      link.href = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
      link.download = "import-errors-" + parsed.job + ".csv";
      link.hidden = false;
    });
  }
  if (imp) {
    imp.addEventListener("submit", function (e) {
      e.preventDefault();
      var file = document.getElementById("import-file").files[0];
      var status = document.getElementById("import-status"), bar = document.getElementById("import-progress");
      if (!file) return;
      document.getElementById("import-errors").hidden = true;
      file.text().then(function (text) { return call("POST", "/import/parse", text, "text/csv"); })
        .then(function (res) {
          if (res.status !== 200) { say(status, res); return null; }
          return runImport(res.json, status, bar);
        })
        .catch(function () { status.textContent = "network error"; });
    });
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
