"""The site's URLs plus an API view and a page that fail with an unexpected error, to see what
the error handlers answer (tests/pm/test_redis_down.py)."""

from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from pm.urls import handler500  # noqa: F401
from pm.urls import urlpatterns as site_urlpatterns


@api_view(["GET"])
@permission_classes([AllowAny])
def failing_api(request):
    raise RuntimeError("an unexpected failure")


def failing_page(request):
    raise RuntimeError("an unexpected failure")


urlpatterns = [
    path("api/v1/failing/", failing_api),
    path("failing/", failing_page),
    *site_urlpatterns,
]
