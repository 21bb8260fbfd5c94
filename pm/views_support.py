"""What every product page view shares: the page context (`product_page`) and the versioned edit
(`versioned_edit`: form, service, EditConflict merge, errors next to the fields).

New product pages start from `product_page`; new edit views go through `versioned_edit` and, when
they end in a flash message and a redirect, `saved_redirect`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRefresh

from pm.background import progress_get
from pm.choices import ImportStatus, Role
from pm.forms import conflicted_form
from pm.htmx import is_partial, render_fragment, render_page
from pm.http import AuthedHttpRequest
from pm.models import Membership, Product
from pm.services import EditConflict
from pm.visibility import viewer_of


def remember_workspace(request: AuthedHttpRequest, workspace_id: int) -> None:
    """Make this the current workspace, writing the session only when it changes (an
    assignment alone marks the session modified and costs an UPDATE on every page view)."""
    if request.session.get("workspace_id") != workspace_id:
        request.session["workspace_id"] = workspace_id


def product_page(
    request: AuthedHttpRequest, product: Product, *, tab: str = "", section: str = "", **extra: Any
) -> dict[str, Any]:
    """The context every page of a product starts from.

    `product` comes from `get_product_for_user` (it carries the membership). `tab` names the
    product navigation item to highlight (its url name) when the page's own url name is not one;
    `section` the app's sub-navigation item. `sees_internal` is the one name for "engineer or
    above": the team, who read internal fields, customers and history (pm.visibility).

    The layout's workspace comes from the product; the session's remembered workspace (for pages
    outside any workspace) changes only when the user opens or switches a workspace, so a page
    view never writes the session.
    """
    request.lodestar_workspace = product.workspace
    membership: Membership = product.membership  # set by pm.permissions.get_product_for_user
    viewer = viewer_of(product)
    return {
        "product": product,
        "workspace": product.workspace,
        "membership": membership,
        "viewer": viewer,
        "can_edit": membership.allows(Role.PM),
        "can_work": membership.allows(Role.ENGINEER),
        "sees_internal": viewer is not None and viewer.is_team,
        "active_tab": tab,
        "section": section,
        **extra,
    }


def add_service_errors(form: forms.BaseForm, exc: ValidationError, formset: Any = None) -> None:
    """A service's ValidationError on the form: next to the field it names, when the form has
    that field; above the rows of `formset` when it names the rows (the formset's prefix, e.g.
    "variants"); else above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        if formset is not None and field == formset.prefix:
            # Formsets have no add_error; non_form_errors() is the list the template shows.
            formset.non_form_errors().extend(errors)
        else:
            form.add_error(field if field in form.fields else None, errors)


@dataclass
class Edit[T]:
    """What `versioned_edit` gives back: the form to show (unbound, with errors, or the
    three-way merge after a conflict) and the saved object when the save went through."""

    form: Any
    saved: T | None = None


def versioned_edit[T](
    request: AuthedHttpRequest,
    form_class: Callable[..., Any],
    instance: Any,
    save: Callable[..., T],
    *,
    formset: Any = None,
    initial: Callable[[Any], dict[str, Any]] | None = None,
    **form_kwargs: Any,
) -> Edit[T]:
    """The edit of one versioned record, the same way on every page.

    On GET the form shows `instance`. On POST, when the form (and `formset`, if any) is valid,
    `save(form, data=…, expected_version=…, actor=request.user)` calls the service; `data` is
    `form.model_data()` (the cleaned data for plain forms). A stale version (EditConflict) gives
    the three-way merge form (pm.forms.conflicted_form); a service's ValidationError lands next
    to the fields it names; PermissionDenied (a field the role may not change) above the form.

    `initial` builds a plain form's values from the record (then `instance` is not passed to
    the form); `form_kwargs` go to every form built (product=…, workspace=…).
    """

    def build(data: Any, record: Any) -> Any:
        if initial is not None:
            return form_class(data, initial=initial(record), **form_kwargs)
        return form_class(data, instance=record, **form_kwargs)

    if request.method != "POST":
        return Edit(build(None, instance))
    form = build(request.POST, instance)
    # Both validate, so the form's and the rows' errors show together.
    valid = [form.is_valid(), formset.is_valid() if formset is not None else True]
    if not all(valid):
        return Edit(form)
    data = form.model_data() if hasattr(form, "model_data") else form.cleaned_data
    try:
        saved = save(
            form,
            data=data,
            expected_version=form.cleaned_data["version"],
            actor=request.user,
        )
    except EditConflict as conflict:
        merged_kwargs: dict[str, Any] = (
            {"instance": conflict.current}
            if initial is None
            else {"initial": initial(conflict.current)}
        )
        return Edit(
            conflicted_form(form_class, request.POST, conflict, **merged_kwargs, **form_kwargs)
        )
    except ValidationError as exc:
        add_service_errors(form, exc, formset)
        return Edit(form)
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
        return Edit(form)
    return Edit(form, saved)


def saved_redirect(
    request: HttpRequest, message: str, to: str, *args: Any, **kwargs: Any
) -> HttpResponse:
    """After a save: `message` as a flash message, then the page `to` (redirect() arguments) —
    or, for an htmx form inside a page, that page reloaded, so everything on it is current."""
    messages.success(request, message)
    if is_partial(request):
        return HttpResponseClientRefresh()
    return redirect(to, *args, **kwargs)


def panels_for(
    request: AuthedHttpRequest, product: Product, panels: list[Any], obj: Any
) -> list[tuple[str, dict[str, Any]]]:
    """[(template, context)] of the panels other apps add to a page (pm.registry) that the
    reader's role may see and that have something to show."""
    shown = []
    for panel in panels:
        if product.membership.allows(panel.need):
            panel_context = panel.context(request, obj)
            if panel_context is not None:
                shown.append((panel.template, panel_context))
    return shown


# --- imports that run in the background (pm.background) -------------------------------------


def background_progress(
    request: HttpRequest, batch: Any, *, kind: str, template: str, context: dict[str, Any]
) -> HttpResponse:
    """The progress bar of a running import (polled by htmx): the template's "progress"
    partial with the run's row and what its worker last reported."""
    context = {**context, "batch": batch, "progress": progress_get(kind, batch.pk)}
    return render_fragment(request, template, "progress", context)


def background_started(
    request: HttpRequest,
    batch: Any,
    start: Callable[[], Any],
    *,
    template: str,
    context: dict[str, Any],
    preview: Callable[[Any], dict[str, Any]],
    done: Callable[[Any], tuple[str, str]],
    preview_url: str,
) -> HttpResponse:
    """After "Import": the preview again with the reason when the run is refused or failed;
    in trial mode (no worker, run in this request) `done(batch)`'s (message, URL); otherwise
    the preview page, which shows the worker's progress."""
    try:
        batch = start()
    except ValidationError as exc:
        batch.refresh_from_db()
        return render_page(
            request, template, {**context, **preview(batch), "run_error": " ".join(exc.messages)}
        )
    if batch.status == ImportStatus.FAILED:
        return render_page(
            request, template, {**context, **preview(batch), "run_error": batch.error}
        )
    if batch.status == ImportStatus.DONE:
        message, url = done(batch)
        messages.success(request, message)
        return redirect(url)
    return redirect(preview_url)
