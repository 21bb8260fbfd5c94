"""Reads for the core app, with their joins and the caller's visibility applied."""

from django.contrib.auth.models import User
from django.db.models import Count, Model, Prefetch, QuerySet

from pm import visibility
from pm.models import (
    ActivityLog,
    Competitor,
    Invitation,
    KeyResult,
    Membership,
    Objective,
    Persona,
    Product,
    StrategicTheme,
    Workspace,
)
from pm.visibility import Viewer


def workspaces_for_user(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("workspace")
        .annotate(product_count=Count("workspace__products"))
        .order_by("workspace__name")
    )


def products_for_workspace(workspace: Workspace) -> QuerySet[Product]:
    return Product.objects.filter(workspace=workspace).order_by("name")


def members_for_workspace(workspace: Workspace) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .order_by("user__username")
    )


def pending_invitations(workspace: Workspace) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        workspace=workspace, accepted_at=None, revoked_at=None
    ).select_related("invited_by")


def themes_for_product(product: Product) -> QuerySet[StrategicTheme]:
    return StrategicTheme.objects.filter(product=product).annotate(
        objective_count=Count("objectives")
    )


def objectives_for_product(product: Product) -> QuerySet[Objective]:
    return (
        Objective.objects.filter(product=product)
        .select_related("theme")
        .prefetch_related(
            Prefetch(
                "key_results",
                queryset=KeyResult.objects.select_related("kpi_link__kpi").order_by("id"),
            )
        )
    )


def personas_for_product(product: Product) -> QuerySet[Persona]:
    return Persona.objects.filter(product=product)


def competitors_for_product(product: Product) -> QuerySet[Competitor]:
    return Competitor.objects.filter(product=product)


def activity_for_product(
    product: Product, object_type: str | None = None, viewer: Viewer | None = None
) -> QuerySet[ActivityLog]:
    """The product's activity log, newest first, limited to entries about rows `viewer` sees
    (pm.visibility; one subquery per model with row rules, so the query count stays flat).
    Render entries through `visibility.history_for` to redact their internal fields."""
    qs = ActivityLog.objects.filter(product=product).select_related("actor")
    if object_type:
        qs = qs.filter(object_type=object_type)
    if viewer is not None:
        qs = qs.filter(visibility.activity_q(viewer))
    return qs


def activity_for_object(
    instance: Model, viewer: Viewer | None = None, limit: int = 30
) -> list[ActivityLog]:
    """One object's activity entries as `viewer` reads them (internal fields redacted)."""
    entries = list(
        ActivityLog.objects.filter(object_type=instance._meta.label_lower, object_id=instance.pk)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
    return visibility.history_for(entries, viewer, visibility.product_of(instance))
