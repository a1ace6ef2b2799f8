"""Dashboard KPIs (domain.md, "KPI definitions"), computed with a few set-based SQL queries.

Every query is built from the user's *restricted* querysets (``Model.objects.restrict(user)``):
their SQL is embedded as sub-selects, so the scoping rule (region prefix, bank branches) is
applied exactly as everywhere else. PostgreSQL only (FILTER, DISTINCT ON, unnest, LEAST).

Amounts are Decimal in 万元; rates are Decimal fractions rounded to 4 places; ``None`` where the
definition says null (or where the data a KPI needs does not exist yet: no screening list).
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.utils import timezone

from banks.models import Bank
from enterprises.choices import REGION_PREFIX_LENGTH
from enterprises.models import Enterprise, ImportBatch, Region
from loans.models import CreditSnapshot, Loan

ZERO = Decimal("0")
AMOUNT_QUANTUM = Decimal("0.000001")  # 万元, exact to the fen
RATE_QUANTUM = Decimal("0.0001")

KPI_KEYS = (
    "active_entities",
    "no_loan_entities",
    "disbursed_amount",
    "first_loan_enterprises",
    "first_loan_amount",
    "credit_loan_amount",
    "renewal_balance",
    "renewal_increase_ytd",
    "renewal_yoy_growth",
    "financing_coverage_rate",
)
AMOUNT_KEYS = (
    "disbursed_amount",
    "first_loan_amount",
    "credit_loan_amount",
    "renewal_balance",
    "renewal_increase_ytd",
)
RATE_KEYS = ("renewal_yoy_growth", "financing_coverage_rate")
COUNT_KEYS = ("active_entities", "no_loan_entities", "first_loan_enterprises")
# KPIs about the enterprise population: meaningless per bank or per month.
ENTITY_KEYS = ("active_entities", "no_loan_entities", "financing_coverage_rate")

GROUP_BY_CHOICES = ("region", "bank", "month", "industry", "entity_type")


class StatsError(ValueError):
    """Invalid parameters (the message is meant for the user)."""


# ---------------------------------------------------------------------------------------------
# dates


def one_year_earlier(day):
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def month_spans(start, end):
    """(first day, last day) of each calendar month touching start..end, clipped to it."""
    spans, cursor = [], date(start.year, start.month, 1)
    while cursor <= end:
        last = date(cursor.year, cursor.month, calendar.monthrange(cursor.year, cursor.month)[1])
        spans.append((max(cursor, start), min(last, end)))
        cursor = last + timedelta(days=1)
    return spans


# ---------------------------------------------------------------------------------------------
# the scoped building blocks


def _sql(queryset):
    sql, params = queryset.query.sql_with_params()
    return f"({sql})", list(params)


@dataclass
class Sources:
    """SQL sub-selects of the rows the user may see, limited to the requested region."""

    ent: tuple
    loans: tuple
    credit: tuple
    active: tuple | None  # enterprise ids on the current active list, None when no list exists

    @classmethod
    def build(cls, user, region, end):
        prefix = region.scope_prefix
        ent = _sql(
            Enterprise.objects.restrict(user)
            .filter(region__code__startswith=prefix)
            .order_by()
            .values("id", "region_id", "entity_type", "size", "industry_code")
        )
        loans = _sql(
            Loan.objects.restrict(user)
            .filter(disbursed_on__lte=end)
            .order_by()
            .values(
                "id",
                "enterprise_id",
                "bank_id",
                "disbursed_on",
                "matures_on",
                "amount",
                "balance",
                "guarantee",
                "is_renewal",
            )
        )
        # Knowledge as of ``end``: a snapshot dated after it is ignored everywhere.
        credit = _sql(
            CreditSnapshot.objects.restrict(user)
            .filter(as_of__lte=end)
            .order_by()
            .values("enterprise_id", "bank_id", "as_of", "loan_balance", "first_loan_date")
        )
        return cls(ent=ent, loans=loans, credit=credit, active=active_list_sql(region))


def active_list_sql(region):
    """Enterprise ids on the current "active" list, or None when no list covers ``region``.

    None (the KPIs then read null, never 0) when the screening app is missing or no current
    succeeded screening run lies over or inside the region.
    """
    try:
        from screening.selectors import current_memberships, current_runs
    except ImportError:
        return None
    prefix = region.scope_prefix
    covering = [
        run_region
        for run_region in current_runs()
        .select_related("region")
        .values_list("region__code", "region__level")
    ]
    if not any(
        code.startswith(prefix) or prefix.startswith(code[: REGION_PREFIX_LENGTH[level]])
        for code, level in covering
    ):
        return None
    return _sql(current_memberships("active").order_by().values("enterprise_id"))


# ---------------------------------------------------------------------------------------------
# grouping keys


@dataclass
class Grouping:
    """How rows are grouped: an expression over the enterprise (``e``), the loan, or time."""

    kind: str | None
    ent_expr: str | None = None  # over alias e (enterprise columns)
    length: int = 0

    def ent_key(self):
        return self.ent_expr or "NULL"


def grouping_for(group_by, region):
    if group_by is None:
        return Grouping(None)
    if group_by == "region":
        child_level = _child_level(region)
        length = REGION_PREFIX_LENGTH[child_level] if child_level else 0
        if not length:
            return Grouping("region", "NULL")
        return Grouping("region", f"SUBSTRING(e.region_id FROM 1 FOR {int(length)})", length)
    if group_by == "industry":
        return Grouping(
            "industry",
            "CASE WHEN SUBSTRING(e.industry_code FROM 1 FOR 1) ~ '^[A-Za-z]$' "
            "THEN UPPER(SUBSTRING(e.industry_code FROM 1 FOR 1)) ELSE '' END",
        )
    if group_by == "entity_type":
        return Grouping("entity_type", "e.entity_type")
    if group_by in ("bank", "month"):
        return Grouping(group_by)
    raise StatsError(group_by)


def _child_level(region):
    order = ["province", "city", "county", "township"]
    index = order.index(region.level)
    return order[index + 1] if index + 1 < len(order) else None


BANK_ROOTS = f"""
    WITH RECURSIVE bank_root(code, root) AS (
        SELECT code, code FROM {Bank._meta.db_table} WHERE parent_id IS NULL
        UNION ALL
        SELECT b.code, r.root FROM {Bank._meta.db_table} b JOIN bank_root r ON b.parent_id = r.code
    )
