"""Monthly partitions of KPI data points (metrics.partitions).

    manage.py kpi_partitions                          # list attached and detached months
    manage.py kpi_partitions --ahead 6                # create this month and the next 6
    manage.py kpi_partitions --detach-before 2024-01  # detach every month before January 2024
    manage.py kpi_partitions --events …               # the same for product-analytics events

A detached month's points leave every read at once; its table stays, renamed
metrics_datapoint_detached_YYYY_MM (metrics_event_detached_YYYY_MM), to be dumped (pg_dump -t)
and dropped by hand. The next
nightly full recalculation removes the rollups those points made."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from metrics import partitions


class Command(BaseCommand):
    help = "List, create ahead or detach the monthly partitions of KPI data points or events."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ahead", type=int, help="create this month and the next N months")
        parser.add_argument("--detach-before", metavar="YYYY-MM", help="detach older months")
        parser.add_argument(
            "--events", action="store_true", help="the partitions of events, not data points"
        )

    def handle(
        self,
        *args: Any,
        ahead: int | None,
        detach_before: str | None,
        events: bool = False,
        **options: Any,
    ):
        parent = partitions.EVENTS if events else partitions.PARENT
        if not partitions.enabled():
            self.stdout.write("Data points are partitioned on PostgreSQL only; nothing to do.")
            return
        before = None
        if detach_before is not None:
            try:
                before = partitions.Month.parse(detach_before)
            except ValueError as exc:
                raise CommandError(f"--detach-before takes a month as YYYY-MM: {exc}") from exc
        with transaction.atomic():
            if ahead is not None:
                created = partitions.create_ahead(ahead=max(ahead, 0), parent=parent)
                self.stdout.write(f"created: {_months(created)}")
            if before is not None:
                detached = partitions.detach_before(before, parent=parent)
                self.stdout.write(f"detached: {_months(detached)}")
        attached = partitions.attached(parent)
        self.stdout.write(f"attached: {_months(attached)}")
        self.stdout.write(f"detached tables: {', '.join(partitions.detached(parent)) or 'none'}")


def _months(months: list[partitions.Month]) -> str:
    if not months:
        return "none"
    if len(months) > 6:
        return f"{len(months)} months, {months[0]} … {months[-1]}"
    return ", ".join(str(m) for m in months)
