"""Product-analytics events: validation of incoming batches and their bulk insert.

`POST /api/v1/events/` (metrics.api_events) takes up to MAX_EVENTS events per call:
`{id, event, user_id | anonymous_id, timestamp, properties?}`. Validation is plain Python (fast
enough for 10,000 events a call, like metrics.points) and all or nothing: the first invalid
events are reported with their index and reason, and nothing is stored.

An event is identified by its product, its `id` (the sender's, e.g. a UUID) and its timestamp:
the insert skips one already stored (`ON CONFLICT DO NOTHING`), so a retried batch stores
nothing twice and the answer says how many were duplicates."""

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from metrics import partitions
from metrics.models import Event
from metrics.points import MAX_REPORTED, PointsError, parse_timestamp
from pm.models import Product

MAX_EVENTS = 10_000
MAX_ID_LENGTH = 100
MAX_NAME_LENGTH = 120
MAX_USER_LENGTH = 200
MAX_PROPERTIES = 50
MAX_PROPERTY_NAME = 100
MAX_PROPERTY_TEXT = 500
MAX_PROPERTIES_JSON = 4000
# Property numbers beyond this are refused: JSON readers lose precision past 2^53.
MAX_PROPERTY_NUMBER = 2**53
ANONYMOUS_PREFIX = "anon:"
FIELDS = {"id", "event", "user_id", "anonymous_id", "timestamp", "properties"}


@dataclass(frozen=True)
class IncomingEvent:
    event_id: str
    name: str
    distinct_id: str  # the user id, or ANONYMOUS_PREFIX + the anonymous id
    timestamp: datetime
    properties: dict


@dataclass(frozen=True)
class EventIngestResult:
    received: int
    stored: int
    duplicates: int
    first: datetime
    last: datetime
    names: tuple[str, ...]  # the distinct event names of the batch


def _text(raw: Any, *, what: str, limit: int) -> str:
    """A non-empty identifier: a string (or an integer, taken as its digits)."""
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < MAX_PROPERTY_NUMBER:
        raw = str(raw)
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"Enter the {what} as a non-empty string.")
    text = raw.strip()
    if len(text) > limit:
        raise ValueError(f"The {what} is at most {limit} characters.")
    if "\x00" in text:
        raise ValueError(f"The {what} cannot contain NUL characters (\\0).")
    return text


