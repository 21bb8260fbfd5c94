"""Workspace settings → Webhooks (admins): endpoints, their delivery log and redelivery. Product
settings → Development (admins): the GitHub/GitLab receivers and the Jira import. And the
receivers themselves, which GitHub and GitLab call (signature or token checked, no session)."""

from __future__ import annotations

import json
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from hooks import devtools, services
from hooks.events import CHAT_EVENTS, EVENTS
from hooks.forms import DevSettingsForm, EndpointForm, JiraImportForm
from hooks.models import Delivery, DevSettings, Endpoint
from pm.choices import Role
from pm.htmx import render_page, toast
from pm.http import AuthedHttpRequest
from pm.permissions import get_product_for_user, get_workspace_for_user
from pm.views_support import add_service_errors, product_page

log = logging.getLogger(__name__)

LOG_SIZE = 50
MAX_RECEIVED_BYTES = 5 * 1024 * 1024


def _workspace(request: AuthedHttpRequest, slug: str):
    workspace = get_workspace_for_user(request.user, slug, need=Role.ADMIN)
    request.lodestar_workspace = workspace
    return workspace


def _list_context(workspace, form=None, **extra) -> dict:
    endpoints = list(Endpoint.objects.filter(workspace=workspace).order_by("name", "pk"))
    return {
        "workspace": workspace,
        "endpoints": endpoints,
        "form": form or EndpointForm(),
        "events": EVENTS,
        "chat_events": CHAT_EVENTS,
        **extra,
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def endpoint_list(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    workspace = _workspace(request, slug)
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.endpoint_create(
                workspace=workspace,
                name=form.cleaned_data["name"],
                url=form.cleaned_data["url"],
                kind=form.cleaned_data["kind"],
                events=form.cleaned_data["events"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            context = _list_context(workspace, new_endpoint=endpoint)
            response = render_page(request, "hooks/endpoints.html", context)
            return toast(response, f"Endpoint “{endpoint.name}” created. Copy its secret now.")
    status = 400 if request.method == "POST" else 200
    return render_page(
        request, "hooks/endpoints.html", _list_context(workspace, form), status=status
    )


def _detail_context(workspace, endpoint, form=None, **extra) -> dict:
    deliveries = list(
        Delivery.objects.filter(endpoint=endpoint)
        .prefetch_related("attempt_log")
        .order_by("-pk")[:LOG_SIZE]
    )
    initial = {
        "name": endpoint.name,
        "url": endpoint.url,
        "events": endpoint.events,
        "active": endpoint.active,
    }
    return {
        "workspace": workspace,
        "endpoint": endpoint,
        "deliveries": deliveries,
        "form": form or EndpointForm(initial=initial, editing=endpoint),
        "counts": {
            s: Delivery.objects.filter(endpoint=endpoint, status=s).count()
            for s in (Delivery.Status.PENDING, Delivery.Status.FAILED)
        },
        **extra,
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def endpoint_detail(request: AuthedHttpRequest, slug: str, pk: int) -> HttpResponse:
    workspace = _workspace(request, slug)
    endpoint = get_object_or_404(Endpoint, pk=pk, workspace=workspace)
    form = EndpointForm(request.POST, editing=endpoint) if request.method == "POST" else None
    if form is not None and form.is_valid():
        try:
            endpoint = services.endpoint_update(
                endpoint=endpoint,
                name=form.cleaned_data["name"],
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                active=form.cleaned_data["active"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            response = render_page(
                request, "hooks/endpoint.html", _detail_context(workspace, endpoint)
            )
            return toast(response, "Endpoint saved.")
    status = 400 if request.method == "POST" else 200
    return render_page(
        request, "hooks/endpoint.html", _detail_context(workspace, endpoint, form), status=status
    )


@login_required
@require_POST
def endpoint_rotate(request: AuthedHttpRequest, slug: str, pk: int) -> HttpResponse:
    workspace = _workspace(request, slug)
    endpoint = get_object_or_404(Endpoint, pk=pk, workspace=workspace)
    services.endpoint_rotate_secret(endpoint=endpoint, actor=request.user)
    endpoint.refresh_from_db()
    context = _detail_context(workspace, endpoint, new_secret=endpoint.secret)
    response = render_page(request, "hooks/endpoint.html", context)
    return toast(response, "New secret made. The old one keeps working for 24 hours.")


@login_required
@require_POST
def endpoint_delete(request: AuthedHttpRequest, slug: str, pk: int) -> HttpResponse:
    workspace = _workspace(request, slug)
    endpoint = get_object_or_404(Endpoint, pk=pk, workspace=workspace)
    name = endpoint.name
    services.endpoint_delete(endpoint=endpoint, actor=request.user)
    messages.success(request, f"Endpoint “{name}” deleted.")
    if request.htmx:
        return HttpResponseClientRedirect(reverse("webhook_list", args=[workspace.slug]))
    return redirect("webhook_list", slug=workspace.slug)


@login_required
@require_POST
def delivery_redeliver(
    request: AuthedHttpRequest, slug: str, pk: int, delivery_pk: int
) -> HttpResponse:
    workspace = _workspace(request, slug)
    endpoint = get_object_or_404(Endpoint, pk=pk, workspace=workspace)
    delivery = get_object_or_404(Delivery, pk=delivery_pk, endpoint=endpoint)
    try:
        services.delivery_redeliver(delivery=delivery, actor=request.user)
    except ValidationError as exc:
        response = render_page(request, "hooks/endpoint.html", _detail_context(workspace, endpoint))
        return toast(response, " ".join(exc.messages), "error")
    response = render_page(request, "hooks/endpoint.html", _detail_context(workspace, endpoint))
    return toast(response, f"Delivery {str(delivery.uuid)[:8]} queued again.")


# --- development tools --------------------------------------------------------------------


def _dev_context(request: AuthedHttpRequest, product, dev: DevSettings, form=None, **extra) -> dict:
    def absolute(name: str) -> str:
        return request.build_absolute_uri(reverse(name, args=[dev.receiver_id]))

    return product_page(
        request,
        product,
        tab="development_settings",
        dev=dev,
        form=form or DevSettingsForm(instance=dev),
        jira_form=extra.pop("jira_form", None) or JiraImportForm(),
        github_url=absolute("github_receiver"),
        gitlab_url=absolute("gitlab_receiver"),
        **extra,
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def development(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.ADMIN)
    dev = devtools.dev_settings(product)
    form = DevSettingsForm(request.POST or None, instance=dev)
    if request.method == "POST" and form.is_valid():
        form.save()
        response = render_page(
            request, "hooks/development.html", _dev_context(request, product, dev)
        )
        return toast(response, "Development settings saved.")
    return render_page(request, "hooks/development.html", _dev_context(request, product, dev, form))


@login_required
@require_POST
def jira_import(request: AuthedHttpRequest, key: str) -> HttpResponse:
    from hooks import jira

    product = get_product_for_user(request.user, key, need=Role.ADMIN)
    dev = devtools.dev_settings(product)
    form = JiraImportForm(request.POST, request.FILES)
    result = None
    if form.is_valid():
        try:
            result = jira.import_search(
                product=product, data=form.cleaned_data["file"].read(), actor=request.user
            )
        except ValidationError as exc:
            form.add_error("file", exc)
    context = _dev_context(request, product, dev, jira_form=form, jira_result=result)
    response = render_page(
        request, "hooks/development.html", context, status=200 if result is not None else 400
    )
    return toast(response, jira.summary(result)) if result is not None else response


def _receiver(request: HttpRequest, token: str, provider: str) -> HttpResponse:
    dev = DevSettings.objects.select_related("product__workspace").filter(receiver_id=token).first()
    try:
        body = request.body[:MAX_RECEIVED_BYTES]
    except RawPostDataException:  # a multipart form, already parsed: not a webhook
        return JsonResponse({"detail": "Send the payload as application/json."}, status=400)
    if provider == "github":
        secret = dev.github_secret if dev else "no-such-receiver"
        ok = devtools.github_signature_ok(
            secret, body, request.headers.get("X-Hub-Signature-256", "")
        )
    else:
        secret = dev.gitlab_token if dev else "no-such-receiver"
        ok = devtools.gitlab_token_ok(secret, request.headers.get("X-Gitlab-Token", ""))
    if dev is None or not ok:
        # One answer for an unknown receiver and a wrong secret: no oracle.
        return JsonResponse({"detail": "Signature or token does not match."}, status=403)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"detail": "The body is not JSON."}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"detail": "The body is not a JSON object."}, status=400)
    event = request.headers.get("X-GitHub-Event", "")
    if provider == "github" and event == "ping":
        return JsonResponse({"detail": "pong"})
    try:
        if provider == "github":
            mentions = devtools.github_mentions(event, payload)
        else:
            mentions = devtools.gitlab_mentions(request.headers.get("X-Gitlab-Event", ""), payload)
    except (AttributeError, TypeError, ValueError) as exc:
        log.info("%s receiver of %s: unexpected payload shape: %s", provider, dev.product, exc)
        return JsonResponse({"detail": "The payload does not have the expected shape."}, status=400)
    result = devtools.link(product=dev.product, provider=provider, mentions=mentions)
    return JsonResponse(result)


@csrf_exempt
@require_POST
def github_receiver(request: HttpRequest, token: str) -> HttpResponse:
    return _receiver(request, token, "github")


@csrf_exempt
@require_POST
def gitlab_receiver(request: HttpRequest, token: str) -> HttpResponse:
    return _receiver(request, token, "gitlab")
