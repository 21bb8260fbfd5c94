"""Ideas: the inbox of raw requests, and accepting, declining or merging them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from backlog import selectors, services
from backlog.api import IdeaSerializer
from backlog.choices import CustomFieldTarget, IdeaSource, IdeaStatus
from backlog.forms import DeclineForm, IdeaEditForm, IdeaForm, MergeForm
from backlog.models import Idea
from backlog.views.common import _context, _history, _idea_or_404
from backlog.views_fields import values_context
from pm.choices import Role
from pm.exports import list_export
from pm.htmx import is_partial, render_fragment, render_page, replace, toast
from pm.http import AuthedHttpRequest
from pm.models import Product
from pm.permissions import get_product_for_user
from pm.registry import registry
from pm.views_support import add_service_errors, panels_for, saved_redirect, versioned_edit
from pm.visibility import Section, viewer_of


def _idea_filters(request: HttpRequest) -> dict[str, str]:
    filters = {k: request.GET.get(k, "") for k in ("status", "source", "q", "sort")}
    if "status" not in request.GET:
        filters["status"] = "open"
    return filters


IDEAS_PAGE_SIZE = 50


def _ideas_context(request, product, **extra) -> dict[str, Any]:
    filters = _idea_filters(request) if request.method == "GET" else {"status": "open"}
    qs = selectors.idea_list(product=product, user=request.user, filters=filters)
    page = Paginator(qs, IDEAS_PAGE_SIZE).get_page(
        request.GET.get("page") if request.method == "GET" else 1
    )
    return _context(
        request,
        product,
        "ideas",
        ideas=list(page.object_list),
        page=page,
        filters=filters,
        # The filters as a query string, for the page links and the export (an empty status
        # is kept: "all", not the default "open").
        filter_query=urlencode({k: v for k, v in filters.items() if v or k == "status"}),
        status_choices=[("open", "Open"), *IdeaStatus.choices],
        source_choices=IdeaSource.choices,
        **extra,
    )


@login_required
@require_GET
def ideas(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, section=Section.IDEAS)
    return render_page(
        request, "backlog/ideas.html", _ideas_context(request, product), partial="idea-list"
    )


@login_required
@require_GET
def ideas_export(request: AuthedHttpRequest, key: str) -> HttpResponseBase:
    """The ideas as filtered on the page, with their votes, as CSV, JSON or XLSX."""
    return list_export(
        request,
        key,
        section=Section.IDEAS,
        rows=lambda product: selectors.idea_list(
            product=product, user=request.user, filters=_idea_filters(request)
        ),
        serializer_class=IdeaSerializer,
        name="ideas",
    )


def _from_idea_page(request: HttpRequest, product: Product, idea: Idea | None) -> bool:
    """Was this htmx request made from the idea's own page (not the Ideas list)?"""
    if idea is None:
        return False
    current = urlparse(request.headers.get("HX-Current-URL", "")).path
    return current == reverse("idea_detail", args=[product.key, idea.pk])


def _ideas_list_response(
    request, product, message: str, level: str = "success", idea: Idea | None = None
) -> HttpResponse:
    if is_partial(request) and idea is not None and _from_idea_page(request, product, idea):
        # Triage from the idea's page: back to that page, which shows the outcome.
        (messages.success if level == "success" else messages.error)(request, message)
        return HttpResponseClientRedirect(reverse("idea_detail", args=[product.key, idea.pk]))
    if not is_partial(request):
        messages.success(request, message)
        return redirect("ideas", key=product.key)
    response = render_fragment(
        request, "backlog/ideas.html", "idea-list", _ideas_context(request, product)
    )
    return toast(replace(response, "#idea-list"), message, level)


