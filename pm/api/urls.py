"""Core API routes, included from pm/urls.py under api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from pm.api.views import MemberViewSet, MeView, ProductViewSet

router = SimpleRouter()
router.register("products", ProductViewSet, basename="api-product")
router.register("members", MemberViewSet, basename="api-member")

urlpatterns = [path("me/", MeView.as_view(), name="api-me"), *router.urls]
