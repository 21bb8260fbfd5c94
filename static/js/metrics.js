// KPI pages: the detail chart (Chart.js, vendored) with its target line and the ship dates of
// features, and the KPI form's ratio fields. No inline script or style (CSP): the chart's data
// comes from a data attribute, colours from the stylesheet's tokens.
(function () {
  "use strict";

  function token(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function formatNumber(value, unit) {
    var abs = Math.abs(value);
    var digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
    var text = value.toLocaleString(undefined, { maximumFractionDigits: digits });
    if (!unit) return text;
    if (["€", "$", "£", "¥"].indexOf(unit) >= 0) return unit + text;
    return unit === "%" ? text + "%" : text + " " + unit;
  }

  // Vertical dashed lines where features shipped, with their titles (kept inside the chart).
  var shipLines = {
    id: "lodestarShipLines",
    afterDatasetsDraw: function (chart, _args, options) {
      var marks = options.marks || [];
      if (!marks.length) return;
      var ctx = chart.ctx, area = chart.chartArea, x = chart.scales.x;
      ctx.save();
      ctx.strokeStyle = options.color;
      ctx.fillStyle = options.color;
      ctx.setLineDash([4, 4]);
      ctx.lineWidth = 1.5;
      ctx.font = "600 11px " + token("--font", "sans-serif");
      // Greedy rows: each label goes in the first row where it does not overlap the previous one.
      var rowEnds = [];
      marks.forEach(function (mark) {
        var px = x.getPixelForValue(mark.index);
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
        var label = mark.label.length > 26 ? mark.label.slice(0, 25) + "…" : mark.label;
        var width = ctx.measureText(label).width;
        var left = px + 4 + width > area.right ? px - 4 - width : px + 4;
        var row = 0;
        while (row < rowEnds.length && rowEnds[row] > left - 6) row += 1;
        rowEnds[row] = left + width;
        ctx.fillText(label, left, area.top + 12 + row * 14);
      });
      ctx.restore();
    },
  };

  function drawChart(canvas) {
    if (!window.Chart || canvas.dataset.drawn) return;
    var data = JSON.parse(canvas.dataset.kpiChart);
    var primary = token("--c-primary", "#4f46e5");
    var datasets = [{
      label: data.name,
      data: data.values,
      borderColor: primary,
      backgroundColor: primary + "1f",
      fill: true,
      borderWidth: 2,
      pointRadius: data.values.length > 60 ? 0 : 2.5,
      pointHoverRadius: 4,
      tension: 0.25,
    }];
    if (data.target !== null) {
      datasets.push({
        label: "Target",
        data: data.values.map(function () { return data.target; }),
        borderColor: token("--c-success", "#0f8a5f"),
        borderDash: [6, 5],
        borderWidth: 2,
        pointRadius: 0,
        pointHoverRadius: 0,
        fill: false,
      });
    }
    canvas.dataset.drawn = "1";
    new window.Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: datasets },
      plugins: [shipLines],
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { grid: { display: false }, ticks: { maxTicksLimit: 8, maxRotation: 0, color: token("--c-muted", "#5f6682") } },
          y: {
            grid: { color: token("--c-border", "#e2e5ef") },
            ticks: { color: token("--c-muted", "#5f6682"), callback: function (v) { return formatNumber(v, data.unit); } },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (item) { return item.dataset.label + ": " + formatNumber(item.parsed.y, data.unit); } } },
          lodestarShipLines: { marks: data.annotations, color: token("--c-warning", "#b25e09") },
        },
      },
    });
  }

  // The ratio fields only matter for ratio KPIs.
  function ratioFields(root) {
    root.querySelectorAll("[data-testid=kpi-form]").forEach(function (form) {
      var select = form.querySelector("select[name=aggregation]");
      var fields = form.querySelector("[data-ratio-fields]");
      if (!select || !fields) return;
      var sync = function () { fields.hidden = select.value !== "ratio"; };
      select.addEventListener("change", sync);
      sync();
    });
  }

  function init(root) {
    root.querySelectorAll("canvas[data-kpi-chart]").forEach(drawChart);
    ratioFields(root);
  }

  init(document);
  // Content swapped in by htmx (the chart when switching day/week/month).
  document.body.addEventListener("htmx:load", function (event) { init(event.detail.elt); });
})();
