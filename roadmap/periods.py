"""Months and quarters: how an initiative's start and end are entered, stored and shown.

A period is stored as a date (the first day for a start, the last day for an end) plus its
precision, so the database can sort and compare them while people type "2027 Q1" or "Mar 2027".
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date

from roadmap.choices import Precision

_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_abbr) if name}
_MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_name) if name})

_QUARTER = [
    re.compile(r"^(?P<year>\d{4})\s*[-/ ]?\s*q(?P<q>[1-4])$"),
    re.compile(r"^q(?P<q>[1-4])\s*[-/ ]?\s*(?P<year>\d{4})$"),
]
_MONTH_NUMERIC = re.compile(r"^(?P<year>\d{4})\s*[-/.]\s*(?P<month>\d{1,2})$")
_MONTH_NAMED = [
    re.compile(r"^(?P<name>[a-z]+)\.?\s*(?P<year>\d{4})$"),
    re.compile(r"^(?P<year>\d{4})\s*(?P<name>[a-z]+)$"),
]


def quarter_of(month: int) -> int:
    return (month - 1) // 3 + 1


def quarter_start(day: date) -> date:
    return date(day.year, 3 * (quarter_of(day.month) - 1) + 1, 1)


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, second: date) -> int:
    """Whole months from `first`'s month to `second`'s month."""
    return (second.year - first.year) * 12 + second.month - first.month


def month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


@dataclass(frozen=True)
class Period:
    """A calendar month or quarter."""

    year: int
    month: int  # the first month of the period
    precision: str = Precision.MONTH

    @classmethod
    def parse(cls, text: str) -> "Period":
        """'2027 Q1', 'Q1 2027', '2027-03', 'Mar 2027' or 'March 2027'; ValueError otherwise."""
        value = " ".join(text.strip().lower().split())
        for pattern in _QUARTER:
            if match := pattern.match(value):
                q = int(match["q"])
                return cls._checked(int(match["year"]), 3 * q - 2, Precision.QUARTER)
        if match := _MONTH_NUMERIC.match(value):
            return cls._checked(int(match["year"]), int(match["month"]), Precision.MONTH)
        for pattern in _MONTH_NAMED:
            if (match := pattern.match(value)) and match["name"] in _MONTHS:
                return cls._checked(int(match["year"]), _MONTHS[match["name"]], Precision.MONTH)
        raise ValueError(f"“{text}” is not a month or a quarter: write 2027 Q1 or 2027-03.")

    @classmethod
    def _checked(cls, year: int, month: int, precision: str) -> "Period":
        if not 1 <= month <= 12:
            raise ValueError("Months run from 1 to 12.")
        if not 2000 <= year <= 2100:
            raise ValueError("Use a year between 2000 and 2100.")
        return cls(year, month, precision)

    @classmethod
    def starting(cls, day: date, precision: str) -> "Period":
        """The period whose first day is (or contains) `day`."""
        if precision == Precision.QUARTER:
            day = quarter_start(day)
        return cls(day.year, day.month, precision)

    @classmethod
    def ending(cls, day: date, precision: str) -> "Period":
        """The period whose last day is (or contains) `day`."""
        return cls.starting(day, precision)

    @property
    def months(self) -> int:
        return 3 if self.precision == Precision.QUARTER else 1

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return month_end(add_months(self.first_day, self.months - 1))

    @property
    def label(self) -> str:
        if self.precision == Precision.QUARTER:
            return f"{self.year} Q{quarter_of(self.month)}"
        return f"{calendar.month_abbr[self.month]} {self.year}"

    def __str__(self) -> str:
        return self.label


def span_label(
    start: date | None, start_precision: str, end: date | None, end_precision: str
) -> str:
    """'2027 Q1 – 2027 Q2', '2027 Q1' when it starts and ends in one period, '' without dates."""
    if start is None or end is None:
        return ""
    first = Period.starting(start, start_precision)
    last = Period.ending(end, end_precision)
    if first == last:
        return first.label
    return f"{first.label} – {last.label}"


def period_suggestions(today: date, quarters: int = 12) -> list[str]:
    """Labels for a <datalist>: quarters and months from the previous quarter onwards."""
    first = add_months(quarter_start(today), -3)
    labels = []
    for q in range(quarters):
        start = add_months(first, 3 * q)
        labels.append(Period.starting(start, Precision.QUARTER).label)
    for m in range(quarters * 3):
        labels.append(Period.starting(add_months(first, m), Precision.MONTH).label)
    return labels
