// Copy a freshly created API token key or invitation link to the clipboard. No inline scripts (CSP).
(function () {
  "use strict";
  document.body.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      if (window.lodestarToast) window.lodestarToast(button.dataset.copied || "Token copied to the clipboard.");
      button.textContent = "Copied";
    });
  });
})();
