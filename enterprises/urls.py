from django.urls import path

from . import views

app_name = "enterprises"

urlpatterns = [
    path("", views.enterprise_list, name="list"),
    path("<int:pk>/", views.enterprise_detail, name="detail"),
    path("<int:pk>/timeline/", views.enterprise_timeline, name="timeline"),
    path("imports/", views.import_list, name="import_list"),
    path("imports/new/", views.import_upload, name="import_upload"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/apply/", views.import_apply, name="import_apply"),
    path("imports/<int:pk>/errors.xlsx", views.import_error_report, name="import_errors"),
    path("imports/template/<str:kind>.xlsx", views.import_template, name="import_template"),
    path("imports/jobs/<int:job_pk>/panel/", views.import_job_panel, name="import_job_panel"),
]
