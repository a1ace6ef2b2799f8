"""The import pipeline: read → normalise and check each row → stage → set-based checks → upsert.

Rows stream from the reader through the per-column converters into a temporary staging
table (COPY on PostgreSQL, executemany on SQLite). Checks that need the database (unknown
USCC, enterprise outside the uploader's region, renewals) and the upsert itself are SQL over
the staging table. Everything happens in one transaction; a dry run or a rejected batch
rolls it back, so the database is unchanged.
"""

import hashlib
import logging
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from core.i18n import in_every_language
from core.jobs import OutsideProgress

from ..choices import ImportKind, ImportStatus, RejectionReason
from ..models import ImportBatch, ImportRowError, Region
from ..signals import batch_applied
from . import normalise as n
from . import sqlpath
from .readers import FileRejected, check_file, open_rows
from .specs import SPECS

logger = logging.getLogger(__name__)

STAGE = sqlpath.STAGE
MAX_STORED_ERRORS = 100_000
_SQL_TYPES = {
    "text": "text",
    "date": "date",
    "numeric": "numeric",
    "integer": "integer",
    "boolean": "boolean",
}


FAILED_MESSAGE = _(
    "The import failed because of an unexpected error; nothing was imported. Check the file "
    "(save it again as .xlsx or CSV UTF-8) and upload it again, or ask an administrator."
)


def safe_text(value):
    """Text that any database column can store: NUL characters become U+FFFD."""
    text = "" if value is None else str(value)
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


class _Rollback(Exception):
    """Leave the transaction without applying (dry run or rejected batch)."""


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def import_file(
    kind,
    path,
    *,
    user=None,
    file_name=None,
    dry_run=False,
    force=False,
    job=None,
    batch=None,
    skip_bad_rows=False,
):
    """Import ``path`` as ``kind``; return the ImportBatch (status applied, dry_run or rejected).

    ``user`` None is a system import with no region limit. ``batch`` lets a caller (the upload
    view) pass a batch it created already; otherwise one is created. ``force`` imports a file
    already imported once more; ``skip_bad_rows`` applies the valid rows even when more rows
    than ``IMPORT_MAX_ERROR_RATE`` have errors (the bad ones are skipped; default strict).
    """
    # Row-error reasons and messages are stored in the site language (Chinese by default);
    # reasons also in every language of the site (core/i18n.py).
    with translation.override(settings.LANGUAGE_CODE):
        return _import_file(kind, path, user, file_name, dry_run, force, job, batch, skip_bad_rows)


def _import_file(kind, path, user, file_name, dry_run, force, job, batch, skip_bad_rows=False):
    path = Path(path)
    spec = SPECS[ImportKind(kind)]  # registered by each app's ready() (see specs.py)
    size = path.stat().st_size
    if batch is None:
        batch = ImportBatch(
            kind=kind,
            file_name=(file_name or path.name)[:255],
            stored_file=str(path),
            created_by=user if user is not None and user.is_authenticated else None,
            region_id=getattr(user, "region_id", None),
            job=job,
        )
    batch.file_size = size
    batch.forced = force
    batch.skip_bad_rows = skip_bad_rows
    batch.rejected_for = ""
    batch.status = ImportStatus.RUNNING
    batch.rows_read = batch.rows_created = batch.rows_updated = 0
    batch.rows_unchanged = batch.rows_failed = 0
    batch.message = ""
    batch.file_sha256 = file_sha256(path)
    batch.save()
    batch.errors.all().delete()

    run = _Run(spec, batch, user, job)
    try:
        run.check_file(path, size, force)
        with transaction.atomic():
            run.execute()
            rate = run.failed_rows / batch.rows_read
            if rate > settings.IMPORT_MAX_ERROR_RATE and not (skip_bad_rows and run.staged):
                raise FileRejected(
                    _(
                        "{failed} of {total} rows have errors ({rate:.1%}, more than the "
                        "{limit:.0%} allowed): nothing was imported."
                    ).format(
                        failed=run.failed_rows,
                        total=batch.rows_read,
                        rate=rate,
                        limit=settings.IMPORT_MAX_ERROR_RATE,
                    ),
                    reason=RejectionReason.TOO_MANY_ERRORS,
                )
            if dry_run:
                raise _Rollback
    except FileRejected as exc:
        batch.status = ImportStatus.REJECTED
        batch.rejected_for = exc.reason
        batch.message = safe_text(exc.message)
        batch.rows_created = batch.rows_updated = batch.rows_unchanged = 0
    except _Rollback:
        batch.status = ImportStatus.DRY_RUN
    except Exception:
        # Never leave the batch running, and never show a database message (SQL text) to users:
        # the details go to the log, the user reads a plain reason.
        logger.exception("import batch %s failed", batch.pk)
        batch.status = ImportStatus.FAILED
        batch.message = str(FAILED_MESSAGE)
        batch.rows_created = batch.rows_updated = batch.rows_unchanged = 0
        run.errors, run.failed = [], set()
    else:
        batch.status = ImportStatus.APPLIED
        batch.applied_at = timezone.now()
    finally:
        run.drop_stage()
        run.close()
    batch.rows_failed = run.failed_rows
    batch.unknown_columns = [safe_text(c) for c in run.unknown_columns]
    batch.save()
    batch.touched_regions.set(run.touched)
    run.store_errors()
    if batch.status == ImportStatus.APPLIED:
        transaction.on_commit(lambda: batch_applied.send(sender=ImportBatch, batch=batch))
    return batch


