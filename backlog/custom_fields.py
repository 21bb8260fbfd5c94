"""Custom fields: the typed fields a product's PMs add to features, ideas, stories and feedback.

Definitions are `CustomField` rows; values live on each row's `custom_values` (why: see
backlog.models, "custom fields"). This module holds what every surface shares:

- `clean_value` / `clean_values`: one validation per type, used by the pages' forms and the API
  alike (text, number, single and multi select, date, member, URL), so hostile input (NUL bytes,
  huge numbers, far dates, nested JSON) is a field error on every surface, never a 500;
- `display`: a stored value as a person reads it;
- the reads (`fields_for`) and the writes (`custom_field_create`, `…_update`, `…_move`,
  `…_archive`, `custom_values_update`), services as in backlog.services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from backlog.choices import CustomFieldKind, CustomFieldTarget
from backlog.models import CustomField, Feature, Idea, UserStory
from pm.choices import ActivityAction
from pm.fields import validate_plausible_date
from pm.models import Membership, Product, Versioned
from pm.services import EditConflict, activity_record, changed_since, record_create
from pm.visibility import Viewer, visible

MAX_FIELDS = 50  # per product and target: a settings page, a filter bar and columns stay usable
MAX_OPTIONS = 100
MAX_OPTION_LENGTH = 80
MAX_TEXT = 500
MAX_URL = 500
# Numbers are stored as JSON numbers; 15 significant digits survive a double's round trip.
MAX_DIGITS = 15
MAX_DECIMALS = 4
MAX_ABS = Decimal(10) ** 12

TEXT_KINDS = {CustomFieldKind.TEXT, CustomFieldKind.URL}
SORTABLE_KINDS = {
    CustomFieldKind.TEXT,
    CustomFieldKind.NUMBER,
    CustomFieldKind.SELECT,
    CustomFieldKind.DATE,
    CustomFieldKind.URL,
}


def model_for(target: str) -> type[Versioned]:
    """The model whose rows a field of `target` is on (feedback items: the feedback app's)."""
    from django.apps import apps

    feedback_item = cast("type[Versioned]", apps.get_model("feedback", "FeedbackItem"))
    by_target: dict[CustomFieldTarget, type[Versioned]] = {
        CustomFieldTarget.FEATURE: Feature,
        CustomFieldTarget.IDEA: Idea,
        CustomFieldTarget.STORY: UserStory,
        CustomFieldTarget.FEEDBACK: feedback_item,
    }
    return by_target[CustomFieldTarget(target)]


# --- values --------------------------------------------------------------------------------


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise ValidationError("Enter text.")
    value = value.strip()
    if "\x00" in value:
        raise ValidationError("Remove the NUL character (\\0): it cannot be stored.")
    if len(value) > limit:
        raise ValidationError(f"Keep it to {limit} characters (it has {len(value)}).")
    return value


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValidationError("Enter a number.")
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValidationError("Enter a number.") from None
    if not number.is_finite():
        raise ValidationError("Enter a number.")
    if abs(number) >= MAX_ABS:
        raise ValidationError("Enter a number below a trillion (10¹²).")
    exponent = number.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if -exponent > MAX_DECIMALS:
        raise ValidationError(f"Use at most {MAX_DECIMALS} decimal places.")
    if len(number.normalize().as_tuple().digits) > MAX_DIGITS:
        raise ValidationError(f"Use at most {MAX_DIGITS} digits.")
    return int(number) if number == number.to_integral_value() else float(number)


def _date(value: Any) -> str:
    if isinstance(value, date):
        day = value
    elif isinstance(value, str):
        try:
            day = date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise ValidationError("Enter a date as YYYY-MM-DD.") from None
    else:
        raise ValidationError("Enter a date as YYYY-MM-DD.")
    validate_plausible_date(day)
    return day.isoformat()


def _url(value: Any) -> str:
    text = _text(value, MAX_URL)
    URLValidator(schemes=["http", "https"], message="Enter an http or https address.")(text)
    return text


def _option(field: CustomField, value: Any) -> str:
    if not isinstance(value, str) or value not in field.options:
        shown = ", ".join(field.options[:8]) or "none defined yet"
        raise ValidationError(f"Choose one of: {shown}.")
    return value


def clean_value(field: CustomField, value: Any, member_ids: set[int] | None = None) -> Any:
    """The value to store for `field` from what someone sent (None: clear it). Raises
    ValidationError with a message for the field. `member_ids` are the users a member field may
    name (the product's workspace's members)."""
    if value is None or value == "" or value == []:
        return None
    kind = field.kind
    if kind == CustomFieldKind.TEXT:
        return _text(value, MAX_TEXT) or None
    if kind == CustomFieldKind.NUMBER:
        return _number(value)
    if kind == CustomFieldKind.DATE:
        return _date(value)
    if kind == CustomFieldKind.URL:
        return _url(value) or None
    if kind == CustomFieldKind.SELECT:
        return _option(field, value)
    if kind == CustomFieldKind.MULTI_SELECT:
        if not isinstance(value, list | tuple):
            raise ValidationError("Send a list of options.")
        chosen = [_option(field, v) for v in value]
        # Stored in the field's option order, once each: equal choices compare equal.
        return [o for o in field.options if o in chosen] or None
    if kind == CustomFieldKind.USER:
        try:
            user_id = int(value)
        except (TypeError, ValueError, OverflowError):
            raise ValidationError("Choose a member of the workspace.") from None
        if member_ids is None or user_id not in member_ids:
            raise ValidationError("Choose a member of the workspace.")
        return user_id
    raise ValidationError("This field's type cannot be edited.")  # pragma: no cover


def member_ids(product: Product) -> set[int]:
    return set(
        Membership.objects.filter(workspace_id=product.workspace_id).values_list(
            "user_id", flat=True
        )
    )


def clean_values(
    fields: list[CustomField], raw: dict[str, Any], product: Product
) -> dict[str, Any]:
    """{field key: value to store (None: clear)} for the keys of `raw` that name `fields`.
    A key naming no field (or an archived one) is an error, as is any invalid value; errors are
    keyed by field key, each message starting with the field's name."""
    by_key = {f.key: f for f in fields if not f.is_archived}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    members = member_ids(product) if any(f.kind == CustomFieldKind.USER for f in fields) else None
    for key, value in raw.items():
        key = str(key)
        field = by_key.get(key)
        if field is None:
            errors[key[:40]] = ["No such custom field here (or it is archived)."]
            continue
        try:
            cleaned[key] = clean_value(field, value, members)
        except ValidationError as exc:
            errors[key] = [f"{field.name}: {m}" for m in exc.messages]
    if errors:
        raise ValidationError(errors)
    return cleaned


def display(field: CustomField, value: Any, people: dict[int, str] | None = None) -> str:
    """A stored value as a person reads it."""
    if value is None or value == "" or value == []:
        return ""
    if field.kind == CustomFieldKind.MULTI_SELECT and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if field.kind == CustomFieldKind.NUMBER and isinstance(value, int | float):
        return f"{value:,}" if isinstance(value, int) else f"{value:,.4f}".rstrip("0").rstrip(".")
    if field.kind == CustomFieldKind.DATE:
        try:
            return date.fromisoformat(str(value)).strftime("%-d %b %Y")
        except ValueError:
            return str(value)
    if field.kind == CustomFieldKind.USER:
        return (people or {}).get(value, "a former member") if isinstance(value, int) else ""
    return str(value)


# --- reads ---------------------------------------------------------------------------------


def fields_for(
    product: Product,
    target: str | None = None,
    viewer: Viewer | None = None,
    *,
    archived: bool = False,
) -> list[CustomField]:
    """The product's custom fields (on `target`, or all), in their order, as `viewer` may see
    them (pm.visibility: outside the team, public ones only). One query."""
    qs: QuerySet[CustomField] = CustomField.objects.filter(product=product)
    if target is not None:
        qs = qs.filter(applies_to=target)
    if not archived:
        qs = qs.filter(archived_at=None)
    if viewer is not None:
        qs = visible(qs, viewer)
    return list(qs.order_by("applies_to", "position", "id"))


@dataclass(frozen=True)
class ShownValue:
    """One custom field's value on one row, ready to print."""

    field: CustomField
    value: Any
    text: str


def people_of(product: Product, fields: list[CustomField]) -> dict[int, str]:
    """Member ids → names, for member fields (one query, only when there is such a field)."""
    if not any(f.kind == CustomFieldKind.USER for f in fields):
        return {}
    users = User.objects.filter(memberships__workspace_id=product.workspace_id).only(
        "username", "first_name", "last_name"
    )
    return {u.pk: u.get_full_name() or u.username for u in users}


def shown_values(
    instance: Any, fields: list[CustomField], people: dict[int, str] | None = None
) -> list[ShownValue]:
    """The row's values of `fields` (those it has), in field order. `instance` came through a
    selector, so its `custom_values` hold only what the reader may see."""
    values = getattr(instance, "custom_values", None) or {}
    return [
        ShownValue(f, values.get(f.key), display(f, values.get(f.key), people))
        for f in fields
        if f.key in values
    ]


# --- writes --------------------------------------------------------------------------------


def _options(raw: Any) -> list[str]:
    if not isinstance(raw, list):
        raise ValidationError({"options": "Send the options as a list."})
    options: list[str] = []
    for item in raw:
        try:
            text = _text(item, MAX_OPTION_LENGTH)
        except ValidationError as exc:
            raise ValidationError({"options": exc.messages}) from None
        if text and text not in options:
            options.append(text)
    if len(options) > MAX_OPTIONS:
        raise ValidationError({"options": f"Keep it to {MAX_OPTIONS} options."})
    return options


def _check_options(kind: str, options: list[str]) -> None:
    if kind in (CustomFieldKind.SELECT, CustomFieldKind.MULTI_SELECT) and not options:
        raise ValidationError({"options": "A select field needs at least one option."})


def _check_name(product: Product, target: str, name: str, exclude: int | None = None) -> None:
    same = CustomField.objects.filter(product=product, applies_to=target, name__iexact=name)
    if exclude is not None:
        same = same.exclude(pk=exclude)
    if same.exists():
        raise ValidationError({"name": "There is already a field with this name here."})


@transaction.atomic
def custom_field_create(
    *,
    product: Product,
    applies_to: str,
    name: str,
    kind: str,
    options: list[str] | None = None,
    public: bool = False,
    actor: User,
) -> CustomField:
    """Add a field at the end of the product's fields on `applies_to`."""
    # Serialise adds per product: the count and the next position are read, then written.
    Product.objects.select_for_update().filter(pk=product.pk).first()
    name = _text(name, 60) if isinstance(name, str) else ""
    if not name:
        raise ValidationError({"name": "Give the field a name."})
    opts = _options(options or [])
    if kind not in (CustomFieldKind.SELECT, CustomFieldKind.MULTI_SELECT):
        opts = []
    _check_options(kind, opts)
    _check_name(product, applies_to, name)
    existing = CustomField.objects.filter(product=product, applies_to=applies_to)
    if existing.count() >= MAX_FIELDS:
        raise ValidationError(f"A product can have up to {MAX_FIELDS} fields on each kind of item.")
    last = existing.aggregate(m=models.Max("position"))["m"]
    field = CustomField(
        product=product,
        applies_to=applies_to,
        name=name,
        kind=kind,
        options=opts,
        public=public,
        position=0 if last is None else last + 1,
    )
    return record_create(instance=field, actor=actor)


@transaction.atomic
def custom_field_update(
    *, field: CustomField, name: str, options: list[str] | None, public: bool, actor: User
) -> CustomField:
    """Rename a field, change its options (select fields) or whether it is public. Its type
    and what it is on stay: stored values were validated for them."""
    field = CustomField.objects.select_for_update().get(pk=field.pk)
    name = _text(name, 60) if isinstance(name, str) else ""
    if not name:
        raise ValidationError({"name": "Give the field a name."})
    _check_name(field.product, field.applies_to, name, exclude=field.pk)
    changes: dict[str, list[Any]] = {}
    if name != field.name:
        changes["name"] = [field.name, name]
        field.name = name
    if field.kind in (CustomFieldKind.SELECT, CustomFieldKind.MULTI_SELECT):
        opts = _options(options or [])
        _check_options(field.kind, opts)
        if opts != field.options:
            changes["options"] = [", ".join(field.options), ", ".join(opts)]
            field.options = opts
    if public != field.public:
        changes["public"] = [field.public, public]
        field.public = public
    if changes:
        field.save(update_fields=["name", "options", "public"])
        activity_record(instance=field, action=ActivityAction.UPDATED, actor=actor, changes=changes)
    return field


@transaction.atomic
def custom_field_move(*, field: CustomField, up: bool, actor: User) -> CustomField:
    """Swap the field with its neighbour above (or below): two rows written."""
    field = CustomField.objects.select_for_update().get(pk=field.pk)
    siblings = CustomField.objects.filter(
        product_id=field.product_id, applies_to=field.applies_to
    ).select_for_update()
    if up:
        other = (
            siblings.filter(
                models.Q(position__lt=field.position)
                | models.Q(position=field.position, id__lt=field.pk)
            )
            .order_by("-position", "-id")
            .first()
        )
    else:
        other = (
            siblings.filter(
                models.Q(position__gt=field.position)
                | models.Q(position=field.position, id__gt=field.pk)
            )
            .order_by("position", "id")
            .first()
        )
    if other is None:
        return field
    if other.position == field.position:
        # Equal positions (never written by these services, but possible in imported data).
        other.position, field.position = (field.position, field.position + (-1 if up else 1))
        if field.position < 0:
            field.position, other.position = 0, 1
    else:
        field.position, other.position = other.position, field.position
    CustomField.objects.bulk_update([field, other], ["position"])
    activity_record(
        instance=field,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"position": [None, f"moved {'above' if up else 'below'} “{other.name}”"]},
    )
    return field


