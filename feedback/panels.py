"""Panels other apps' pages show: recent feedback on the product Overview, linked feedback and
demand on the backlog's feature page. Each runs a constant number of queries."""

from django.http import HttpRequest

from feedback import selectors
from feedback.choices import FeedbackStatus
from feedback.models import FeedbackItem
from pm.permissions import membership_for


def overview(request: HttpRequest, product) -> dict:
    """Recent feedback: the newest items and how many wait for triage (two queries)."""
    items = selectors.recent_feedback(product, limit=5)
    new = FeedbackItem.objects.filter(product=product, status=FeedbackStatus.NEW).count()
    return {"product": product, "items": items, "new_count": new}


def feature(request: HttpRequest, feature) -> dict:
    """Demand on a feature by importance and its most important linked feedback (two queries;
    customer names and ARR only for engineers and above)."""
    membership = membership_for(request.user, feature.product.workspace_id)
    show_customers = selectors.can_see_customers(membership)
    demand = selectors.feature_demand(feature)
    insights = list(selectors.feature_insights(feature, with_customers=show_customers)[:5])
    return {
        "feature": feature,
        "product": feature.product,
        "demand": demand,
        "insights": insights,
        "show_customers": show_customers,
    }
