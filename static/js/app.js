// Lodestar page behaviour: toasts, menus, mobile navigation. No inline scripts (CSP).
(function () {
  "use strict";

  function showToast(message, level) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var toast = document.createElement("div");
    toast.className = "toast " + (level || "success");
    toast.setAttribute("role", level === "error" ? "alert" : "status");
    var text = document.createElement("span");
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", function () { toast.remove(); });
    toast.appendChild(text);
    toast.appendChild(close);
    box.appendChild(toast);
    setTimeout(function () { toast.remove(); }, level === "error" ? 9000 : 4500);
  }
  window.lodestarToast = showToast;

  document.body.addEventListener("toast", function (event) {
    showToast(event.detail.message, event.detail.level);
  });

  // Server errors and lost connections get a toast rather than a silent failure.
  document.body.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    var message = status === 403 ? "Your role does not allow this."
      : status === 404 ? "That item no longer exists."
      : status === 409 || status === 412 ? "Someone else changed this; reload to see their version."
      : "Something went wrong (" + status + "). Nothing was saved.";
    showToast(message, "error");
  });
  document.body.addEventListener("htmx:sendError", function () {
    showToast("The server could not be reached. Nothing was saved.", "error");
  });

  // Confirmation before destructive actions, without inline handlers.
  document.body.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);

  // Close open menus when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // Mobile navigation toggle.
  document.querySelectorAll("[data-toggle-sidebar]").forEach(function (button) {
    button.addEventListener("click", function () {
      var sidebar = document.querySelector(".sidebar");
      if (sidebar) {
        sidebar.classList.toggle("open");
        button.setAttribute("aria-expanded", sidebar.classList.contains("open"));
      }
    });
  });

  // A strip of tabs wider than the screen scrolls sideways: bring the active tab into view
  // (centred when it can be), so the page says where you are.
  function showActiveTabs(root) {
    (root || document).querySelectorAll(".tabs").forEach(function (strip) {
      var active = strip.querySelector("a.active, [aria-current]");
      if (!active || strip.scrollWidth <= strip.clientWidth) return;
      var box = active.getBoundingClientRect(), frame = strip.getBoundingClientRect();
      var left = strip.scrollLeft + box.left - frame.left - (strip.clientWidth - box.width) / 2;
      strip.scrollLeft = Math.max(0, Math.min(left, strip.scrollWidth - strip.clientWidth));
    });
  }
  showActiveTabs(document);
  window.addEventListener("resize", function () { showActiveTabs(document); });

  // Server-side flash messages, rendered as data, shown as toasts.
  document.querySelectorAll("[data-flash]").forEach(function (el) {
    showToast(el.dataset.flash, el.dataset.level);
    el.remove();
  });

  // Textareas grow with their text (never below their rows, at most most of the screen), so
  // nothing is clipped behind a tiny scroll box. Set through the CSSOM, which CSP allows.
  function fitTextarea(area) {
    if (!area.offsetParent || area.hasAttribute("data-fixed-height")) return;
    var style = window.getComputedStyle(area);
    var borders = parseFloat(style.borderTopWidth) + parseFloat(style.borderBottomWidth);
    var limit = Math.max(160, Math.round(window.innerHeight * 0.7));
    area.style.height = "auto";
    var wanted = area.scrollHeight + borders;
    if (wanted > area.offsetHeight) area.style.height = Math.min(wanted, limit) + "px";
    else area.style.height = "";
    area.style.overflowY = wanted > limit ? "auto" : "hidden";
  }
  function fitTextareas(root) {
    (root || document).querySelectorAll("textarea").forEach(fitTextarea);
  }
  window.lodestarFitTextareas = fitTextareas;
  document.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA") fitTextarea(event.target);
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.tagName === "TEXTAREA") fitTextarea(event.target);
  });
  document.body.addEventListener("htmx:afterSettle", function (event) { fitTextareas(event.detail.elt); });
  fitTextareas(document);

  // Focus the first field of an inline form swapped in by htmx.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var field = event.detail.target.querySelector("form [autofocus], form input:not([type=hidden]), form textarea");
    if (field && event.detail.target.querySelector("form")) field.focus();
  });
})();

// @-mentions: a suggestion clicked (or picked with Enter) replaces the @name being typed.
(function () {
  "use strict";
  function pick(button) {
    var list = button.closest(".mention-list");
    var field = list && list.parentElement.querySelector("[data-mention-input]");
    if (!field) return;
    field.value = field.value.replace(/@[^\s@]*$/, "@" + button.dataset.mention + " ");
    list.innerHTML = "";
    field.focus();
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-mention]");
    if (button) { event.preventDefault(); pick(button); }
  });
  document.addEventListener("keydown", function (event) {
    var field = event.target.closest && event.target.closest("[data-mention-input]");
    if (!field || (event.key !== "Enter" && event.key !== "Tab")) return;
    var first = field.parentElement.querySelector(".mention-list [data-mention]");
    if (first) { event.preventDefault(); pick(first); }
  });
})();

// Quick jump: Ctrl/Cmd-K opens the search dialog; arrows move, Enter opens the hit.
(function () {
  "use strict";
  var dialog = document.getElementById("quick-jump");
  if (!dialog) return;
  var input = dialog.querySelector("input[type=search]");
  function hits() { return Array.prototype.slice.call(dialog.querySelectorAll(".search-hit")); }
  function select(index) {
    var all = hits();
    all.forEach(function (hit, i) { hit.classList.toggle("selected", i === index); });
    if (all[index]) all[index].scrollIntoView({ block: "nearest" });
  }
  function current() { return hits().findIndex(function (hit) { return hit.classList.contains("selected"); }); }
  function open() {
    if (!dialog.open) dialog.showModal();
    input.select();
  }
  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && (event.key === "k" || event.key === "K")) {
      event.preventDefault();
      open();
    }
  });
  document.querySelectorAll("[data-quick-jump]").forEach(function (el) {
    el.addEventListener("focus", function () { el.blur(); open(); });
  });
  dialog.addEventListener("click", function (event) { if (event.target === dialog) dialog.close(); });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (dialog.contains(event.target)) select(0);
  });
  input.addEventListener("keydown", function (event) {
    var index = current();
    if (event.key === "ArrowDown") { event.preventDefault(); select(Math.min(index + 1, hits().length - 1)); }
    else if (event.key === "ArrowUp") { event.preventDefault(); select(Math.max(index - 1, 0)); }
    else if (event.key === "Enter") {
      event.preventDefault();
      var hit = hits()[index >= 0 ? index : 0];
      window.location.href = hit ? hit.href : dialog.dataset.searchUrl + "?q=" + encodeURIComponent(input.value);
    }
  });
})();
