from django.urls import path

from . import views

app_name = "loans"

urlpatterns = [
    path("approvals/new/", views.approval_form, name="approval_new"),
    path("approvals/<int:pk>/edit/", views.approval_form, name="approval_edit"),
    path("approvals/<int:pk>/delete/", views.approval_delete, name="approval_delete"),
    path("new/", views.loan_form, name="loan_new"),
    path("<int:pk>/edit/", views.loan_form, name="loan_edit"),
    path("<int:pk>/delete/", views.loan_delete, name="loan_delete"),
    path("<int:pk>/contact/", views.contact_form, name="contact"),
    path("watch/", views.watch_list, name="watch"),
]
