from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("", views.index, name="index"),
    path("funnel/", views.funnel, name="funnel"),
    path("banks/", views.ranking, name="ranking"),
    path("export/funnel.xlsx", views.export_funnel, name="export-funnel"),
    path("export/banks.xlsx", views.export_ranking, name="export-ranking"),
    path("export/<str:table>.xlsx", views.export, name="export"),
]
