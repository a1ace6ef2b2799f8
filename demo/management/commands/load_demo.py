import tempfile

from django.core.management.base import BaseCommand, CommandError

from core import jobs
from demo import api14, feedback2, followitems, recommend, visitform
from demo import dashboards as demo_dashboards
from demo import loans as demo_loans
from demo import services as demo
from demo import timeline as demo_timeline
from enterprises.models import Enterprise, Region
from enterprises.signals import batch_applied


class Command(BaseCommand):
    help = (
        "Build the demo county (平阳县): banks, ~20,000 entities and their data, one user per role."
    )

    def add_arguments(self, parser):
        parser.add_argument("--entities", type=int, default=20_000)
        parser.add_argument("--force", action="store_true", help="Load again even if data exists.")

    def handle(self, *args, entities, force, **options):
        if not Region.objects.filter(code=demo.COUNTY).exists():
            raise CommandError(
                "Load the regions first: manage.py load_regions data/regions-wenzhou.csv"
            )
        if Enterprise.objects.exists() and not force:
            demo.create_users()
            self.stdout.write("demo: data already present, users refreshed (use --force to reload)")
            return
        townships = list(
            Region.objects.filter(parent_id=demo.COUNTY).values_list("code", flat=True)
        )
        # One list rebuild after all files, instead of one after each (what the signal does).
        with tempfile.TemporaryDirectory() as directory, batch_applied.muted():
            paths = demo.generate_files(directory, townships, entities=entities)
            for kind in demo.IMPORT_ORDER:
                batch = demo.import_demo_file(kind, paths[kind])
                self.stdout.write(f"demo: {kind}: {batch}")
        demo.create_users()
        job = jobs.run_now("screening.rebuild", params={"trigger": "demo"})
        self.stdout.write(f"demo: screening lists: {job.get_status_display()} {job.counts}")
        if job.error:
            raise CommandError(job.error)
        job = demo.set_up_bank_matching()
        self.stdout.write(f"demo: bank matching: {job.get_status_display()} {job.counts}")
        if job.error:
            raise CommandError(job.error)
        self.stdout.write(f"demo: visits recorded: {visitform.load()}")
        self.stdout.write(f"demo: follow-ups: {followitems.load()}")
        self.stdout.write(f"demo: recommendations: {recommend.load()}")
        self.stdout.write(f"demo: feedback: {feedback2.load()}")
        self.stdout.write(f"demo: {demo_loans.load()}")
        self.stdout.write(f"demo: visits, recommendations, approvals: {api14.load()}")
        demo_timeline.load(self.stdout)  # a rich enterprise timeline (demo/timeline.py)
        demo_dashboards.load(self.stdout)  # last: figures over every step's rows
