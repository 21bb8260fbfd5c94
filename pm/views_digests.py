"""Digest settings and preview, one-click unsubscribe, and the notification menu."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pm import digests, notifications
from pm.choices import DigestFrequency, NotificationKind
from pm.htmx import render_fragment, render_page, toast
from pm.http import AuthedHttpRequest
from pm.models import WEEKDAYS, DigestSubscription, Product
from pm.permissions import get_product_for_user
from pm.views_support import product_page


class DigestSettingsForm(forms.ModelForm):
    class Meta:
        model = DigestSubscription
        fields = ["frequency", "weekday", "hour"]
        widgets = {"hour": forms.Select(choices=[(h, f"{h:02d}:00") for h in range(24)])}
        labels = {"weekday": "Day (weekly digests)", "hour": "Time"}
        help_texts = {"weekday": "", "hour": ""}


def _digest_context(request, product, form=None) -> dict:
    subscription = DigestSubscription.objects.filter(user=request.user, product=product).first()
    preview = digests.digest_preview(
        user=request.user, product=product, role=product.membership.role
    )
    return product_page(
        request,
        product,
        can_edit=False,
        form=form or DigestSettingsForm(instance=subscription),
        subscription=subscription,
        preview=preview,
        weekdays=WEEKDAYS,
    )


@login_required
@require_http_methods(["GET", "POST"])
def digest_preview(request: AuthedHttpRequest, key: str) -> HttpResponse:
    """Settings for this product's digest, and the digest you would get now."""
    product = get_product_for_user(request.user, key)
    if request.method == "POST":
        form = DigestSettingsForm(request.POST)
        if form.is_valid():
            digests.digest_subscription_set(user=request.user, product=product, **form.cleaned_data)
            response = render_page(
                request, "pm/digest.html", _digest_context(request, product), partial="settings"
            )
            frequency = DigestFrequency(form.cleaned_data["frequency"]).label.lower()
            return toast(response, f"Digest for {product.name}: {frequency}.")
        return render_page(
            request, "pm/digest.html", _digest_context(request, product, form), partial="settings"
        )
    return render_page(request, "pm/digest.html", _digest_context(request, product))


@require_GET
@login_required
def digest_email_preview(request: AuthedHttpRequest, key: str) -> HttpResponse:
    """The HTML part of the e-mail exactly as sent, for the preview frame."""
    product = get_product_for_user(request.user, key)
    preview = digests.digest_preview(
        user=request.user, product=product, role=product.membership.role
    )
    response = HttpResponse(preview["rendered"]["html"])
    # The e-mail's own inline styles are for mail clients; this page is framed by our own page.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@csrf_exempt  # RFC 8058 one-click POSTs come from mail clients; the signed token is the credential
@require_http_methods(["GET", "POST"])
def digest_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows one button (mail scanners prefetch links); POST turns the digest off."""
    payload = digests.unsubscribe_payload(token)
    if payload is None:
        raise Http404("This unsubscribe link is not valid.")
    product = Product.objects.filter(pk=payload["p"]).first()
    if product is None:
        raise Http404("This product no longer exists.")
    done = False
    if request.method == "POST":
        digests.digest_unsubscribe(user_id=payload["u"], product_id=payload["p"])
        done = True
    return render(request, "pm/unsubscribe.html", {"digest_product": product, "done": done})


@login_required
@require_GET
def notification_menu(request: AuthedHttpRequest) -> HttpResponse:
    """The latest notifications for the menu. A GET changes nothing: the fragment asks, by an
    htmx POST to notification_mark_read, to mark the unread ones it shows as read."""
    items = list(notifications.notifications_for(request.user)[:15])
    unread = [n.pk for n in items if n.read_at is None]
    response = render_fragment(
        request,
        "pm/notifications.html",
        "menu",
        {
            "items": items,
            "unread_ids": set(unread),
            "unread_id_list": ",".join(str(pk) for pk in unread),
            "unread_left": notifications.unread_count(request.user),
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_POST
def notification_mark_read(request: AuthedHttpRequest) -> HttpResponse:
    """Mark the given notifications of the signed-in user read (others' ids are ignored);
    answers the unread count badge."""
    raw = ",".join(request.POST.getlist("ids"))
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        return HttpResponse("ids must be notification numbers.", status=400)
    if len(ids) > 200:
        return HttpResponse("Too many ids.", status=400)
    notifications.notifications_mark_read(user=request.user, ids=ids)
    return render_fragment(
        request,
        "pm/notifications.html",
        "count",
        {"unread_left": notifications.unread_count(request.user)},
    )


FILTER_LABELS = {
    NotificationKind.MENTION: "Mentions",
    NotificationKind.COMMENT: "Comments",
    NotificationKind.ASSIGNMENT: "Assignments",
    NotificationKind.FEEDBACK_LINKED: "Linked feedback",
}


def _list_context(request: AuthedHttpRequest) -> dict:
    """The notifications page's filters (`unread=1`, `kind=mention|comment|…`; unknown values
    are ignored) and the notifications they select."""
    unread = request.GET.get("unread") == "1"
    kind = request.GET.get("kind")
    kind = kind if kind in NotificationKind.values else None
    items = list(notifications.notifications_for(request.user, unread=unread, kind=kind)[:200])
    filters = [("All", "", not unread and not kind), ("Unread", "?unread=1", unread and not kind)]
    filters += [
        (label, f"?kind={value}", kind == value and not unread)
        for value, label in FILTER_LABELS.items()
    ]
    return {
        "items": items,
        "unread_ids": {n.pk for n in items if n.read_at is None},
        "filters": filters,
        "filtered": unread or bool(kind),
        "unread_left": notifications.unread_count(request.user),
    }


@login_required
@require_GET
def notification_list(request: AuthedHttpRequest) -> HttpResponse:
    """Your notifications, filtered by unread or kind, newest first."""
    return render_page(request, "pm/notifications.html", _list_context(request), partial="list")


@login_required
@require_POST
def notification_read_all(request: AuthedHttpRequest) -> HttpResponse:
    count = notifications.notifications_mark_read(user=request.user)
    response = render_page(request, "pm/notifications.html", _list_context(request), partial="list")
    response = toast(response, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return response
