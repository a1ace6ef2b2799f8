from django.core.management.base import BaseCommand, CommandError

from core import jobs
from core.choices import JobStatus
from enterprises.models import Region


class Command(BaseCommand):
    help = (
        "Give every enterprise of the key-visit list (or of one visit batch) that has no bank "
        "yet a lead and a backup bank; waits until done."
    )

    def add_arguments(self, parser):
        parser.add_argument("--region", help="Region code (a city runs each of its counties).")
        parser.add_argument("--batch", type=int, help="Visit batch id (its county only).")

    def handle(self, *args, region=None, batch=None, **options):
        target = None
        if region:
            target = Region.objects.filter(code=region).first()
            if target is None:
                raise CommandError(f"unknown region {region}")
        job = jobs.run_now("banks.allocate", region=target, params={"batch": batch})
        for key, value in job.counts.items():
            self.stdout.write(f"{key}: {value}")
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(job.error or job.status)
        self.stdout.write(self.style.SUCCESS(f"job #{job.pk} succeeded"))
