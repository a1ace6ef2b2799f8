"""Demo step of the dashboards: once every other step has written its rows (visits,
recommendations, approvals, feedback), compute the stored landing dashboards, so the demo opens
them at once, and say what the coordination KPIs of the demo county read."""

from datetime import date

from django.utils import timezone

from core import jobs

COUNTY = "330326"  # 平阳县
NEW_KEYS = (
    "visited_enterprises",
    "recommended_enterprises",
    "credited_enterprises",
    "credit_amount",
    "avg_days_to_disburse",
)


def load(stdout=None):
    """Run the dashboards refresh job; return the county's new KPIs for this year."""
    from accounts.models import User
    from dashboards.snapshots import compute_dashboard
    from enterprises.models import Region

    job = jobs.run_now("dashboards.refresh", params={"trigger": "demo"})
    today = timezone.localdate()
    staff = User.objects.filter(username="taskforce").first()
    figures = {}
    if staff is not None:
        region = Region.objects.get(code=COUNTY)
        totals = compute_dashboard(staff, region, date(today.year, 1, 1), today)["totals"]
        figures = {key: totals[key] for key in NEW_KEYS}
    if stdout is not None:
        stdout.write(f"demo: dashboards: {job.get_status_display()} {job.counts} {figures}")
    return figures
