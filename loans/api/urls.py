from rest_framework.routers import SimpleRouter

from .views import CreditSnapshotViewSet, LoanViewSet

router = SimpleRouter()
router.register("loans", LoanViewSet)
router.register("credit-snapshots", CreditSnapshotViewSet)

urlpatterns = router.urls
