// Roadmap behaviour: drag initiatives between the Now / Next / Later columns (SortableJS), copy a
// new share link. No inline scripts (CSP); the board is re-initialised after htmx swaps.
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
    } catch (e) {
      return "";
    }
  }

  function toast(message, level) {
    if (window.lodestarToast) window.lodestarToast(message, level);
  }

  function updateCounts(board) {
    board.querySelectorAll(".board-col").forEach(function (col) {
      var badge = col.querySelector("[data-count]");
      if (badge) badge.textContent = col.querySelectorAll(".board-card").length;
    });
  }

  function reloadBoard() {
    if (window.htmx) {
      window.htmx.ajax("GET", window.location.href, { target: "#roadmap-view", swap: "outerHTML" });
    } else {
      window.location.reload();
    }
  }

  function neighbourId(card, direction) {
    var sibling = card[direction];
    while (sibling && !sibling.classList.contains("board-card")) sibling = sibling[direction];
    return sibling ? sibling.dataset.id : "";
  }

  function persistMove(board, event) {
    var card = event.item;
    if (event.from === event.to && event.oldIndex === event.newIndex) return;
    var body = new FormData();
    body.append("horizon", event.to.dataset.horizon);
    body.append("version", card.dataset.version);
    body.append("above", neighbourId(card, "previousElementSibling"));
    body.append("below", neighbourId(card, "nextElementSibling"));
    card.classList.add("saving");
    updateCounts(board);
    fetch(card.dataset.moveUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          return { ok: response.ok, status: response.status, data: data };
        });
      })
      .then(function (result) {
        card.classList.remove("saving");
        if (result.ok) {
          card.dataset.version = result.data.version;
          toast(result.data.message || "Moved.", "success");
          return;
        }
        var message = result.data.error
          || (result.status === 403 ? "Your role does not allow moving initiatives."
            : "The move could not be saved.");
        toast(message, "error");
        reloadBoard();
      })
      .catch(function () {
        card.classList.remove("saving");
        toast("The server could not be reached. The move was not saved.", "error");
        reloadBoard();
      });
  }

  function initBoards(root) {
    if (!window.Sortable) return;
    root.querySelectorAll("[data-board].can-edit").forEach(function (board) {
      board.querySelectorAll(".board-list").forEach(function (list) {
        if (list.dataset.sortable) return;
        list.dataset.sortable = "1";
        window.Sortable.create(list, {
          group: "horizons",
          draggable: ".board-card",
          filter: "button, summary, input, select",
          forceFallback: true,
          fallbackTolerance: 4,
          preventOnFilter: false,
          animation: 150,
          emptyInsertThreshold: 24,
          onEnd: function (event) { persistMove(board, event); },
        });
      });
    });
  }

  function initCopy(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      if (button.dataset.copyReady) return;
      button.dataset.copyReady = "1";
      button.addEventListener("click", function () {
        var field = document.querySelector(button.dataset.copy);
        if (!field) return;
        field.select();
        var done = function () { toast("Link copied.", "success"); };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(done, function () {
            document.execCommand("copy");
            done();
          });
        } else {
          document.execCommand("copy");
          done();
        }
      });
    });
  }

  // On a narrow screen the timeline starts a quarter back; bring today into view.
  function scrollToToday(root) {
    root.querySelectorAll(".tl-scroll").forEach(function (box) {
      var today = box.querySelector(".tl-today");
      if (!today || box.dataset.scrolled) return;
      box.dataset.scrolled = "1";
      var label = box.querySelector(".tl-label");
      var labelWidth = label ? label.getBoundingClientRect().width : 0;
      var x = today.getBoundingClientRect().left - box.getBoundingClientRect().left + box.scrollLeft;
      var visible = box.clientWidth - labelWidth;
      if (x - labelWidth > visible * 0.6) box.scrollLeft = x - labelWidth - visible * 0.25;
    });
  }

  function init(root) {
    initBoards(root);
    initCopy(root);
    scrollToToday(root);
  }

  init(document);
  document.body.addEventListener("htmx:load", function (event) { init(event.detail.elt.parentNode || document); });
})();
