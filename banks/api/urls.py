from rest_framework.routers import SimpleRouter

from .assignments import AssignmentViewSet, FeedbackViewSet, HandOffViewSet
from .views import BankAssignmentViewSet, BankViewSet

router = SimpleRouter()
router.register("banks", BankViewSet)
router.register("bank-assignments", BankAssignmentViewSet)
router.register("assignments", AssignmentViewSet, basename="assignment")
router.register("hand-offs", HandOffViewSet, basename="hand-off")
router.register("feedback", FeedbackViewSet, basename="feedback")

urlpatterns = router.urls
