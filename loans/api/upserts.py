"""The idempotent bank API (issue 15): upsert credit approvals and loans by (bank code, own id).

``POST /api/v1/credit-approvals/`` and ``POST /api/v1/loans/`` take one record or a list of up
to ``MAX_BATCH``. Each record is checked in Python (cheap converters, no serializer per row),
then the whole batch is written by one ``INSERT … ON CONFLICT (bank, own id) DO UPDATE … WHERE
the row differs``: a record sent again unchanged writes nothing (no history entry either), a
changed one updates its row. Who may write what is decided for the batch at once: the caller's
bank codes (a bank's branch and the branches below it), and the enterprise inside the caller's
region. Errors name the field in the caller's language (Accept-Language) with its key.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from core.history import history_context, id_in, record_set_based
from enterprises.models import Enterprise

from ..choices import Guarantee, LoanProduct
from ..imports import GUARANTEES, PRODUCTS
from ..models import CreditApproval, Loan

MAX_BATCH = 1000
AMOUNT_LIMIT = Decimal("1e14")


class Invalid(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


# --- Converters: JSON value → Python value, or Invalid --------------------------------------


def text(limit):
    def convert(value):
        if not isinstance(value, str):
            raise Invalid(_("Must be text."))
        value = value.strip()
        if len(value) > limit:
            raise Invalid(format_lazy(_("Too long (at most {n} characters)."), n=limit))
        return value or None

    return convert


def a_date(value):
    if not isinstance(value, str):
        raise Invalid(_("Not a date (use e.g. 2025-06-30)."))
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(_("Not a date (use e.g. 2025-06-30).")) from None


def amount(minimum_exclusive=True):
    def convert(value):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise Invalid(_("Not a number."))
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise Invalid(_("Not a number.")) from None
        if not number.is_finite() or abs(number) >= AMOUNT_LIMIT:
            raise Invalid(_("Not a number."))
        if minimum_exclusive and number <= 0:
            raise Invalid(_("The amount must be greater than 0."))
        if not minimum_exclusive and number < 0:
            raise Invalid(_("Must not be negative."))
        return number

    return convert


def rate(value):
    number = amount(minimum_exclusive=False)(value)
    if number >= 10000:
        raise Invalid(_("Not a valid rate (%)."))
    return number


def integer(low, high):
    def convert(value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(_("Not a whole number."))
        if not low <= value <= high:
            raise Invalid(format_lazy(_("Must be between {low} and {high}."), low=low, high=high))
        return value

    return convert


def boolean(value):
    if not isinstance(value, bool):
        raise Invalid(_("Must be true or false."))
    return value


def choice(choices, labels):
    lookup = {c: c for c in choices.values} | {k: str(v) for k, v in labels.items()}

    def convert(value):
        if not isinstance(value, str) or value.strip() not in lookup:
            allowed = " / ".join(choices.values)
            raise Invalid(format_lazy(_("Unknown value; allowed: {allowed}."), allowed=allowed))
        return lookup[value.strip()]

    return convert


@dataclass(frozen=True)
class Field:
    name: str  # JSON key
    column: str  # the table's column
    label: object  # the field's name in the reader's language
    convert: object
    required: bool = False
    sql_type: str = "text"
    default: object = None


@dataclass(frozen=True)
class Kind:
    model: type
    own_id: str  # the bank's own id field (approval_no / loan_no)
    fields: tuple
    extra: tuple = ()  # (column, sql_type, value) written on insert only

    @property
    def table(self):
        return self.model._meta.db_table


def _label(model, column):
    return model._meta.get_field(column.removesuffix("_id")).verbose_name


def _common(model, own_id):
    return (
        Field("bank_code", "bank_id", _label(model, "bank"), text(40), True),
        Field(own_id, own_id, _label(model, own_id), text(64), True),
        Field("uscc", "enterprise_id", _("USCC"), text(18), True, "bigint"),
    )


APPROVALS = Kind(
    CreditApproval,
    "approval_no",
    (
        *_common(CreditApproval, "approval_no"),
        Field("approved_on", "approved_on", _label(CreditApproval, "approved_on"), a_date, True, "date"),
        Field("amount", "amount", _label(CreditApproval, "amount"), amount(), True, "numeric"),
        Field(
            "product", "product", _label(CreditApproval, "product"),
            choice(LoanProduct, PRODUCTS), default="",
        ),
        Field(
            "term_months", "term_months", _label(CreditApproval, "term_months"),
            integer(1, 360), sql_type="integer",
        ),
        Field(
            "guarantee", "guarantee", _label(CreditApproval, "guarantee"),
            choice(Guarantee, GUARANTEES), default="",
        ),
    ),
    extra=(("created_by_id", "bigint"), ("created_at", "timestamptz"), ("updated_at", "timestamptz")),
)  # fmt: skip

LOANS = Kind(
    Loan,
    "loan_no",
    (
        *_common(Loan, "loan_no"),
        Field("disbursed_on", "disbursed_on", _label(Loan, "disbursed_on"), a_date, True, "date"),
        Field("matures_on", "matures_on", _label(Loan, "matures_on"), a_date, True, "date"),
        Field("amount", "amount", _label(Loan, "amount"), amount(), True, "numeric"),
        Field("balance", "balance", _label(Loan, "balance"), amount(False), sql_type="numeric"),
        Field(
            "product", "product", _label(Loan, "product"), choice(LoanProduct, PRODUCTS), True
        ),
        Field(
            "guarantee", "guarantee", _label(Loan, "guarantee"), choice(Guarantee, GUARANTEES), True
        ),
        Field("rate", "rate", _label(Loan, "rate"), rate, sql_type="numeric"),
        Field(
            "is_renewal", "is_renewal", _label(Loan, "is_renewal"), boolean,
            sql_type="boolean", default=False,
        ),
        Field(
            "renews_loan_no", "renews_loan_no", _label(Loan, "renews_loan_no"), text(64),
            default="",
        ),
    ),
)  # fmt: skip


class Refused(Exception):
    """The batch is not written: ``errors`` [{index, field, label, message}], ``status``."""

    def __init__(self, errors, status=400):
        super().__init__("refused")
        self.errors = errors
        self.status = status


def _error(index, field, message):
    return {
        "index": index,
        "field": field.name,
        "label": str(field.label),
        "message": str(format_lazy("{label}: {message}", label=field.label, message=message)),
    }


def validate(kind, records):
    """Records → rows {column: value} (enterprise_id still the USCC), or Refused."""
    if not records:
        raise Refused(
            [{"index": None, "field": None, "label": "", "message": str(_("No records."))}]
        )
    if len(records) > MAX_BATCH:
        message = format_lazy(_("At most {n} records per request."), n=f"{MAX_BATCH:,}")
        raise Refused([{"index": None, "field": None, "label": "", "message": str(message)}])
    errors, rows, seen = [], [], {}
    by_name = {f.name: f for f in kind.fields}
    known = by_name.keys()
    fields = kind.fields
    for index, record in enumerate(records):
        row = {}
        for field in fields:
            value = record.get(field.name)
            converted = None
            if value is not None and value != "":
                try:
                    converted = field.convert(value)
                except Invalid as exc:
                    errors.append(_error(index, field, exc.message))
                    row[field.column] = None
                    continue
            if converted is None:
                if field.required:
                    errors.append(_error(index, field, _("A value is required.")))
                converted = field.default
            row[field.column] = converted
        for name in sorted(record.keys() - known):
            errors.append(
                {
                    "index": index,
                    "field": name,
                    "label": name,
                    "message": str(format_lazy(_("{name}: unknown field."), name=name)),
                }
            )
        if kind is LOANS:
            errors += _loan_rules(index, row, by_name)
        key = (row["bank_id"], row[kind.own_id])
        if None not in key:
            if key in seen:
                message = format_lazy(_("Same key as record {index}."), index=seen[key])
                errors.append(_error(index, by_name[kind.own_id], message))
            seen.setdefault(key, index)
        rows.append(row)
    if errors:
        raise Refused(errors)
    return rows


def _loan_rules(index, row, fields):
    disbursed, matures = row["disbursed_on"], row["matures_on"]
    if disbursed is not None and matures is not None and matures <= disbursed:
        yield _error(index, fields["matures_on"], _("Matures on or before its disbursement date."))
    if row["renews_loan_no"] and row["renews_loan_no"] == row["loan_no"]:
        yield _error(index, fields["renews_loan_no"], _("A renewal cannot continue itself."))


def check_scope(user, kind, rows):
    """Banks and enterprises of the batch, checked against the caller's scope in two queries;
    each row's USCC becomes its enterprise id. Refused (403 / 400) otherwise."""
    by_name = {f.name: f for f in kind.fields}
    scope = user.scope
    codes = scope.bank_codes
    errors = []
    if codes is not None:
        for index, row in enumerate(rows):
            if row["bank_id"] not in codes:
                errors.append(
                    _error(index, by_name["bank_code"], _("The bank is outside your scope."))
                )
        if errors:
            raise Refused(errors, status=403)
    from banks.models import Bank  # a lower app's table, read only

    known = set(
        Bank.objects.filter(code__in={r["bank_id"] for r in rows}).values_list("code", flat=True)
    )
    region_prefix = None if scope.everything else scope.region_prefix
    ids = _enterprise_ids({r["enterprise_id"] for r in rows}, region_prefix)
    for index, row in enumerate(rows):
        if row["bank_id"] not in known:
            errors.append(_error(index, by_name["bank_code"], _("Unknown bank code.")))
        enterprise = ids.get(row["enterprise_id"])
        if enterprise is None:
            message = _("Unknown USCC: no such enterprise in your region.")
            errors.append(_error(index, by_name["uscc"], message))
        row["enterprise_id"] = enterprise
    if errors:
        raise Refused(errors)


