"""The nightly safety net, the key-result sync under a concurrent edit, and the demo data."""

from decimal import Decimal

import pytest

from metrics import demo, services
from metrics.models import KPI, DataPoint, Experiment, Funnel, KeyResultKPI, LaunchImpact, Rollup
from metrics.tasks import recalculate_all_kpis
from pm.celery import app
from tests.factories import KeyResultFactory
from tests.metrics.factories import KPIFactory
from tests.metrics.helpers import ingest, snapshot

pytestmark = pytest.mark.django_db


def test_the_nightly_beat_entry_names_a_registered_task():
    entry = app.conf.beat_schedule["recompute-all-kpi-rollups-nightly"]
    assert entry["task"] == recalculate_all_kpis.name
    assert entry["task"] in app.tasks


def test_the_nightly_task_repairs_every_kpi_and_its_ratios(cast):
    a = KPIFactory(product=cast.product)
    b = KPIFactory(product=cast.product)
    ingest(a, [("2027-01-01T10:00:00+00:00", 3)])
    ingest(b, [("2027-01-01T10:00:00+00:00", 6)])
    ratio = KPIFactory(product=cast.product, aggregation="ratio", numerator=a, denominator=b)
    services.kpi_recalculate(kpi_id=ratio.pk, full=True)
    good = snapshot(a), snapshot(ratio)
    Rollup.objects.all().delete()  # say a bug or a restore lost them

    assert recalculate_all_kpis.delay().get() == 2  # the ratio comes with its parts
    assert (snapshot(a), snapshot(ratio)) == good


def test_a_key_result_edited_meanwhile_is_still_updated_without_losing_the_edit(cast, monkeypatch):
    kpi = KPIFactory(product=cast.product, aggregation="last")
    kr = KeyResultFactory(objective__product=cast.product, current_value=1, description="Old")
    KeyResultKPI.objects.create(
        workspace_id=cast.workspace.pk, kpi=kpi, key_result=kr, linked_by=cast.pm
    )
    real = services.versioned_update
    calls = []

    def edited_just_before(**kwargs):
        if not calls:  # someone renames the key result between the sync's read and its write
            fresh = type(kr).objects.get(pk=kr.pk)
            real(
                instance=fresh,
                data={"description": "New"},
                expected_version=fresh.version,
                actor=cast.admin,
            )
        calls.append(kwargs["expected_version"])
        return real(**kwargs)

    monkeypatch.setattr(services, "versioned_update", edited_just_before)
    ingest(kpi, [("2027-01-01T10:00:00+00:00", 7)])
    kr.refresh_from_db()
    assert calls == [1, 2]  # refused once as stale, then applied on the current version
    assert kr.description == "New" and kr.current_value == Decimal(7) and kr.version == 3


def test_the_demo_loads_kpis_with_a_year_of_data_and_runs_twice_without_change(cast):
    from tests.backlog.factories import FeatureFactory

    FeatureFactory(product=cast.product, title=demo.INBOX, shipped_at=None)
    inbox = cast.product.features.get(title=demo.INBOX)
    from datetime import timedelta

    from django.utils import timezone

    inbox.shipped_at = timezone.now() - timedelta(days=40)
    inbox.save()
    users = {"pm": cast.pm, "admin": cast.admin}
    demo.load(workspace=cast.workspace, product=cast.product, users=users)
    counts = (
        KPI.objects.count(),
        DataPoint.objects.count(),
        Rollup.objects.count(),
        LaunchImpact.objects.count(),
        Experiment.objects.count(),
        Funnel.objects.count(),
    )
    assert counts[0] == 7 and counts[1] == 6 * 365
    assert counts[3] == 1 and counts[4] == 3 and counts[5] == 1
    price_test = Experiment.objects.get(name=demo.PRICE_TEST)
    assert len({v.price for v in price_test.variants.all()} - {None}) == 3
    demo.load(workspace=cast.workspace, product=cast.product, users=users)
    assert (
        KPI.objects.count(),
        DataPoint.objects.count(),
        Rollup.objects.count(),
        LaunchImpact.objects.count(),
        Experiment.objects.count(),
        Funnel.objects.count(),
    ) == counts

    # The shipped feature's launch impact is clearly visible and the prediction met.
    from metrics.selectors import launch_impacts, measure_impacts

    (measured,) = measure_impacts(list(launch_impacts(product=cast.product)))
    assert measured.change > 25 and measured.tone == "success"


def test_load_demo_runs_the_metrics_loader():
    from pm.registry import registry

    assert demo.load in registry.demo_loaders
