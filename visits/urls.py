from django.urls import path

from . import due_views, item_views

app_name = "visits"

urlpatterns = [
    # Coordination items (问题协调) and follow-ups (followitems).
    path("items/", item_views.item_list, name="items"),
    path("items/mine/", item_views.my_items, name="my_items"),
    path("items/city/", item_views.escalated_items, name="items_city"),
    path("items/<int:pk>/", item_views.item_detail, name="item"),
    path("items/<int:pk>/escalate/", item_views.item_escalate, name="item_escalate"),
    path("due/", due_views.due_list, name="due"),
    path("campaigns/", due_views.campaign_list, name="campaigns"),
    path("campaigns/new/", due_views.campaign_new, name="campaign_new"),
]
