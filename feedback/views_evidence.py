""" "Use the suggested confidence": a PM takes the evidence's suggestion for a feature or an
initiative (feedback.evidence), as a versioned edit of that row."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from backlog import services as backlog_services
from backlog.models import Feature
from feedback import evidence
from pm.choices import Role
from pm.http import AuthedHttpRequest
from pm.permissions import get_product_for_user
from pm.services import EditConflict
from roadmap import services as roadmap_services
from roadmap.models import Initiative


def _apply(
    request: AuthedHttpRequest,
    back: HttpResponse,
    *,
    suggested: str | int,
    noun: str,
    shown_as: str,
    update: Callable[..., Any],
) -> HttpResponse:
    """Store the suggestion the page showed, as a versioned edit of the row: if the evidence
    moved since (the posted value is not today's suggestion), or someone saved the row
    meanwhile, nothing is applied and the PM is told why."""
    value = request.POST.get("version", "")
    version = int(value) if value.isdecimal() and len(value) < 10 else None
    if version is None or request.POST.get("confidence") != str(suggested):
        messages.error(request, "The suggestion changed meanwhile: look at it again.")
        return back
    try:
        update(data={"confidence": suggested}, expected_version=version, actor=request.user)
    except EditConflict:
        messages.error(request, f"Someone saved this {noun} meanwhile: look at it again.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Confidence set to {shown_as} from the evidence.")
    return back


@login_required
@require_POST
def feature_confidence_apply(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    feature = get_object_or_404(Feature, product=product, pk=pk)
    suggested = evidence.suggest(evidence.evidence_for(feature)).percent
    return _apply(
        request,
        redirect("feature_detail", key=product.key, pk=feature.pk),
        suggested=suggested,
        noun="feature",
        shown_as=f"{suggested}%",
        update=partial(backlog_services.feature_update, feature=feature),
    )


@login_required
@require_POST
def initiative_confidence_apply(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    initiative = get_object_or_404(Initiative, product=product, pk=pk)
    features = list(initiative.features.select_related("product"))
    suggested = evidence.suggest(evidence.evidence_for(features)).level
    return _apply(
        request,
        redirect("initiative_detail", key=product.key, pk=initiative.pk),
        suggested=suggested,
        noun="initiative",
        shown_as=suggested,
        update=partial(roadmap_services.initiative_update, initiative=initiative),
    )
