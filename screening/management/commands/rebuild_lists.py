from django.core.management.base import BaseCommand, CommandError

from core import jobs
from core.choices import JobStatus
from enterprises.models import Region


class Command(BaseCommand):
    help = "Rebuild the screening lists of a region (default: every county); waits until done."

    def add_arguments(self, parser):
        parser.add_argument("--region", help="Region code (a city runs each of its counties).")

    def handle(self, *args, region=None, **options):
        target = None
        if region:
            target = Region.objects.filter(code=region).first()
            if target is None:
                raise CommandError(f"unknown region {region}")
        job = jobs.run_now(
            "screening.rebuild", region=target, params={"fan_out": False, "trigger": "cli"}
        )
        for key, value in sorted(job.counts.items()):
            self.stdout.write(f"{key}: {value}")
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(job.error or job.status)
        self.stdout.write(self.style.SUCCESS(f"job #{job.pk} succeeded"))
