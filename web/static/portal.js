// The customer portal's one script (docs/portal.md). Every page works without it: a form is a
// plain HTML form, the bind status and a phone's resync status have a Refresh link. With it,
// the bind status updates itself by polling /status.json, so the customer sees "bound" and then
// "configured" without a reload, and a resync being sent updates itself from
// /phones/MAC/push.json until the phone answered.
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
(function () {
  var status = document.getElementById("push-status");
  if (!status || status.getAttribute("data-state") !== "pending") return;
  var mac = status.getAttribute("data-mac");
  var delay = 1000, polls = 60; // a NOTIFY is retried for at most about a minute
  function poll() {
    if (polls-- <= 0) return;
    fetch("/phones/" + encodeURIComponent(mac) + "/push.json", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (j) {
          status.textContent = j.label;
          status.className = "push push-" + j.state;
          status.setAttribute("data-state", j.state);
          if (j.state !== "pending") return;
        }
        setTimeout(poll, delay);
      })
      .catch(function () { setTimeout(poll, delay * 3); });
  }
  setTimeout(poll, delay);
})();
