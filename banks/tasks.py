"""Thin Celery wrappers: the daily hand-off of overdue and declined leads (beat schedule)."""

from celery import shared_task


@shared_task(name="banks.tasks.daily_hand_off")
def daily_hand_off():
    from core import jobs

    return jobs.enqueue("banks.hand_off", params={"trigger": "daily"}).pk
