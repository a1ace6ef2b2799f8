from django.urls import path

from . import due_views, item_views, views
from .recommendation_urls import urlpatterns as recommendation_urlpatterns

app_name = "visits"

urlpatterns = [
    path("new/", views.visit_new, name="new"),
    path("mine/", views.my_visits, name="mine"),
    path("enterprises/", views.enterprise_search, name="enterprise_search"),
    path("<int:pk>/", views.visit_detail, name="detail"),
    path("<int:pk>/edit/", views.visit_edit, name="edit"),
    path("<int:pk>/withdraw/", views.visit_withdraw, name="withdraw"),
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
urlpatterns += recommendation_urlpatterns
