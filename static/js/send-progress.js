// Live progress of sends: the report's progress box and the rows of the sends list poll their send's
// progress JSON; when a send's status changes (started, finished, cancelled) the page reloads.
(function () {
  var fmt = function (n) { return Number(n || 0).toLocaleString("en-GB"); };

  function watch(box, update) {
    if (box.dataset.finished === "true") return;
    function tick() {
      fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (p) {
          if (!p) return setTimeout(tick, 5000);
          if (p.status !== box.dataset.status) { window.location.reload(); return; }
          update(p);
          // A scheduled send may wait for days: look less often until it starts.
          setTimeout(tick, p.status === "scheduled" ? 30000 : 1500);
        })
        .catch(function () { setTimeout(tick, 5000); });
    }
    setTimeout(tick, 1000);
  }

  function fill(scope, p) {
    scope.querySelectorAll("[data-field=processed]").forEach(function (el) { el.textContent = fmt(p.processed); });
    scope.querySelectorAll("[data-field=total]").forEach(function (el) { el.textContent = fmt(p.total); });
    scope.querySelectorAll("[data-field=bar]").forEach(function (bar) { bar.max = p.total || 1; bar.value = p.processed; });
  }

  var report = document.getElementById("send-progress");
  if (report) {
    watch(report, function (p) {
      fill(report, p);
      document.querySelectorAll("[data-count]").forEach(function (el) {
        var key = el.dataset.count;
        if (p.counts && key in p.counts) el.textContent = fmt(p.counts[key]);
      });
    });
  }
  document.querySelectorAll("[data-send-row]").forEach(function (row) {
    watch(row, function (p) { fill(row, p); });
  });
})();
