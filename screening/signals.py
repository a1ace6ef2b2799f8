"""Rebuild the lists of a batch's region after each applied import; tell others when done."""

from django.db import transaction
from django.dispatch import Signal

# Sent when a rebuild job has finished all its county runs (keyword arguments: job, region;
# region None = every county). Dashboards refresh their stored figures on it.
lists_rebuilt = Signal()


def rebuild_after_import(sender, batch=None, **kwargs):
    from core import jobs

    region = getattr(batch, "region", None)
    user = getattr(batch, "created_by", None)
    params = {"trigger": "import", "batch": getattr(batch, "pk", None)}
    transaction.on_commit(
        lambda: jobs.enqueue("screening.rebuild", user=user, region=region, params=params)
    )
