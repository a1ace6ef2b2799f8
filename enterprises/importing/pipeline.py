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

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

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
CITY_PREFIX_LENGTH = 4  # 3303: city-level staff may change institutions and the branch tree
BANK_TREE_MAX_DEPTH = 32
# Staged rows whose parent chain (staged parents first, then the stored ones) comes back to
# them: a cycle anywhere in the tree, not only a bank being its own parent.
BANK_CYCLE_SQL = f"""
WITH RECURSIVE edges (code, parent) AS (
    SELECT bank_code, parent_code FROM {STAGE}
    UNION ALL
    SELECT code, parent_id FROM banks_bank
    WHERE code NOT IN (SELECT bank_code FROM {STAGE})
),
walk (start, node, depth) AS (
    SELECT code, parent, 1 FROM edges
    WHERE parent IS NOT NULL AND code IN (SELECT bank_code FROM {STAGE})
    UNION ALL
    SELECT w.start, e.parent, w.depth + 1 FROM walk w JOIN edges e ON e.code = w.node
    WHERE w.node <> w.start AND e.parent IS NOT NULL AND w.depth < %(depth)s
)
SELECT o.row_no FROM {STAGE} o WHERE o.bank_code IN (SELECT start FROM walk WHERE node = start)
"""
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
    # Row-error reasons and messages are stored in the site language (Chinese by default).
    with translation.override(settings.LANGUAGE_CODE):
        return _import_file(kind, path, user, file_name, dry_run, force, job, batch, skip_bad_rows)


