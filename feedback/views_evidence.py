""" "Use the suggested confidence": a PM takes the evidence's suggestion for a feature or an
initiative (feedback.evidence), as a versioned edit of that row."""

from __future__ import annotations

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


def _version(request: AuthedHttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdecimal() and len(value) < 10 else None


@login_required
@require_POST
def feature_confidence_apply(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    feature = get_object_or_404(Feature, product=product, pk=pk)
    back = redirect("feature_detail", key=product.key, pk=feature.pk)
    suggested = evidence.suggest(evidence.evidence_for(feature)).percent
    version = _version(request)
    # The page says which value it showed: if the evidence moved since, nothing is applied.
    if version is None or request.POST.get("confidence") != str(suggested):
        messages.error(request, "The suggestion changed meanwhile: look at it again.")
        return back
    try:
        backlog_services.feature_update(
            feature=feature,
            data={"confidence": suggested},
            expected_version=version,
            actor=request.user,
        )
    except EditConflict:
        messages.error(request, "Someone saved this feature meanwhile: look at it again.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Confidence set to {suggested}% from the evidence.")
    return back


@login_required
@require_POST
def initiative_confidence_apply(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    initiative = get_object_or_404(Initiative, product=product, pk=pk)
    back = redirect("initiative_detail", key=product.key, pk=initiative.pk)
    features = list(initiative.features.select_related("product"))
    suggested = evidence.suggest(evidence.evidence_for(features)).level
    version = _version(request)
    if version is None or request.POST.get("confidence") != suggested:
        messages.error(request, "The suggestion changed meanwhile: look at it again.")
        return back
    try:
        roadmap_services.initiative_update(
            initiative=initiative,
            data={"confidence": suggested},
            expected_version=version,
            actor=request.user,
        )
    except EditConflict:
        messages.error(request, "Someone saved this initiative meanwhile: look at it again.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Confidence set to {suggested} from the evidence.")
    return back
