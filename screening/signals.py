"""Rebuild the lists of a batch's region after each applied import."""

from django.db import transaction


def rebuild_after_import(sender, batch=None, **kwargs):
    from core import jobs

    region = getattr(batch, "region", None)
    user = getattr(batch, "created_by", None)
    params = {"trigger": "import", "batch": getattr(batch, "pk", None)}
    transaction.on_commit(
        lambda: jobs.enqueue("screening.rebuild", user=user, region=region, params=params)
    )
