"""Validation of incoming data points (API batches and CSV uploads), fast enough for 10,000
points a call: plain Python checks rather than one serializer instance per point.

A batch is all or nothing: the first invalid points (up to MAX_REPORTED) are reported with their
index and reason, and nothing is stored. Points more than FUTURE_TOLERANCE ahead are refused: a
point dated 2099 would become the KPI's latest value and the digest's biggest mover."""

import csv
import dataclasses
import io
import json
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from pm.csvfiles import delimiter

MAX_POINTS = 10_000
MAX_REPORTED = 20
MAX_ABS_VALUE = Decimal("1e14")  # the DataPoint.value column holds 14 digits before the point
SIX_PLACES = Decimal("0.000001")
MAX_DIMENSIONS = 20
MAX_DIMENSION_LENGTH = 200
# All dimensions of a point together, as JSON: they are part of the point's unique key (index).
MAX_DIMENSIONS_JSON = 1000
# A point may be this far ahead of the server's clock (time zones, clock skew), no more.
FUTURE_TOLERANCE = timedelta(days=1)
EARLIEST = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))
LATEST = datetime(2200, 1, 1, tzinfo=ZoneInfo("UTC"))


@dataclass(frozen=True)
class Point:
    timestamp: datetime
    value: Decimal
    # {} when the point has none. With the KPI and the timestamp, they identify the point: a
    # point sent again with the same three replaces the stored value (metrics.services).
    dimensions: dict = dataclasses.field(default_factory=dict)


class PointsError(Exception):
    """A rejected batch: `errors` maps a point's index to {field: [messages]}; `batch` holds
    messages about the batch as a whole."""

    def __init__(
        self,
        *,
        errors: dict[int, dict[str, list[str]]] | None = None,
        batch: list[str] | None = None,
        total: int = 0,
        bad: int = 0,
    ):
        self.errors = errors or {}
        self.batch = batch or []
        self.total = total
        self.bad = bad
        self.label = "Point"
        super().__init__()

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        if self.batch:
            return " ".join(self.batch)
        first = min(self.errors)
        field, messages = next(iter(self.errors[first].items()))
        more = f" ({self.bad} invalid points in all)" if self.bad > 1 else ""
        return (
            f"{self.label} {first} ({field}): {messages[0].rstrip('.')}{more}. Nothing was stored; "
            "fix the batch and send it again."
        )

    def as_api(self) -> dict[str, list[str]]:
        """The API's 400 body in the house shape {field: [messages]}: per-point errors under
        dotted names (`points.3.timestamp`), and the summary under `non_field_errors`."""
        if self.batch:
            return {"points": self.batch}
        body: dict[str, list[str]] = {"non_field_errors": [self.summary()]}
        for index, errors in sorted(self.errors.items()):
            for field, messages in errors.items():
                body[f"points.{index}.{field}"] = messages
        return body


