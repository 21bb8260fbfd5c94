"""Confidence from evidence: what the feedback behind a feature (or an initiative's features)
suggests its confidence should be, with the reasons — next to the PM's own value, never
replacing it.

The ladder follows the evidence-strength idea PMs know from Itamar Gilad's confidence meter:
conviction alone is weak, a few customers asking is anecdotal, many customers or a large share of
revenue is stronger, research adds to it, and old evidence counts for less. Without a test
(an experiment) nothing reaches certainty, so the suggestion stays between 10 % and 90 %.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from backlog.models import Feature
from feedback.choices import FeedbackStatus, Importance
from feedback.models import Customer, Insight

FLOOR, CEILING = 10, 90
STALE_DAYS, OLD_DAYS = 365, 180


@dataclass
class Evidence:
    """The feedback linked to a feature (or several), counted once per feedback item."""

    items: int = 0
    customers: int = 0
    arr: Decimal = Decimal(0)
    workspace_arr: Decimal = Decimal(0)
    critical_customers: int = 0
    studies: int = 0
    findings: int = 0
    newest: date | None = None


@dataclass
class Reason:
    text: str
    points: int  # what it adds to (or takes from) the suggestion


@dataclass
class Suggestion:
    percent: int
    reasons: list[Reason] = field(default_factory=list)

    @property
    def level(self) -> str:
        """For initiatives, whose confidence is low / medium / high."""
        if self.percent < 40:
            return "low"
        return "medium" if self.percent < 65 else "high"


def suggest(evidence: Evidence, *, today: date | None = None) -> Suggestion:
    """The suggested confidence (percent) and why. Pure: tested against hand-worked cases."""
    today = today or timezone.localdate()
    n = evidence.customers
    if evidence.items == 0:
        return Suggestion(20, [Reason("No customer feedback is linked: conviction only.", 20)])
    if n >= 10:
        base, text = 65, f"Many customers asked ({n})."
    elif n >= 3:
        base, text = 50, f"Several customers asked ({n})."
    elif n >= 1:
        base, text = 35, f"Anecdotal: {n} customer{'s' if n > 1 else ''} asked."
    else:
        base, text = 30, f"{evidence.items} feedback item(s), from no known customer."
    reasons = [Reason(text, base)]
    if evidence.workspace_arr > 0 and evidence.arr > 0:
        share = evidence.arr / evidence.workspace_arr
        if share >= Decimal("0.10"):
            reasons.append(Reason(f"They hold {share:.0%} of your customers' ARR.", 10))
    if evidence.studies:
        reasons.append(
            Reason(
                f"Backed by research: {evidence.findings} finding(s) from "
                f"{evidence.studies} stud{'ies' if evidence.studies > 1 else 'y'}.",
                15,
            )
        )
    if evidence.critical_customers:
        reasons.append(Reason(f"{evidence.critical_customers} customer(s) call it critical.", 5))
    if evidence.newest is not None:
        age = (today - evidence.newest).days
        if age > STALE_DAYS:
            reasons.append(Reason("The newest evidence is over a year old.", -15))
        elif age > OLD_DAYS:
            reasons.append(Reason("The newest evidence is over six months old.", -5))
    total = sum(r.points for r in reasons)
    if total > CEILING:
        reasons.append(Reason("Capped: only an experiment makes it certain.", CEILING - total))
    elif total < FLOOR:
        reasons.append(Reason("Floor: some evidence is better than none.", FLOOR - total))
    return Suggestion(max(FLOOR, min(CEILING, total)), reasons)


def evidence_for(features: list[Feature] | Feature) -> Evidence:
    """The evidence behind one feature or several (an initiative's). Two queries."""
    rows = features if isinstance(features, list) else [features]
    if not rows:
        return Evidence()
    workspace_id = rows[0].product.workspace_id
    linked = (
        Insight.objects.filter(feature__in=rows)
        .exclude(feedback_item__status=FeedbackStatus.ARCHIVED)
        .values_list(
            "feedback_item_id",
            "importance",
            "feedback_item__customer_id",
            "feedback_item__customer__arr",
            "feedback_item__study_id",
            "feedback_item__received_at",
        )
    )
    items: set[int] = set()
    customers: dict[int, Decimal] = {}
    critical: set[int] = set()
    studies: set[int] = set()
    findings: set[int] = set()
    newest = None
    for item_id, importance, customer_id, arr, study_id, received_at in linked:
        items.add(item_id)
        if customer_id is not None:
            customers[customer_id] = arr or Decimal(0)
            if importance == Importance.CRITICAL:
                critical.add(customer_id)
        if study_id is not None:
            studies.add(study_id)
            findings.add(item_id)
        day = timezone.localtime(received_at).date()
        if newest is None or day > newest:
            newest = day
    total = Customer.objects.filter(workspace_id=workspace_id).aggregate(total=Sum("arr"))["total"]
    return Evidence(
        items=len(items),
        customers=len(customers),
        arr=sum(customers.values(), Decimal(0)),
        workspace_arr=total or Decimal(0),
        critical_customers=len(critical),
        studies=len(studies),
        findings=len(findings),
        newest=newest,
    )
