"""The backlog's API routes, included from pm/urls.py under api/v1/."""

from rest_framework.routers import SimpleRouter

from backlog.api import FeatureViewSet, IdeaViewSet, SprintViewSet, StoryViewSet

router = SimpleRouter()
router.register("stories", StoryViewSet, basename="api-story")
router.register("sprints", SprintViewSet, basename="api-sprint")
router.register("features", FeatureViewSet, basename="api-feature")
router.register("ideas", IdeaViewSet, basename="api-idea")

urlpatterns = router.urls
