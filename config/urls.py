from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core import views as core_views
from core.history_views import history_list

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jobs/", include("core.urls")),
    path("history/", history_list, name="history"),
    path("enterprises/", include("enterprises.urls")),
    path("banks/", include("banks.urls")),
    path("loans/", include("loans.urls")),
    path("lists/", include("screening.urls")),
    path("visits/", include("visits.urls")),
    path("dashboards/", include("dashboards.urls")),
    path("api/v1/", include("config.api_urls")),
    path("admin/", admin.site.urls),
]
