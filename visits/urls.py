from django.urls import path

from . import views

app_name = "visits"

urlpatterns = [
    path("new/", views.visit_new, name="new"),
    path("mine/", views.my_visits, name="mine"),
    path("enterprises/", views.enterprise_search, name="enterprise_search"),
    path("<int:pk>/", views.visit_detail, name="detail"),
    path("<int:pk>/edit/", views.visit_edit, name="edit"),
    path("<int:pk>/withdraw/", views.visit_withdraw, name="withdraw"),
]
