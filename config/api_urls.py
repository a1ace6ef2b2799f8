"""/api/v1/: each app contributes its own api/urls.py; the schema and docs cover them all."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("", include("core.api.urls")),
    path("", include("enterprises.api.urls")),
    path("", include("banks.api.urls")),
    path("", include("loans.api.urls")),
    path("", include("screening.api.urls")),
    path("", include("visits.api.urls")),
    path("", include("dashboards.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
