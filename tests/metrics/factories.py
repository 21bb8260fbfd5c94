"""Factories for metrics rows. Rollups are never made here: they come from the rollup engine."""

from datetime import date, timedelta

import factory

from metrics.models import KPI, Experiment, Funnel, FunnelStep, LaunchImpact, Variant
from tests.backlog.factories import FeatureFactory
from tests.factories import ProductFactory


class KPIFactory(factory.django.DjangoModelFactory[KPI]):
    class Meta:
        model = KPI

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"KPI {n}")
    aggregation = "sum"
    granularity = "day"


class LaunchImpactFactory(factory.django.DjangoModelFactory[LaunchImpact]):
    class Meta:
        model = LaunchImpact

    product = factory.SubFactory(ProductFactory)
    feature = factory.SubFactory(FeatureFactory, product=factory.SelfAttribute("..product"))
    kpi = factory.SubFactory(KPIFactory, product=factory.SelfAttribute("..product"))
    predicted_change = 10
    window_days = 7


class ExperimentFactory(factory.django.DjangoModelFactory[Experiment]):
    class Meta:
        model = Experiment
        skip_postgeneration_save = True

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Experiment {n}")
    hypothesis = "Green buttons convert better."

    @factory.post_generation
    def variants(obj, create, extracted, **kwargs):
        rows = extracted or [("Control", 1000, 100), ("Green", 1000, 130)]
        # (name, exposures, conversions) or, for a pricing experiment, (…, price)
        for i, (name, exposures, conversions, *price) in enumerate(rows):
            Variant.objects.create(
                workspace_id=obj.product.workspace_id,
                experiment=obj,
                position=i,
                name=name,
                exposures=exposures,
                conversions=conversions,
                price=price[0] if price else None,
            )


class FunnelFactory(factory.django.DjangoModelFactory[Funnel]):
    class Meta:
        model = Funnel
        skip_postgeneration_save = True

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Funnel {n}")
    period_start = factory.LazyFunction(lambda: date.today() - timedelta(days=30))
    period_end = factory.LazyFunction(date.today)

    @factory.post_generation
    def steps(obj, create, extracted, **kwargs):
        rows = extracted or [("Visit", 1000), ("Sign up", 300), ("Pay", 60)]
        for i, (name, count) in enumerate(rows):
            FunnelStep.objects.create(
                workspace_id=obj.product.workspace_id,
                funnel=obj,
                position=i,
                name=name,
                count=count,
            )
