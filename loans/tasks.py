"""Thin Celery wrappers: the daily maturity watch (beat schedule in config/settings.py)."""

from celery import shared_task


@shared_task(name="loans.tasks.daily_maturity_watch")
def daily_maturity_watch():
    from core import jobs

    return jobs.enqueue("loans.maturity_watch", params={"trigger": "daily"}).pk
