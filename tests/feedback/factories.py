"""Factories for feedback tests. Backlog rows are made through backlog.services, which owns
their ranks."""

from decimal import Decimal

import factory
from django.utils import timezone

from backlog import services as backlog_services
from feedback.choices import Source
from feedback.models import Customer, FeedbackItem
from tests.factories import ProductFactory, WorkspaceFactory


class CustomerFactory(factory.django.DjangoModelFactory[Customer]):
    class Meta:
        model = Customer

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")
    segment = "Mid-market"
    plan = "Growth"
    arr = Decimal("12000.00")
    contact = factory.LazyAttribute(lambda c: f"buyer@{c.name.lower().replace(' ', '')}.test")


class FeedbackItemFactory(factory.django.DjangoModelFactory[FeedbackItem]):
    class Meta:
        model = FeedbackItem

    product = factory.SubFactory(ProductFactory)
    content = factory.Sequence(lambda n: f"Feedback number {n} about something")
    source = Source.EMAIL
    received_at = factory.LazyFunction(timezone.now)


def make_feature(product, title, description="", actor=None, **data):
    return backlog_services.feature_create(
        product=product, data={"title": title, "description": description, **data}, actor=actor
    )


def make_idea(product, title, description="", actor=None, **data):
    return backlog_services.idea_create(
        product=product, data={"title": title, "description": description, **data}, actor=actor
    )
