from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("", views.index, name="index"),
    path("export/<str:table>.xlsx", views.export, name="export"),
]
