from django.core.management.base import BaseCommand, CommandError

from enterprises.choices import ImportKind, ImportStatus
from enterprises.importing import import_file


class Command(BaseCommand):
    help = (
        "Import a .csv or .xlsx file of one kind (see shared/spec/import-formats.md). "
        "Exit code 0 only when the batch was applied."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count, change nothing."
        )
        parser.add_argument(
            "--force", action="store_true", help="Import even if this file was imported before."
        )
        parser.add_argument(
            "--skip-bad-rows",
            action="store_true",
            help="Apply the valid rows even past the error threshold; the bad rows are skipped.",
        )
        parser.add_argument(
            "--max-errors", type=int, default=200, help="How many row errors to print."
        )

    def handle(self, *args, kind, file, dry_run, force, skip_bad_rows, max_errors, **options):
        try:
            batch = import_file(
                kind, file, dry_run=dry_run, force=force, skip_bad_rows=skip_bad_rows
            )
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"batch #{batch.pk} {batch.kind} {batch.file_name}: {batch.status}; "
            f"read {batch.rows_read}, created {batch.rows_created}, updated {batch.rows_updated}, "
            f"unchanged {batch.rows_unchanged}, rows with errors {batch.rows_failed}"
        )
        if batch.unknown_columns:
            self.stdout.write("ignored columns: " + ", ".join(batch.unknown_columns))
        if batch.message:
            self.stdout.write(batch.message)
        for error in batch.errors.all()[:max_errors]:
            kind_ = "warning" if error.is_warning else "error"
            self.stdout.write(
                f"row {error.row_number} [{error.column}] {error.value!r}: {error.reason} ({kind_})"
            )
        if batch.status != ImportStatus.APPLIED:
            raise CommandError(f"not applied ({batch.status})", returncode=1)