"""


# ---------------------------------------------------------------------------------------------
# the queries


def _fetch(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def loan_flows(src, grouping, start, end):
    """Per key: disbursed amount and credit-loan amount in start..end."""
    ln_sql, ln_params = src.loans
    ent_sql, ent_params = src.ent
    if grouping.kind == "bank":
        key, prefix, join = "r.root", BANK_ROOTS, "LEFT JOIN bank_root r ON r.code = l.bank_id"
    elif grouping.kind == "month":
        key, prefix, join = "DATE_TRUNC('month', l.disbursed_on)::date", "", ""
    else:
        key, prefix, join = grouping.ent_key(), "", ""
    sql = f"""{prefix}
        SELECT {key} AS k,
               SUM(l.amount),
               SUM(l.amount) FILTER (WHERE l.guarantee = 'credit')
        FROM {ln_sql} l JOIN {ent_sql} e ON e.id = l.enterprise_id {join}
        WHERE l.disbursed_on BETWEEN %s AND %s
        GROUP BY 1"""
    rows = _fetch(sql, ln_params + ent_params + [start, end])
    return {k: {"disbursed_amount": d or ZERO, "credit_loan_amount": c or ZERO} for k, d, c in rows}


def renewal_balances(src, grouping, days):
    """{(day, key): balance} of renewals outstanding at each day (balance, else amount)."""
    ln_sql, ln_params = src.loans
    ent_sql, ent_params = src.ent
    if grouping.kind == "bank":
        key, prefix, join = "r.root", BANK_ROOTS, "LEFT JOIN bank_root r ON r.code = l.bank_id"
    elif grouping.kind == "month":
        key, prefix, join = "NULL", "", ""
    else:
        key, prefix, join = grouping.ent_key(), "", ""
    sql = f"""{prefix}
        SELECT d.day, {key} AS k, SUM(COALESCE(l.balance, l.amount))
        FROM {ln_sql} l
        JOIN {ent_sql} e ON e.id = l.enterprise_id
        JOIN UNNEST(%s::date[]) AS d(day)
          ON l.disbursed_on <= d.day AND l.matures_on > d.day
        {join}
        WHERE l.is_renewal
        GROUP BY 1, 2"""
    rows = _fetch(sql, ln_params + ent_params + [sorted(set(days))])
    return {(day, k): total or ZERO for day, k, total in rows}


def first_loans(src, grouping, start, end):
    """Per key: enterprises whose first-ever loan date falls in start..end, and those loans' sum.

    First-ever date = earliest of the ledger's first disbursement and the credit data's
    first-loan date; a snapshot dated before it that shows a balance above 0 proves an earlier
    loan, so the enterprise is then not counted. The amount is the ledger loans disbursed on
    that date (none when only the credit data knows the first loan).
    """
    ln_sql, ln_params = src.loans
    ent_sql, ent_params = src.ent
    cs_sql, cs_params = src.credit
    if grouping.kind == "bank":
        key, prefix, join = "r.root", BANK_ROOTS, "LEFT JOIN bank_root r ON r.code = l.bank_id"
    elif grouping.kind == "month":
        key, prefix, join = "DATE_TRUNC('month', e.first_day)::date", "", ""
    else:
        key, prefix, join = grouping.ent_key(), "", ""
    sql = f"""{prefix}{"," if prefix else "WITH"} firsts AS (
            SELECT e.*, LEAST(fl.day, fc.day) AS first_day
            FROM {ent_sql} e
            LEFT JOIN (SELECT enterprise_id, MIN(disbursed_on) AS day FROM {ln_sql} l0
                       GROUP BY 1) fl ON fl.enterprise_id = e.id
            LEFT JOIN (SELECT enterprise_id, MIN(first_loan_date) AS day FROM {cs_sql} c0
                       GROUP BY 1) fc ON fc.enterprise_id = e.id
            WHERE fl.day IS NOT NULL OR fc.day IS NOT NULL
        )
        SELECT {key} AS k, COUNT(DISTINCT e.id), SUM(l.amount)
        FROM firsts e
        LEFT JOIN {ln_sql} l ON l.enterprise_id = e.id AND l.disbursed_on = e.first_day
        {join}
        WHERE e.first_day BETWEEN %s AND %s
          AND NOT EXISTS (SELECT 1 FROM {cs_sql} c1 WHERE c1.enterprise_id = e.id
                          AND c1.loan_balance > 0 AND c1.as_of < e.first_day)
        GROUP BY 1"""
    params = ent_params + ln_params + cs_params + ln_params + [start, end] + cs_params
    rows = _fetch(sql, params)
    return {k: {"first_loan_enterprises": n, "first_loan_amount": a or ZERO} for k, n, a in rows}


def entity_figures(src, grouping, end):
    """Per key: active entities, never-had-a-loan ones, small/micro ones and those financed."""
    if src.active is None:
        return None
    ln_sql, ln_params = src.loans
    ent_sql, ent_params = src.ent
    cs_sql, cs_params = src.credit
    act_sql, act_params = src.active
    key = grouping.ent_key()
    sql = f"""
        SELECT {key} AS k,
               COUNT(*),
               COUNT(*) FILTER (WHERE la.enterprise_id IS NULL AND NOT COALESCE(ca.had, FALSE)),
               COUNT(*) FILTER (WHERE e.small_micro),
               COUNT(*) FILTER (WHERE e.small_micro
                                AND (COALESCE(la.outstanding, FALSE) OR COALESCE(ca.cur, FALSE)))
        FROM (SELECT e0.*, (e0.size IN ('small', 'micro') OR e0.entity_type = 'individual')
                           AS small_micro
              FROM {ent_sql} e0
              WHERE e0.id IN (SELECT a.enterprise_id FROM {act_sql} a)) e
        LEFT JOIN (SELECT enterprise_id, BOOL_OR(matures_on > %s) AS outstanding
                   FROM {ln_sql} l GROUP BY 1) la ON la.enterprise_id = e.id
        LEFT JOIN (SELECT enterprise_id,
                          BOOL_OR(loan_balance > 0 OR first_loan_date IS NOT NULL) AS had,
                          BOOL_OR(is_latest AND loan_balance > 0) AS cur
                   FROM (SELECT c.*, as_of = MAX(as_of) OVER (PARTITION BY enterprise_id, bank_id)
                                AS is_latest
                         FROM {cs_sql} c) c2
                   GROUP BY 1) ca ON ca.enterprise_id = e.id
        GROUP BY 1"""
    params = ent_params + act_params + [end] + ln_params + cs_params
    rows = _fetch(sql, params)
    return {
        k: {"active": a, "no_loan": n, "small_micro": sm, "covered": cov}
        for k, a, n, sm, cov in rows
    }


# ---------------------------------------------------------------------------------------------
# assembling


def _rate(numerator, denominator):
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_QUANTUM, ROUND_HALF_UP)


def _amount(value):
    return (value or ZERO).quantize(AMOUNT_QUANTUM)


def _row(flows, firsts, bal_end, bal_y0, bal_y1, entities):
    flows = flows or {}
    firsts = firsts or {}
    row = {
        "active_entities": None,
        "no_loan_entities": None,
        "disbursed_amount": _amount(flows.get("disbursed_amount")),
        "first_loan_enterprises": firsts.get("first_loan_enterprises", 0),
        "first_loan_amount": _amount(firsts.get("first_loan_amount")),
        "credit_loan_amount": _amount(flows.get("credit_loan_amount")),
        "renewal_balance": _amount(bal_end),
        "renewal_increase_ytd": _amount(bal_end) - _amount(bal_y0),
        "renewal_yoy_growth": (
            None if not bal_y1 else _rate(_amount(bal_end) - _amount(bal_y1), _amount(bal_y1))
        ),
        "financing_coverage_rate": None,
    }
    if entities is not None:
        row["active_entities"] = entities.get("active", 0)
        row["no_loan_entities"] = entities.get("no_loan", 0)
        row["financing_coverage_rate"] = _rate(
            entities.get("covered", 0), entities.get("small_micro", 0)
        )
    return row


def data_as_of():
    """When the data was last changed by an import (None when nothing was imported yet)."""
    latest = ImportBatch.objects.filter(applied_at__isnull=False).order_by("-applied_at").first()
    return latest.applied_at if latest else None


def compute_stats(user, region, start, end, group_by=None):
    """The KPIs of ``region`` over start..end, as one dict, or one row per group.

    Returns {"region", "start", "end", "as_of", "data_as_of", "group_by", "totals", "rows"};
    ``rows`` is empty without ``group_by``. Each row has "key", "label" and the KPI keys.
    """
    if start > end:
        raise StatsError("start after end")
    src = Sources.build(user, region, end)
    year_start = date(end.year, 1, 1)
    year_ago = one_year_earlier(end)

    total = Grouping(None)
    flows = loan_flows(src, total, start, end)
    firsts = first_loans(src, total, start, end)
    balances = renewal_balances(src, total, [end, year_start, year_ago])
    entities = entity_figures(src, total, end)
    totals = _row(
        flows.get(None),
        firsts.get(None),
        balances.get((end, None)),
        balances.get((year_start, None)),
        balances.get((year_ago, None)),
        None if entities is None else entities.get(None, {}),
    )
    rows = []
    if group_by == "month":
        rows = _month_rows(src, start, end)
    elif group_by:
        rows = _group_rows(src, region, group_by, start, end, year_start, year_ago)
    return {
        "region": region,
        "start": start,
        "end": end,
        "group_by": group_by,
        "as_of": timezone.now(),
        "data_as_of": data_as_of(),
        "screening_available": src.active is not None,
        "totals": totals,
        "rows": rows,
    }


def compute_dashboard(user, region, start, end, groups=GROUP_BY_CHOICES):
    """Totals once, plus the rows of each grouping in ``groups`` (for the dashboard page)."""
    result = compute_stats(user, region, start, end)
    src = Sources.build(user, region, end)
    year_start, year_ago = date(end.year, 1, 1), one_year_earlier(end)
    result["groups"] = {
        name: (
            _month_rows(src, start, end)
            if name == "month"
            else _group_rows(src, region, name, start, end, year_start, year_ago)
        )
        for name in groups
    }
    return result


def _group_rows(src, region, group_by, start, end, year_start, year_ago):
    grouping = grouping_for(group_by, region)
    if group_by == "region" and not grouping.length:
        return []  # a township has no lower level
    flows = loan_flows(src, grouping, start, end)
    firsts = first_loans(src, grouping, start, end)
    balances = renewal_balances(src, grouping, [end, year_start, year_ago])
    entities = None if group_by == "bank" else entity_figures(src, grouping, end)
    labels = _labels(group_by, region, grouping)
    keys = set(flows) | set(firsts) | {k for _, k in balances}
    if entities:
        keys |= set(entities)
    ordered = list(labels) + sorted((k for k in keys if k not in labels), key=lambda k: k or "")
    rows = []
    for key in ordered:
        row = _row(
            flows.get(key),
            firsts.get(key),
            balances.get((end, key)),
            balances.get((year_start, key)),
            balances.get((year_ago, key)),
            None if entities is None else entities.get(key, {}),
        )
        label, code = labels.get(key, (None, None))
        rows.append({"key": key or "", "label": label or _other_label(group_by, key), **row})
        if group_by == "region":
            rows[-1]["region"] = code
    if group_by == "bank":
        label_banks(rows)
    return rows


def _other_label(group_by, key):
    from django.utils.translation import gettext as _

    if group_by == "region":
        return _("Not assigned to a lower level")
    if group_by in ("bank", "entity_type", "industry") and key:
        return key
    return _("Unknown")


def _labels(group_by, region, grouping):
    """Known keys in display order → (label, region code)."""
    from enterprises.choices import EntityType

    if group_by == "region":
        children = Region.objects.filter(parent=region).order_by("code")
        return {c.code[: grouping.length]: (c.name, c.code) for c in children}
    if group_by == "entity_type":
        return {value: (str(label), None) for value, label in EntityType.choices}
    if group_by == "bank":
        return {}
    return {}


def label_banks(rows):
    names = dict(Bank.objects.filter(code__in=[r["key"] for r in rows]).values_list("code", "name"))
    for row in rows:
        if row["key"] in names:
            row["label"] = names[row["key"]]
    return rows


def _month_rows(src, start, end):
    grouping = Grouping("month")
    flows = loan_flows(src, grouping, start, end)
    firsts = first_loans(src, grouping, start, end)
    spans = month_spans(start, end)
    days = []
    for _first, last in spans:
        days += [last, date(last.year, 1, 1), one_year_earlier(last)]
    balances = renewal_balances(src, grouping, days)
    rows = []
    for first, last in spans:
        month = date(first.year, first.month, 1)
        row = _row(
            flows.get(month),
            firsts.get(month),
            balances.get((last, None)),
            balances.get((date(last.year, 1, 1), None)),
            balances.get((one_year_earlier(last), None)),
            None,
        )
        rows.append({"key": month.strftime("%Y-%m"), "label": month.strftime("%Y-%m"), **row})
    return rows
