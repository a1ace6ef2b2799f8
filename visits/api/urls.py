from rest_framework.routers import SimpleRouter

from .views import ApplicationViewSet, CoordinationItemViewSet, RecommendationViewSet, VisitViewSet

router = SimpleRouter()
router.register("visits", VisitViewSet)
router.register("coordination-items", CoordinationItemViewSet)
router.register("applications", ApplicationViewSet)
router.register("recommendations", RecommendationViewSet)

urlpatterns = router.urls
