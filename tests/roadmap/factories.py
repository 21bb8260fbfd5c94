"""Factories for roadmap rows. Initiatives get a rank at the bottom of their column, like
initiative_create gives them."""

from datetime import date, timedelta

import factory

from backlog.ranking import key_between
from roadmap.choices import Horizon, Precision, Visibility
from roadmap.models import Initiative, Release, ShareLink
from roadmap.services import share_link_create
from tests.factories import ProductFactory


class InitiativeFactory(factory.django.DjangoModelFactory[Initiative]):
    class Meta:
        model = Initiative

    product = factory.SubFactory(ProductFactory)
    title = factory.Sequence(lambda n: f"Initiative {n}")
    horizon = Horizon.NEXT
    visibility = Visibility.PUBLIC
    start = date(2027, 1, 1)
    start_precision = Precision.QUARTER
    end = date(2027, 6, 30)
    end_precision = Precision.QUARTER

    @factory.lazy_attribute
    def rank(self):
        last = (
            Initiative.objects.filter(product=self.product, horizon=self.horizon)
            .order_by("-rank")
            .values_list("rank", flat=True)
            .first()
        )
        return key_between(last, None)


class ReleaseFactory(factory.django.DjangoModelFactory[Release]):
    class Meta:
        model = Release

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Release {n}")
    target_date = factory.LazyFunction(lambda: date.today() + timedelta(days=30))
    visibility = Visibility.PUBLIC


def make_share_link(product, actor, **kwargs) -> tuple[ShareLink, str]:
    return share_link_create(
        product=product, label=kwargs.pop("label", "Board"), actor=actor, **kwargs
    )
