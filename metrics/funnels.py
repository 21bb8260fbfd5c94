# ruff: noqa: S608 - the SQL is assembled from fixed fragments; every value is a parameter.
"""Funnels computed from events: who did step 1, and of those who went on to each next step in
order within the conversion window.

The rules (the SQL and the Python version below follow them exactly; tests hold them equal):
- a person enters with their *first* step-1 event whose time falls in the period (local dates
  of the workspace, both included);
- step k counts them when they have a step-k event at or after their step k-1 and before their
  step 1 + the conversion window (so a conversion may land after the period ends);
- a step is an event name, optionally with one property equal to a value (compared as text:
  `true`, `42`, `pro`);
- the breakdown is a property of the step-1 event they entered with (top 5 values, the rest as
  “Other”); the trend groups people by the week (Monday, local) of that event.

On PostgreSQL it is one query per funnel: the events of the step names in the time range are read
once (the index on product, name and timestamp), each step is a join on the person, and the
totals, the breakdown and the weeks come out of one GROUP BY GROUPING SETS. SQLite (trial mode)
uses the Python version."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from metrics.models import Event
from metrics.stats import FunnelRow, funnel_rows

TOP_SEGMENTS = 5
OTHER = "Other"
NOT_SET = "(not set)"


@dataclass(frozen=True)
class Step:
    name: str
    event: str
    property_name: str = ""
    property_value: str = ""


@dataclass(frozen=True)
class Segment:
    label: str
    rows: list[FunnelRow]

    @property
    def entered(self) -> int:
        return self.rows[0].count if self.rows else 0

    @property
    def conversion(self) -> float | None:
        return self.rows[-1].from_start if self.rows else None


@dataclass(frozen=True)
class Week:
    start: date
    counts: list[int]

    @property
    def conversion(self) -> float | None:
        return self.counts[-1] / self.counts[0] if self.counts and self.counts[0] else None


@dataclass(frozen=True)
class EventFunnelResult:
    rows: list[FunnelRow]
    segments: list[Segment] = field(default_factory=list)
    weeks: list[Week] = field(default_factory=list)


def _as_text(value: Any) -> str | None:
    """A JSON property as PostgreSQL's `->>` gives it: strings as they are, null as NULL, other
    values as their JSON text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


# --- PostgreSQL ----------------------------------------------------------------------------


def _condition(index: int, step: Step, params: dict[str, Any]) -> str:
    params[f"event{index}"] = step.event
    sql = f"e.n = %(event{index})s"
    if step.property_name:
        params[f"pname{index}"] = step.property_name
        params[f"pvalue{index}"] = step.property_value
        sql += f" AND e.p ->> %(pname{index})s = %(pvalue{index})s"
    return f"({sql})"


def funnel_sql(
    *,
    product_id: int,
    steps: list[Step],
    start: datetime,
    end: datetime,
    window: timedelta,
    breakdown: str,
    tz: str,
) -> tuple[str, dict[str, Any]]:
    """The one query: rows of (breakdown grouped?, week grouped?, breakdown, week, n1, n2, …)."""
    params: dict[str, Any] = {
        "product": product_id,
        "names": sorted({s.event for s in steps}),
        "start": start,
        "end": end,
        "stop": end + window,
        "window": window,
        "breakdown": breakdown or "",
        "tz": tz,
    }
    ctes = [
        "e AS MATERIALIZED (SELECT distinct_id AS u, timestamp AS t, name AS n, properties AS p "
        f"FROM {Event._meta.db_table} WHERE product_id = %(product)s AND name = ANY(%(names)s) "
        "AND timestamp >= %(start)s AND timestamp < %(stop)s)",
        "s1 AS (SELECT DISTINCT ON (e.u) e.u, e.t AS t1, e.t, "
        "COALESCE(e.p ->> %(breakdown)s, '') AS b, "
        "date_trunc('week', e.t AT TIME ZONE %(tz)s)::date AS w "
        f"FROM e WHERE {_condition(0, steps[0], params)} AND e.t < %(end)s ORDER BY e.u, e.t)",
    ]
    for k in range(1, len(steps)):
        ctes.append(
            f"s{k + 1} AS (SELECT s.u, s.t1, min(e.t) AS t FROM s{k} s JOIN e ON e.u = s.u "
            f"AND {_condition(k, steps[k], params)} AND e.t >= s.t AND e.t < s.t1 + %(window)s "
            "GROUP BY s.u, s.t1)"
        )
    counts = ", ".join(["count(*)"] + [f"count(s{k + 1}.u)" for k in range(1, len(steps))])
    joins = " ".join(f"LEFT JOIN s{k + 1} ON s{k + 1}.u = s1.u" for k in range(1, len(steps)))
    # Without a breakdown every b is '' and its one group is dropped by the caller.
    sql = (
        f"WITH {', '.join(ctes)} "
        f"SELECT GROUPING(s1.b), GROUPING(s1.w), s1.b, s1.w, {counts} FROM s1 {joins} "
        "GROUP BY GROUPING SETS ((), (s1.b), (s1.w))"
    )
    return sql, params


