// The operator console's one script (docs/console.md). Pages are server-rendered; a change is an
// admin API call made with the session: the cookie, and the CSRF token in X-CSRF-Token. The API
// checks the login's role on every route, so a viewer is refused (403) even without the page.
"use strict";
(function () {
  var role = document.getElementById("role");
  var csrf = role ? role.getAttribute("data-csrf") : "";
  function call(method, path, body) {
    return fetch(path, {
      method: method, credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
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
    el.textContent = res.status + (msg ? " — " + msg : res.json && res.json.id ? " — job " + res.json.id : " — ok");
    el.className = res.status >= 400 ? "error" : "ok";
  }
  var outcome = document.getElementById("outcome");
  Array.prototype.forEach.call(document.querySelectorAll("button.api"), function (b) {
    b.addEventListener("click", function () {
      b.disabled = true;
      call(b.getAttribute("data-method"), b.getAttribute("data-path"), b.getAttribute("data-body"))
        .then(function (res) { say(outcome, res); b.disabled = false; })
        .catch(function () { outcome.textContent = "network error"; b.disabled = false; });
    });
  });
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