class _Run:
    """One import of one file: the engine's state and the helpers the kinds' hooks use."""

    STAGE = STAGE

    def __init__(self, spec, batch, user, job):
        self.spec = spec
        self.batch = batch
        self.job = job
        scope = getattr(user, "scope", None) if user is not None else None
        # None: a system import (CLI, demo loader) or an administrator, with no limits.
        self.scope = None if scope is None or scope.everything else scope
        self.region_prefix = None if self.scope is None else self.scope.region_prefix
        self.errors = []  # (row, column, value, reason, is_warning)
        self.failed = set()
        self.unknown_columns = []
        self.touched = []
        self.staged = 0
        self.postgres = connection.vendor == "postgresql"
        self._progress = OutsideProgress(job)

    # --- File-level checks ----------------------------------------------------------------

    def check_file(self, path, size, force):
        check_file(path, self.batch.file_name)
        if size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise FileRejected(
                format_lazy(
                    _("The file is larger than the limit of {mb} MB."),
                    mb=settings.IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024),
                )
            )
        if not force:
            earlier = (
                ImportBatch.objects.filter(
                    kind=self.batch.kind,
                    file_sha256=self.batch.file_sha256,
                    status=ImportStatus.APPLIED,
                )
                .exclude(pk=self.batch.pk)
                .first()
            )
            if earlier is not None:
                raise FileRejected(
                    _(
                        "This file was already imported as batch #{id} on {when}; "
                        "force the import to load it again."
                    ).format(
                        id=earlier.pk,
                        when=timezone.localtime(earlier.applied_at or earlier.created_at).strftime(
                            "%Y-%m-%d %H:%M"
                        ),
                    ),
                    reason=RejectionReason.DUPLICATE,
                )

    @property
    def failed_rows(self):
        return len(self.failed)

    def error(self, row, column, value, reason, warning=False):
        if not warning:
            self.failed.add(row)
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append((row, safe_text(column), safe_text(value)[:500], reason, warning))

    def store_errors(self):
        # Reasons repeat (one per kind of mistake): translate each distinct one once.
        translated = {}

        def reason_in_every_language(reason):
            key = str(reason)
            if key not in translated:
                translated[key] = in_every_language(reason, max_length=500)
            return key[:500], translated[key]

        rows = []
        for row, column, value, reason, warning in self.errors:
            text, translations = reason_in_every_language(reason)
            rows.append(
                ImportRowError(
                    batch=self.batch,
                    row_number=row,
                    column=str(column)[:100],
                    value=value,
                    reason=text,
                    reason_translations=translations,
                    is_warning=warning,
                )
            )
        ImportRowError.objects.bulk_create(rows, batch_size=5000)

    def progress(self, done, total, step, force=False):
        # The import's own transaction is not committed yet: report on a side connection.
        self._progress(done, total, step, force)

    def close(self):
        self._progress.close()

    # --- Reading and staging ---------------------------------------------------------------

    def execute(self):
        if sqlpath.supports(self.spec):
            try:
                with transaction.atomic():  # a savepoint: a refused fast path leaves no trace
                    sqlpath.stage(self)
            except sqlpath.Unavailable as exc:
                logger.info("import batch %s: Python path (%s)", self.batch.pk, exc)
                self.errors, self.failed, self.staged = [], set(), 0
            else:
                return self.finish()
        self.stage_rows()
        return self.finish()

    def stage_rows(self):
        """The portable path: every row through the Python converters and row checks."""
        rows = open_rows(self.batch.stored_file, self.batch.file_name)
        try:
            header = next(rows)
        except StopIteration:
            raise FileRejected(_("The file is empty.")) from None
        mapping = self.map_header(header)
        self.create_stage()
        estimate = self.estimate_rows()
        # Reference sets are loaded now: no other query may run while COPY streams.
        self.load_references()
        writer = self.stage_writer()
        row_check = self.row_check
        keys = {}
        key_fields = self.spec.key
        read = 0
        header_of = {c.field: h for h, c, _conv, _i in mapping}
        self.header_of = header_of
        fields = [c.field for c in self.spec.columns]
        cells = [(h, c.field, c.required, conv, i) for h, c, conv, i in mapping]
        last_index = max(i for *_rest, i in cells)
        required_reason = _("A value is required.")
        nul_reason = _("The cell contains a NUL character (binary data).")
        with writer:
            for row_no, raw in enumerate(rows, start=2):
                if not any(raw) and all(v is None or v == "" for v in raw):
                    continue  # a blank row ("" and None are falsy; 0 is not blank)
                read += 1
                values = dict.fromkeys(fields)
                ok = True
                if len(raw) <= last_index:
                    raw = list(raw) + [None] * (last_index + 1 - len(raw))
                for header_text, field, required, convert, index in cells:
                    cell = raw[index]
                    if cell == "":
                        cell = None
                    elif cell.__class__ is str and "\x00" in cell:
                        # No text column stores NUL (PostgreSQL refuses it): a row error.
                        self.error(row_no, header_text, cell, nul_reason)
                        ok = False
                        continue
                    try:
                        value = convert(cell)
                    except n.RowError as exc:
                        self.error(row_no, header_text, cell, exc.reason)
                        ok = False
                        continue
                    if value is None and required:
                        self.error(row_no, header_text, cell, required_reason)
                        ok = False
                    values[field] = value
                if ok:
                    key = tuple(values[f] for f in key_fields)
                    first = keys.setdefault(key, row_no)
                    if first != row_no:
                        self.error(
                            row_no,
                            header_of.get(key_fields[0], key_fields[0]),
                            " / ".join(str(k) for k in key),
                            format_lazy(_("Duplicate key: same as row {row}."), row=first),
                        )
                        ok = False
                # Every error of the row is reported, not only the first kind found (issue 12).
                for column_name, reason, value in row_check(values):
                    self.error(row_no, header_of.get(column_name, column_name), value, reason)
                    ok = False
                if ok:
                    writer.write(row_no, values)
                    self.staged += 1
                if read % 20000 == 0:
                    self.progress(read, max(estimate, read + 1), _("Reading rows"))
        self.batch.rows_read = read
        if not read:
            raise FileRejected(_("The file has no data rows."))

    def finish(self):
        """Set-based checks against the database and the upsert, on the staged rows."""
        read = self.batch.rows_read
        self.progress(read, read, _("Checking against the database"), force=True)
        if self.scope is not None and self.scope.bank_codes is not None:
            self.resolve_bank_scope()
        self.spec.resolve(self)
        self.touched = self.touched_regions()
        self.progress(read, read, _("Writing"), force=True)
        if self.spec.apply is not None:
            created, updated = self.spec.apply(self)
        else:
            created, updated = self.upsert_spec(self.spec.upsert)
        self.spec.after_apply(self)
        self.batch.rows_created = created
        self.batch.rows_updated = updated
        self.batch.rows_unchanged = self.staged - created - updated

    def map_header(self, header):
        mapping, seen = [], set()
        for index, cell in enumerate(header):
            text = n.clean_text(cell)
            if text is None:
                continue
            found = self.spec.headers.get(n.normalise_header(text))
            if found is None or found[0].field in seen:
                self.unknown_columns.append(text)
                continue
            column, convert = found
            seen.add(column.field)
            mapping.append((text, column, convert, index))
        self.present_fields = seen
        missing = [c.cn for c in self.spec.required if c.field not in seen]
        if missing:
            raise FileRejected(
                format_lazy(_("Required column missing: {columns}."), columns="、".join(missing))
            )
        return mapping

    def estimate_rows(self):
        path = self.batch.stored_file
        if str(path).lower().endswith(".csv"):
            with open(path, "rb") as fh:
                head = fh.read(1 << 20)
            lines = max(head.count(b"\n"), 1)
            return int(self.batch.file_size * lines / max(len(head), 1))
        return 0

    def stage_columns(self):
        # A kind's enterprise is resolved from the USCC in SQL, into enterprise_id.
        extra = [("enterprise_id", "bigint")] if self.spec.refers_to_enterprise else []
        return [(c.field, _SQL_TYPES[c.sql_type]) for c in self.spec.columns] + extra

    def create_stage(self, extra=None):
        columns = [f"{name} {sql}" for name, sql in self.stage_columns()]
        if extra:
            columns.append(extra)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(f"CREATE TEMP TABLE {STAGE} (row_no integer, {', '.join(columns)})")

    def drop_stage(self):
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        except Exception:  # the transaction may be broken; the table is temporary anyway
            logger.debug("could not drop the staging table", exc_info=True)

    def stage_writer(self):
        fields = [c.field for c in self.spec.columns]
        if self.postgres:
            return _CopyWriter(fields)
        return _InsertWriter(fields)

    def sql(self, query, params=()):
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall() if cursor.description else cursor.rowcount

    def reject_rows(self, where, column, value_expr, reason, params=()):
        """Record a row error for each staged row matching ``where`` and unstage those rows."""
        rows = self.sql(f"SELECT row_no, {value_expr} FROM {STAGE} s WHERE {where}", params)
        for row_no, value in rows:
            self.error(row_no, column, value, reason)
        if rows:
            self.sql(
                f"DELETE FROM {STAGE} WHERE row_no IN (SELECT row_no FROM {STAGE} s WHERE {where})",
                params,
            )
            self.staged -= len(rows)

    def column_header(self, field):
        """The column's header as written in the file (else its canonical Chinese name)."""
        if field in getattr(self, "header_of", {}):
            return self.header_of[field]
        for column in self.spec.columns:
            if column.field == field:
                return column.cn
        return field

    # --- Row checks (Python, per row) -------------------------------------------------------

    def region_codes(self):
        if not hasattr(self, "_region_codes"):
            self._region_codes = set(Region.objects.values_list("code", flat=True))
        return self._region_codes

    def load_references(self):
        """Load the region codes and the keys of every referenced table, once, up front."""
        self.region_codes()
        self.references = {
            ref.field: set(apps.get_model(ref.model).objects.values_list("pk", flat=True))
            for ref in self.spec.references
        }

    def row_check(self, values):
        """The kind's reference checks, then its own row checks (see specs.KindSpec).

        Row checks see every row, also one whose other cells failed: a value that failed
        (None) is not checked again, and every error of the row is reported (issue 12).
        """
        for ref in self.spec.references:
            value = values[ref.field]
            if value is not None and value not in self.references[ref.field]:
                yield ref.field, ref.reason, value
        yield from self.spec.row_check(self, values)

    # --- Database checks (SQL over the staging table) ---------------------------------------

    def touched_regions(self):
        """The region codes of the checked rows: the batch belongs to them (issue 12)."""
        if self.spec.touched_regions is not None:
            codes = self.spec.touched_regions(self)
        else:
            codes = [
                code
                for (code,) in self.sql(
                    f"SELECT DISTINCT e.region_id FROM {STAGE} s "
                    "JOIN enterprises_enterprise e ON e.id = s.enterprise_id"
                )
            ]
        return sorted({code for code in codes if code})

    def resolve_bank_scope(self):
        """A bank-scoped user (a bank's partner system) writes only rows of its own branches.

        Kinds without a bank column (register, census, tax, negative lists) are not a bank's
        data: every row is outside such a scope.
        """
        if not any(c.field == "bank_code" for c in self.spec.columns):
            self.reject_rows(
                "true",
                self.column_header(self.spec.key[0]),
                f"s.{self.spec.key[0]}",
                _("Outside your scope: you may import only your bank's credit and loan data."),
            )
            return
        codes = sorted(self.scope.bank_codes)
        placeholders = ", ".join(["%s"] * len(codes)) or "NULL"
        self.reject_rows(
            f"s.bank_code NOT IN ({placeholders})" if codes else "true",
            self.column_header("bank_code"),
            "s.bank_code",
            _("The bank is outside your scope."),
            codes,
        )

    def resolve_enterprise(self):
        self.sql(
            f"UPDATE {STAGE} SET enterprise_id = e.id FROM enterprises_enterprise e "
            f"WHERE e.uscc = {STAGE}.uscc"
        )
        self.reject_rows(
            "s.enterprise_id IS NULL",
            self.column_header("uscc"),
            "s.uscc",
            _("Unknown USCC: the enterprise is not in the register."),
        )
        if self.region_prefix is not None:
            self.reject_rows(
                "NOT EXISTS (SELECT 1 FROM enterprises_enterprise e WHERE e.id = s.enterprise_id "
                "AND e.region_id LIKE %s)",
                self.column_header("uscc"),
                "s.uscc",
                _("The enterprise is outside your region."),
                (self.region_prefix + "%",),
            )

    # --- Upserts ----------------------------------------------------------------------------

    def upsert(self, table, conflict, columns, compare, order=None):
        """INSERT … SELECT … ON CONFLICT DO UPDATE only where something changed.

        ``columns``: (target column, select expression) pairs; ``compare``: the target
        columns that are updated and compared (batch_id and updated_at follow them);
        ``order``: the ORDER BY of a first load (default: the conflict key).
        Returns (created, updated).
        """
        names = ", ".join(c for c, _e in columns)
        exprs = ", ".join(e for _c, e in columns)
        sets = [f"{c} = excluded.{c}" for c in compare]
        for extra in ("batch_id", "updated_at"):
            if any(c == extra for c, _e in columns):
                sets.append(f"{extra} = excluded.{extra}")
        changed = " OR ".join(f"{table}.{c} IS DISTINCT FROM excluded.{c}" for c in compare)
        insert = (
            f"INSERT INTO {table} ({names}) SELECT {exprs} FROM {STAGE} s WHERE true "
            f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {', '.join(sets)} "
            f"WHERE {changed or 'false'}"
        )
        params = {"batch": self.batch.pk, "now": timezone.now()}
        if self.postgres and self.lock_if_empty(table):
            # First load: nothing to conflict with, so a plain INSERT without RETURNING (about
            # 20% faster), in key order (B-tree inserts in order instead of all over the index).
            order = order or ", ".join(e for c, e in columns if c in conflict)
            created = self.sql(
                f"INSERT INTO {table} ({names}) SELECT {exprs} FROM {STAGE} s ORDER BY {order}",
                params,
            )
            return created, 0
        if self.postgres:
            query = (
                f"WITH up AS ({insert} RETURNING (xmax = 0) AS inserted) "
                "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
                "FROM up"
            )
            created, updated = self.sql(query, params)[0]
            return created, updated
        key_match = " AND ".join(f"t.{c} = {e}" for c, e in columns if c in conflict)
        existing = self.sql(
            f"SELECT count(*) FROM {STAGE} s WHERE EXISTS (SELECT 1 FROM {table} t WHERE {key_match})",
            params,
        )[0][0]
        written = self.sql(insert, params)
        created = self.staged - existing
        return created, written - created

    def lock_if_empty(self, table):
        """True when ``table`` is empty, then locked against other writers until commit.

        SHARE ROW EXCLUSIVE lets readers in but no other writer, so no row can appear that
        a plain INSERT would collide with. Only taken for an empty table (a first load).
        """
        if self.sql(f"SELECT EXISTS (SELECT 1 FROM {table})")[0][0]:
            return False
        self.sql(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        return not self.sql(f"SELECT EXISTS (SELECT 1 FROM {table})")[0][0]

    def without_fk_triggers(self, table, checked):
        """Context: run the upsert into ``table`` without its per-row foreign-key triggers.

        Each inserted row otherwise queues one deferred check per foreign key, run at commit
        (~5 s per million rows here). Only done when it is safe: ``checked`` maps every
        foreign-key column of ``table`` to the referenced rows the import has already
        validated (a query listing them); those rows are locked FOR KEY SHARE here, as the
        triggers would, so nobody can delete them before commit. Needs the right to set
        session_replication_role (superuser, or GRANT SET ON PARAMETER in PostgreSQL 15);
        without it, or when the table has any other trigger, the triggers run as usual.
        """
        return _ReplicaMode(self, table, checked)

    def upsert_spec(self, upsert):
        """The kind's declared upsert (specs.Upsert) into its model's table."""
        table = apps.get_model(upsert.model)._meta.db_table
        compare = list(upsert.compare)
        compare += [c for c, f in upsert.compare_present if f in self.present_fields]
        return self.upsert(table, list(upsert.conflict), list(upsert.columns), compare)


class _ReplicaMode:
    """See _Run.without_fk_triggers."""

    def __init__(self, run, table, checked):
        self.run, self.table, self.checked = run, table, checked
        self.active = False

    def __enter__(self):
        if not self.run.postgres or not self._safe():
            return self
        for query in self.checked.values():
            self.run.sql(f"{query} FOR KEY SHARE", {"batch": self.run.batch.pk})
        try:
            with transaction.atomic():  # a savepoint: a refused SET must not break the import
                self.run.sql("SET LOCAL session_replication_role = replica")
        except DatabaseError:
            logger.debug("no right to set session_replication_role; FK triggers stay on")
            return self
        self.active = True
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.active and exc_type is None:
            self.run.sql("SET LOCAL session_replication_role = DEFAULT")
        return False

    def _safe(self):
        """The table's only triggers are the checks of foreign keys listed in ``checked``."""
        rows = self.run.sql(
            "SELECT t.tgisinternal, c.contype, c.conrelid = t.tgrelid, "
            "(SELECT array_agg(a.attname::text) FROM pg_attribute a "
            " WHERE a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)) "
            "FROM pg_trigger t LEFT JOIN pg_constraint c ON c.oid = t.tgconstraint "
            "WHERE t.tgrelid = %s::regclass",
            (self.table,),
        )
        for internal, contype, own, columns in rows:
            if not internal or contype != "f":
                return False
            # The triggers of foreign keys *referencing* this table only act when a referenced
            # key changes or a row is deleted, which an upsert never does.
            if own and not set(columns or ()) <= set(self.checked):
                return False
        return True


class _CopyWriter:
    """Streams staged rows into PostgreSQL with COPY (text format), one COPY per chunk.

    Between chunks no COPY is open, so the connection stays usable for other statements.
    """

    CHUNK = 50_000

    def __init__(self, fields):
        self.fields = fields
        self.query = f"COPY {STAGE} (row_no, {', '.join(fields)}) FROM STDIN"
        self.lines = []

    def __enter__(self):
        return self

    def write(self, row_no, values):
        parts = [_copy_text(values[field]) for field in self.fields]
        self.lines.append(f"{row_no}\t" + "\t".join(parts))
        if len(self.lines) >= self.CHUNK:
            self.flush()

    def flush(self):
        if not self.lines:
            return
        self.lines.append("")
        with connection.cursor() as cursor, cursor.cursor.copy(self.query) as copy:
            copy.write("\n".join(self.lines))
        self.lines = []

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.flush()
        return False


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]").search
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value):
    if value.__class__ is str:
        return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL(value) else value
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL(value) else value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class _InsertWriter:
    """The portable path: executemany INSERTs into the staging table, in chunks."""

    def __init__(self, fields):
        self.fields = fields
        self.rows = []
        placeholders = ", ".join(["%s"] * (len(fields) + 1))
        self.query = f"INSERT INTO {STAGE} (row_no, {', '.join(fields)}) VALUES ({placeholders})"

    def __enter__(self):
        return self

    def write(self, row_no, values):
        row = [row_no]
        for field in self.fields:
            value = values[field]
            if isinstance(value, Decimal):
                value = str(value)
            elif isinstance(value, date):
                value = value.isoformat()
            row.append(value)
        self.rows.append(row)
        if len(self.rows) >= 5000:
            self.flush()

    def flush(self):
        if self.rows:
            with connection.cursor() as cursor:
                cursor.executemany(self.query, self.rows)
            self.rows = []

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.flush()
        return False
