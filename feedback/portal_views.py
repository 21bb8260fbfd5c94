"""The public ideas portal: anonymous visitors browse published ideas, submit ideas (moderated)
and vote — one vote per confirmed e-mail address or per signed-in user.

Nothing here reads customers or internal fields: only a post's public copy, its vote count and
a public status derived from the backlog. Writes are rate limited per IP through the cache
(Redis in production), and forms carry a honeypot field."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from feedback import selectors, tokens
from feedback.choices import PostStatus
from feedback.forms import PortalSubmitForm, PortalVoteForm
from feedback.models import PortalPost, PortalSettings, PortalVote
from feedback.services import portal as portal_services
from pm.clientip import client_ip
from pm.lockout import CACHE_ERRORS

WINDOW = 60 * 60
log = logging.getLogger(__name__)


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _portal_or_404(key: str) -> PortalSettings:
    portal = selectors.portal_for_key(key)
    if portal is None:
        raise Http404("No ideas portal here.")
    return portal


def _post_or_404(portal: PortalSettings, pk: int) -> PortalPost:
    post = selectors.public_posts(portal.product).filter(pk=pk).first()
    if post is None:
        raise Http404("No such idea.")
    return post


def over_limit(request: HttpRequest, bucket: str, limit: int) -> bool:
    """Count one attempt for this IP in a fixed one-hour window; True once past `limit`."""
    key = f"feedback:portal:{bucket}:{client_ip(request)}"
    try:
        cache.add(key, 0, timeout=WINDOW)
        try:
            count = cache.incr(key)
        except ValueError:  # the window expired between add and incr
            cache.set(key, 1, timeout=WINDOW)
            count = 1
    except CACHE_ERRORS:  # Redis down: the portal keeps working, unthrottled, with a warning
        log.warning("Ideas-portal rate limit skipped: the cache is unreachable (failing open).")
        return False
    return count > limit


def _render(
    request: HttpRequest, template: str, portal: PortalSettings, status: int = 200, **context: Any
) -> HttpResponse:
    context.update(portal=portal, portal_product=portal.product)
    return render(request, template, context, status=status)


def _too_many(request, portal: PortalSettings) -> HttpResponse:
    return _render(
        request,
        "feedback/portal/message.html",
        portal,
        status=429,
        heading="Slow down a little",
        message="Too many attempts from your network in the last hour. Try again later.",
    )


@require_GET
def portal_home(request: HttpRequest, key: str) -> HttpResponse:
    portal = _portal_or_404(key)
    sort = "new" if request.GET.get("sort") == "new" else "top"
    page = Paginator(selectors.public_posts(portal.product, sort), 30).get_page(
        request.GET.get("page")
    )
    voted: set[int] = set()
    if request.user.is_authenticated:
        voted = set(
            PortalVote.objects.filter(
                user=request.user, post_id__in=[p.pk for p in page.object_list]
            ).values_list("post_id", flat=True)
        )
    rows = [(post, selectors.public_status(post), post.pk in voted) for post in page.object_list]
    return _render(request, "feedback/portal/home.html", portal, page=page, rows=rows, sort=sort)


def _idea_page(request, portal, post, form=None, status=200):
    voted = (
        request.user.is_authenticated
        and PortalVote.objects.filter(post=post, user=request.user).exists()
    )
    return _render(
        request,
        "feedback/portal/idea.html",
        portal,
        status=status,
        post=post,
        public_status=selectors.public_status(post),
        form=form or PortalVoteForm(),
        voted=voted,
    )


@require_GET
def portal_idea(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    portal = _portal_or_404(key)
    return _idea_page(request, portal, _post_or_404(portal, pk))


@require_POST
def portal_vote(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    portal = _portal_or_404(key)
    post = _post_or_404(portal, pk)
    if over_limit(request, "vote", _limit("FEEDBACK_PORTAL_VOTES_PER_HOUR", 20)):
        return _too_many(request, portal)
    if request.user.is_authenticated:
        try:
            _vote, created = portal_services.portal_vote_by_user(post=post, user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if created:
                messages.success(request, "Thanks — your vote counts.")
            else:
                messages.info(request, "You already voted for this idea.")
        return redirect("portal_idea", key=portal.product.key, pk=post.pk)
    form = PortalVoteForm(request.POST)
    check_inbox: dict[str, Any] = {
        "heading": "Check your inbox",
        "message": (
            "We sent you a link. Your vote counts once you follow it — one vote per address."
        ),
        "back": post,
    }
    if form.is_bot:
        # Answered like a success so the bot learns nothing; nothing is stored or sent.
        return _render(request, "feedback/portal/message.html", portal, **check_inbox)
    if not form.is_valid():
        return _idea_page(request, portal, post, form=form)
    try:
        portal_services.portal_vote_request(post=post, email=form.cleaned_data["email"])
    except ValidationError as exc:
        form.add_error(None, exc)
        return _idea_page(request, portal, post, form=form)
    # The same answer whether or not the address had voted: it does not reveal who voted.
    return _render(request, "feedback/portal/message.html", portal, **check_inbox)


@require_http_methods(["GET", "POST"])
def portal_vote_confirm(request: HttpRequest, key: str, token: str) -> HttpResponse:
    portal = _portal_or_404(key)
    vote = tokens.vote_from_token(token)
    if vote is None or vote.post.product_id != portal.product_id:
        return _render(
            request,
            "feedback/portal/message.html",
            portal,
            status=400,
            heading="This link does not work",
            message="It may have expired or been copied incompletely. Vote again to get a "
            "new link.",
        )
    post = vote.post
    if post.status != PostStatus.PUBLISHED:
        raise Http404("No such idea.")
    if request.method == "POST" and vote.confirmed_at is None:
        portal_services.portal_vote_confirm(vote=vote)
        return _render(
            request,
            "feedback/portal/message.html",
            portal,
            heading="Your vote counts",
            message=f"Thanks for voting for “{post.title}”.",
            back=post,
        )
    return _render(request, "feedback/portal/confirm.html", portal, vote=vote, post=post)


@require_http_methods(["GET", "POST"])
def portal_submit(request: HttpRequest, key: str) -> HttpResponse:
    portal = _portal_or_404(key)
    if not portal.accept_submissions:
        return _render(
            request,
            "feedback/portal/message.html",
            portal,
            heading="Submissions are closed",
            message="You can still vote for the ideas on the portal.",
        )
    form = PortalSubmitForm(request.POST or None)
    thanks: dict[str, Any] = {
        "heading": "Thanks for your idea",
        "message": "The product team reads every submission and publishes it here once "
        "reviewed, usually within a few days.",
    }
    if request.method == "POST":
        if over_limit(request, "submit", _limit("FEEDBACK_PORTAL_SUBMISSIONS_PER_HOUR", 5)):
            return _too_many(request, portal)
        if form.is_bot:
            return _render(request, "feedback/portal/message.html", portal, **thanks)
        if form.is_valid():
            try:
                portal_services.portal_post_submit(
                    product=portal.product,
                    title=form.cleaned_data["title"],
                    description=form.cleaned_data["description"],
                    email=form.cleaned_data["email"],
                    user=request.user if isinstance(request.user, User) else None,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return _render(request, "feedback/portal/message.html", portal, **thanks)
    return _render(request, "feedback/portal/submit.html", portal, form=form)
