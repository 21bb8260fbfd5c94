// Feedback triage: keyboard shortcuts, the selected row, quoting selected text. No inline
// scripts or handlers anywhere (CSP); everything here hangs off data attributes.
(function () {
  "use strict";

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-fb-row]"));
  }

  function panel() {
    return document.getElementById("triage-panel");
  }

  function markSelected() {
    var p = panel();
    var id = p && p.dataset.itemId;
    rows().forEach(function (row) {
      var on = id && row.dataset.itemId === id;
      row.classList.toggle("selected", !!on);
      row.setAttribute("aria-selected", on ? "true" : "false");
    });
  }

  function current() {
    var list = rows();
    var selected = list.filter(function (r) { return r.classList.contains("selected"); })[0];
    return selected || (list.indexOf(document.activeElement) >= 0 ? document.activeElement : null);
  }

  function open(row) {
    if (!row) return;
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
    row.click();
  }

  function move(step) {
    var list = rows();
    if (!list.length) return;
    var index = list.indexOf(current());
    var next = list[Math.max(0, Math.min(list.length - 1, index < 0 ? 0 : index + step))];
    open(next);
  }

  function press(selector) {
    var p = panel();
    var button = p && p.querySelector(selector);
    if (button && !button.disabled) {
      // A key pressed right after a swap can beat htmx's processing of the new panel; a click
      // then would submit the form as a full page load. Processing is idempotent.
      if (window.htmx) window.htmx.process(p);
      button.click();
      return true;
    }
    return false;
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (!document.querySelector("[data-triage]")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && typing(event.target)) {
      event.target.blur();
      return;
    }
    if (typing(event.target)) return;
    var key = event.key;
    var handled = true;
    if (key === "j" || key === "ArrowDown") move(1);
    else if (key === "k" || key === "ArrowUp") move(-1);
    else if (key === "Enter" || key === "o") open(current() || rows()[0]);
    else if (key === "t") handled = press("[data-key='t']");
    else if (key === "a") handled = press("[data-key='a']");
    else if (key === "r") handled = press("[data-key='r']");
    else if (/^[1-5]$/.test(key)) handled = press("[data-key='" + key + "']");
    else if (key === "l") {
      var other = panel() && panel().querySelector("[data-combobox-input]");
      if (other) other.focus(); else handled = false;
    } else if (key === "q") {
      var quote = panel() && panel().querySelector("textarea[name=quote]");
      if (quote) quote.focus(); else handled = false;
    } else if (key === "/") {
      var search = document.querySelector("[data-inbox-search]");
      if (search) search.focus(); else handled = false;
    } else handled = false;
    if (handled) event.preventDefault();
  });

  // "Another idea or feature": a combobox whose options htmx fetches as the PM types (the
  // backlog can hold thousands of them). Arrow keys move through the options, Enter chooses one
  // (and links it when it is already chosen), Escape closes the list; choosing fills the hidden
  // `other` field the Link button posts.
  function comboParts(el) {
    var box = el && el.closest && el.closest("[data-combobox]");
    if (!box) return null;
    return {
      box: box,
      input: box.querySelector("[data-combobox-input]"),
      value: box.querySelector("[data-combobox-value]"),
      list: box.querySelector("[data-combobox-list]"),
    };
  }

  function comboOptions(parts) {
    return Array.prototype.slice.call(parts.list.querySelectorAll("[role=option][data-value]"));
  }

  function comboOpen(parts, open) {
    parts.list.hidden = !open;
    parts.input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) parts.input.removeAttribute("aria-activedescendant");
  }

  function comboActivate(parts, option) {
    comboOptions(parts).forEach(function (o) {
      o.setAttribute("aria-selected", o === option ? "true" : "false");
      o.classList.toggle("active", o === option);
    });
    if (option) {
      parts.input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }
  }

  function comboChoose(parts, option) {
    parts.value.value = option.dataset.value;
    parts.input.value = option.dataset.title;
    comboOpen(parts, false);
    parts.input.focus();
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target.matches || !target.matches("[data-combobox-input]")) return;
    var parts = comboParts(target);
    var options = comboOptions(parts);
    var active = parts.list.querySelector("[role=option].active");
    var index = options.indexOf(active);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (parts.list.hidden) {
        if (options.length) comboOpen(parts, true);
        else if (window.htmx) window.htmx.trigger(target, "focus");
      }
      if (!options.length) return;
      var step = event.key === "ArrowDown" ? 1 : -1;
      var next = index < 0 ? (step > 0 ? 0 : options.length - 1) : (index + step + options.length) % options.length;
      comboActivate(parts, options[next]);
    } else if (event.key === "Enter") {
      // Never let Enter submit the form by its first button (a suggestion).
      event.preventDefault();
      if (!parts.list.hidden && active) comboChoose(parts, active);
      else if (!parts.list.hidden && options.length === 1) comboChoose(parts, options[0]);
      else if (parts.value.value) parts.box.querySelector("[data-testid=link-other]").click();
    } else if (event.key === "Escape" && !parts.list.hidden) {
      event.stopPropagation();
      event.preventDefault();
      comboOpen(parts, false);
    }
  }, true);

  document.addEventListener("input", function (event) {
    var parts = comboParts(event.target);
    if (parts && event.target === parts.input) parts.value.value = "";  // typing unchooses
  });

  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest && event.target.closest("[data-combobox-list] [role=option][data-value]");
    if (!option) return;
    event.preventDefault();  // keep the focus in the input
    comboChoose(comboParts(option), option);
  });

  document.addEventListener("focusout", function (event) {
    var parts = comboParts(event.target);
    if (parts && event.target === parts.input) comboOpen(parts, false);
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    var list = event.detail.target;
    if (!list.matches || !list.matches("[data-combobox-list]")) return;
    var parts = comboParts(list);
    if (document.activeElement !== parts.input) return;  // answered after the PM moved on
    comboOpen(parts, true);
    comboActivate(parts, null);
  });

  // Selecting words in the feedback text quotes them in the link form.
  function captureQuote(event) {
    var content = event.target.closest && event.target.closest("[data-quote-source]");
    if (!content) return;
    var selection = window.getSelection();
    var text = selection ? selection.toString().replace(/\s+/g, " ").trim() : "";
    if (!text) return;
    var p = content.closest("[data-item-id]") || document;
    var field = p.querySelector("textarea[name=quote]");
    if (field) {
      field.value = text.slice(0, 2000);
      field.classList.add("just-quoted");
    }
  }
  document.addEventListener("mouseup", captureQuote);
  document.addEventListener("keyup", function (event) {
    if (event.shiftKey) captureQuote(event);
  });

  document.body.addEventListener("htmx:afterSettle", function (event) {
    markSelected();  // the acted-on row came back fresh (out of band), unselected
    // On a narrow screen the panel sits below the whole list: bring it into view, or tapping an
    // item seems to do nothing. (After an outerHTML swap, detail.target is the old, detached
    // panel: look the new one up.)
    var fresh = panel();
    var config = event.detail.requestConfig;
    if (fresh && event.target === fresh && window.innerWidth < 1000 && config &&
        config.verb === "get" && document.querySelector("[data-fb-row]")) {
      fresh.scrollIntoView({ block: "start" });
    }
  });
  // "Back to the list" in the panel, shown on narrow screens: back to the row it came from.
  document.addEventListener("click", function (event) {
    var back = event.target.closest && event.target.closest("[data-back-to-list]");
    if (!back) return;
    var p = panel();
    var row = p && document.getElementById("fb-row-" + p.dataset.itemId);
    if (!row) return;  // not on the inbox page: follow the link
    event.preventDefault();
    row.scrollIntoView({ block: "center" });
    row.focus({ preventScroll: true });
  });
  markSelected();
})();
