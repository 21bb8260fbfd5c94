"""Pages and fragments built on suggestions by meaning (issue 16): "probably about" and
"possible duplicates" while the team types, "similar ideas" while a portal visitor types, the
duplicates review with merges, themes, and the decisions that measure suggestion precision."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from backlog import services as backlog_services
from backlog.models import Feature, Idea
from feedback import selectors, semantic_selectors
from feedback.models import FeedbackItem, FeedbackTheme
from feedback.portal_views import _limit, _portal_or_404, over_limit
from feedback.services.suggestions import feedback_merge, suggestion_decide, theme_link_feature
from pm.choices import Role
from pm.htmx import render_fragment, render_page
from pm.http import AuthedHttpRequest
from pm.permissions import get_product_for_user
from pm.views_support import product_page
from pm.visibility import Section

KINDS = ("feedback", "idea", "feature")


def _text(request: HttpRequest) -> str:
    parts = [request.GET.get(name, "") for name in ("text", "content", "title", "description")]
    return " ".join(" ".join(parts).split())[:1000]


@login_required
@require_GET
def similar_targets(request: AuthedHttpRequest, key: str) -> HttpResponse:
    """What a new feedback item, idea or feature probably is already (htmx, while typing)."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    kind = request.GET.get("for", "feedback")
    if kind not in KINDS:
        kind = "feedback"
    text = _text(request)
    found = selectors.suggest_targets(product=product, text=text, limit=5) if len(text) >= 6 else []
    return render_fragment(
        request,
        "feedback/_similar.html",
        "similar",
        {"product": product, "found": found, "kind": kind, "typed": bool(text)},
    )


@require_GET
def portal_similar(request: HttpRequest, key: str) -> HttpResponse:
    """Published ideas like the visitor's draft (htmx, debounced): vote instead of repeating."""
    portal = _portal_or_404(key)
    if over_limit(request, "similar", _limit("FEEDBACK_PORTAL_SIMILAR_PER_HOUR", 600)):
        return HttpResponse("", status=429)
    posts = selectors.similar_posts(product=portal.product, text=_text(request))
    return render_fragment(
        request,
        "feedback/portal/_similar.html",
        "similar",
        {"portal": portal, "portal_product": portal.product, "posts": posts},
    )


# --- duplicates review ------------------------------------------------------------------------


@login_required
@require_GET
def duplicates(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM, section=Section.FEEDBACK)
    context = product_page(request, product, tab="feedback_inbox", section="duplicates")
    context.update(
        idea_pairs=semantic_selectors.duplicate_ideas(product),
        feedback_pairs=semantic_selectors.duplicate_feedback(product),
        precision=semantic_selectors.precision(product),
    )
    return render_page(request, "feedback/duplicates.html", context)


@login_required
@require_POST
def duplicates_decide(request: AuthedHttpRequest, key: str) -> HttpResponse:
    """Merge a proposed pair, or say it is not a duplicate (remembered, not proposed again)."""
    product = get_product_for_user(request.user, key, need=Role.PM, section=Section.FEEDBACK)
    kind = request.POST.get("kind")
    action = request.POST.get("action")
    source_id = request.POST.get("source", "")
    target_id = request.POST.get("target", "")
    if (
        kind not in ("idea", "feedback")
        or action not in ("merge", "reject")
        or not (source_id.isdecimal() and target_id.isdecimal())
    ):
        messages.error(request, "Choose a proposed pair and what to do with it.")
        return redirect("feedback_duplicates", key=product.key)
    source: Idea | FeedbackItem
    target: Idea | FeedbackItem
    if kind == "idea":
        source = get_object_or_404(Idea, pk=source_id, product=product)
        target = get_object_or_404(Idea, pk=target_id, product=product)
    else:
        source = get_object_or_404(FeedbackItem, pk=source_id, product=product)
        target = get_object_or_404(FeedbackItem, pk=target_id, product=product)
    try:
        if action == "merge":
            if isinstance(source, Idea) and isinstance(target, Idea):
                backlog_services.idea_merge(idea=source, into=target, actor=request.user)
            elif isinstance(source, FeedbackItem) and isinstance(target, FeedbackItem):
                feedback_merge(item=source, into=target, actor=request.user)
            messages.success(request, f"Merged “{_label(source)}” into “{_label(target)}”.")
        else:
            messages.success(request, "Noted: not a duplicate. It will not be proposed again.")
        suggestion_decide(
            product=product,
            kind="duplicate",
            source=(kind, source.pk),
            target=(kind, target.pk),
            accepted=action == "merge",
            actor=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("feedback_duplicates", key=product.key)


def _label(obj: Idea | FeedbackItem) -> str:
    return obj.title if isinstance(obj, Idea) else f"feedback #{obj.pk}"


@login_required
@require_POST
def suggestion_dismiss(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """ "Not about this": a triage suggestion the PM rejects (counted in the precision)."""
    product = get_product_for_user(request.user, key, need=Role.PM, section=Section.FEEDBACK)
    item = get_object_or_404(FeedbackItem, pk=pk, product=product)
    kind, _, target_id = request.POST.get("dismiss", "").partition(":")
    if kind not in ("feature", "idea") or not target_id.isdecimal():
        messages.error(request, "Choose one of the suggestions.")
        return redirect("feedback_detail", key=product.key, pk=item.pk)
    target: Feature | Idea
    if kind == "feature":
        target = get_object_or_404(Feature, pk=int(target_id), product=product)
    else:
        target = get_object_or_404(Idea, pk=int(target_id), product=product)
    suggestion_decide(
        product=product,
        kind="link",
        source=("feedback", item.pk),
        target=(kind, target.pk),
        accepted=False,
        actor=request.user,
    )
    messages.success(request, f"“{target.title}” will not be suggested for this item again.")
    return redirect("feedback_detail", key=product.key, pk=item.pk)


# --- themes ---------------------------------------------------------------------------------------


@login_required
@require_GET
def themes(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, section=Section.FEEDBACK)
    context = product_page(request, product, tab="feedback_inbox", section="themes")
    context.update(
        themes=semantic_selectors.theme_rows(product, with_arr=context["sees_internal"]),
        features=Feature.objects.filter(product=product)
        .exclude(status="archived")
        .order_by("title")
        .only("id", "title")[:500],
    )
    return render_page(request, "feedback/themes.html", context)


@login_required
@require_POST
def theme_link(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """Link every feedback item of a theme to a feature, as insights, in one step."""
    product = get_product_for_user(request.user, key, need=Role.PM, section=Section.FEEDBACK)
    theme = get_object_or_404(FeedbackTheme, pk=pk, product=product)
    feature = Feature.objects.filter(product=product, pk=request.POST.get("feature") or 0).first()
    if feature is None:
        messages.error(request, "Choose a feature of this product.")
        return redirect("feedback_themes", key=product.key)
    linked = theme_link_feature(theme=theme, feature=feature, actor=request.user)
    messages.success(request, f"Linked {linked} feedback items to “{feature.title}”.")
    return redirect("feedback_themes", key=product.key)


@login_required
@require_POST
def themes_recluster(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM, section=Section.FEEDBACK)
    from feedback.tasks import recluster_themes
    from pm.background import run_in_background

    run_in_background(recluster_themes, product.pk)
    messages.success(request, "Themes are being worked out again from all the feedback.")
    return redirect("feedback_themes", key=product.key)
