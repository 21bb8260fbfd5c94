"""Customers: create, update, and resolve one by name (imports and the portal find or make
them)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from feedback.models import Customer, Insight
from feedback.services.common import CUSTOMER_FIELDS, _reject_unknown
from feedback.services.insights import demand_recompute
from pm.choices import ActivityAction
from pm.models import Workspace
from pm.services import activity_record, versioned_update


def _clean_customer_data(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    for name in ("name", "segment", "plan", "contact"):
        if name in data and isinstance(data[name], str):
            data[name] = data[name].strip()
    if data.get("arr") in (None, ""):
        data.pop("arr", None)
    return data


@transaction.atomic
def customer_create(*, workspace: Workspace, data: dict[str, Any], actor: User | None) -> Customer:
    """Add a customer to the workspace; names are unique per workspace, ignoring case."""
    _reject_unknown(data, CUSTOMER_FIELDS)
    customer = Customer(workspace=workspace, **_clean_customer_data(data))
    customer.full_clean()
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:  # created by someone else between the check and the insert
        raise ValidationError({"name": "A customer with this name already exists."}) from exc
    activity_record(
        instance=customer,
        action=ActivityAction.CREATED,
        actor=actor,
        changes={"name": [None, customer.name]},
        workspace=workspace,
    )
    return customer


@transaction.atomic
def customer_update(
    *, customer: Customer, data: dict[str, Any], expected_version: int, actor: User
) -> Customer:
    """Edit a customer unless someone saved it since `expected_version`. A new ARR moves the
    demand of every feature their feedback is linked to."""
    _reject_unknown(data, CUSTOMER_FIELDS)
    before_arr = Customer.objects.values_list("arr", flat=True).get(pk=customer.pk)
    updated = versioned_update(
        instance=customer,
        data=_clean_customer_data(data),
        expected_version=expected_version,
        actor=actor,
    )
    if updated.arr != before_arr:
        demand_recompute(
            feature_ids=Insight.objects.filter(
                feedback_item__customer=updated, feature__isnull=False
            ).values_list("feature_id", flat=True)
        )
    return updated


@transaction.atomic
def customer_resolve(
    *,
    workspace: Workspace,
    name: str,
    actor: User | None,
    details: dict[str, Any] | None = None,
) -> Customer | None:
    """The workspace's customer called `name` (ignoring case), created with `details` if new.
    An empty name means no customer."""
    name = (name or "").strip()
    if not name:
        return None
    existing = Customer.objects.filter(workspace=workspace, name__iexact=name).first()
    if existing:
        return existing
    data = {"name": name, **{k: v for k, v in (details or {}).items() if v not in (None, "")}}
    try:
        return customer_create(workspace=workspace, data=data, actor=actor)
    except ValidationError as exc:
        # Lost a race with another creation of the same name: use theirs.
        existing = Customer.objects.filter(workspace=workspace, name__iexact=name).first()
        if existing:
            return existing
        raise exc
