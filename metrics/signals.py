"""Signals of the metrics app that other apps listen to (metrics never imports them).

``kpi_recalculated`` is sent after a KPI's rollups were recomputed (kwargs ``kpi_id``)."""

from django.dispatch import Signal

kpi_recalculated = Signal()
