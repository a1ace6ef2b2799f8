from rest_framework.routers import SimpleRouter

from .views import CreditApprovalViewSet, CreditSnapshotViewSet, LoanViewSet

router = SimpleRouter()
router.register("loans", LoanViewSet)
router.register("credit-snapshots", CreditSnapshotViewSet)
router.register("credit-approvals", CreditApprovalViewSet)

urlpatterns = router.urls
