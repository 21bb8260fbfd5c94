"""Panels the roadmap contributes to other apps' pages (through pm.registry)."""

from django.http import HttpRequest

from pm.permissions import membership_for
from roadmap import selectors


def glance(request: HttpRequest, product) -> dict | None:
    """The product overview's "Roadmap glance": counts per horizon, what is on Now, the next
    release. Three queries."""
    visibility = selectors.visibility_for(product.membership)
    return {"product": product, **selectors.roadmap_glance(product=product, visibility=visibility)}


def okr_health(request: HttpRequest, product) -> dict | None:
    """The overview's OKR health: objectives, their key results and aligned initiatives' latest
    status updates. Five queries."""
    visibility = selectors.visibility_for(product.membership)
    return {"product": product, **selectors.okr_health(product=product, visibility=visibility)}


def feature(request: HttpRequest, feature) -> dict | None:
    """On the backlog's feature detail: the initiatives and releases that contain the feature.
    Two queries (the membership is cached on the user)."""
    membership = membership_for(request.user, feature.product.workspace_id)
    if membership is None:
        return None
    visibility = selectors.visibility_for(membership)
    return {
        "product": feature.product,
        "initiatives": selectors.initiatives_for_feature(feature=feature, visibility=visibility),
        "releases": selectors.releases_for_feature(feature=feature, visibility=visibility),
    }