def _enterprise_ids(usccs, region_prefix):
    """{USCC: enterprise id} of ``usccs`` in the region (all regions when None)."""
    if connection.vendor == "postgresql":
        # One array parameter instead of an IN list of a thousand placeholders.
        sql = f"SELECT uscc, id FROM {Enterprise._meta.db_table} WHERE uscc = ANY(%s)"
        params = [sorted(usccs)]
        if region_prefix is not None:
            sql += " AND region_id LIKE %s"
            params.append(region_prefix + "%")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return dict(cursor.fetchall())
    enterprises = Enterprise.objects.filter(uscc__in=usccs)
    if region_prefix is not None:
        enterprises = enterprises.filter(region__code__startswith=region_prefix)
    return dict(enterprises.values_list("uscc", "id"))


def _renewals_known(kind, rows):
    """A renewal's original loan is stored or in the same batch (one query)."""
    if kind is not LOANS:
        return
    wanted = {
        (r["bank_id"], r["renews_loan_no"]) for r in rows if r["is_renewal"] and r["renews_loan_no"]
    }
    if not wanted:
        return
    in_batch = {(r["bank_id"], r["loan_no"]) for r in rows}
    missing = wanted - in_batch
    if missing:
        stored = set(
            Loan.objects.filter(
                bank_id__in={b for b, _n in missing}, loan_no__in={n for _b, n in missing}
            ).values_list("bank_id", "loan_no")
        )
        missing -= stored
    field = next(f for f in kind.fields if f.name == "renews_loan_no")
    errors = [
        _error(i, field, _("The original loan is neither in the system nor in this request."))
        for i, r in enumerate(rows)
        if (r["bank_id"], r["renews_loan_no"]) in missing
    ]
    if errors:
        raise Refused(errors)


