from rest_framework.routers import SimpleRouter

from .views import BankViewSet

router = SimpleRouter()
router.register("banks", BankViewSet)

urlpatterns = router.urls
