"""Research studies and the findings they file as feedback."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from feedback.choices import STUDY_SOURCE, Sentiment
from feedback.models import Customer, FeedbackItem, ResearchStudy
from feedback.services.common import STUDY_FIELDS, _reject_unknown
from feedback.services.items import feedback_create
from pm.choices import ActivityAction
from pm.models import Product
from pm.services import activity_record, versioned_update


def _check_participants(
    product: Product, participants: Iterable[Customer] | None
) -> list[Customer]:
    participants = list(participants or [])
    if any(c.workspace_id != product.workspace_id for c in participants):
        raise ValidationError({"participants": "Choose customers of this workspace."})
    return participants


@transaction.atomic
def study_create(
    *,
    product: Product,
    data: dict[str, Any],
    actor: User,
    participants: Iterable[Customer] | None = None,
) -> ResearchStudy:
    _reject_unknown(data, STUDY_FIELDS)
    participants = _check_participants(product, participants)
    study = ResearchStudy(product=product, created_by=actor, **data)
    study.full_clean()
    study.save()
    study.participants.set(participants)
    changes = {
        "title": [None, study.title],
        "kind": [None, study.get_kind_display()],
        "status": [None, study.get_status_display()],
    }
    activity_record(instance=study, action=ActivityAction.CREATED, actor=actor, changes=changes)
    return study


@transaction.atomic
def study_update(
    *,
    study: ResearchStudy,
    data: dict[str, Any],
    expected_version: int,
    actor: User,
    participants: Iterable[Customer] | None = None,
) -> ResearchStudy:
    """Edit a study unless it changed since `expected_version`. Participants (customers) are
    replaced when given; their names stay out of the activity log."""
    _reject_unknown(data, STUDY_FIELDS)
    current = versioned_update(
        instance=study, data=data, expected_version=expected_version, actor=actor
    )
    if participants is not None:
        participants = _check_participants(study.product, participants)
        before = set(current.participants.values_list("pk", flat=True))
        if before != {c.pk for c in participants}:
            current.participants.set(participants)
            activity_record(
                instance=current,
                action=ActivityAction.UPDATED,
                actor=actor,
                changes={"participants": [len(before), len(participants)]},
            )
    return current


def study_add_finding(
    *,
    study: ResearchStudy,
    content: str,
    actor: User,
    customer: Customer | None = None,
    sentiment: str = Sentiment.NEUTRAL,
    received_at: datetime | None = None,
) -> FeedbackItem:
    """A finding is feedback from the study (source = the study's kind): it is triaged and
    linked to features like any other feedback."""
    return feedback_create(
        product=study.product,
        content=content,
        source=STUDY_SOURCE[study.kind],
        sentiment=sentiment,
        received_at=received_at,
        customer=customer,
        study=study,
        actor=actor,
    )
