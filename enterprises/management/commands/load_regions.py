from django.core.management.base import BaseCommand, CommandError

from enterprises.services.regions import RegionFileError, load_regions


class Command(BaseCommand):
    help = "Load administrative divisions from a CSV with columns code,name,level,parent_code."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        try:
            created, updated = load_regions(file)
        except (OSError, RegionFileError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"regions: {created} created, {updated} updated")