@transaction.atomic
def custom_field_archive(*, field: CustomField, archived: bool, actor: User) -> CustomField:
    """Archive a field (hidden on every page, filter and the API; values kept) or restore it."""
    field = CustomField.objects.select_for_update().get(pk=field.pk)
    if archived == field.is_archived:
        return field
    field.archived_at = timezone.now() if archived else None
    field.save(update_fields=["archived_at"])
    activity_record(
        instance=field,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"archived": [not archived, archived]},
    )
    return field


def _logged(field: CustomField, value: Any, people: dict[int, str]) -> dict[str, str] | None:
    if value is None:
        return None
    return {"field": field.name, "value": display(field, value, people)}


def custom_values_update[V: Versioned](
    *,
    instance: V,
    fields: list[CustomField],
    values: dict[str, Any],
    expected_version: int,
    actor: User | None,
) -> V:
    """Set some custom field values of one row (`values`: {field key: value, None clears}),
    unless someone saved the row since `expected_version` (EditConflict). Values are validated
    again here whatever the caller did; values of fields not named (archived ones too) stay.
    The history records each changed field by name, keyed by field id, so readers outside the
    team see only the public fields' changes (pm.visibility `shown_keys`)."""
    product: Product = instance.product  # type: ignore[attr-defined]  # every target has one
    cleaned = clean_values(fields, values, product)
    by_key = {f.key: f for f in fields}
    model = type(instance)
    with transaction.atomic():
        current = model._default_manager.select_for_update().get(pk=instance.pk)
        if current.version != expected_version:
            raise EditConflict(current=current, entries=changed_since(current, expected_version))
        stored = dict(current.custom_values or {})  # type: ignore[attr-defined]
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        people = people_of(product, [by_key[k] for k in cleaned])
        for key, value in cleaned.items():
            if stored.get(key) == value:
                continue
            before[key] = _logged(by_key[key], stored.get(key), people)
            after[key] = _logged(by_key[key], value, people)
            if value is None:
                stored.pop(key, None)
            else:
                stored[key] = value
        if not after:
            return current
        current.custom_values = stored  # type: ignore[attr-defined]
        current.version += 1
        update_fields = ["custom_values", "version"]
        if any(f.name == "updated_at" for f in current._meta.concrete_fields):
            update_fields.append("updated_at")
        current.save(update_fields=update_fields)
        activity_record(
            instance=current,
            action=ActivityAction.UPDATED,
            actor=actor,
            changes={"custom_values": [before, after]},
        )
    return current


