"""Sprints: the list, the board and sprint planning."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from backlog import retro, selectors, services
from backlog.api import StorySerializer
from backlog.choices import StoryStatus
from backlog.forms import SprintForm
from backlog.models import Sprint
from backlog.views.common import _context, _int_or_none, _sprint_or_404, _story_or_404
from pm.choices import Role
from pm.exports import list_export
from pm.htmx import is_partial, render_fragment, render_page, replace, toast
from pm.http import AuthedHttpRequest
from pm.permissions import get_product_for_user
from pm.services import EditConflict
from pm.views_support import add_service_errors, saved_redirect, versioned_edit
from pm.visibility import Section, viewer_of

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def _sprints_context(request, product, **extra) -> dict[str, Any]:
    sprints = list(selectors.sprint_list(product=product).order_by("-start"))
    points = selectors.velocity(product)
    current = selectors.current_sprint(product)
    chart = {
        "labels": [p.sprint for p in points],
        "done": [p.done for p in points],
        "committed": [p.committed for p in points],
    }
    return _context(
        request,
        product,
        "sprints",
        sprints=sprints,
        current=current,
        velocity=points,
        average_velocity=selectors.average_velocity(points),
        chart=chart,
        **extra,
    )


@login_required
@require_GET
def sprints(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, section=Section.SPRINTS)
    return render_page(request, "backlog/sprints.html", _sprints_context(request, product))


@login_required
@require_http_methods(["GET", "POST"])
def sprint_new(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    form = SprintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sprint = services.sprint_create(
                product=product, data=form.model_data(), actor=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{sprint.name} created. Now plan it.")
            plan = reverse("sprint_plan", args=[product.key, sprint.pk])
            # The form sits in a dialog on the sprints list; the new sprint's page replaces it.
            return HttpResponseClientRedirect(plan) if is_partial(request) else redirect(plan)
    context = _context(request, product, "sprints", form=form)
    if not is_partial(request):
        return render_page(request, "backlog/sprint_form.html", context)
    return render_fragment(request, "backlog/sprints.html", "sprint-form", context)


@login_required
@require_http_methods(["GET", "POST"])
def sprint_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    sprint = _sprint_or_404(product, pk)
    edit = versioned_edit(
        request, SprintForm, sprint, lambda form, **kw: services.sprint_update(sprint=sprint, **kw)
    )
    if edit.saved:
        message = f"{edit.saved.name} saved."
        return saved_redirect(request, message, "sprint_board", key=product.key, pk=sprint.pk)
    context = _context(request, product, "sprints", form=edit.form, sprint=sprint)
    if not is_partial(request):
        return render_page(request, "backlog/sprint_form.html", context)
    return render_fragment(request, "backlog/sprints.html", "sprint-form", context)


def _commitment(sprint: WithAnnotations[Sprint, selectors.SprintPoints]) -> dict[str, Any]:
    committed, capacity = sprint.committed_points, sprint.capacity
    return {
        "committed": committed,
        "capacity": capacity,
        "over": committed > capacity,
        "over_by": committed - capacity,
        "left": max(capacity - committed, 0),
        "percent": round(100 * committed / capacity) if capacity else (100 if committed else 0),
    }


@login_required
@require_GET
def sprint_board(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, section=Section.SPRINTS)
    sprint = _sprint_or_404(product, pk)
    return render_page(
        request, "backlog/board.html", board_context(request, product, sprint), partial="board"
    )


@login_required
@require_GET
def sprint_stories_export(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponseBase:
    """A sprint's stories (optionally of one `status` or `assignee`, as the stories API
    filters them), in rank order, as CSV, JSON or XLSX."""

    def rows(product):
        sprint = _sprint_or_404(product, pk)
        filters = {k: request.GET.get(k, "") for k in ("status", "assignee")}
        return selectors.story_list(
            product=product, user=request.user, filters={**filters, "sprint": sprint.pk}
        )

    return list_export(
        request,
        key,
        section=Section.SPRINTS,
        rows=rows,
        serializer_class=StorySerializer,
        name="stories",
        extra={"feature_title": lambda story: story.feature.title},
    )


def board_context(request, product, sprint) -> dict[str, Any]:
    """The sprint board: a column of story cards per status, and the commitment."""
    columns = selectors.board_stories(sprint, viewer_of(product))
    return _context(
        request,
        product,
        "sprints",
        sprint=sprint,
        columns=[(StoryStatus(s), columns[s]) for s in StoryStatus.values],
        commitment=_commitment(sprint),
        sprints=list(selectors.sprint_list(product=product).order_by("-start")[:12]),
    )


def _plan_context(request, product, sprint, refresh: bool = True, **extra) -> dict[str, Any]:
    if refresh:  # committed points after a change
        sprint = _sprint_or_404(product, sprint.pk)
    return _context(
        request,
        product,
        "sprints",
        sprint=sprint,
        commitment=_commitment(sprint),
        candidates=list(selectors.plannable_stories(product)[:300]),
        planned=list(
            selectors.story_list(product=product, user=request.user, filters={"sprint": sprint.pk})
        ),
        **extra,
    )


@login_required
@require_GET
def sprint_plan(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    sprint = _sprint_or_404(product, pk)
    context = _plan_context(request, product, sprint, refresh=False)
    # What earlier retrospectives agreed and nobody has done yet (backlog.retro).
    context["open_actions"] = list(retro.open_action_items(product=product, before=sprint))
    return render_page(request, "backlog/plan.html", context, partial="plan")


@login_required
@require_POST
def sprint_plan_story(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """Move a story into the sprint (action=add) or back to the backlog (action=remove)."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    sprint = _sprint_or_404(product, pk)
    number = _int_or_none(request.POST.get("story"))
    action = request.POST.get("action")
    message, level = "", "success"
    if number is None or action not in ("add", "remove"):
        message, level = "Choose a story to add or remove.", "error"
    else:
        story = _story_or_404(request, product, number)
        try:
            story = services.story_update(
                story=story,
                data={"sprint": sprint if action == "add" else None},
                expected_version=_int_or_none(request.POST.get("version")) or story.version,
                actor=request.user,
            )
        except EditConflict as conflict:
            message, level = conflict.message(), "error"
        else:
            message = (
                f"{story.key} added to {sprint.name}."
                if action == "add"
                else f"{story.key} moved back to the backlog."
            )
    if not is_partial(request):
        return redirect("sprint_plan", key=product.key, pk=sprint.pk)
    context = _plan_context(request, product, sprint)
    if level == "success" and context["commitment"]["over"]:
        message += f" Over capacity by {context['commitment']['over_by']} points."
        level = "warning"
    response = render_fragment(request, "backlog/plan.html", "plan", context)
    return toast(replace(response, "#plan"), message, level)