@login_required
@require_http_methods(["GET", "POST"])
def idea_new(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    form = IdeaForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            idea = services.idea_create(product=product, data=form.model_data(), actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _ideas_list_response(request, product, f"Idea “{idea.title}” captured.")
    context = _context(request, product, "ideas", form=form)
    if not is_partial(request):
        return render_page(request, "backlog/idea_form.html", context)
    return render_fragment(request, "backlog/ideas.html", "idea-form", context)


def _idea_context(request, product, idea, **extra) -> dict[str, Any]:
    context = _context(request, product, "ideas", idea=idea, **extra)
    context.update(
        history=_history(idea, viewer_of(product)),
        merged_ideas=list(idea.merged_ideas.order_by("title").only("id", "title", "product_id")),
        panels=panels_for(request, product, registry.idea_panels, idea),
        triageable=idea.status in (IdeaStatus.NEW, IdeaStatus.UNDER_REVIEW),
        **_idea_votes(request, idea, context.get("can_work")),
        **values_context(
            request,
            product,
            idea,
            CustomFieldTarget.IDEA,
            reverse("idea_values", args=[product.key, idea.pk]),
            context["can_edit"],
        ),
    )
    return context


VOTERS_SHOWN = 50


def _idea_votes(request, idea, can_work) -> dict[str, Any]:
    """The reader's own vote, and (for the team) who voted from the page: two queries."""
    voters = []
    if can_work:
        voters = list(
            idea.voters.order_by("first_name", "username").only(
                "username", "first_name", "last_name"
            )[: VOTERS_SHOWN + 1]
        )
    if can_work and len(voters) <= VOTERS_SHOWN:
        voted = any(v.pk == request.user.pk for v in voters)
    else:
        voted = idea.voters.filter(pk=request.user.pk).exists()
    return {
        "voters": voters[:VOTERS_SHOWN],
        "more_voters": len(voters) > VOTERS_SHOWN,
        "voted": voted,
        "can_vote": idea.status != IdeaStatus.MERGED,
    }


@login_required
@require_GET
def idea_detail(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """One idea: its wording, who asked, votes, triage outcome, linked feedback, history."""
    product = get_product_for_user(request.user, key, section=Section.IDEAS)
    idea = _idea_or_404(product, pk)
    return render_page(request, "backlog/idea.html", _idea_context(request, product, idea))


@login_required
@require_http_methods(["GET", "POST"])
def idea_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    idea = _idea_or_404(product, pk)
    edit = versioned_edit(
        request, IdeaEditForm, idea, lambda form, **kw: services.idea_update(idea=idea, **kw)
    )
    if edit.saved:
        return saved_redirect(
            request, f"Saved “{edit.saved.title}”.", "idea_detail", product.key, idea.pk
        )
    context = _idea_context(request, product, idea, form=edit.form, editing=True)
    if not is_partial(request):
        return render_page(request, "backlog/idea.html", context)
    return render_fragment(request, "backlog/idea.html", "idea-edit-form", context)


@login_required
@require_POST
def idea_vote(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """The reader's own vote (voted=1 to vote, 0 to take it back; idempotent)."""
    product = get_product_for_user(request.user, key, section=Section.IDEAS)
    idea = _idea_or_404(product, pk)
    wanted = request.POST.get("voted", "1") != "0"
    try:
        idea = services.idea_vote(idea=idea, user=request.user, voted=wanted)
    except ValidationError as exc:
        message, level = " ".join(exc.messages), "error"
    else:
        message = "Your vote counts." if wanted else "Your vote was taken back."
        level = "success"
    if not is_partial(request):
        (messages.success if level == "success" else messages.error)(request, message)
        return redirect("idea_detail", key=product.key, pk=idea.pk)
    context = _idea_context(request, product, idea)
    response = render_fragment(request, "backlog/idea.html", "idea-votes", context)
    return toast(response, message, level)


@login_required
@require_POST
def idea_review(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """Triage has begun: the idea is “under review”."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    idea = _idea_or_404(product, pk)
    try:
        services.idea_start_review(idea=idea, actor=request.user)
    except ValidationError as exc:
        return _ideas_list_response(request, product, " ".join(exc.messages), "error", idea)
    return _ideas_list_response(request, product, f"“{idea.title}” is under review.", idea=idea)


@login_required
@require_POST
def idea_accept(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    idea = _idea_or_404(product, pk)
    try:
        feature = services.idea_accept(idea=idea, actor=request.user)
    except ValidationError as exc:
        return _ideas_list_response(request, product, " ".join(exc.messages), "error", idea)
    return _ideas_list_response(
        request,
        product,
        f"Accepted: “{feature.title}” is now at the bottom of the backlog.",
        idea=idea,
    )


@login_required
@require_http_methods(["GET", "POST"])
def idea_decline(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    idea = _idea_or_404(product, pk)
    form = DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.idea_decline(idea=idea, reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _ideas_list_response(request, product, f"Declined “{idea.title}”.", idea=idea)
    if not is_partial(request):
        return redirect("ideas", key=product.key)
    context = _context(request, product, "ideas", form=form, idea=idea)
    return render_fragment(request, "backlog/ideas.html", "decline-form", context)


@login_required
@require_http_methods(["GET", "POST"])
def idea_merge(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    idea = _idea_or_404(product, pk)
    form = MergeForm(request.POST or None, targets=selectors.idea_merge_targets(idea))
    if request.method == "POST" and form.is_valid():
        try:
            target = services.idea_merge(
                idea=idea, into=form.cleaned_data["into"], actor=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _ideas_list_response(
                request,
                product,
                f"Merged “{idea.title}” into “{target.title}”: {target.merge_summary}",
                idea=idea,
            )
    if not is_partial(request):
        return redirect("ideas", key=product.key)
    context = _context(request, product, "ideas", form=form, idea=idea)
    return render_fragment(request, "backlog/ideas.html", "merge-form", context)
