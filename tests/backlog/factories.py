"""Factories for backlog rows. Features and stories get their rank (and stories their number)
from the services' rules, so rows made here behave like rows made in the app."""

from datetime import date, timedelta

import factory

from backlog.models import Feature, Idea, Sprint, UserStory
from backlog.ranking import key_between
from backlog.services import _next_story_number
from tests.factories import ProductFactory


class FeatureFactory(factory.django.DjangoModelFactory[Feature]):
    class Meta:
        model = Feature

    product = factory.SubFactory(ProductFactory)
    title = factory.Sequence(lambda n: f"Feature {n}")

    @factory.lazy_attribute
    def rank(self):
        last = (
            Feature.objects.filter(product=self.product)
            .order_by("-rank")
            .values_list("rank", flat=True)
            .first()
        )
        return key_between(last, None)


class IdeaFactory(factory.django.DjangoModelFactory[Idea]):
    class Meta:
        model = Idea

    product = factory.SubFactory(ProductFactory)
    title = factory.Sequence(lambda n: f"Idea {n}")
    submitter_name = "A customer"


class SprintFactory(factory.django.DjangoModelFactory[Sprint]):
    class Meta:
        model = Sprint

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Sprint {n}")
    start = factory.LazyFunction(lambda: date.today() - timedelta(days=3))
    end = factory.LazyAttribute(lambda s: s.start + timedelta(days=13))
    capacity = 20


class StoryFactory(factory.django.DjangoModelFactory[UserStory]):
    class Meta:
        model = UserStory

    feature = factory.SubFactory(FeatureFactory)
    product = factory.SelfAttribute("feature.product")
    title = factory.Sequence(lambda n: f"Story {n}")
    points = 3

    @factory.lazy_attribute
    def number(self):
        # Claimed from the product's counter, like story_create, so both can be mixed.
        return _next_story_number(self.product)

    @factory.lazy_attribute
    def rank(self):
        last = (
            UserStory.objects.filter(product=self.product)
            .order_by("-rank")
            .values_list("rank", flat=True)
            .first()
        )
        return key_between(last, None)
