"""Panels other apps' pages show: recent feedback on the product Overview, linked feedback and
demand on the backlog's feature page. Each runs a constant number of queries."""

from django.http import HttpRequest

from backlog.choices import IdeaStatus
from feedback import selectors, semantic_selectors
from feedback.choices import FeedbackStatus
from feedback.models import FeedbackItem, PortalPost, PortalVote
from pm.choices import Role
from pm.permissions import membership_for, viewer_for_user
from pm.visibility import Section


def overview(request: HttpRequest, product) -> dict:
    """Recent feedback: the newest items and how many wait for triage (two queries)."""
    items = selectors.recent_feedback(product, limit=5)
    new = FeedbackItem.objects.filter(product=product, status=FeedbackStatus.NEW).count()
    return {"product": product, "items": items, "new_count": new}


def feature(request: HttpRequest, feature) -> dict:
    """Demand on a feature by importance and its most important linked feedback (two queries;
    customer names and ARR only for engineers and above)."""
    membership = membership_for(request.user, feature.product.workspace_id)
    sees_internal = selectors.can_see_customers(membership)
    demand = selectors.feature_demand(feature)
    insights = list(selectors.feature_insights(feature, with_customers=sees_internal)[:5])
    viewer = viewer_for_user(request.user, feature.product)
    return {
        # the feedback items behind the quotes: only for readers of the feedback section
        "sees_items": viewer is not None and viewer.browses(Section.FEEDBACK),
        "feature": feature,
        "product": feature.product,
        "demand": demand,
        "insights": insights,
        "sees_internal": sees_internal,
    }


def idea(request: HttpRequest, idea) -> dict:
    """Feedback linked to an idea and its portal post, if any (three queries; customer names
    only for engineers and above)."""
    membership = membership_for(request.user, idea.product.workspace_id)
    sees_internal = selectors.can_see_customers(membership)
    insights = list(selectors.idea_insights(idea, with_customers=sees_internal)[:20])
    post = PortalPost.objects.filter(idea=idea).first()
    total = (
        len(insights)
        if len(insights) < 20
        else selectors.idea_insights(idea, with_customers=False).count()
    )
    return {
        "idea": idea,
        "product": idea.product,
        "insights": insights,
        "total": total,
        "sees_internal": sees_internal,
        "post": post,
        # Who voted on the portal: e-mail addresses and names are for the team only.
        "portal_voters": list(
            PortalVote.objects.filter(post=post, confirmed_at__isnull=False)
            .select_related("user")
            .order_by("-confirmed_at")[:PORTAL_VOTERS_SHOWN]
        )
        if post is not None and sees_internal
        else [],
    }


PORTAL_VOTERS_SHOWN = 20


def similar_ideas(request: HttpRequest, idea) -> dict:
    """Other ideas of the product that say something close, best first (three queries)."""
    viewer = viewer_for_user(request.user, idea.product)
    membership = membership_for(request.user, idea.product.workspace_id)
    return {
        "idea": idea,
        "product": idea.product,
        "similar": semantic_selectors.similar_ideas(idea, viewer),
        "duplicate_at": semantic_selectors.IDEA_DUPLICATE,
        "can_merge": membership is not None
        and membership.allows(Role.PM)
        and idea.status in (IdeaStatus.NEW, IdeaStatus.UNDER_REVIEW),
    }


def confidence(request: HttpRequest, subject) -> dict:
    """Confidence from evidence next to the PM's own value, on a feature or an initiative page
    (the team: the reasons mention customers' ARR). Three queries."""
    from backlog.models import Feature
    from feedback import evidence

    is_feature = isinstance(subject, Feature)
    features = subject if is_feature else list(subject.features.all())
    suggestion = evidence.suggest(evidence.evidence_for(features))
    membership = membership_for(request.user, subject.product.workspace_id)
    if is_feature:
        current = None if subject.confidence is None else int(subject.confidence)
        suggested: object = suggestion.percent
        differs = current != suggestion.percent
    else:
        current = subject.get_confidence_display()
        suggested = suggestion.level
        differs = subject.confidence != suggestion.level
    return {
        "subject": subject,
        "product": subject.product,
        "kind": "feature" if is_feature else "initiative",
        "suggestion": suggestion,
        "suggested": suggested,
        "current": current,
        "differs": differs,
        "can_apply": membership is not None and membership.allows("pm") and differs,
    }
