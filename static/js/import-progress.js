// Live progress for an import run: polls the run's progress JSON and reloads when it finishes.
(function () {
  var box = document.getElementById("progress");
  if (!box || box.dataset.finished === "true") return;
  var fmt = function (n) { return n === null || n === undefined ? "…" : Number(n).toLocaleString("en-GB"); };
  function tick() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) return setTimeout(tick, 3000);
        document.getElementById("rows-read").textContent = fmt(p.rows_read);
        document.getElementById("total-rows").textContent = fmt(p.total_rows);
        document.getElementById("rejected").textContent = fmt(p.rejected);
        var bar = document.getElementById("bar");
        bar.max = p.total_rows || 1; bar.value = p.rows_read;
        document.querySelectorAll("[data-count]").forEach(function (el) { el.textContent = fmt(p[el.dataset.count]); });
        if (p.finished) { window.location.reload(); } else { setTimeout(tick, 1000); }
      })
      .catch(function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 500);
})();