def parse_properties(raw: Any) -> dict:
    """A flat object of names to strings, numbers, booleans or null ({} for none)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError('Use an object of names to values, e.g. {"plan": "pro"}.')
    if len(raw) > MAX_PROPERTIES:
        raise ValueError(f"Use at most {MAX_PROPERTIES} properties.")
    for key, value in raw.items():
        if not key or len(key) > MAX_PROPERTY_NAME or "\x00" in key:
            raise ValueError(
                f"Property names are 1 to {MAX_PROPERTY_NAME} characters, without NUL (\\0)."
            )
        if isinstance(value, str):
            if len(value) > MAX_PROPERTY_TEXT:
                raise ValueError(f"“{key[:40]}” is longer than {MAX_PROPERTY_TEXT} characters.")
            if "\x00" in value:
                raise ValueError(f"“{key[:40]}” cannot contain NUL characters (\\0).")
        elif isinstance(value, float):
            if not math.isfinite(value) or abs(value) >= MAX_PROPERTY_NUMBER:
                raise ValueError(f"“{key[:40]}” must be a finite number below 2^53.")
        elif isinstance(value, int) and not isinstance(value, bool):
            if abs(value) >= MAX_PROPERTY_NUMBER:
                raise ValueError(f"“{key[:40]}” must be a number below 2^53 in magnitude.")
        elif not (value is None or isinstance(value, bool)):
            raise ValueError(
                f"“{key[:40]}” must be a string, number, boolean or null (no nested objects)."
            )
    if len(json.dumps(raw)) > MAX_PROPERTIES_JSON:
        raise ValueError(f"The properties take at most {MAX_PROPERTIES_JSON:,} characters as JSON.")
    return raw


def _parse_one(item: Any, tz: ZoneInfo, now: datetime) -> tuple[IncomingEvent | None, dict]:
    if not isinstance(item, dict):
        return None, {"non_field_errors": ["Each event is an object {id, event, timestamp, …}."]}
    problem: dict[str, list[str]] = {}
    unknown = set(item) - FIELDS
    if unknown:
        problem["non_field_errors"] = [f"Unknown fields: {', '.join(sorted(unknown))[:200]}."]
    values: dict[str, Any] = {}
    for field, what, limit in (
        ("id", "event id", MAX_ID_LENGTH),
        ("event", "event name", MAX_NAME_LENGTH),
    ):
        try:
            values[field] = _text(item.get(field), what=what, limit=limit)
        except ValueError as exc:
            problem[field] = [str(exc)]
    user, anonymous = item.get("user_id"), item.get("anonymous_id")
    try:
        if user not in (None, ""):
            values["who"] = _text(user, what="user id", limit=MAX_USER_LENGTH)
        elif anonymous not in (None, ""):
            values["who"] = ANONYMOUS_PREFIX + _text(
                anonymous, what="anonymous id", limit=MAX_USER_LENGTH
            )
        else:
            raise ValueError("Send a user_id or an anonymous_id.")
    except ValueError as exc:
        problem[
            "user_id" if user not in (None, "") or anonymous in (None, "") else "anonymous_id"
        ] = [str(exc)]
    try:
        values["timestamp"] = parse_timestamp(item.get("timestamp"), tz, now)
    except ValueError as exc:
        problem["timestamp"] = [str(exc)]
    try:
        values["properties"] = parse_properties(item.get("properties"))
    except ValueError as exc:
        problem["properties"] = [str(exc)]
    if problem:
        return None, problem
    return (
        IncomingEvent(
            values["id"], values["event"], values["who"], values["timestamp"], values["properties"]
        ),
        {},
    )


def parse_events(raw: Any, tz: ZoneInfo, now: datetime | None = None) -> list[IncomingEvent]:
    """Validate a batch: a JSON list of events (or `{"events": [...]}`). Raises PointsError
    (the batch error shared with data points), labelled "Event"."""
    now = now or timezone.now()
    if isinstance(raw, dict) and "events" in raw:
        raw = raw["events"]
    if not isinstance(raw, list):
        raise _batch_error("Send a JSON list of events: [{id, event, user_id, timestamp}, …].")
    if not raw:
        raise _batch_error("Send at least one event.")
    if len(raw) > MAX_EVENTS:
        raise _batch_error(
            f"Send at most {MAX_EVENTS:,} events per call; this batch has {len(raw):,}."
        )
    events: list[IncomingEvent] = []
    errors: dict[int, dict[str, list[str]]] = {}
    bad = 0
    for index, item in enumerate(raw):
        event, problem = _parse_one(item, tz, now)
        if problem:
            bad += 1
            if len(errors) < MAX_REPORTED:
                errors[index] = problem
        elif not errors and event is not None:
            events.append(event)
    if errors:
        error = PointsError(errors=errors, total=len(raw), bad=bad)
        error.label = "Event"
        raise error
    return events


def _batch_error(message: str) -> PointsError:
    error = PointsError(batch=[message])
    error.label = "Event"
    return error


def insert_events(*, product: Product, events: list[IncomingEvent]) -> EventIngestResult:
    """Insert a validated batch, skipping events already stored (same id and timestamp). On
    PostgreSQL one `INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING`: the columns
    travel as arrays, no model instance per event."""
    now = timezone.now()
    first = min(e.timestamp for e in events)
    last = max(e.timestamp for e in events)
    names = tuple(sorted({e.name for e in events}))
    if connection.vendor != "postgresql":
        Event.objects.bulk_create(
            [
                Event(
                    workspace_id=product.workspace_id,
                    product=product,
                    event_id=e.event_id,
                    name=e.name,
                    distinct_id=e.distinct_id,
                    timestamp=e.timestamp,
                    properties=e.properties,
                    received_at=now,
                )
                for e in events
            ],
            ignore_conflicts=True,
        )
        stored = Event.objects.filter(product=product, received_at=now).count()
    else:
        # An event in a month without a partition (a backfill) gets one first.
        partitions.ensure_for((e.timestamp for e in events), parent=partitions.EVENTS)
        table = Event._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH inserted AS ("  # noqa: S608 - the table's name; values as parameters
                f"  INSERT INTO {table} (workspace_id, product_id, event_id, name, distinct_id, "
                "   timestamp, properties, received_at) "
                "  SELECT %s, %s, u.i, u.n, u.d, u.t, u.p::jsonb, %s "
                "  FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::text[]) "
                "  AS u(i, n, d, t, p) "
                "  ON CONFLICT (product_id, event_id, timestamp) DO NOTHING RETURNING 1"
                ") SELECT count(*) FROM inserted",
                [
                    product.workspace_id,
                    product.pk,
                    now,
                    [e.event_id for e in events],
                    [e.name for e in events],
                    [e.distinct_id for e in events],
                    [e.timestamp for e in events],
                    [json.dumps(e.properties) for e in events],
                ],
            )
            stored = cursor.fetchone()[0]
    return EventIngestResult(
        received=len(events),
        stored=stored,
        duplicates=len(events) - stored,
        first=first,
        last=last,
        names=names,
    )
