"""The campaign job: a large second-round campaign fills the due lists one township at a time."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.jobs import JobError, job_handler

from .models import Campaign
from .services.followups import fill_campaign


@job_handler(
    "visits.campaign_fill",
    label=gettext_lazy("Fill the due-visit lists of a campaign"),
    action="change",
    count_labels={"added": gettext_lazy("Due visits added")},
)
def campaign_fill_job(job):
    campaign = Campaign.objects.select_related("region").filter(pk=job.params.get("campaign"))
    campaign = campaign.first()
    if campaign is None:
        raise JobError(_("The campaign no longer exists."))

    def progress(done, total):
        job.report(done=done, total=total, step=gettext_lazy("Filling the due-visit lists"))

    return fill_campaign(campaign, job.created_by, progress=progress)
