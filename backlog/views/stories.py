"""User stories: detail, editing, acceptance criteria, status and rank."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backlog import services
from backlog.choices import CustomFieldTarget, StoryStatus
from backlog.forms import CriterionForm, EngineerStoryForm, StoryForm, StoryStatusForm
from backlog.views.common import (
    _context,
    _feature_or_404,
    _history,
    _int_or_none,
    _sprint_or_404,
    _story_or_404,
)
from backlog.views.features import _feature_context
from backlog.views.sprints import board_context
from backlog.views_fields import values_context
from pm.choices import Role
from pm.htmx import is_partial, render_fragment, render_page, replace, toast
from pm.http import AuthedHttpRequest
from pm.permissions import get_product_for_user
from pm.registry import registry
from pm.services import EditConflict
from pm.views_support import panels_for, versioned_edit
from pm.visibility import Section, viewer_of


def _story_context(request, product, story, **extra) -> dict[str, Any]:
    context = _context(
        request,
        product,
        "backlog",
        story=story,
        history=_history(story, viewer_of(product)),
        statuses=StoryStatus.choices,
        panels=panels_for(request, product, registry.story_panels, story),
        **extra,
    )
    context.update(
        values_context(
            request,
            product,
            story,
            CustomFieldTarget.STORY,
            reverse("story_values", args=[product.key, story.number]),
            context["can_work"],
        )
    )
    return context


@login_required
@require_GET
def story_detail(request: AuthedHttpRequest, key: str, number: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, section=(Section.BACKLOG, Section.SPRINTS))
    story = _story_or_404(request, product, number)
    return render_page(request, "backlog/story.html", _story_context(request, product, story))


@login_required
@require_http_methods(["GET", "POST"])
def story_edit(request: AuthedHttpRequest, key: str, number: int) -> HttpResponse:
    """PMs edit the whole story; engineers status, points and assignee."""
    product = get_product_for_user(request.user, key, need=Role.ENGINEER)
    story = _story_or_404(request, product, number)
    form_class = StoryForm if product.membership.allows(Role.PM) else EngineerStoryForm
    edit = versioned_edit(
        request,
        form_class,
        story,
        lambda form, **kw: services.story_update(story=story, **kw),
        product=product,
    )
    if edit.saved:
        story = _story_or_404(request, product, number)
        if not is_partial(request):
            messages.success(request, f"Saved {story.key}.")
            return redirect("story_detail", key=product.key, number=story.number)
        context = _story_context(request, product, story)
        response = render_fragment(request, "backlog/story.html", "story-main", context)
        return toast(replace(response, "#story-main"), f"Saved {story.key}.")
    context = _story_context(request, product, story, form=edit.form, editing=True)
    if not is_partial(request):
        return render_page(request, "backlog/story.html", context)
    return render_fragment(request, "backlog/story.html", "story-form", context)


@login_required
@require_POST
def story_criterion(request: AuthedHttpRequest, key: str, number: int, index: int) -> HttpResponse:
    """Check an acceptance criterion off, or on again."""
    product = get_product_for_user(request.user, key, need=Role.ENGINEER)
    story = _story_or_404(request, product, number)
    form = CriterionForm(request.POST)
    message, level = "", "success"
    if form.is_valid():
        try:
            story = services.story_set_criterion(
                story=story,
                index=index,
                text=form.cleaned_data["text"],
                done=form.cleaned_data["done"],
                actor=request.user,
            )
            message = (
                "Criterion checked off." if form.cleaned_data["done"] else "Criterion reopened."
            )
        except EditConflict:
            message, level = (
                "The criteria changed meanwhile; here they are as they stand now.",
                "error",
            )
    else:
        message, level = "That criterion could not be found.", "error"
    story = _story_or_404(request, product, number)
    if not is_partial(request):
        return redirect("story_detail", key=product.key, number=story.number)
    context = _story_context(request, product, story)
    response = render_fragment(request, "backlog/story.html", "story-main", context)
    return toast(replace(response, "#story-main"), message, level)


@login_required
@require_POST
def story_move(request: AuthedHttpRequest, key: str, number: int) -> HttpResponse:
    """Drag and drop in a feature's story list: the story and its new neighbours (numbers)."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    story = _story_or_404(request, product, number)
    neighbours = {}
    for name in ("above", "below"):
        value = _int_or_none(request.POST.get(name))
        neighbours[name] = _story_or_404(request, product, value) if value else None
    try:
        services.story_move(story=story, actor=request.user, **neighbours)
    except ValidationError as exc:
        message, level = " ".join(exc.messages), "error"
    else:
        message, level = f"Moved {story.key}.", "success"
    if not is_partial(request):
        getattr(messages, level)(request, message)
        return redirect("feature_detail", key=product.key, pk=story.feature_id)
    # The list as saved: the drop's order, or the old one back when the move was refused.
    context = _feature_context(
        request, product, _feature_or_404(request, product, story.feature_id)
    )
    response = render_fragment(request, "backlog/feature.html", "story-list", context)
    return toast(replace(response, "#stories"), message, level)


@login_required
@require_POST
def story_status(request: AuthedHttpRequest, key: str, number: int) -> HttpResponse:
    """The board's drag and drop: a new status for a story, refused (409) if the card was
    stale. The board comes back as saved."""
    product = get_product_for_user(request.user, key, need=Role.ENGINEER)
    story = _story_or_404(request, product, number)
    form = StoryStatusForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose a valid status.")
    status = 200
    try:
        story = services.story_update(
            story=story,
            data={"status": form.cleaned_data["status"]},
            expected_version=form.cleaned_data["version"],
            actor=request.user,
        )
    except EditConflict as conflict:
        message, level, status = conflict.message(), "error", 409
    except PermissionDenied as exc:
        message, level = str(exc), "error"
    else:
        label = StoryStatus(story.status).label
        message, level = f"{product.key}-{story.number} moved to {label}.", "success"
    if story.sprint_id is None or not is_partial(request):
        getattr(messages, level)(request, message)
        return redirect("story_detail", key=product.key, number=story.number)
    sprint = _sprint_or_404(product, story.sprint_id)
    context = board_context(request, product, sprint)
    response = render_fragment(request, "backlog/board.html", "board", context, status=status)
    return toast(replace(response, "#board"), message, level)
