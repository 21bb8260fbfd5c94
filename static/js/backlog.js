// Backlog pages: drag and drop (SortableJS), bulk selection, velocity chart (Chart.js).
// A static file, no inline scripts (CSP); requests carry the CSRF token from <body hx-headers>.
(function () {
  "use strict";

  var toast = function (message, level) {
    if (window.lodestarToast) window.lodestarToast(message, level || "success");
  };

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["x-csrftoken"] || "";
    } catch (e) {
      return "";
    }
  }

  // POST form data; resolves to the JSON body plus `okay` (2xx or not).
  function post(url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(data).toString()
    }).then(function (response) {
      return response.json().catch(function () {
        return { error: "Something went wrong (" + response.status + "). Nothing was saved." };
      }).then(function (body) {
        body.okay = response.ok;
        return body;
      });
    }, function () {
      return { okay: false, error: "The server could not be reached. Nothing was saved." };
    });
  }

  function idUrl(template, id) {
    return template.replace(/\/0\/(?=[a-z-]+\/$)/, "/" + id + "/");
  }

  function dataRow(el, direction) {
    var row = el[direction];
    while (row && !row.dataset.id) row = row[direction];
    return row;
  }

  // --- the backlog: drag a row to re-rank it ---------------------------------------------
  function renumber(tbody) {
    var first = tbody.querySelector("tr[data-id] .col-rank");
    var start = first ? parseInt(tbody.dataset.offset || "0", 10) : 0;
    tbody.querySelectorAll("tr[data-id]").forEach(function (row, i) {
      var cell = row.querySelector(".col-rank");
      if (cell) cell.textContent = String(start + i + 1);
    });
  }

  // The backlog's rows, and a feature's stories: drag the handle to re-rank.
  function initBacklog(root) {
    if (!window.Sortable) return;
    root.querySelectorAll("tbody[data-sortable], [data-sortable-list]").forEach(function (tbody) {
      if (tbody.dataset.sortableReady) return;
      tbody.dataset.sortableReady = "1";
      var rowTag = tbody.tagName === "TBODY" ? "tr" : "li";
      window.Sortable.create(tbody, {
        handle: ".drag-handle",
        forceFallback: true,  // pointer events: the same on touch, mouse and automation
        draggable: rowTag + "[data-id]",
        animation: 150,
        ghostClass: "drag-ghost",
        onEnd: function (event) {
          if (event.oldIndex === event.newIndex) return;
          var row = event.item;
          var above = dataRow(row, "previousElementSibling");
          var below = dataRow(row, "nextElementSibling");
          post(idUrl(tbody.dataset.moveUrlTemplate, row.dataset.id), {
            above: above ? above.dataset.id : "",
            below: below ? below.dataset.id : ""
          }).then(function (result) {
            if (result.okay) {
              renumber(tbody);
              toast(result.message);
            } else {
              // Put the row back where it was, so the page shows what is saved.
              var rows = tbody.querySelectorAll(rowTag + "[data-id]");
              var anchor = rows[event.oldIndex < event.newIndex ? event.oldIndex : event.oldIndex + 1];
              tbody.insertBefore(row, anchor || null);
              toast(result.error || "The move was not saved.", "error");
            }
          });
        }
      });
    });
  }

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

  // --- the sprint board: drag a card to another column to change its status ------------------
  function columnCounts(board) {
    board.querySelectorAll(".board-col").forEach(function (col) {
      var badge = col.querySelector(".board-col-head .badge");
      if (badge) badge.textContent = String(col.querySelectorAll(".story-card").length);
    });
  }

  function initBoard(root) {
    if (!window.Sortable) return;
    root.querySelectorAll("[data-board]").forEach(function (board) {
      board.querySelectorAll(".board-cards").forEach(function (list) {
        if (list.dataset.sortableReady) return;
        list.dataset.sortableReady = "1";
        window.Sortable.create(list, {
          group: "board",
          forceFallback: true,
          sort: false,
          animation: 150,
          ghostClass: "drag-ghost",
          onAdd: function (event) {
            var card = event.item;
            post(idUrl(board.dataset.statusUrlTemplate, card.dataset.number), {
              status: event.to.dataset.status,
              version: card.dataset.version
            }).then(function (result) {
              if (result.okay) {
                card.dataset.version = result.version;
                toast(result.message);
              } else {
                event.from.insertBefore(card, event.from.children[event.oldIndex] || null);
                toast(result.error || "The status was not saved.", "error");
              }
              columnCounts(board);
            });
            columnCounts(board);
          }
        });
      });
    });
  }

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
    initBacklog(root);
    initBoard(root);
    initCharts(root);
    updateSelection();
  }

  if (window.htmx) {
    window.htmx.onLoad(init);
  } else {
    init(document);
  }
})();