# --- The write --------------------------------------------------------------------------------


def _values_sql(kind, rows, extra_values):
    """(SQL of a row source ``r`` with every column, params): unnest arrays on PostgreSQL."""
    columns = [f.column for f in kind.fields] + [c for c, _t in kind.extra]
    types = [f.sql_type for f in kind.fields] + [t for _c, t in kind.extra]
    matrix = [[row[f.column] for f in kind.fields] + list(extra_values) for row in rows]
    if connection.vendor == "postgresql":
        arrays = [list(col) for col in zip(*matrix, strict=True)]
        unnest = ", ".join(f"%s::{t}[]" for t in types)
        source = f"SELECT * FROM unnest({unnest}) AS r({', '.join(columns)}) WHERE true"
        return source, arrays, columns
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    values = ", ".join([placeholders] * len(matrix))
    names = ", ".join(f"column{i + 1} AS {c}" for i, c in enumerate(columns))
    params = [_sqlite(v) for line in matrix for v in line]
    # WHERE true: SQLite would read ON CONFLICT as part of the SELECT's join otherwise.
    return f"SELECT {names} FROM (VALUES {values}) WHERE true", params, columns


def _sqlite(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):  # stored as Django stores it (compared as text)
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def upsert(user, kind, records, *, via):
    """Validate, scope-check and write ``records``; returns the answer's body."""
    rows = validate(kind, records)
    check_scope(user, kind, rows)
    _renewals_known(kind, rows)
    now = timezone.now()
    extra = {"created_by_id": user.pk, "created_at": now, "updated_at": now}
    source, params, columns = _values_sql(kind, rows, [extra[c] for c, _t in kind.extra])
    table, own = kind.table, kind.own_id
    compared = [f.column for f in kind.fields if f.column not in ("bank_id", own)]
    sets = [f"{c} = excluded.{c}" for c in compared]
    if "updated_at" in columns:
        sets.append("updated_at = excluded.updated_at")
    changed = " OR ".join(f"{table}.{c} IS DISTINCT FROM excluded.{c}" for c in compared)
    keys = [(r["bank_id"], r[own]) for r in rows]
    upsert_sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) {{source}} "
        f"ON CONFLICT (bank_id, {own}) DO UPDATE SET {', '.join(sets)} WHERE {changed} "
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            existing, written, ids = _upsert_postgres(kind, upsert_sql, source, params)
        else:
            existing = _existing(kind, keys)
            with connection.cursor() as cursor:
                cursor.execute(
                    upsert_sql.format(source=source) + f"RETURNING id, bank_id, {own}", params
                )
                written = {(bank, number): pk for pk, bank, number in cursor.fetchall()}
            ids = existing | written
        if written:
            _record_history(kind, written, existing, user, via)
        if written and kind is LOANS:
            _link_renewals(list(written.values()))
            by_key = {(r["bank_id"], r[own]): r["enterprise_id"] for r in rows}
            _queue_stages(user, {by_key[key] for key in written}, written.values())
        if len(ids) < len(keys):
            ids |= _existing(kind, [k for k in keys if k not in ids])
    results, counts = [], {"created": 0, "updated": 0, "unchanged": 0}
    for index, key in enumerate(keys):
        result = "unchanged"
        if key in written:
            result = "updated" if key in existing else "created"
        counts[result] += 1
        results.append(
            {"index": index, "id": ids[key], "bank_code": key[0], own: key[1], "result": result}
        )
    return {**counts, "results": results}


