"""The daily maturity-watch job (Celery beat → loans.tasks.daily_maturity_watch)."""

from datetime import date

from django.utils.translation import gettext_lazy

from core.jobs import job_handler

from .services.watch import refresh_watch

WATCH_KIND = "loans.maturity_watch"


@job_handler(
    WATCH_KIND,
    label=gettext_lazy("Maturity watch: loans due within a month without a renewal contact"),
    action="screen",  # derived work, like a list rebuild
    count_labels={"watched": gettext_lazy("Loans maturing without a renewal contact")},
)
def maturity_watch_job(job):
    """Rebuild the watch list; ``params["today"]`` (ISO date) replays a given day."""
    today = date.fromisoformat(job.params["today"]) if job.params.get("today") else None
    job.set_step(gettext_lazy("Selecting loans maturing soon"))
    return {"watched": refresh_watch(today=today)}
