"""The Import page: upload an export of another tool, map it, preview it, import it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from imports import formats, services
from imports.choices import Action
from imports.forms import MappingForm, UploadForm
from imports.models import ToolImport
from pm.background import progress_get
from pm.choices import ImportStatus, Role
from pm.htmx import render_page
from pm.http import AuthedHttpRequest
from pm.permissions import get_product_for_user
from pm.views_support import (
    add_service_errors,
    background_progress,
    background_started,
    product_page,
)

SHOWN_ROWS = 50
SHOWN_ERRORS = 200


@login_required
@require_http_methods(["GET", "POST"])
def tool_import(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = product_page(request, product, tab="backlog")
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > services.MAX_BYTES:
            form.add_error("file", "The file is larger than 10 MB; export fewer records at a time.")
        else:
            try:
                batch = services.tool_import_upload(
                    product=product,
                    tool=form.cleaned_data["tool"],
                    raw=upload.read(),
                    filename=upload.name,
                    encoding=form.cleaned_data["encoding"],
                    actor=request.user,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("tool_import_preview", key=product.key, pk=batch.pk)
    imports = (
        ToolImport.objects.filter(product=product)
        .select_related("uploaded_by")
        .defer("content", "mapping")[:20]
    )
    context.update(form=form, imports=imports)
    return render_page(request, "imports/index.html", context)


def _preview_context(batch: ToolImport, form: MappingForm | None = None) -> dict:
    plan = services.plan(batch)
    form = form or MappingForm(
        tool=batch.tool,
        mapping=batch.mapping,
        headers=plan.parsed.headers,
        status_keys=plan.parsed.status_keys,
    )
    shown = [r for r in plan.records if r.action != Action.IGNORE][:SHOWN_ROWS]
    counts = plan.counts
    if batch.imported_at:  # what the import did, not what importing it again would do
        counts = {
            Action.CREATE: batch.created_count,
            Action.UPDATE: batch.updated_count,
            Action.UNCHANGED: batch.unchanged_count,
        }
        shown = []
    return {
        "counts": counts,
        "batch": batch,
        "plan": plan,
        "form": form,
        "rows": shown,
        "errors": plan.errors[:SHOWN_ERRORS],
        "more_errors": max(0, len(plan.errors) - SHOWN_ERRORS),
        "ignored": plan.parsed.ignored[:SHOWN_ROWS],
        "earlier": None if batch.imported_at else services.tool_import_earlier(batch),
        "progress": progress_get("tools", batch.pk),
        "editable": not batch.imported_at
        and batch.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING),
    }


@login_required
@require_http_methods(["GET", "POST"])
def tool_import_preview(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """The mapping form above the preview it produces; saving the mapping redraws both."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = product_page(request, product, tab="backlog")
    batch = get_object_or_404(ToolImport.objects.select_related("product"), product=product, pk=pk)
    form = None
    if request.method == "POST":
        parsed = formats.parse(batch.tool, batch.content, batch.mapping)
        form = MappingForm(
            request.POST,
            tool=batch.tool,
            mapping=batch.mapping,
            headers=parsed.headers,
            status_keys=parsed.status_keys,
        )
        if form.is_valid():
            try:
                services.tool_import_set_mapping(batch=batch, mapping=form.mapping())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Mapping saved; the preview below follows it.")
                return redirect("tool_import_preview", key=product.key, pk=batch.pk)
    context.update(_preview_context(batch, form))
    return render_page(request, "imports/preview.html", context)


@login_required
@require_GET
def tool_import_progress(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """The progress bar of a running import (polled by htmx), then its outcome."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    batch = get_object_or_404(
        ToolImport.objects.defer("content").select_related("product"), product=product, pk=pk
    )
    return background_progress(
        request,
        batch,
        kind="tools",
        template="imports/preview.html",
        context=product_page(request, product, tab="backlog"),
    )


def _imported(batch: ToolImport) -> tuple[str, str]:
    message = (
        f"Imported {batch.get_tool_display().split(' —')[0]}: {batch.created_count} new, "
        f"{batch.updated_count} updated, {batch.unchanged_count} unchanged."
    )
    return message, reverse("tool_import_preview", args=[batch.product.key, batch.pk])


@login_required
@require_POST
def tool_import_run(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    batch = get_object_or_404(ToolImport.objects.select_related("product"), product=product, pk=pk)
    return background_started(
        request,
        batch,
        lambda: services.tool_import_start(batch=batch, actor=request.user),
        template="imports/preview.html",
        context=product_page(request, product, tab="backlog"),
        preview=_preview_context,
        done=_imported,
        preview_url=reverse("tool_import_preview", args=[product.key, batch.pk]),
    )
