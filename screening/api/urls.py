from rest_framework.routers import SimpleRouter

from .views import ExclusionViewSet, MembershipViewSet, RunViewSet

router = SimpleRouter()
router.register("lists/members", MembershipViewSet, basename="list-member")
router.register("lists/excluded", ExclusionViewSet, basename="list-excluded")
router.register("screening/runs", RunViewSet, basename="screening-run")

urlpatterns = router.urls