# --- filters and sorting (shared by the backlog page and the API) -----------------------------


class ValueText(models.Func):
    """The text of one key of `custom_values` (NULL when absent). Not Django's key transform:
    that reads a key like "12" as an array index."""

    function = "jsonb_extract_path_text"
    output_field = models.TextField()

    def __init__(self, key: str) -> None:
        super().__init__(models.F("custom_values"), models.Value(key))

    def as_sqlite(self, compiler, connection, **extra):  # the trial mode's database
        column, params = compiler.compile(self.source_expressions[0])
        key = str(cast(models.Value, self.source_expressions[1]).value).replace('"', "")
        return f"json_extract({column}, '$.\"{key}\"')", params


def _is_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _range(raw: str, parse) -> tuple[Any, Any] | None:
    """ "a..b", "a.." or "..b" (either end open) or a single value, parsed; None if invalid."""
    low, sep, high = raw.partition("..")
    if not sep:
        high = low
    try:
        ends = (parse(low) if low else None, parse(high) if high else None)
    except (ValidationError, ValueError):
        return None
    return None if ends == (None, None) else ends


def filter_rows[M: models.Model](
    queryset: QuerySet[M], fields: list[CustomField], filters: dict[str, Any]
) -> QuerySet[M]:
    """`queryset` narrowed by the custom field filters in `filters` ("cf<id>": value). Each
    kind reads its value its own way: an option (select, multi select), a member id, a text
    to contain (text, URL), a value or range "a..b" (number, date); "none" is "not set".
    Only `fields` count (the ones the reader may see); unknown or invalid values are ignored,
    as the backlog's other filters are."""
    for field in fields:
        raw = filters.get(f"cf{field.pk}")
        if raw in (None, ""):
            continue
        raw = str(raw).strip()[:200]
        key, kind, alias = field.key, field.kind, f"cf_{field.pk}"
        if raw == "none":
            queryset = queryset.exclude(custom_values__has_key=key)
            continue
        if kind in (CustomFieldKind.SELECT, CustomFieldKind.MULTI_SELECT, CustomFieldKind.USER):
            value: Any = raw
            if kind == CustomFieldKind.USER:
                if not raw.isdigit() or len(raw) > 18:
                    continue
                value = int(raw)
            elif raw not in field.options:
                continue
            if kind == CustomFieldKind.MULTI_SELECT:
                value = [value]
            if _is_postgres():  # answered by the GIN index
                queryset = queryset.filter(custom_values__contains={key: value})
            else:
                text = f'"{raw}"' if kind == CustomFieldKind.MULTI_SELECT else str(raw)
                lookup = "icontains" if kind == CustomFieldKind.MULTI_SELECT else "exact"
                queryset = queryset.alias(**{alias: ValueText(key)}).filter(
                    **{f"{alias}__{lookup}": text}
                )
        elif kind in TEXT_KINDS:
            queryset = queryset.alias(**{alias: ValueText(key)}).filter(
                **{f"{alias}__icontains": raw}
            )
        elif kind == CustomFieldKind.NUMBER:
            ends = _range(raw, _number)
            if ends is None:
                continue
            number = models.functions.Cast(ValueText(key), models.FloatField())
            queryset = queryset.alias(**{alias: number})
            if ends[0] is not None:
                queryset = queryset.filter(**{f"{alias}__gte": ends[0]})
            if ends[1] is not None:
                queryset = queryset.filter(**{f"{alias}__lte": ends[1]})
        elif kind == CustomFieldKind.DATE:
            ends = _range(raw, _date)
            if ends is None:
                continue
            queryset = queryset.alias(**{alias: ValueText(key)})
            if ends[0] is not None:
                queryset = queryset.filter(**{f"{alias}__gte": ends[0]})
            if ends[1] is not None:
                queryset = queryset.filter(**{f"{alias}__lte": ends[1]})
    return queryset


