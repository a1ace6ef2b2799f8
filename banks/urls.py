from django.urls import path

from . import views, workspace

app_name = "banks"

urlpatterns = [
    path("", views.bank_list, name="list"),
    # Feedback, workspace and needs attention (banks/workspace.py).
    path("workspace/", workspace.workspace, name="workspace"),
    path("workspace/export/", workspace.workspace_export, name="workspace_export"),
    path("workspace/<int:pk>/feedback/", workspace.workspace_feedback, name="workspace_feedback"),
    path("attention/", workspace.needs_attention, name="needs_attention"),
]
