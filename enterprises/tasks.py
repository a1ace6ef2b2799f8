"""Thin Celery wrappers of the enterprises app: the daily clean-up of old uploaded files."""

from celery import shared_task
from celery.schedules import crontab

from config.celery import app

app.conf.beat_schedule = {
    **(app.conf.beat_schedule or {}),
    "enterprises-purge-old-uploads": {
        "task": "enterprises.tasks.purge_old_uploads",
        "schedule": crontab(hour=3, minute=30),
    },
}


@shared_task(name="enterprises.tasks.purge_old_uploads")
def purge_old_uploads():
    from .services.uploads import purge_old_uploads as purge

    return purge()
