from rest_framework.routers import SimpleRouter

from .views import EnterpriseViewSet, ImportBatchViewSet, RegionViewSet

router = SimpleRouter()
router.register("regions", RegionViewSet)
router.register("enterprises", EnterpriseViewSet)
router.register("imports", ImportBatchViewSet)

urlpatterns = router.urls
