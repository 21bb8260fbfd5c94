"""Pricing: the product's plans and their features, competitors' price points beside them, and
Van Westendorp surveys (metrics.pricing does the analysis). Reads and writes for the Pricing page
and the API; the team's own data (the models' rules: team only)."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet

from backlog.choices import FeatureStatus
from backlog.models import Feature
from metrics.models import CompetitorPrice, PricePlan, PriceSurvey
from metrics.pricing import Analysis, Answer, analyse
from pm.choices import ActivityAction
from pm.csvfiles import delimiter
from pm.models import Competitor, Product
from pm.services import activity_record, record_create, record_delete, versioned_update

MAX_SURVEY_BYTES = 2 * 1024 * 1024
MAX_RESPONDENTS = 20_000
PLAN_FIELDS = {"name", "description", "currency", "monthly_price", "annual_price"}
# Column names accepted for each answer (lower case, spaces or underscores).
COLUMNS = {
    "too_cheap": ("too cheap", "too_cheap", "too inexpensive"),
    "cheap": ("cheap", "bargain", "inexpensive"),
    "expensive": ("expensive", "getting expensive"),
    "too_expensive": ("too expensive", "too_expensive"),
}

# --- reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyResult:
    survey: PriceSurvey
    analysis: Analysis | None
    problem: str = ""


def plans(product: Product) -> QuerySet[PricePlan]:
    return PricePlan.objects.filter(product=product).prefetch_related(
        Prefetch("features", queryset=Feature.objects.only("id", "title", "rank", "status"))
    )


def feature_matrix(plan_list: list[PricePlan]) -> list[tuple[Feature, list[bool]]]:
    """Every feature in some plan (backlog order), with which plans include it."""
    seen: dict[int, Feature] = {}
    for plan in plan_list:
        for feature in plan.features.all():
            seen.setdefault(feature.pk, feature)
    included = [{f.pk for f in plan.features.all()} for plan in plan_list]
    return [
        (feature, [feature.pk in ids for ids in included])
        for feature in sorted(seen.values(), key=lambda f: f.rank)
    ]


def plan_currency(product: Product, plan_list: list[PricePlan] | None = None) -> str:
    """The currency of the product's plans when they all share one ("" otherwise): pricing
    experiments keep no currency of their own and show their prices in it. One query unless
    the plans are given."""
    if plan_list is not None:
        currencies = {p.currency for p in plan_list}
    else:
        currencies = set(
            PricePlan.objects.filter(product=product).values_list("currency", flat=True)
        )
    return currencies.pop() if len(currencies) == 1 else ""


def competitor_prices(product: Product) -> QuerySet[CompetitorPrice]:
    return CompetitorPrice.objects.filter(product=product).select_related("competitor")


def surveys(product: Product) -> list[SurveyResult]:
    results = []
    for survey in PriceSurvey.objects.filter(product=product):
        try:
            results.append(SurveyResult(survey, analyse([Answer(*row) for row in survey.answers])))
        except ValueError as exc:
            results.append(SurveyResult(survey, None, str(exc)))
    return results


# --- writes --------------------------------------------------------------------------------


def _features_of(product: Product, features: Iterable[Feature]) -> list[Feature]:
    features = list(features)
    if any(f.product_id != product.pk for f in features):
        raise ValidationError({"features": "Choose features of this product."})
    return features


def _check_fields(data: dict[str, Any]) -> None:
    unknown = set(data) - PLAN_FIELDS
    if unknown:
        raise ValueError(f"Unknown plan fields: {sorted(unknown)}")


@transaction.atomic
def plan_create(
    *, product: Product, data: dict[str, Any], features: Iterable[Feature], actor: User
) -> PricePlan:
    _check_fields(data)
    plan = PricePlan(product=product, **data)
    plan.currency = plan.currency.upper()
    record_create(instance=plan, actor=actor)
    plan.features.set(_features_of(product, features))
    return plan


@transaction.atomic
def plan_update(
    *,
    plan: PricePlan,
    data: dict[str, Any],
    features: Iterable[Feature] | None,
    expected_version: int,
    actor: User,
) -> PricePlan:
    _check_fields(data)
    if "currency" in data:
        data = {**data, "currency": str(data["currency"]).upper()}
    extra = {}
    if features is not None:
        chosen = _features_of(plan.product, features)
        before = sorted(f.title for f in plan.features.all())
        after = sorted(f.title for f in chosen)
        if before != after:
            extra["features"] = [", ".join(before), ", ".join(after)]
    saved = versioned_update(
        instance=plan,
        data=data,
        expected_version=expected_version,
        actor=actor,
        extra_changes=extra or None,
    )
    if features is not None:
        saved.features.set(chosen)
    return saved


def plan_delete(*, plan: PricePlan, actor: User) -> None:
    record_delete(instance=plan, actor=actor)


def competitor_price_add(
    *,
    product: Product,
    competitor: Competitor,
    plan_name: str,
    monthly_price: Decimal,
    currency: str,
    actor: User,
) -> CompetitorPrice:
    """A competitor's price point. A competitor's plan has one price: the same plan added again
    (a retry, or a newer price) updates the one row instead of listing the plan twice."""
    if competitor.product_id != product.pk:
        raise ValidationError({"competitor": "Choose a competitor of this product."})
    plan_name = plan_name.strip()
    with transaction.atomic():
        Competitor.objects.select_for_update().filter(pk=competitor.pk).first()
        existing = CompetitorPrice.objects.filter(
            competitor=competitor, plan_name__iexact=plan_name
        ).first()
        if existing is not None:
            changes = {"monthly_price": monthly_price, "currency": currency.upper()}
            diff = {
                k: [str(getattr(existing, k)), str(v)]
                for k, v in changes.items()
                if getattr(existing, k) != v
            }
            if diff:
                existing.monthly_price, existing.currency = monthly_price, currency.upper()
                existing.full_clean()
                existing.save(update_fields=["monthly_price", "currency"])
                activity_record(
                    instance=existing, action=ActivityAction.UPDATED, actor=actor, changes=diff
                )
            return existing
        price = CompetitorPrice(
            product=product,
            competitor=competitor,
            plan_name=plan_name,
            monthly_price=monthly_price,
            currency=currency.upper(),
        )
        record_create(instance=price, actor=actor)
        return price


def competitor_price_delete(*, price: CompetitorPrice, actor: User) -> None:
    record_delete(instance=price, actor=actor)


def _number(text: str) -> float:
    cleaned = text.strip().replace("€", "").replace("$", "").replace("£", "").replace(" ", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")  # a decimal comma
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"“{text.strip()[:20]}” is not a price") from None
    if not value.is_finite() or value < 0 or value > Decimal("1e9"):
        raise ValueError(f"“{text.strip()[:20]}” is not a price")
    return float(value)


def parse_survey(data: bytes) -> list[list[float]]:
    """The four prices per respondent from a CSV whose header names the four questions (too
    cheap, cheap/bargain, expensive, too expensive; other columns are ignored). Errors name
    the spreadsheet row (the header is row 1)."""
    if len(data) > MAX_SURVEY_BYTES:
        raise ValidationError(
            {"file": "The file is over 2 MB: split it, or keep the four columns only."}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            {"file": "The file is not UTF-8 text. Export it as CSV (UTF-8)."}
        ) from None
    if "\x00" in text:
        raise ValidationError({"file": "The file contains NUL characters: export it again as CSV."})
    reader = csv.reader(io.StringIO(text), delimiter=delimiter(text))
    header = [h.strip().lower().replace("_", " ") for h in next(reader, [])]
    index = {}
    for key, names in COLUMNS.items():
        found = [i for i, h in enumerate(header) if h in {n.replace("_", " ") for n in names}]
        if not found:
            raise ValidationError(
                {
                    "file": "The first row must name the four questions: too cheap, cheap, "
                    "expensive, too expensive."
                }
            )
        index[key] = found[0]
    answers: list[list[float]] = []
    problems: list[str] = []
    for row_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(answers) >= MAX_RESPONDENTS:
            raise ValidationError({"file": f"More than {MAX_RESPONDENTS:,} respondents."})
        try:
            answers.append([_number(row[index[k]]) for k in COLUMNS])
        except (ValueError, IndexError) as exc:
            if len(problems) < 5:
                problems.append(f"row {row_number}: {exc if str(exc) else 'a price is missing'}")
    if problems:
        raise ValidationError({"file": "Fix these and upload again — " + "; ".join(problems) + "."})
    if not answers:
        raise ValidationError({"file": "The file has no answers under its header."})
    return answers


def survey_upload(*, product: Product, name: str, data: bytes, actor: User) -> PriceSurvey:
    """Store a survey's answers; the same file again is recognised and refused."""
    digest = hashlib.sha256(data).hexdigest()
    earlier = PriceSurvey.objects.filter(product=product, file_sha256=digest).first()
    if earlier is not None:
        raise ValidationError({"file": f"This file was uploaded already, as “{earlier.name}”."})
    answers = parse_survey(data)
    survey = PriceSurvey(
        product=product,
        name=name.strip() or "Price survey",
        answers=answers,
        file_sha256=digest,
        uploaded_by=actor,
    )
    with transaction.atomic():
        survey.full_clean()
        survey.save()
        # The answers themselves stay out of the history: a name and a count say what came in.
        activity_record(
            instance=survey,
            action=ActivityAction.CREATED,
            actor=actor,
            changes={"name": [None, survey.name], "respondents": [None, len(answers)]},
        )
    return survey


def survey_delete(*, survey: PriceSurvey, actor: User) -> None:
    record_delete(instance=survey, actor=actor)


def plan_feature_choices(product: Product) -> QuerySet[Feature]:
    return Feature.objects.filter(product=product).exclude(status=FeatureStatus.ARCHIVED)
