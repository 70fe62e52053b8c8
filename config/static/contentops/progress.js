// Live progress of a tracked admin job: polls its JSON status every second until it is done.
// (A file, not an inline script: the Content-Security-Policy allows scripts from our own origin only.)
(function () {
  "use strict";
  function start() {
    var root = document.querySelector("[data-status-url]");
    if (!root) { return; }
    var url = root.getAttribute("data-status-url");
    function set(name, value) {
      var node = root.querySelector('[data-field="' + name + '"]');
      if (node) { node.textContent = value; }
      return node;
    }
    function render(state) {
      var bar = root.querySelector('[data-field="bar"]');
      if (bar) { bar.style.width = state.percent + "%"; }
      set("percent", state.percent);
      var pill = set("status_label", state.status_label);
      if (pill) { pill.className = "co-pill co-pill-" + state.status; }
      set("next_step", state.next_step);
      set("applied", state.applied);
      set("failed", state.failed);
      set("resubmitted", state.resubmitted);
      set("cost_usd", state.cost_usd);
      if (state.follow_up && state.follow_up_url) {
        var cell = set("follow_up", "");
        var link = document.createElement("a");
        link.href = state.follow_up_url;
        link.textContent = state.follow_up;
        cell.appendChild(link);
      }
      set("live", state.done ? "Finished." : "Updating every second…");
      root.setAttribute("data-done", state.done ? "1" : "0");
      root.setAttribute("data-status", state.status);
    }
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) {
          if (state) { render(state); }
          if (!state || !state.done) { window.setTimeout(tick, 1000); }
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    }
    if (root.getAttribute("data-done") !== "1") { window.setTimeout(tick, 500); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