def _import_file(kind, path, user, file_name, dry_run, force, job, batch, skip_bad_rows=False):
    path = Path(path)
    spec = SPECS[ImportKind(kind)]
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
                _("The file is larger than the limit of {mb} MB.").format(
                    mb=settings.IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024)
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
        ImportRowError.objects.bulk_create(
            (
                ImportRowError(
                    batch=self.batch,
                    row_number=row,
                    column=str(column)[:100],
                    value=value,
                    reason=str(reason)[:500],
                    is_warning=warning,
                )
                for row, column, value, reason, warning in self.errors
            ),
            batch_size=5000,
        )

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
        self._regions()
        self._banks()
        writer = self.stage_writer()
        row_check = getattr(self, f"check_{self.spec.kind}")
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
                            _("Duplicate key: same as row {row}.").format(row=first),
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
        getattr(self, f"resolve_{self.spec.kind}")()
        self.touched = self.touched_regions()
        self.progress(read, read, _("Writing"), force=True)
        created, updated = getattr(self, f"apply_{self.spec.kind}")()
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
                _("Required column missing: {columns}.").format(columns="、".join(missing))
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
        # Every kind but banks refers to an enterprise, resolved from the USCC in SQL.
        extra = [] if self.spec.kind == ImportKind.BANKS else [("enterprise_id", "bigint")]
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

    def _regions(self):
        if not hasattr(self, "_region_codes"):
            self._region_codes = set(Region.objects.values_list("code", flat=True))
        return self._region_codes

    def _banks(self):
        if not hasattr(self, "_bank_codes"):
            from banks.models import Bank

            self._bank_codes = set(Bank.objects.values_list("code", flat=True))
        return self._bank_codes

    # Row checks see every row, also one whose other cells failed: a value that failed (None)
    # is not checked again.

    def check_registry(self, values):
        code = values["region_code"]
        if code is None:
            pass
        elif code not in self._regions():
            yield "region_code", _("Unknown region code."), code
        elif self.region_prefix is not None and not code.startswith(self.region_prefix):
            yield "region_code", _("Outside your region."), code
        if values["entity_type"] is None and values["uscc"] is not None:
            values["entity_type"] = n.entity_type_from_uscc(values["uscc"])

    def sql_check_registry(self, errors):
        """check_registry over the staged rows (fast path); appends to ``errors``."""
        column = self.column_header("region_code")
        failing = self.sql(
            f"SELECT row_no, region_code FROM {STAGE} s WHERE NOT EXISTS "
            "(SELECT 1 FROM enterprises_region r WHERE r.code = s.region_code)"
        )
        errors += [(row, column, code, _("Unknown region code.")) for row, code in failing]
        if self.region_prefix is not None:
            outside = self.sql(
                f"SELECT row_no, region_code FROM {STAGE} s WHERE s.region_code NOT LIKE %s "
                "AND EXISTS (SELECT 1 FROM enterprises_region r WHERE r.code = s.region_code)",
                (self.region_prefix + "%",),
            )
            errors += [(row, column, code, _("Outside your region.")) for row, code in outside]
            failing += outside
        if failing:
            self.sql(f"DELETE FROM {STAGE} WHERE row_no = ANY(%s)", ([r for r, _c in failing],))

    def check_census(self, values):
        return ()

    def check_tax(self, values):
        return ()

    def check_negative(self, values):
        removed, listed = values["removed_on"], values["listed_on"]
        if removed is not None and listed is not None and removed < listed:
            yield "removed_on", _("Removed before it was listed."), values["removed_on"]

    def check_credit(self, values):
        if values["bank_code"] is not None and values["bank_code"] not in self._banks():
            yield "bank_code", _("Unknown bank code."), values["bank_code"]

    def check_loans(self, values):
        if values["bank_code"] is not None and values["bank_code"] not in self._banks():
            yield "bank_code", _("Unknown bank code."), values["bank_code"]
        if None not in (values["matures_on"], values["disbursed_on"]) and (
            values["matures_on"] <= values["disbursed_on"]
        ):
            yield (
                "matures_on",
                _("Matures on or before its disbursement date."),
                values["matures_on"],
            )
        if values["amount"] is not None and values["amount"] <= 0:
            yield "amount", _("The amount must be greater than 0."), values["amount"]
        if values["is_renewal"] is None:
            values["is_renewal"] = False

    def check_banks(self, values):
        raw = values["service_regions"]
        if raw:
            codes = [
                c.strip()
                for c in raw.replace("；", ";").replace("，", ",").replace(",", ";").split(";")
            ]
            codes = [c for c in codes if c]
            unknown = [c for c in codes if c not in self._regions()]
            if unknown:
                yield "service_regions", _("Unknown region code."), ";".join(unknown)
            values["service_regions"] = ";".join(codes)
            if self.region_prefix is not None:
                outside = [c for c in codes if not c.startswith(self.region_prefix)]
                if outside:
                    yield "service_regions", _("Outside your region."), ";".join(outside)
        elif "service_regions" in self.present_fields and self.limited_to_branches():
            yield (
                "service_regions",
                _("List the regions this branch serves (inside your region)."),
                raw,
            )
        if values["parent_code"] is not None and values["parent_code"] == values["bank_code"]:
            yield "parent_code", _("A bank cannot be its own parent."), values["parent_code"]

    def limited_to_branches(self):
        """County (or township) staff: only branches serving their region, never the tree.

        Institutions (banks with no parent) and the branch tree are changed only by city-level
        staff (a region prefix of 4 digits or fewer), administrators and system imports.
        """
        return self.scope is not None and (
            self.region_prefix is None or len(self.region_prefix) > CITY_PREFIX_LENGTH
        )

    # --- Database checks (SQL over the staging table) ---------------------------------------

    def touched_regions(self):
        """The region codes of the checked rows: the batch belongs to them (issue 12)."""
        if self.spec.kind == ImportKind.REGISTRY:
            rows = self.sql(f"SELECT DISTINCT region_code FROM {STAGE}")
        elif self.spec.kind == ImportKind.BANKS:
            rows = self.sql(
                "SELECT DISTINCT region_id FROM banks_bank_service_regions "
                f"WHERE bank_id IN (SELECT bank_code FROM {STAGE})"
            )
            staged = self.sql(f"SELECT service_regions FROM {STAGE} WHERE service_regions <> ''")
            rows += [(code,) for (text,) in staged for code in text.split(";")]
        else:
            rows = self.sql(
                f"SELECT DISTINCT e.region_id FROM {STAGE} s "
                "JOIN enterprises_enterprise e ON e.id = s.enterprise_id"
            )
        return sorted({code for (code,) in rows if code})

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

    def resolve_registry(self):
        if self.region_prefix is not None:
            # Nobody moves an enterprise out of someone else's region by re-registering it.
            self.reject_rows(
                "EXISTS (SELECT 1 FROM enterprises_enterprise e WHERE e.uscc = s.uscc "
                "AND e.region_id NOT LIKE %s)",
                self.column_header("uscc"),
                "s.uscc",
                _("The enterprise is registered outside your region."),
                (self.region_prefix + "%",),
            )

    def resolve_census(self):
        self.resolve_enterprise()
        rows = self.sql(
            f"SELECT s.row_no, s.name FROM {STAGE} s JOIN enterprises_enterprise e "
            "ON e.id = s.enterprise_id WHERE s.name IS NOT NULL AND s.name <> e.name "
            "ORDER BY s.row_no"
        )
        for row_no, name in rows:
            self.error(
                row_no,
                self.column_header("name"),
                name,
                _("The name differs from the register (warning only)."),
                warning=True,
            )

    resolve_tax = resolve_credit = resolve_negative = resolve_enterprise

    def resolve_loans(self):
        self.resolve_enterprise()
        self.reject_rows(
            "s.is_renewal AND s.renews_loan_no IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM loans_loan l WHERE l.bank_id = s.bank_code "
            "AND l.loan_no = s.renews_loan_no) "
            f"AND NOT EXISTS (SELECT 1 FROM {STAGE} o WHERE o.bank_code = s.bank_code "
            "AND o.loan_no = s.renews_loan_no)",
            self.column_header("renews_loan_no"),
            "s.renews_loan_no",
            _("The original loan is neither in the system nor in this file."),
        )

    def resolve_banks(self):
        self.reject_rows(
            "s.parent_code IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM banks_bank b WHERE b.code = s.parent_code) "
            f"AND NOT EXISTS (SELECT 1 FROM {STAGE} o WHERE o.bank_code = s.parent_code)",
            self.column_header("parent_code"),
            "s.parent_code",
            _("The parent institution is neither in the system nor in this file."),
        )
        if self.scope is not None:
            self.resolve_banks_scope()
        if "parent_code" in self.present_fields:
            self.reject_rows(
                f"s.row_no IN ({BANK_CYCLE_SQL})",
                self.column_header("parent_code"),
                "s.parent_code",
                _("This parent makes a cycle in the branch tree."),
                {"depth": BANK_TREE_MAX_DEPTH},
            )

    def resolve_banks_scope(self):
        """Who may change which bank (issue 10): set-based over the staged rows."""
        code = self.column_header("bank_code")
        if self.region_prefix is None:
            self.reject_rows(
                "true", code, "s.bank_code", _("You may not change the bank directory.")
            )
            return
        # A branch serving any region outside the uploader's is not theirs to change.
        self.reject_rows(
            "EXISTS (SELECT 1 FROM banks_bank_service_regions t WHERE t.bank_id = s.bank_code "
            "AND t.region_id NOT LIKE %(prefix)s)",
            code,
            "s.bank_code",
            _("This bank also serves regions outside yours: you may not change it."),
            {"prefix": self.region_prefix + "%"},
        )
        if not self.limited_to_branches():
            return
        existing = "EXISTS (SELECT 1 FROM banks_bank b WHERE b.code = s.bank_code)"
        if "parent_code" in self.present_fields:
            institution = "s.parent_code IS NULL"
            self.reject_rows(
                f"s.parent_code IS NOT NULL AND {existing} AND NOT EXISTS (SELECT 1 FROM "
                "banks_bank b WHERE b.code = s.bank_code AND b.parent_id = s.parent_code)",
                self.column_header("parent_code"),
                "s.parent_code",
                _("Only city task-force staff or administrators change the branch tree."),
            )
        else:
            institution = (
                f"NOT {existing} OR EXISTS (SELECT 1 FROM banks_bank b "
                "WHERE b.code = s.bank_code AND b.parent_id IS NULL)"
            )
        self.reject_rows(
            institution,
            code,
            "s.bank_code",
            _(
                "Only city task-force staff or administrators create or change institutions "
                "(banks with no parent)."
            ),
        )
        if "service_regions" not in self.present_fields:
            self.reject_rows(
                "NOT EXISTS (SELECT 1 FROM banks_bank_service_regions t "
                "WHERE t.bank_id = s.bank_code)",
                code,
                "s.bank_code",
                _("This bank serves no region of yours: you may not change it."),
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

    def apply_registry(self):
        optional = {
            "legal_rep": "COALESCE(s.legal_rep, '')",
            "phone": "COALESCE(s.phone, '')",
            "registered_capital": "s.registered_capital",
            "industry_code": "COALESCE(s.industry_code, '')",
            "address": "COALESCE(s.address, '')",
            "employees": "s.employees",
            "size": "COALESCE(s.size, '')",
        }
        columns = [
            ("uscc", "s.uscc"),
            ("name", "s.name"),
            ("entity_type", "s.entity_type"),
            ("established_on", "s.established_on"),
            ("status", "s.status"),
            ("region_id", "s.region_code"),
            *optional.items(),
            ("batch_id", "%(batch)s"),
            ("created_at", "%(now)s"),
            ("updated_at", "%(now)s"),
        ]
        compare = ["name", "entity_type", "established_on", "status", "region_id"]
        compare += [c for c in optional if c in self.present_fields]
        checked = {
            "region_id": "SELECT 1 FROM enterprises_region WHERE code IN "
            f"(SELECT DISTINCT region_code FROM {STAGE})",
            "batch_id": "SELECT 1 FROM enterprises_importbatch WHERE id = %(batch)s",
        }
        # A first load is sorted by USCC; byte order (COLLATE "C") sorts a million rows ~0.4 s
        # faster than the database collation and is the same order for these ASCII codes.
        with self.without_fk_triggers("enterprises_enterprise", checked):
            return self.upsert(
                "enterprises_enterprise", ["uscc"], columns, compare, order='s.uscc COLLATE "C"'
            )

    def _record_upsert(self, table, conflict, fields, defaults=None):
        defaults = defaults or {}
        columns = [("enterprise_id", "s.enterprise_id")]
        for field in fields:
            expr = f"s.{field}"
            if field in defaults:
                expr = f"COALESCE(s.{field}, {defaults[field]})"
            columns.append((field, expr))
        columns.append(("batch_id", "%(batch)s"))
        compare = [f for f in fields if f not in conflict and (f in self.present_fields)]
        return self.upsert(table, conflict, columns, compare)

    def apply_census(self):
        return self._record_upsert(
            "enterprises_censusrecord",
            ["enterprise_id", "census_year"],
            ["census_year", "is_active", "revenue", "employees"],
            {"is_active": "true"},
        )

    def apply_tax(self):
        return self._record_upsert(
            "enterprises_taxrecord",
            ["enterprise_id", "tax_year"],
            ["tax_year", "credit_rating", "tax_paid", "export_rebate", "taxable_sales"],
        )

    def apply_negative(self):
        return self._record_upsert(
            "enterprises_negativelistentry",
            ["enterprise_id", "list_type", "listed_on"],
            ["list_type", "listed_on", "removed_on", "source", "note"],
            {"source": "''", "note": "''"},
        )

    def apply_credit(self):
        columns = [
            ("enterprise_id", "s.enterprise_id"),
            ("bank_id", "s.bank_code"),
            ("as_of", "s.as_of"),
            ("credit_limit", "s.credit_limit"),
            ("loan_balance", "s.loan_balance"),
            ("first_loan_date", "s.first_loan_date"),
            ("batch_id", "%(batch)s"),
        ]
        compare = [
            c
            for c in ("credit_limit", "loan_balance", "first_loan_date")
            if c in self.present_fields
        ]
        return self.upsert(
            "loans_creditsnapshot", ["enterprise_id", "bank_id", "as_of"], columns, compare
        )

    def apply_loans(self):
        columns = [
            ("bank_id", "s.bank_code"),
            ("loan_no", "s.loan_no"),
            ("enterprise_id", "s.enterprise_id"),
            ("disbursed_on", "s.disbursed_on"),
            ("matures_on", "s.matures_on"),
            ("amount", "s.amount"),
            ("balance", "s.balance"),
            ("product", "s.product"),
            ("guarantee", "s.guarantee"),
            ("rate", "s.rate"),
            ("is_renewal", "COALESCE(s.is_renewal, false)"),
            ("renews_loan_no", "COALESCE(s.renews_loan_no, '')"),
            ("batch_id", "%(batch)s"),
        ]
        compare = ["enterprise_id", "disbursed_on", "matures_on", "amount", "product", "guarantee"]
        compare += [
            c
            for c in ("balance", "rate", "is_renewal", "renews_loan_no")
            if c in self.present_fields
        ]
        result = self.upsert("loans_loan", ["bank_id", "loan_no"], columns, compare)
        self.sql(
            "UPDATE loans_loan SET renews_id = (SELECT o.id FROM loans_loan o "
            "WHERE o.bank_id = loans_loan.bank_id AND o.loan_no = loans_loan.renews_loan_no) "
            "WHERE batch_id = %s AND renews_loan_no <> ''",
            (self.batch.pk,),
        )
        return result

    def apply_banks(self):
        from banks.models import Bank

        columns = [
            ("code", "s.bank_code"),
            ("name", "s.name"),
            ("parent_id", "s.parent_code"),
            ("level", "COALESCE(s.level, '')"),
            ("capacity", "s.capacity"),
            ("batch_id", "%(batch)s"),
        ]
        compare = ["name"] + [
            target
            for target, field in (
                ("parent_id", "parent_code"),
                ("level", "level"),
                ("capacity", "capacity"),
            )
            if field in self.present_fields
        ]
        result = self.upsert("banks_bank", ["code"], columns, compare)
        if "service_regions" in self.present_fields:
            through = Bank.service_regions.through
            rows = self.sql(f"SELECT bank_code, service_regions FROM {STAGE}")
            codes = [code for code, _r in rows]
            through.objects.filter(bank_id__in=codes).delete()
            through.objects.bulk_create(
                [
                    through(bank_id=code, region_id=region)
                    for code, regions in rows
                    if regions
                    for region in dict.fromkeys(regions.split(";"))
                ]
            )
        return result


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
