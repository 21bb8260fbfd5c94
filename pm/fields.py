"""Custom model fields."""

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models


class RankField(models.CharField):
    """A fractional rank key (see backlog/ranking.py). Keys must sort byte-wise, so the column
    uses the "C" collation on PostgreSQL: a locale collation silently misorders them. SQLite
    compares bytes already (BINARY)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        super().__init__(*args, **kwargs)

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params


# Dates people type in (plans, ship dates, feedback received, experiment periods) stay within
# these years: year 1 or 9999 is a typo or a probe, and date arithmetic near the edges of the
# calendar (timelines, week starts, windows around a ship date) would overflow.
EARLIEST_YEAR = 1900
LATEST_YEAR = 2199


def validate_plausible_date(value: date | datetime | None) -> None:
    """Refuse dates outside EARLIEST_YEAR–LATEST_YEAR with a message for the field."""
    if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(
            f"Enter a date between {EARLIEST_YEAR} and {LATEST_YEAR}.", code="date_out_of_range"
        )
