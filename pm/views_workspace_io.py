"""The admin's "Move this workspace" buttons (members page): download the whole workspace as
the document `manage.py export_workspace` prints, and create a new workspace from one."""

import json

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from pm import workspace_io
from pm.choices import Role
from pm.htmx import render_page
from pm.http import AuthedHttpRequest
from pm.permissions import get_workspace_for_user


class WorkspaceImportForm(forms.Form):
    file = forms.FileField(label="Export file (.json)")
    slug = forms.SlugField(
        label="Address of the new workspace",
        max_length=60,
        required=False,
        help_text="Leave empty to keep the exported one (if it is free here).",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.WORKSPACE_IMPORT_MAX_MB * 1024 * 1024
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is larger than {settings.WORKSPACE_IMPORT_MAX_MB} MB: use "
                "manage.py import_workspace on the server."
            )
        try:
            return json.load(upload)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise forms.ValidationError("This file is not JSON.") from None


@login_required
@require_GET
def workspace_export(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    """Every record of the workspace, its history and its members, as one JSON file."""
    workspace = get_workspace_for_user(request.user, slug, need=Role.ADMIN)
    text = workspace_io.dumps(workspace_io.export_workspace(workspace))
    response = HttpResponse(text, content_type="application/json; charset=utf-8")
    name = f"{workspace.slug}-{timezone.localdate().isoformat()}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def workspace_import(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    """A new workspace from an export file; the importing admin is an admin of it."""
    workspace = get_workspace_for_user(request.user, slug, need=Role.ADMIN)
    request.lodestar_workspace = workspace
    form = WorkspaceImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = workspace_io.import_workspace(
                form.cleaned_data["file"],
                slug=form.cleaned_data["slug"] or None,
                admin=request.user,
            )
        except workspace_io.ImportRefused as exc:
            form.add_error(None, str(exc))
        else:
            total = sum(workspace_io.counts(form.cleaned_data["file"]).values())
            messages.success(request, f"Imported “{created.name}”: {total} records.")
            return redirect("workspace_detail", slug=created.slug)
    return render_page(request, "pm/workspace_import.html", {"workspace": workspace, "form": form})
