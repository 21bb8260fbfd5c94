// KPI pages: the detail chart (Chart.js with its date-fns adapter and annotation plugin, all
// vendored) on a time axis, with its target line, the unfinished current period marked, and the
// launches linked to the KPI; and the KPI form's ratio fields. No inline script or style (CSP): the chart's data
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

  var DAY = 86400000;
  var PERIOD = { day: DAY, week: 7 * DAY, month: 31 * DAY };
  var TOOLTIP_FORMAT = { day: "EEE d MMM yyyy", week: "'Week of' d MMM yyyy", month: "MMMM yyyy" };
  var LABEL_FONT = { size: 11, weight: "600" };
  var LABEL_ROW = 24; // px between stacked launch labels: a label is 11 px text + padding + border
  var LABEL_ROWS = 4; // more than this many rows: the label is left out (the list below names all)

  function time(iso) { return new Date(iso + "T00:00:00").getTime(); }

  function shortLabel(text) { return text.length > 28 ? text.slice(0, 27) + "…" : text; }

  // Launch labels in rows: each goes in the first row where it overlaps neither a label to its
  // left nor the target's label, so labels of launches close together never collide.
  // Recomputed when the chart's size changes.
  function labelRows(chart, data) {
    var cache = chart.$lodestarRows;
    if (cache && cache.width === chart.width && cache.height === chart.height) return cache.rows;
    var ctx = chart.ctx, x = chart.scales.x, y = chart.scales.y, area = chart.chartArea;
    ctx.save();
    ctx.font = LABEL_FONT.weight + " " + LABEL_FONT.size + "px " + token("--font", "sans-serif");
    var target = null;
    if (data.target !== null) {
      var ty = y.getPixelForValue(data.target) - 11;
      target = {
        left: area.left,
        right: area.left + ctx.measureText(targetLabel(data)).width + 14,
        top: ty - 10,
        bottom: ty + 10,
      };
    }
    var rowEnds = [];
    var rows = data.annotations.map(function (mark) {
      var px = x.getPixelForValue(time(mark.x));
      var half = ctx.measureText(shortLabel(mark.label)).width / 2 + 8;
      var left = Math.max(area.left, px - half), right = Math.min(area.right, px + half);
      var row = 0;
      for (;; row += 1) {
        var top = area.top + row * LABEL_ROW, bottom = top + LABEL_ROW;
        var hitsTarget = target && left < target.right && right > target.left &&
          top < target.bottom && bottom > target.top;
        if (!hitsTarget && !(row < rowEnds.length && rowEnds[row] > left)) break;
      }
      rowEnds[row] = right + 4;
      return row;
    });
    ctx.restore();
    chart.$lodestarRows = { width: chart.width, height: chart.height, rows: rows };
    return rows;
  }

  function targetLabel(data) { return "Target " + formatNumber(data.target, data.unit); }

  function annotations(data, colors) {
    var items = {};
    if (data.target !== null) {
      items.target = {
        type: "line",
        yMin: data.target,
        yMax: data.target,
        borderColor: colors.target,
        borderDash: [6, 5],
        borderWidth: 2,
        label: {
          display: true,
          content: targetLabel(data),
          // At the left end: launch labels hang from the top, mostly at the recent, right end.
          position: "start",
          backgroundColor: "rgba(255,255,255,0.85)",
          color: colors.target,
          font: LABEL_FONT,
          padding: 3,
          yAdjust: -11,
        },
      };
    }
    data.annotations.forEach(function (mark, i) {
      items["launch" + i] = {
        type: "line",
        scaleID: "x",
        value: time(mark.x),
        borderColor: colors.ship,
        borderDash: [4, 4],
        borderWidth: 1.5,
        label: {
          display: function (ctx) { return labelRows(ctx.chart, data)[i] < LABEL_ROWS; },
          content: shortLabel(mark.label),
          position: "start",
          yAdjust: function (ctx) { return labelRows(ctx.chart, data)[i] * LABEL_ROW; },
          backgroundColor: "rgba(255,255,255,0.9)",
          borderColor: colors.ship,
          borderWidth: 1,
          borderRadius: 3,
          color: colors.ship,
          font: LABEL_FONT,
          padding: 3,
        },
      };
    });
    return items;
  }

  function drawChart(canvas) {
    if (!window.Chart || canvas.dataset.drawn) return;
    var data = JSON.parse(canvas.dataset.kpiChart);
    var colors = {
      primary: token("--c-primary", "#4f46e5"),
      target: token("--c-success", "#0f8a5f"),
      ship: token("--c-warning", "#b25e09"),
      muted: token("--c-muted", "#5f6682"),
      grid: token("--c-border", "#e2e5ef"),
    };
    var last = data.values.length - 1;
    function partialAt(index) { return data.partial && index === last; }
    var points = data.dates.map(function (iso, i) { return { x: time(iso), y: data.values[i] }; });
    var dense = points.length > 60;
    canvas.dataset.drawn = "1";
    new window.Chart(canvas, {
      type: "line",
      data: {
        datasets: [{
          label: data.name,
          data: points,
          borderColor: colors.primary,
          backgroundColor: colors.primary + "1f",
          fill: true,
          borderWidth: 2,
          tension: 0.25,
          // A missing period breaks the line instead of being drawn over.
          spanGaps: PERIOD[data.granularity] * 1.5,
          // The current period is not over: its point is hollow and the line to it dashed.
          pointRadius: function (ctx) { return partialAt(ctx.dataIndex) ? 4.5 : dense ? 0 : 2.5; },
          pointHoverRadius: function (ctx) { return partialAt(ctx.dataIndex) ? 5.5 : 4; },
          pointBorderWidth: function (ctx) { return partialAt(ctx.dataIndex) ? 2 : 1; },
          pointBackgroundColor: function (ctx) { return partialAt(ctx.dataIndex) ? "#ffffff" : colors.primary; },
          segment: {
            borderDash: function (ctx) { return partialAt(ctx.p1DataIndex) ? [5, 4] : undefined; },
            backgroundColor: function (ctx) { return partialAt(ctx.p1DataIndex) ? colors.primary + "0d" : undefined; },
          },
        }],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        parsing: false,
        interaction: { mode: "nearest", axis: "x", intersect: false },
        layout: { padding: { top: 4, right: 8 } },
        scales: {
          x: {
            type: "time",
            time: { unit: data.granularity, isoWeekday: true, tooltipFormat: TOOLTIP_FORMAT[data.granularity] },
            grid: { display: false },
            ticks: { maxTicksLimit: 8, maxRotation: 0, autoSkipPadding: 12, color: colors.muted },
          },
          y: {
            grace: "8%",
            grid: { color: colors.grid },
            ticks: { color: colors.muted, callback: function (v) { return formatNumber(v, data.unit); } },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (item) {
                var text = item.dataset.label + ": " + formatNumber(item.parsed.y, data.unit);
                return partialAt(item.dataIndex) ? text + " (so far, period not over)" : text;
              },
            },
          },
          annotation: { clip: false, annotations: annotations(data, colors) },
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
