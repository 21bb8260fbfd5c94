"""What the feedback app gives global search and comments (pm.search, pm.collab): feedback items
and customers. Registered from FeedbackConfig.ready()."""

from django.urls import reverse

from pm.registry import Commentable, registry
from pm.search import Scope, excerpt, model_kind


def _item_url(item, scope: Scope | None = None) -> str:
    return reverse("feedback_detail", args=[item.product.key, item.pk])


def _customer_url(customer, scope: Scope) -> str:
    product = scope.first_product
    if product is None:
        return ""
    return reverse("customer_detail", args=[product.key, customer.pk])


def register() -> None:
    registry.add_commentable(
        Commentable(
            "feedback",
            "feedback.FeedbackItem",
            "feedback",
            _item_url,
            lambda item: excerpt(item.content, 60),
        )
    )
    registry.add_search_kind(
        model_kind(
            key="feedback",
            label="Feedback",
            order=40,
            model="feedback.FeedbackItem",
            fields=("content",),
            stored=True,
            title=lambda item: excerpt(item.content, 90),
            url=_item_url,
            detail=lambda item: (
                f"{item.get_source_display()} · {item.get_status_display()} · "
                f"{item.received_at:%d %b %Y}"
            ),
            # Never the customer: it is internal outside the team (pm.visibility).
            only=("id", "content", "source", "status", "received_at", "product__key"),
        )
    )
    registry.add_search_kind(
        model_kind(
            key="customer",
            label="Customers",
            order=50,
            model="feedback.Customer",
            fields=("name",),
            stored=True,
            config="simple",
            title=lambda c: c.name,
            url=_customer_url,
            detail=lambda c: " · ".join(p for p in ("Customer", c.segment) if p),
            only=("id", "name", "segment"),
            related=(),
        )
    )
