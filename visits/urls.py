from django.urls import path  # noqa: F401

from .recommendation_urls import urlpatterns as recommendation_urlpatterns

app_name = "visits"

urlpatterns = []
urlpatterns += recommendation_urlpatterns
