// Reports: draw each chart from the accessible table beneath it (the table is the data), fold the
// table away once the chart is drawn, and offer a Print link. Without JavaScript the tables show.
(function () {
  "use strict";

  var COLOURS = ["#5b3fa8", "#2f8f83", "#c2571a", "#3a6ea5", "#8a8a8a"];

  function number(cell) {
    var raw = cell ? cell.getAttribute("data-value") : null;
    if (raw === null || raw === "") return null;
    var value = Number(raw);
    return isNaN(value) ? null : value;
  }

  function draw(figure) {
    var table = figure.querySelector("table");
    var details = figure.querySelector("details");
    if (!table || !details) return;
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th"));
    var columns = [];
    heads.forEach(function (th, i) { if (th.dataset.series) columns.push(i); });
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr")).filter(function (tr) {
      return tr.querySelector("th");
    });
    if (!columns.length || !rows.length) return;
    var labels = rows.map(function (tr) { return tr.querySelector("th").textContent.trim(); });
    var kind = figure.dataset.chart || "bar";
    var datasets = columns.map(function (col, n) {
      return {
        label: heads[col].dataset.series,
        data: rows.map(function (tr) { return number(tr.children[col]); }),
        backgroundColor: COLOURS[n % COLOURS.length],
        borderColor: COLOURS[n % COLOURS.length],
        fill: false
      };
    });
    var holder = document.createElement("div");
    holder.className = "chart-canvas";
    holder.style.height = Math.max(220, kind === "bar" && rows.length > 8 ? rows.length * 26 : 260) + "px";
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", figure.querySelector("figcaption").textContent.trim() +
      ". The same figures are in the table below the chart.");
    holder.appendChild(canvas);
    figure.insertBefore(holder, details);
    new window.Chart(canvas, {
      type: kind,
      data: { labels: labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        indexAxis: kind === "bar" && rows.length > 8 ? "y" : "x",
        plugins: { legend: { display: datasets.length > 1 } }
      }
    });
    details.open = false;
    details.querySelector("summary").textContent = "Show the table: " + figure.querySelector("figcaption").textContent.trim();
  }

  if (window.Chart) {
    document.querySelectorAll("figure.report-chart").forEach(draw);
  }

  document.querySelectorAll(".print-link").forEach(function (link) {
    link.hidden = false;
    link.addEventListener("click", function (event) { event.preventDefault(); window.print(); });
  });

  // Choosing another employer empties the workplace choice (its workplaces belong to the old one).
  var employer = document.getElementById("filter-employer");
  var workplace = document.getElementById("filter-workplace");
  if (employer && workplace) {
    employer.addEventListener("change", function () { workplace.value = ""; workplace.disabled = true; });
  }
}());
