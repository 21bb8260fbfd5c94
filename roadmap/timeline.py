"""Lay initiatives out on a month grid: which grid column each bar starts in and how many it spans.

Pages place bars with classes (`c-N` start column, `s-N` span, `f-N` tenths into a month), all
generated in static/css/roadmap.css, because the CSP forbids style attributes. Column 1 is the
label column; months are columns 2 … MAX_MONTHS + 1.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from roadmap.choices import Health
from roadmap.periods import add_months, months_between, quarter_of, quarter_start

MIN_QUARTERS = 8  # the grid always covers at least two years
MAX_MONTHS = 48  # and at most four (classes exist up to this many columns)
LOOKBACK_QUARTERS = 4  # how far back the grid reaches for initiatives that started earlier


@dataclass(frozen=True)
class TimelineItem:
    """What a bar shows: the same shape for the team's view and the public one."""

    pk: int
    title: str
    start: date | None
    end: date | None
    timeframe: str
    status: str
    status_label: str
    horizon_label: str
    theme_key: Any = None
    theme_name: str = ""
    theme_colour: str = "#5f6682"
    internal: bool = False
    url: str = ""
    forecast: Any = None  # roadmap.delivery.WorkOutlook, on the team's timeline only
    health: str = ""  # the latest status update: on_track / at_risk / off_track

    @property
    def health_label(self) -> str:
        return Health(self.health).label if self.health else ""


@dataclass(frozen=True)
class Marker:
    name: str
    day: date
    shipped: bool
    col: int
    tenth: int
    url: str = ""
    forecast: Any = None


@dataclass
class Bar:
    item: TimelineItem
    col: int = 0
    span: int = 0
    clipped_start: bool = False
    clipped_end: bool = False

    @property
    def scheduled(self) -> bool:
        return self.span > 0


@dataclass
class Lane:
    """The initiatives of one theme."""

    name: str
    colour: str
    bars: list[Bar] = field(default_factory=list)


@dataclass
class Timeline:
    first: date
    months: int
    today: date
    lanes: list[Lane]
    markers: list[Marker]

    @property
    def month_cells(self) -> list[dict]:
        cells = []
        for i in range(self.months):
            day = add_months(self.first, i)
            cells.append(
                {
                    "col": i + 2,
                    "label": calendar.month_abbr[day.month],
                    "initial": calendar.month_abbr[day.month][0],
                    "quarter_start": day.month % 3 == 1,
                    "current": (day.year, day.month) == (self.today.year, self.today.month),
                }
            )
        return cells

    @property
    def quarter_cells(self) -> list[dict]:
        return [
            {
                "col": 2 + i,
                "label": f"Q{quarter_of(add_months(self.first, i).month)} "
                f"{add_months(self.first, i).year}",
            }
            for i in range(0, self.months, 3)
        ]

    @property
    def today_col(self) -> int | None:
        index = months_between(self.first, self.today)
        return index + 2 if 0 <= index < self.months else None

    @property
    def today_tenth(self) -> int:
        return _tenth(self.today)

    @property
    def last(self) -> date:
        return add_months(self.first, self.months - 1)

    @property
    def is_empty(self) -> bool:
        return not any(lane.bars for lane in self.lanes)

    @property
    def range_label(self) -> str:
        last = self.last
        return (
            f"Q{quarter_of(self.first.month)} {self.first.year} – "
            f"Q{quarter_of(last.month)} {last.year}"
        )


def _tenth(day: date) -> int:
    days = calendar.monthrange(day.year, day.month)[1]
    return min(9, (day.day - 1) * 10 // days)


def window(items: list[TimelineItem], today: date) -> tuple[date, int]:
    """The first month and the number of months to show: from the previous quarter (or the
    earliest start, up to a year back) to the latest end, at least MIN_QUARTERS, at most
    MAX_MONTHS."""
    first = add_months(quarter_start(today), -3)
    starts = [i.start for i in items if i.start]
    ends = [i.end for i in items if i.end]
    if starts:
        earliest = quarter_start(min(starts))
        floor = add_months(quarter_start(today), -3 * LOOKBACK_QUARTERS)
        first = max(min(first, earliest), floor)
    months = 3 * MIN_QUARTERS
    if ends:
        needed = months_between(first, max(ends)) + 1
        months = max(months, -(-needed // 3) * 3)
    return first, min(months, MAX_MONTHS)


def build(
    items: list[TimelineItem],
    releases: list[tuple],
    today: date,
) -> Timeline:
    """Group `items` into lanes by theme (in the given order, themeless last) and place them."""
    first, months = window(items, today)
    lanes: dict[Any, Lane] = {}
    for item in items:
        lane = lanes.get(item.theme_key)
        if lane is None:
            lane = lanes[item.theme_key] = Lane(
                name=item.theme_name or "No theme", colour=item.theme_colour
            )
        bar = Bar(item=item)
        if item.start and item.end:
            start = months_between(first, item.start)
            end = months_between(first, item.end)
            if end >= 0 and start < months:
                bar.clipped_start = start < 0
                bar.clipped_end = end >= months
                start, end = max(start, 0), min(end, months - 1)
                bar.col = start + 2
                bar.span = end - start + 1
        lane.bars.append(bar)
    ordered = [lane for key, lane in lanes.items() if key is not None]
    if None in lanes:
        ordered.append(lanes[None])
    markers = []
    for name, day, shipped, url, *forecast in releases:
        index = months_between(first, day)
        if 0 <= index < months:
            markers.append(Marker(name, day, shipped, index + 2, _tenth(day), url, *forecast[:1]))
    return Timeline(first=first, months=months, today=today, lanes=ordered, markers=markers)
