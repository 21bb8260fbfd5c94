// Backlog pages: bulk selection, velocity chart (Chart.js). Drag and drop is static/js/sortable.js.
// A static file, no inline scripts (CSP).
(function () {
  "use strict";

  // --- bulk selection -----------------------------------------------------------------------
  function updateSelection() {
    var boxes = document.querySelectorAll('input[name="features"][form="bulk-form"]');
    var checked = 0;
    boxes.forEach(function (box) { if (box.checked) checked += 1; });
    document.querySelectorAll("[data-selected-count]").forEach(function (el) { el.textContent = String(checked); });
    document.querySelectorAll("[data-bulk-apply]").forEach(function (button) { button.disabled = checked === 0; });
    document.querySelectorAll("[data-select-all]").forEach(function (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-all]")) {
      document.querySelectorAll('input[name="features"][form="bulk-form"]').forEach(function (box) {
        box.checked = target.checked;
      });
    }
    if (target.matches("[data-select-all], input[name='features']")) updateSelection();
  });

  // --- velocity chart -------------------------------------------------------------------
  function initCharts(root) {
    if (!window.Chart) return;
    root.querySelectorAll("canvas[data-chart=velocity]").forEach(function (canvas) {
      var source = document.getElementById("velocity-data");
      if (!source || canvas.dataset.chartReady) return;
      canvas.dataset.chartReady = "1";
      var data = JSON.parse(source.textContent);
      var css = getComputedStyle(document.documentElement);
      var primary = css.getPropertyValue("--c-primary").trim() || "#4f46e5";
      var muted = css.getPropertyValue("--c-border").trim() || "#e2e5ef";
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            { label: "Committed", data: data.committed, backgroundColor: muted, borderRadius: 4 },
            { label: "Done", data: data.done, backgroundColor: primary, borderRadius: 4 }
          ]
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          scales: { y: { beginAtZero: true, title: { display: true, text: "Story points" } } },
          plugins: { legend: { position: "bottom" } }
        }
      });
    });
  }

  // --- small behaviours ---------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss-closest]");
    if (button) {
      var box = button.closest(button.dataset.dismissClosest);
      if (box) box.remove();
    }
  });

  // A feature added from the quick-add form: clear the form for the next one.
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    var xhr = event.detail.xhr;
    if (form && form.id === "new-feature" && event.detail.successful && xhr &&
        xhr.getResponseHeader("HX-Retarget") === "#feature-table") {
      form.reset();
    }
  });

  function init(root) {
    initCharts(root);
    updateSelection();
  }

  if (window.htmx) {
    window.htmx.onLoad(init);
  } else {
    init(document);
  }
})();
