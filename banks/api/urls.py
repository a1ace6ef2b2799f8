from rest_framework.routers import SimpleRouter

from .views import BankAssignmentViewSet, BankViewSet

router = SimpleRouter()
router.register("banks", BankViewSet)
router.register("bank-assignments", BankAssignmentViewSet)

urlpatterns = router.urls
