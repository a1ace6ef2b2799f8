"""The loans app's jobs: the daily maturity watch (Celery beat → loans.tasks.daily_maturity_watch)
and the follow-up of loans a bank system sent (stages and watch entries, after the answer)."""

from datetime import date

from django.utils.translation import gettext_lazy

from core.jobs import job_handler

from .services.records import after_loan_change
from .services.watch import refresh_watch

WATCH_KIND = "loans.maturity_watch"
SENT_LOANS_KIND = "loans.sent_loans"


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


@job_handler(
    SENT_LOANS_KIND,
    label=gettext_lazy("Stages and maturity watch of loans sent by a bank system"),
    action="report",
    count_labels={
        "stage_changes": gettext_lazy("Stage changes"),
        "watched": gettext_lazy("Loans maturing without a renewal contact"),
    },
)
def sent_loans_job(job):
    """What the form does at once for one loan, for a bank system's batch after its answer:
    ``params["enterprise_ids"]`` get their first loans and stages recomputed,
    ``params["loan_ids"]`` their maturity-watch entries."""
    job.set_step(gettext_lazy("Recomputing first loans and stages"))
    return after_loan_change(job.params["enterprise_ids"], job.params["loan_ids"])
