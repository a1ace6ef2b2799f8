from django.urls import path

from . import views, workspace

app_name = "banks"

urlpatterns = [
    path("", views.bank_list, name="list"),
    # Staff: branches, visit batches, allocation runs, overrides (matchstaff).
    path("branches/<str:code>/edit/", views.bank_edit, name="bank_edit"),
    path("matching/", views.batch_list, name="batch_list"),
    path("matching/batches/new/", views.batch_create, name="batch_create"),
    path("matching/batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("matching/allocate/", views.allocate_start, name="allocate"),
    path("matching/runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("matching/runs/<int:pk>/export.xlsx", views.run_export, name="run_export"),
    path("assignments/<int:pk>/override/", views.assignment_override, name="override"),
    # Feedback, workspace and needs attention (banks/workspace.py).
    path("workspace/", workspace.workspace, name="workspace"),
    path("workspace/export/", workspace.workspace_export, name="workspace_export"),
    path("workspace/<int:pk>/feedback/", workspace.workspace_feedback, name="workspace_feedback"),
    path("workspace/<int:pk>/answer/", workspace.feedback_page, name="feedback"),
    path(
        "feedback/enterprise/<int:enterprise_pk>/",
        workspace.feedback_for_enterprise,
        name="feedback_for_enterprise",
    ),
    path("attention/", workspace.needs_attention, name="needs_attention"),
]
