"""Custom model fields."""

from django.db import models


class RankField(models.CharField):
    """A fractional rank key (see backlog/ranking.py). Keys must sort byte-wise, so the column
    uses the "C" collation on PostgreSQL: a locale collation silently misorders them. SQLite
    compares bytes already (BINARY)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(*args, **kwargs)

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
