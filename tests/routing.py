"""The shape of a role-matrix entry. Each app lists its routes in tests/<app>/routes.py as
ROUTES = {url_name: Route(...)}; tests/test_role_matrix.py gathers them all."""

from collections.abc import Callable
from dataclasses import dataclass

PUBLIC = "public"  # no sign-in needed (its own tests cover what it shows)
SIGNED_IN = "signed-in"  # any signed-in user, no workspace involved


@dataclass(frozen=True)
class Route:
    """`need` is the weakest role let in (or PUBLIC / SIGNED_IN). `kwargs(cast)` builds the URL
    arguments, creating whatever objects the route needs in the cast's product."""

    need: str
    kwargs: Callable = lambda cast: {"key": cast.product.key}
    methods: tuple[str, ...] = ("get",)
    htmx: bool = True