def _upsert_postgres(kind, upsert_sql, source, params):
    """The upsert and the look-up of the keys already stored in one statement: ({key: pk} of
    the rows stored before, {key: pk} of the rows written, {key: pk} of every row). The
    second branch reads the table as it was before the statement, so it sees the stored rows
    the upsert left alone; a row the upsert inserted has ``xmax = 0``."""
    own, table = kind.own_id, kind.table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH src AS ({source}), "
            f"up AS ({upsert_sql.format(source='SELECT * FROM src')}"
            f"RETURNING id, bank_id, {own} AS own, (xmax = 0) AS created) "
            "SELECT id, bank_id, own, created FROM up UNION ALL "
            f"SELECT t.id, t.bank_id, t.{own}, NULL FROM {table} t "
            f"JOIN src ON t.bank_id = src.bank_id AND t.{own} = src.{own} "
            f"WHERE NOT EXISTS (SELECT 1 FROM up WHERE up.id = t.id)",
            params,
        )
        rows = cursor.fetchall()
    existing = {(b, n): pk for pk, b, n, created in rows if not created}
    written = {(b, n): pk for pk, b, n, created in rows if created is not None}
    ids = {(b, n): pk for pk, b, n, _created in rows}
    return existing, written, ids


def _existing(kind, keys):
    """{(bank, own id): pk} of the stored rows among ``keys``."""
    if not keys:
        return {}
    own = kind.own_id
    rows = kind.model._base_manager.filter(
        bank_id__in={b for b, _n in keys}, **{f"{own}__in": {n for _b, n in keys}}
    ).values_list("bank_id", own, "id")
    wanted = set(keys)
    return {(b, n): pk for b, n, pk in rows if (b, n) in wanted}


def _record_history(kind, written, existing, user, via):
    """The change history of the rows the batch wrote, in one INSERT … SELECT; inside a request
    the entries name its door, token and address, as a ``save()`` there would."""
    where, params = id_in("t.id", sorted(written.values()))
    record_set_based(
        kind.model,
        where,
        params,
        created_ids=[pk for key, pk in written.items() if key not in existing],
        actor=user,
        via=None if history_context() else via,
        repr_sql=f"t.bank_id || '/' || t.{kind.own_id}",
    )


def _queue_stages(user, enterprise_ids, loan_ids):
    """First loans, stages and maturity-watch entries of the written loans, by a job once the
    batch is committed: for a thousand loans they cost more than the upsert, and the bank
    system need not wait for them (imports do the same; the form, one loan, does it at once)."""
    from core import jobs

    from ..jobs import SENT_LOANS_KIND

    jobs.enqueue(
        SENT_LOANS_KIND,
        user=user,
        region=getattr(user, "region", None),
        params={"enterprise_ids": sorted(enterprise_ids), "loan_ids": sorted(loan_ids)},
    )


def _link_renewals(ids):
    table = Loan._meta.db_table
    among, params = id_in("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET renews_id = (SELECT o.id FROM {table} o "
            f"WHERE o.bank_id = {table}.bank_id AND o.loan_no = {table}.renews_loan_no "
            f"AND {table}.renews_loan_no <> '') WHERE {among} "
            # only renewals, and former ones: rewriting every row doubled the batch's writes
            "AND (renews_loan_no <> '' OR renews_id IS NOT NULL)",
            params,
        )
