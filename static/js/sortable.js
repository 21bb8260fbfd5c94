// Drag and drop, saved the htmx way (its "Sortable" example): SortableJS moves the item in the
// page, and a form posts the move when Sortable fires its "end" event on the list
// (hx-trigger="end from:<lists>"); htmx sends it (CSRF from <body hx-headers>) and swaps in the
// partial the server answers with: the list as saved, renumbered, or put back with an error
// toast when the move was refused. Loaded after Sortable.min.js on the pages that drag.
//
// <form data-sortable-form="<selector of the lists>" hx-post="…/0/move/" hx-trigger="end from:…">
//   with inputs named above, below (ids of the neighbours), version (of the moved item),
//   shown (items in the list) and any the destination list names as data-field-<name>.
// Options on the form: data-sortable-handle, data-sortable-group (drag between lists),
// data-sortable-sort="false" (between lists only). Items carry data-id (and data-version).
(function () {
  "use strict";

  function neighbour(item, direction) {
    var sibling = item[direction];
    while (sibling && !sibling.dataset.id) sibling = sibling[direction];
    return sibling ? sibling.dataset.id : "";
  }

  function set(form, name, value) {
    var input = form.elements.namedItem(name);
    if (input) input.value = value == null ? "" : String(value);
  }

  // Runs on Sortable's update/add, before its "end" event makes htmx send the form: the
  // form's values, and the URL of the moved item (the form's hx-post has 0 in its place).
  function stage(form, event) {
    var item = event.item;
    set(form, "above", neighbour(item, "previousElementSibling"));
    set(form, "below", neighbour(item, "nextElementSibling"));
    set(form, "version", item.dataset.version);
    set(form, "shown", event.to.querySelectorAll("[data-id]").length);
    Object.keys(event.to.dataset).forEach(function (key) {
      if (key.indexOf("field") === 0) set(form, key.slice(5).toLowerCase(), event.to.dataset[key]);
    });
    form.dataset.path = form.getAttribute("hx-post").replace(/\/0\/(?=[a-z-]+\/(\?|$))/, "/" + item.dataset.id + "/");
  }

  function init(root) {
    if (!window.Sortable) return;
    var forms = root.matches && root.matches("form[data-sortable-form]") ? [root]
      : Array.prototype.slice.call(root.querySelectorAll("form[data-sortable-form]"));
    forms.forEach(function (form) {
      document.querySelectorAll(form.dataset.sortableForm).forEach(function (list) {
        if (list.dataset.sortableReady) return;
        list.dataset.sortableReady = "1";
        window.Sortable.create(list, {
          group: form.dataset.sortableGroup || undefined,
          sort: form.dataset.sortableSort !== "false",
          handle: form.dataset.sortableHandle || undefined,
          draggable: "[data-id]",
          filter: "button, summary, input, select",
          preventOnFilter: false,
          forceFallback: true,  // pointer events: the same on touch, mouse and automation
          fallbackTolerance: 4,
          emptyInsertThreshold: 24,
          animation: 150,
          ghostClass: "drag-ghost",
          onUpdate: function (event) { stage(form, event); },
          onAdd: function (event) { stage(form, event); }
        });
      });
    });
  }

  // The form is sent for every "end"; only a drop that moved something gets a request.
  document.body.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("form[data-sortable-form]")) return;
    if (!form.dataset.path) {
      event.preventDefault();
      return;
    }
    event.detail.path = form.dataset.path;
    delete form.dataset.path;
  });

  // A stale move (409) comes back with the list as saved: show it, with the server's toast.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (event.detail.xhr.status === 409 && elt && elt.matches && elt.matches("form[data-sortable-form]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  if (window.htmx) window.htmx.onLoad(init);
  else init(document);
})();
