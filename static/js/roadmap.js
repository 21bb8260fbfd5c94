// Roadmap behaviour: copy a new share link, bring today into view on the timeline. Dragging
// initiatives between the Now / Next / Later columns is static/js/sortable.js. No inline scripts (CSP).
(function () {
  "use strict";

  function toast(message, level) {
    if (window.lodestarToast) window.lodestarToast(message, level);
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
    initCopy(root);
    scrollToToday(root);
  }

  init(document);
  document.body.addEventListener("htmx:load", function (event) { init(event.detail.elt.parentNode || document); });
})();
