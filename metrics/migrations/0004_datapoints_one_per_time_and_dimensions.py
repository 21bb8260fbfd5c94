"""Before points become unique per (KPI, timestamp, dimensions): keep the latest row of each
duplicate (they came from retried batches and re-uploaded files) and mark the spans of the KPIs
concerned dirty, so their rollups are recalculated without the doubles."""

from django.db import migrations
from django.db.models import Count, Max, Min


def forwards(apps, schema_editor):
    DataPoint = apps.get_model("metrics", "DataPoint")
    DirtyRange = apps.get_model("metrics", "DirtyRange")
    groups = (
        DataPoint.objects.values("kpi_id", "timestamp", "dimensions")
        .annotate(n=Count("id"), keep=Max("id"))
        .filter(n__gt=1)
        .order_by()
    )
    spans: dict[int, list] = {}
    for group in groups.iterator():
        DataPoint.objects.filter(
            kpi_id=group["kpi_id"],
            timestamp=group["timestamp"],
            dimensions=group["dimensions"],
            id__lt=group["keep"],
        ).delete()
        span = spans.setdefault(group["kpi_id"], [group["timestamp"], group["timestamp"]])
        span[0], span[1] = min(span[0], group["timestamp"]), max(span[1], group["timestamp"])
    DirtyRange.objects.bulk_create(
        DirtyRange(kpi_id=kpi_id, start=start, end=end) for kpi_id, (start, end) in spans.items()
    )


class Migration(migrations.Migration):
    dependencies = [("metrics", "0003_alter_datapoint_dimensions_alter_experiment_ended_on_and_more")]

    # Irreversible in content (the doubles are gone), harmless to reverse.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