def _groups_sql(product_id, steps, start, end, window, breakdown, tz) -> dict:
    sql, params = funnel_sql(
        product_id=product_id,
        steps=steps,
        start=start,
        end=end,
        window=window,
        breakdown=breakdown,
        tz=str(tz),
    )
    groups: dict[tuple[str, Any], list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for by_b, by_w, b, w, *counts in cursor.fetchall():
            if by_b and by_w:
                groups[("all", None)] = list(counts)
            elif not by_b:
                if breakdown:
                    groups[("b", b)] = list(counts)
            else:
                groups[("w", w)] = list(counts)
    return groups


# --- Python (SQLite, and the reference the tests hold the SQL to) ----------------------------


def _matches(step: Step, name: str, properties: dict) -> bool:
    if name != step.event:
        return False
    return not step.property_name or _as_text(properties.get(step.property_name)) == (
        step.property_value
    )


def funnel_groups_python(
    events: Iterable[tuple[str, datetime, str, dict]],
    *,
    steps: list[Step],
    start: datetime,
    end: datetime,
    window: timedelta,
    breakdown: str,
    tz: ZoneInfo,
) -> dict[tuple[str, Any], list[int]]:
    """The same groups as the SQL from (person, time, event name, properties) tuples."""
    by_person: dict[str, list[tuple[datetime, str, dict]]] = defaultdict(list)
    for person, moment, name, properties in events:
        if start <= moment < end + window:
            by_person[person].append((moment, name, properties))
    groups: dict[tuple[str, Any], list[int]] = defaultdict(lambda: [0] * len(steps))
    for rows in by_person.values():
        rows.sort(key=lambda r: r[0])
        entry = next(
            (r for r in rows if r[0] < end and _matches(steps[0], r[1], r[2])),
            None,
        )
        if entry is None:
            continue
        t1 = previous = entry[0]
        reached = 1
        for step in steps[1:]:
            found = next(
                (
                    r[0]
                    for r in rows
                    if previous <= r[0] < t1 + window and _matches(step, r[1], r[2])
                ),
                None,
            )
            if found is None:
                break
            previous = found
            reached += 1
        local = t1.astimezone(tz).date()
        week = local - timedelta(days=local.weekday())
        label = _as_text(entry[2].get(breakdown)) if breakdown else None
        keys: list[tuple[str, Any]] = [("all", None), ("w", week)]
        if breakdown:
            keys.append(("b", label or ""))
        for key in keys:
            for i in range(reached):
                groups[key][i] += 1
    if ("all", None) not in groups:
        groups[("all", None)] = [0] * len(steps)
    return dict(groups)


# --- the result ----------------------------------------------------------------------------


def _result(groups: dict[tuple[str, Any], list[int]], steps: list[Step]) -> EventFunnelResult:
    names = [s.name for s in steps]
    total = groups.get(("all", None), [0] * len(steps))
    rows = funnel_rows(list(zip(names, total, strict=True)))
    by_value = sorted(
        ((key[1], counts) for key, counts in groups.items() if key[0] == "b"),
        key=lambda item: (-item[1][0], item[0]),
    )
    segments = [
        Segment(value or NOT_SET, funnel_rows(list(zip(names, counts, strict=True))))
        for value, counts in by_value[:TOP_SEGMENTS]
    ]
    rest = by_value[TOP_SEGMENTS:]
    if rest:
        summed = [sum(counts[i] for _, counts in rest) for i in range(len(steps))]
        segments.append(Segment(OTHER, funnel_rows(list(zip(names, summed, strict=True)))))
    weeks = sorted(
        (Week(key[1], counts) for key, counts in groups.items() if key[0] == "w"),
        key=lambda w: w.start,
    )
    return EventFunnelResult(rows=rows, segments=segments, weeks=weeks)


def compute(
    *,
    product_id: int,
    steps: list[Step],
    period_start: date,
    period_end: date,
    window_days: int,
    breakdown: str,
    tz: ZoneInfo,
) -> EventFunnelResult:
    """An events funnel's steps, breakdown and weekly trend: one query on PostgreSQL."""
    if not steps:
        return EventFunnelResult(rows=[])
    start, end = _bounds(period_start, period_end, tz)
    window = timedelta(days=window_days)
    if connection.vendor == "postgresql":
        groups = _groups_sql(product_id, steps, start, end, window, breakdown, tz)
    else:
        events = Event.objects.filter(
            product_id=product_id,
            name__in={s.event for s in steps},
            timestamp__gte=start,
            timestamp__lt=end + window,
        ).values_list("distinct_id", "timestamp", "name", "properties")
        groups = funnel_groups_python(
            events,
            steps=steps,
            start=start,
            end=end,
            window=window,
            breakdown=breakdown,
            tz=tz,
        )
    if ("all", None) not in groups:
        groups[("all", None)] = [0] * len(steps)
    return _result(groups, steps)