def sort_terms(fields: list[CustomField], sort: str) -> list[Any] | None:
    """The ORDER BY for `sort` = "cf<id>" (ascending) or "-cf<id>" (descending), empty values
    last, then rank; None when `sort` names no sortable field of `fields`."""
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    field = next((f for f in fields if f"cf{f.pk}" == name), None)
    if field is None or field.kind not in SORTABLE_KINDS:
        return None
    value: Any = ValueText(field.key)
    if field.kind == CustomFieldKind.NUMBER:
        value = models.functions.Cast(value, models.FloatField())
    ordered = value.desc(nulls_last=True) if descending else value.asc(nulls_last=True)
    return [ordered, "rank"]


def sort_choices(fields: list[CustomField]) -> list[tuple[str, str]]:
    """The backlog's extra "Order" options: each sortable field, both ways."""
    choices = []
    for field in fields:
        if field.kind not in SORTABLE_KINDS:
            continue
        low, high = {
            CustomFieldKind.NUMBER: ("lowest first", "highest first"),
            CustomFieldKind.DATE: ("earliest first", "latest first"),
        }.get(CustomFieldKind(field.kind), ("A–Z", "Z–A"))
        choices.append((f"cf{field.pk}", f"{field.name}, {low}"))
        choices.append((f"-cf{field.pk}", f"{field.name}, {high}"))
    return choices
