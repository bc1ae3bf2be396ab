// The customer portal's one script (docs/portal.md). Every page works without it: a form is a
// plain HTML form, the bind status has a Refresh link. With it, the bind status updates itself
// by polling /status.json, so the customer sees "bound" and then "configured" without a reload.
"use strict";
(function () {
  var status = document.getElementById("bind-status");
  if (!status) return;
  var code = status.getAttribute("data-code");
  var delay = 1000, stopAt = Date.now() + 30 * 60 * 1000; // polls end with the code's half hour
  function poll() {
    if (Date.now() > stopAt) return;
    fetch("/status.json?code=" + encodeURIComponent(code), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (j) {
          status.textContent = j.label + (j.mac ? " (" + j.mac + ")" : "");
          status.className = "bind bind-" + j.state;
          if (j.state === "configured" || j.state === "expired") return;
        }
        setTimeout(poll, delay);
      })
      .catch(function () { setTimeout(poll, delay * 3); });
  }
  setTimeout(poll, delay);
})();
