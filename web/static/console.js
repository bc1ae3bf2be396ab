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
    var job = res.json && res.json.action && res.json.id ? " — job " + res.json.id : " — ok";
    el.textContent = res.status + (msg ? " — " + msg : job);
    el.classList.toggle("error", res.status >= 400);
    el.classList.toggle("ok", res.status < 400);
  }
  var outcome = document.getElementById("outcome");
  Array.prototype.forEach.call(document.querySelectorAll("button.api"), function (b) {
    b.addEventListener("click", function () {
      b.disabled = true;
      call(b.getAttribute("data-method"), b.getAttribute("data-path"), b.getAttribute("data-body"))
        .then(function (res) {
          say(outcome, res);
          b.disabled = false;
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
