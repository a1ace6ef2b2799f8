from django.urls import path

from .views import BankRankingView, FunnelView, StatsView

urlpatterns = [
    path("stats/", StatsView.as_view(), name="stats"),
    path("stats/funnel/", FunnelView.as_view(), name="stats-funnel"),
    path("stats/banks/", BankRankingView.as_view(), name="stats-banks"),
]
