"""URLs of the application and recommendation lists (included by visits/urls.py)."""

from django.urls import path

from . import recommendation_views as views

urlpatterns = [
    path("applications/", views.application_list, name="application_list"),
    path("applications/rules/", views.rules_edit, name="recommendation_rules"),
    path("applications/<int:pk>/", views.application_check, name="application_check"),
    path("applications/<int:pk>/approve/", views.application_approve, name="application_approve"),
    path("recommendations/", views.recommendation_list, name="recommendation_list"),
    path("recommendations/push/", views.recommendation_push, name="recommendation_push"),
    path("recommendations/batches/", views.batch_list, name="batch_list"),
    path("recommendations/batches/<int:pk>/", views.batch_detail, name="batch_detail"),
]