def parse_timestamp(raw: Any, tz: ZoneInfo, now: datetime | None = None) -> datetime:
    """ISO 8601 date-time with an offset, or a naive one or a bare date (read in the workspace's
    time zone, so a daily CSV can say 2027-01-31); at most FUTURE_TOLERANCE after `now`."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("Enter an ISO 8601 date-time such as 2027-01-31T09:30:00Z.")
    text = raw.strip()
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), time.min)
        else:
            parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"“{text[:40]}” is not an ISO 8601 date-time (e.g. 2027-01-31T09:30:00Z)."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    if not EARLIEST <= parsed < LATEST:
        raise ValueError("Use a date between 1970 and 2199.")
    now = now or timezone.now()
    if parsed > now + FUTURE_TOLERANCE:
        raise ValueError(
            f"{parsed:%Y-%m-%d %H:%M} is more than a day in the future; send a point once it "
            "has happened."
        )
    return parsed


def parse_value(raw: Any) -> Decimal:
    if isinstance(raw, bool) or raw is None:
        raise ValueError("Enter a number.")
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise ValueError("Enter a finite number.")
        raw = repr(raw)
    if isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, str):
        try:
            value = Decimal(raw.strip().replace(",", ""))
        except InvalidOperation:
            # Also a blank string: Decimal("") is invalid.
            raise ValueError(f"“{raw[:40]}” is not a number.") from None
    else:
        raise ValueError("Enter a number.")
    if not value.is_finite():
        raise ValueError("Enter a finite number.")
    if abs(value) >= MAX_ABS_VALUE:
        raise ValueError("Use a value below 100,000,000,000,000 in magnitude.")
    return value.quantize(SIX_PLACES, rounding=ROUND_HALF_EVEN)


def parse_dimensions(raw: Any) -> dict:
    """The dimensions in key order ({} for none), so equal dimensions are stored equal."""
    if raw is None or raw == {}:
        return {}
    if not isinstance(raw, dict):
        raise ValueError('Use an object of names to values, e.g. {"plan": "pro"}.')
    if len(raw) > MAX_DIMENSIONS:
        raise ValueError(f"Use at most {MAX_DIMENSIONS} dimensions.")
    for key, value in raw.items():
        if len(key) > MAX_DIMENSION_LENGTH:
            raise ValueError("Dimension names are at most 200 characters.")
        if not (value is None or isinstance(value, str | int | float | bool)):
            raise ValueError(f"Dimension “{key[:40]}” must be a string, number or boolean.")
        if isinstance(value, str) and len(value) > MAX_DIMENSION_LENGTH:
            raise ValueError(f"Dimension “{key[:40]}” is longer than 200 characters.")
        if "\x00" in key or (isinstance(value, str) and "\x00" in value):
            raise ValueError("Dimension names and values cannot contain NUL characters (\\0).")
    if len(json.dumps(raw)) > MAX_DIMENSIONS_JSON:
        raise ValueError(
            f"The dimensions of one point take at most {MAX_DIMENSIONS_JSON:,} characters as JSON."
        )
    return dict(sorted(raw.items()))


def parse_points(raw: Any, tz: ZoneInfo, now: datetime | None = None) -> list[Point]:
    """Validate a batch: a list of {timestamp, value, dimensions?}. Raises PointsError."""
    now = now or timezone.now()
    if isinstance(raw, dict) and "points" in raw:
        raw = raw["points"]
    if not isinstance(raw, list):
        raise PointsError(batch=["Send a JSON list of points: [{timestamp, value}, …]."])
    if not raw:
        raise PointsError(batch=["Send at least one point."])
    if len(raw) > MAX_POINTS:
        raise PointsError(
            batch=[f"Send at most {MAX_POINTS:,} points per call; this batch has {len(raw):,}."]
        )
    points: list[Point] = []
    errors: dict[int, dict[str, list[str]]] = {}
    bad = 0
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            problem = {"non_field_errors": ["Each point is an object {timestamp, value}."]}
        else:
            problem = {}
            unknown = set(item) - {"timestamp", "value", "dimensions"}
            if unknown:
                problem["non_field_errors"] = [f"Unknown fields: {', '.join(sorted(unknown))}."]
            try:
                timestamp = parse_timestamp(item.get("timestamp"), tz, now)
            except ValueError as exc:
                problem["timestamp"] = [str(exc)]
            try:
                value = parse_value(item.get("value"))
            except ValueError as exc:
                problem["value"] = [str(exc)]
            try:
                dimensions = parse_dimensions(item.get("dimensions"))
            except ValueError as exc:
                problem["dimensions"] = [str(exc)]
        if problem:
            bad += 1
            if len(errors) < MAX_REPORTED:
                errors[index] = problem
        elif not errors:
            points.append(Point(timestamp, value, dimensions))
    if errors:
        raise PointsError(errors=errors, total=len(raw), bad=bad)
    return points


def parse_csv(data: bytes, tz: ZoneInfo, now: datetime | None = None) -> list[Point]:
    """A CSV with a header row: `timestamp` (or `date`) and `value`, optionally more columns,
    which become dimensions. Row numbers in errors count the header as row 1."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PointsError(batch=["The file is not UTF-8 text. Export it as CSV (UTF-8)."]) from None
    if "\x00" in text:
        raise PointsError(
            batch=["The file contains NUL characters (\\0): export it again as CSV (UTF-8)."]
        )
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter(text))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    reader.fieldnames = fields
    time_field = "timestamp" if "timestamp" in fields else "date" if "date" in fields else None
    if time_field is None or "value" not in fields:
        raise PointsError(
            batch=["The first row must name the columns, with “timestamp” (or “date”) and “value”."]
        )
    items = []
    for row in reader:
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        extra = {
            k: v
            for k, v in row.items()
            if k not in (time_field, "value") and k and isinstance(v, str) and v.strip()
        }
        items.append(
            {
                "timestamp": row.get(time_field) or "",
                "value": row.get("value") or "",
                **({"dimensions": extra} if extra else {}),
            }
        )
    try:
        return parse_points(items, tz, now)
    except PointsError as exc:
        # Speak in the spreadsheet's row numbers (header = row 1).
        if exc.errors:
            exc.errors = {i + 2: e for i, e in exc.errors.items()}
            exc.label = "Row"
        raise
