"""factory_boy factories for the whole suite."""

import factory
from django.contrib.auth.models import User

from pm.choices import Role
from pm.models import (
    Competitor,
    KeyResult,
    Membership,
    Objective,
    Persona,
    Product,
    StrategicTheme,
    Workspace,
)

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class WorkspaceFactory(factory.django.DjangoModelFactory[Workspace]):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"workspace-{n}")


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.PM


def _product_key(n: int) -> str:
    letters = ""
    n += 26 * 26  # at least three letters
    while n:
        n, r = divmod(n, 26)
        letters = chr(65 + r) + letters
    return "P" + letters[-6:]


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    key = factory.Sequence(_product_key)
    vision = "A vision worth reading."


class ThemeFactory(factory.django.DjangoModelFactory[StrategicTheme]):
    class Meta:
        model = StrategicTheme

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Theme {n}")
    colour = "#4f46e5"


class ObjectiveFactory(factory.django.DjangoModelFactory[Objective]):
    class Meta:
        model = Objective

    product = factory.SubFactory(ProductFactory)
    title = factory.Sequence(lambda n: f"Objective {n}")
    period = "2027 Q1"
    theme = factory.SubFactory(ThemeFactory, product=factory.SelfAttribute("..product"))


class KeyResultFactory(factory.django.DjangoModelFactory[KeyResult]):
    class Meta:
        model = KeyResult

    objective = factory.SubFactory(ObjectiveFactory)
    workspace = factory.SelfAttribute("objective.product.workspace")
    description = factory.Sequence(lambda n: f"Key result {n}")
    start_value = 0
    target_value = 100
    current_value = 50


class PersonaFactory(factory.django.DjangoModelFactory[Persona]):
    class Meta:
        model = Persona

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Persona {n}")


class CompetitorFactory(factory.django.DjangoModelFactory[Competitor]):
    class Meta:
        model = Competitor

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Competitor {n}")
