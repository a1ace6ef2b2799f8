from rest_framework.routers import SimpleRouter

from .views import EnterpriseViewSet, RegionViewSet

router = SimpleRouter()
router.register("regions", RegionViewSet)
router.register("enterprises", EnterpriseViewSet)

urlpatterns = router.urls
