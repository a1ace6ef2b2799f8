"""Dashboard KPIs (domain.md, "KPI definitions"), computed with a few set-based SQL queries.

Every query is built from the user's *restricted* querysets (``Model.objects.restrict(user)``):
their SQL is embedded as sub-selects, so the scoping rule (region prefix, bank branches) is
applied exactly as everywhere else. The SQL runs on PostgreSQL and on the embedded SQLite
default; only the grouping (GROUPING SETS vs UNION ALL) and a few expressions differ.

Amounts are Decimal in 万元; rates are Decimal fractions rounded to 4 places; ``None`` where the
definition says null (or where the data a KPI needs does not exist yet: no screening list).
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from banks.models import Bank
from enterprises.choices import REGION_PREFIX_LENGTH
from enterprises.models import Enterprise, ImportBatch, Region
from loans.models import CreditApproval, CreditSnapshot, Loan
from visits.choices import VisitStatus
from visits.models import Recommendation, Visit

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
    "visited_enterprises",
    "recommended_enterprises",
    "credited_enterprises",
    "credit_amount",
    "avg_days_to_disburse",
)
AMOUNT_KEYS = (
    "credit_amount",
    "disbursed_amount",
    "first_loan_amount",
    "credit_loan_amount",
    "renewal_balance",
    "renewal_increase_ytd",
)
RATE_KEYS = ("renewal_yoy_growth", "financing_coverage_rate")
COUNT_KEYS = (
    "active_entities",
    "no_loan_entities",
    "first_loan_enterprises",
    "visited_enterprises",
    "recommended_enterprises",
    "credited_enterprises",
)
DAYS_KEYS = ("avg_days_to_disburse",)
DAYS_QUANTUM = Decimal("0.1")
# Figures the funnel needs besides the KPIs (not KPI keys of the spec, served by the funnel).
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


ENT_COLUMNS = {
    "e_region": "region_id",
    "e_type": "entity_type",
    "e_size": "size",
    "e_industry": "industry_code",
}


@dataclass
class Sources:
    """SQL sub-selects of the rows the user may see, limited to the requested region.

    Loans and snapshots carry their enterprise's columns (``e_region``, ``e_type``, ``e_size``,
    ``e_industry``) through the same join the scoping rule uses, so no query joins the whole
    enterprise table again.
    """

    ent: tuple
    loans: tuple
    credit: tuple
    active: tuple | None  # enterprise ids on the current active list, None when no list exists
    no_loan: tuple | None  # the same for the current no-loan list
    visits: tuple = None  # completed visits dated on or before end
    recommendations: tuple = None  # pushed recommendations (recommended_on set, ≤ end)
    approvals: tuple = None  # credit approvals dated on or before end

    @classmethod
    def build(cls, user, region, end):
        prefix = region.scope_prefix
        ent = _sql(
            Enterprise.objects.restrict(user)
            .filter(region__code__startswith=prefix)
            .order_by()
            .values("id", **{alias: F(column) for alias, column in ENT_COLUMNS.items()})
        )
        through = {alias: F(f"enterprise__{column}") for alias, column in ENT_COLUMNS.items()}
        loans = _sql(
            Loan.objects.restrict(user)
            .filter(enterprise__region__code__startswith=prefix, disbursed_on__lte=end)
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
                **through,
            )
        )
        # Knowledge as of ``end``: a snapshot dated after it is ignored everywhere.
        credit = _sql(
            CreditSnapshot.objects.restrict(user)
            .filter(enterprise__region__code__startswith=prefix, as_of__lte=end)
            .order_by()
            .values(
                "enterprise_id", "bank_id", "as_of", "loan_balance", "first_loan_date", **through
            )
        )
        # Withdrawn visits are soft-deleted ones: never counted.
        visits = _sql(
            Visit.objects.restrict(user)
            .filter(
                enterprise__region__code__startswith=prefix,
                status=VisitStatus.COMPLETED,
                visited_on__lte=end,
            )
            .order_by()
            .values("enterprise_id", "bank_id", "visited_on", "has_need", **through)
        )
        # An approved entry not pushed yet has no recommendation date: not recommended yet.
        recommendations = _sql(
            Recommendation.objects.restrict(user)
            .filter(
                enterprise__region__code__startswith=prefix,
                recommended_on__isnull=False,
                recommended_on__lte=end,
            )
            .order_by()
            .values("enterprise_id", "bank_id", "recommended_on", **through)
        )
        approvals = _sql(
            CreditApproval.objects.restrict(user)
            .filter(enterprise__region__code__startswith=prefix, approved_on__lte=end)
            .order_by()
            .values("enterprise_id", "bank_id", "approved_on", "amount", **through)
        )
        return cls(
            ent=ent,
            loans=loans,
            credit=credit,
            active=current_list_sql(region, "active"),
            no_loan=current_list_sql(region, "no_loan"),
            visits=visits,
            recommendations=recommendations,
            approvals=approvals,
        )


def current_list_sql(region, list_type):
    """Enterprise ids on the current list of ``list_type``, or None when no list covers ``region``.

    None (the KPIs then read null, never 0) when the screening app is missing or no current
    succeeded screening run lies over or inside the region.
    """
    try:
        from screening.selectors import current_memberships, current_runs
    except ImportError:
        return None
    prefix = region.scope_prefix
    covering = current_runs().values_list("region__code", "region__level")
    if not any(
        code.startswith(prefix) or prefix.startswith(code[: REGION_PREFIX_LENGTH[level]])
        for code, level in covering
    ):
        return None
    return _sql(current_memberships(list_type).order_by().values("enterprise_id"))


# ---------------------------------------------------------------------------------------------
# dialect: PostgreSQL computes every grouping in one pass (GROUPING SETS); the embedded SQLite
# default runs one SELECT per grouping set, joined with UNION ALL. Same figures either way.


def _postgres():
    return connection.vendor == "postgresql"


def money_sum(expr):
    """SQL of an exact sum of an amount column.

    SQLite keeps decimals as binary floats, so it sums whole millionths of 万元 (fen) as integers;
    ``money()`` turns either result back into a Decimal.
    """
    if _postgres():
        return f"SUM({expr})"
    return f"SUM(CAST(ROUND(({expr}) * 1000000) AS INTEGER))"


def money(value):
    if value is None:
        return ZERO
    if isinstance(value, int) and not _postgres():
        return Decimal(value).scaleb(-6)
    return Decimal(value)


# ---------------------------------------------------------------------------------------------
# grouping keys: one query per KPI family computes the total and every grouping at once;
# keys are expressions over the row alias ``x``.


def _child_level(region):
    order = ["province", "city", "county", "township"]
    index = order.index(region.level)
    return order[index + 1] if index + 1 < len(order) else None


def region_key_length(region):
    child_level = _child_level(region)
    return REGION_PREFIX_LENGTH[child_level] if child_level else 0


SECTION_LETTERS = ", ".join(f"'{chr(c)}'" for c in range(ord("A"), ord("Z") + 1))
ENT_KEYS = {
    # GB/T 4754 section: the code's first letter, when it is one.
    "industry": (
        f"CASE WHEN UPPER(SUBSTR(x.e_industry, 1, 1)) IN ({SECTION_LETTERS}) "
        "THEN UPPER(SUBSTR(x.e_industry, 1, 1)) ELSE '' END"
    ),
    "entity_type": "x.e_type",
}


def key_expr(name, region, day_column=None, bank_column=None):
    """SQL of grouping ``name`` over alias x (None when it does not apply to the family)."""
    if name == "region":
        length = region_key_length(region)
        return f"SUBSTR(x.e_region, 1, {int(length)})" if length else None
    if name in ENT_KEYS:
        return ENT_KEYS[name]
    if name == "bank":
        return "r.root" if bank_column else None
    if name == "month":
        if not day_column:
            return None
        if _postgres():
            return f"DATE_TRUNC('month', {day_column})::date"
        return f"STRFTIME('%%Y-%%m-01', {day_column})"
    raise StatsError(name)


BANK_ROOTS = f"""
    WITH RECURSIVE bank_root(code, root) AS (
        SELECT code, code FROM {Bank._meta.db_table} WHERE parent_id IS NULL
        UNION ALL
        SELECT b.code, r.root FROM {Bank._meta.db_table} b JOIN bank_root r ON b.parent_id = r.code
    )
"""


def grouped_query(
    names,
    region,
    columns,
    body,
    params,
    *,
    day_column=None,
    bank_column=None,
    always=None,
    ctes="",
    cte_params=(),
):
    """(sql, params, decode) of ``SELECT gm, k, columns body`` for the total and each grouping.

    ``gm`` says which grouping a row belongs to and ``k`` is its key as text; ``decode(row)``
    turns them into (grouping name or None for the total, key). ``always`` (e.g. a day column)
    is part of every grouping. ``ctes`` is a WITH clause placed before the whole statement.
    """
    exprs = []
    for name in names:
        expr = key_expr(name, region, day_column, bank_column)
        if expr is not None:
            exprs.append((name, expr))
    fixed = [always] if always else []
    n = len(exprs)
    all_ones = (1 << n) - 1
    by_mask = {all_ones: None}
    for i, (name, _expr) in enumerate(exprs):
        by_mask[all_ones & ~(1 << (n - 1 - i))] = name

    def decode(row):
        return by_mask[row[0]], row[1]

    if _postgres() and exprs:
        sets = [f"({', '.join(fixed)})"] + [f"({', '.join([*fixed, e])})" for _, e in exprs]
        sql = f"""{ctes}
            SELECT GROUPING({", ".join(e for _, e in exprs)}) AS gm,
                   COALESCE({", ".join(f"CAST(({e}) AS TEXT)" for _, e in exprs)}) AS k, {columns}
            {body}
            GROUP BY GROUPING SETS ({", ".join(sets)})"""
        return sql, [*cte_params, *params], decode
    selects, all_params = [], list(cte_params)
    group_sets = [(all_ones, "NULL", fixed)]
    for i, (_name, expr) in enumerate(exprs):
        group_sets.append(
            (all_ones & ~(1 << (n - 1 - i)), f"CAST(({expr}) AS TEXT)", [*fixed, expr])
        )
    for mask, key, group in group_sets:
        group_by = f"GROUP BY {', '.join(group)}" if group else ""
        selects.append(f"SELECT {mask} AS gm, {key} AS k, {columns} {body} {group_by}")
        all_params += params
    return f"{ctes} " + " UNION ALL ".join(selects), all_params, decode


# ---------------------------------------------------------------------------------------------
# the queries; each returns {(grouping name or None for the total, key): values}


def _fetch(sql, params):
    if not _postgres():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    # No JIT for the KPI queries: their estimates (the recursive bank tree, the scoping
    # sub-selects) cross jit_above_cost even on small data, and compiling took 4.8 s of a
    # 4.9 s query that runs in 20 ms without it (EXPLAIN ANALYZE, docs/benchmarks.md).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchall()


def _bank_join(names, column):
    if "bank" in names:
        return BANK_ROOTS, f"LEFT JOIN bank_root r ON r.code = {column}"
    return "", ""


CREDIT_LOAN_AMOUNT = "CASE WHEN x.guarantee = 'credit' THEN x.amount ELSE 0 END"


def loan_flows(src, names, region, start, end):
    """Disbursed amount and credit-loan amount in start..end."""
    ln_sql, ln_params = src.loans
    ctes, join = _bank_join(names, "x.bank_id")
    sql, params, decode = grouped_query(
        names,
        region,
        f"""{money_sum("x.amount")}, {money_sum(CREDIT_LOAN_AMOUNT)},
            COUNT(DISTINCT x.enterprise_id)""",
        f"FROM {ln_sql} x {join} WHERE x.disbursed_on BETWEEN %s AND %s",
        [*ln_params, start, end],
        day_column="x.disbursed_on",
        bank_column="x.bank_id",
        ctes=ctes,
    )
    return {
        decode(row): {
            "disbursed_amount": money(row[2]),
            "credit_loan_amount": money(row[3]),
            "disbursed_enterprises": row[4],
        }
        for row in _fetch(sql, params)
    }


def renewal_balances(src, names, region, days):
    """{(day, (name, key)): balance} of renewals outstanding at each day (balance, else amount)."""
    ln_sql, ln_params = src.loans
    days = sorted(set(days))
    ctes, join = _bank_join(names, "x.bank_id")
    values = ", ".join(["(%s)"] * len(days))
    sql, params, decode = grouped_query(
        [n for n in names if n != "month"],
        region,
        f"d.day, {money_sum('COALESCE(x.balance, x.amount)')}",
        f"""FROM {ln_sql} x
            JOIN (SELECT column1 AS day FROM (VALUES {values}) AS v) d
              ON x.disbursed_on <= d.day AND x.matures_on > d.day
            {join}
            WHERE x.is_renewal""",
        [*ln_params, *days],
        bank_column="x.bank_id",
        always="d.day",
        ctes=ctes,
    )
    rows = _fetch(sql, params)
    return {(_as_date(row[2]), decode(row)): money(row[3]) for row in rows}


def _as_date(value):
    return date.fromisoformat(value) if isinstance(value, str) else value


def first_loans(src, names, region, start, end):
    """Enterprises whose first-ever loan date falls in start..end, and those loans' sum.

    First-ever date = earliest of the ledger's first disbursement and the credit data's
    first-loan date; a snapshot dated before it that shows a balance above 0 proves an earlier
    loan, so the enterprise is then not counted. The amount is the ledger loans disbursed on
    that date (none when only the credit data knows the first loan).
    """
    ln_sql, ln_params = src.loans
    cs_sql, cs_params = src.credit
    bank_ctes, join = _bank_join(names, "l.bank_id")
    cols = ", ".join(ENT_COLUMNS)
    ctes = f"""{bank_ctes}{"," if bank_ctes else "WITH"} firsts AS (
            SELECT enterprise_id, {", ".join(f"MIN({c}) AS {c}" for c in ENT_COLUMNS)},
                   MIN(day) AS first_day
            FROM (SELECT enterprise_id, {cols}, disbursed_on AS day FROM {ln_sql} l0
                  UNION ALL
                  SELECT enterprise_id, {cols}, first_loan_date FROM {cs_sql} c0
                  WHERE first_loan_date IS NOT NULL) ev
            GROUP BY enterprise_id
            HAVING MIN(day) BETWEEN %s AND %s
        )"""
    sql, params, decode = grouped_query(
        names,
        region,
        f"COUNT(DISTINCT x.enterprise_id), {money_sum('l.amount')}",
        f"""FROM firsts x
            LEFT JOIN {ln_sql} l
                   ON l.enterprise_id = x.enterprise_id AND l.disbursed_on = x.first_day
            {join}
            WHERE NOT EXISTS (SELECT 1 FROM {cs_sql} c1 WHERE c1.enterprise_id = x.enterprise_id
                              AND c1.loan_balance > 0 AND c1.as_of < x.first_day)""",
        ln_params + cs_params,
        day_column="x.first_day",
        bank_column="l.bank_id",
        ctes=ctes,
        cte_params=ln_params + cs_params + [start, end],
    )
    return {
        decode(row): {"first_loan_enterprises": row[2], "first_loan_amount": money(row[3])}
        for row in _fetch(sql, params)
    }


def days_between(later, earlier):
    """SQL of the whole days from ``earlier`` to ``later`` (two date columns)."""
    if _postgres():
        return f"({later} - {earlier})"
    return f"CAST(JULIANDAY({later}) - JULIANDAY({earlier}) AS INTEGER)"


def visit_flows(src, names, region, start, end):
    """Enterprises with a completed visit in start..end, and those where it found a need.

    By bank: the bank of the visit's 1+1 team (its head institution); by month: the visit's."""
    vs_sql, vs_params = src.visits
    ctes, join = _bank_join(names, "x.bank_id")
    sql, params, decode = grouped_query(
        names,
        region,
        """COUNT(DISTINCT x.enterprise_id),
           COUNT(DISTINCT CASE WHEN x.has_need THEN x.enterprise_id END)""",
        f"FROM {vs_sql} x {join} WHERE x.visited_on BETWEEN %s AND %s",
        [*vs_params, start, end],
        day_column="x.visited_on",
        bank_column="x.bank_id",
        ctes=ctes,
    )
    return {
        decode(row): {"visited_enterprises": row[2], "need_found_enterprises": row[3]}
        for row in _fetch(sql, params)
    }


def approval_flows(src, names, region, start, end):
    """Enterprises with a credit approval dated in start..end, and the approvals' sum.

    By bank: the approving bank's head institution; by month: the approval's."""
    ap_sql, ap_params = src.approvals
    ctes, join = _bank_join(names, "x.bank_id")
    sql, params, decode = grouped_query(
        names,
        region,
        f"COUNT(DISTINCT x.enterprise_id), {money_sum('x.amount')}",
        f"FROM {ap_sql} x {join} WHERE x.approved_on BETWEEN %s AND %s",
        [*ap_params, start, end],
        day_column="x.approved_on",
        bank_column="x.bank_id",
        ctes=ctes,
    )
    return {
        decode(row): {"credited_enterprises": row[2], "credit_amount": money(row[3])}
        for row in _fetch(sql, params)
    }


def recommendation_flows(src, names, region, start, end, days=True):
    """Enterprises recommended in start..end, and the days from recommendation to loan.

    Per enterprise: R = its earliest recommendation date in the period (recommended twice:
    counted once, from the earlier date), its first loan (any bank) disbursed on or after R
    and on or before end; ``days`` sums those day counts over ``with_loan`` enterprises. By
    month: the month of R. By bank see ``bank_conversion`` (each bank its own R and loans).
    Without ``days`` only the enterprises are counted (the funnel: no join with the loans).
    """
    rc_sql, rc_params = src.recommendations
    ln_sql, ln_params = src.loans
    cols = ", ".join(f"f.{c}" for c in ENT_COLUMNS)
    ctes = f"""WITH rfirst AS (
            SELECT enterprise_id, {", ".join(f"MIN({c}) AS {c}" for c in ENT_COLUMNS)},
                   MIN(recommended_on) AS r_day
            FROM {rc_sql} r0 WHERE recommended_on BETWEEN %s AND %s
            GROUP BY enterprise_id
        )"""
    if not days:
        sql, params, decode = grouped_query(
            [n for n in names if n != "bank"],
            region,
            "COUNT(*)",
            "FROM rfirst x",
            [],
            day_column="x.r_day",
            ctes=ctes,
            cte_params=[*rc_params, start, end],
        )
        return {decode(row): {"recommended_enterprises": row[2]} for row in _fetch(sql, params)}
    ctes += f""", rloan AS (
            SELECT f.enterprise_id, {cols}, f.r_day, MIN(l.disbursed_on) AS loan_day
            FROM rfirst f
            LEFT JOIN {ln_sql} l ON l.enterprise_id = f.enterprise_id AND l.disbursed_on >= f.r_day
            GROUP BY f.enterprise_id, {cols}, f.r_day
        )"""
    sql, params, decode = grouped_query(
        [n for n in names if n != "bank"],
        region,
        f"COUNT(*), SUM({days_between('x.loan_day', 'x.r_day')}), COUNT(x.loan_day)",
        "FROM rloan x",
        [],
        day_column="x.r_day",
        ctes=ctes,
        cte_params=[*rc_params, start, end, *ln_params],
    )
    result = {
        decode(row): {
            "recommended_enterprises": row[2],
            "days": int(row[3] or 0),
            "with_loan": row[4],
        }
        for row in _fetch(sql, params)
    }
    if "bank" in names:
        for key, values in bank_conversion(src, start, end, "root").items():
            result[("bank", key)] = {
                "recommended_enterprises": values["recommended"],
                "days": values["days"],
                "with_loan": values["disbursed"],
            }
    return result


def bank_conversion(src, start, end, level):
    """``bank_conversions`` of one level ("root" or "branch")."""
    return bank_conversions(src, start, end, (level,))[level]


def bank_conversions(src, start, end, levels=("branch", "root")):
    """Per level and bank ("root": head institution, "branch": the branch itself): enterprises
    recommended to it in start..end, how many of them it then granted credit and lent to.

    Each bank counts from its own R (the earliest recommendation to it in the period) and
    its own approvals and loans on or after R, on or before end — a bank is measured by what
    it did with the enterprises recommended to it. ``days`` sums R → its first loan. Every
    level comes from one query, so the loans and approvals are read once.
    """
    rc_sql, rc_params = src.recommendations
    ln_sql, ln_params = src.loans
    ap_sql, ap_params = src.approvals
    keys = {"branch": "rec.branch", "root": "rec.root"}
    # The period's recommendations are read once, then grouped once per level.
    recommended = " UNION ALL ".join(
        f"SELECT rec.enterprise_id, '{level}' AS level, {keys[level]} AS bank, "
        f"MIN(rec.recommended_on) AS r_day FROM rec GROUP BY rec.enterprise_id, {keys[level]}"
        for level in levels
    )
    # Only the recommended enterprises' loans and approvals (a fraction of the region's), as
    # one list of events: one join with rfirst gives each bank's first loan and whether it
    # granted credit, with no second join and no sort.
    sub = (
        "SELECT s0.enterprise_id, {day} AS day, s0.bank_id AS branch, sr.root AS root, "
        "'{kind}' AS kind "
        "FROM {src} s0 JOIN bank_root sr ON sr.code = s0.bank_id "
        "WHERE s0.enterprise_id IN (SELECT enterprise_id FROM rec)"
    )
    events = " UNION ALL ".join(
        (
            sub.format(day="s0.disbursed_on", src=ln_sql, kind="loan"),
            sub.format(day="s0.approved_on", src=ap_sql, kind="approval"),
        )
    )
    sql = f"""{BANK_ROOTS}, rec AS (
            SELECT r0.enterprise_id, r0.bank_id AS branch, br.root, r0.recommended_on
            FROM {rc_sql} r0 JOIN bank_root br ON br.code = r0.bank_id
            WHERE r0.recommended_on BETWEEN %s AND %s
        ), rfirst AS ({recommended}), rl AS (
            SELECT f.level, f.bank, f.r_day,
                   MIN(CASE WHEN ev.kind = 'loan' THEN ev.day END) AS loan_day,
                   MAX(CASE WHEN ev.kind = 'approval' THEN 1 ELSE 0 END) AS credited
            FROM rfirst f
            LEFT JOIN ({events}) ev ON ev.enterprise_id = f.enterprise_id AND ev.day >= f.r_day
                 AND (CASE f.level WHEN 'branch' THEN ev.branch ELSE ev.root END) = f.bank
            GROUP BY f.enterprise_id, f.level, f.bank, f.r_day
        )
        SELECT level, bank, COUNT(*), SUM(credited), COUNT(loan_day),
               SUM({days_between("loan_day", "r_day")})
        FROM rl GROUP BY level, bank"""
    params = [*rc_params, start, end, *ln_params, *ap_params]
    result = {level: {} for level in levels}
    for level, bank, recommended_n, credited, disbursed, days in _fetch(sql, params):
        result[level][bank] = {
            "recommended": recommended_n,
            "credited": int(credited or 0),
            "disbursed": disbursed,
            "days": int(days or 0),
        }
    return result


def average_days(days, with_loan):
    """Mean days to one decimal (half up); None when no enterprise had a loan."""
    if not with_loan:
        return None
    return (Decimal(days) / Decimal(with_loan)).quantize(DAYS_QUANTUM, ROUND_HALF_UP)


def entity_figures(src, names, region, end, coverage=True):
    """Active entities, no-loan ones, small/micro ones and those financed at end.

    无贷户数 counts the current no-loan list itself (domain.md: the same enterprises), so the
    dashboard and the list a user opens next to it always agree, whatever the period. Without
    ``coverage`` only the first two are counted (the funnel), sparing the loan and credit joins.
    """
    if src.active is None or src.no_loan is None:
        return None
    if not coverage:
        return _list_counts(src, names, region)
    ln_sql, ln_params = src.loans
    ent_sql, ent_params = src.ent
    cs_sql, cs_params = src.credit
    act_sql, act_params = src.active
    nl_sql, nl_params = src.no_loan
    financed = "la.enterprise_id IS NOT NULL OR ca.enterprise_id IS NOT NULL"
    sql, params, decode = grouped_query(
        [n for n in names if n not in ("bank", "month")],
        region,
        f"""COUNT(*),
            SUM(CASE WHEN x.no_loan THEN 1 ELSE 0 END),
            SUM(CASE WHEN x.small_micro THEN 1 ELSE 0 END),
            SUM(CASE WHEN x.small_micro AND ({financed}) THEN 1 ELSE 0 END)""",
        f"""FROM (SELECT e0.*, (e0.e_size IN ('small', 'micro') OR e0.e_type = 'individual')
                             AS small_micro,
                         e0.id IN (SELECT n.enterprise_id FROM {nl_sql} n) AS no_loan
                FROM {ent_sql} e0
                WHERE e0.id IN (SELECT a.enterprise_id FROM {act_sql} a)) x
            LEFT JOIN (SELECT DISTINCT enterprise_id FROM {ln_sql} l
                       WHERE l.matures_on > %s) la ON la.enterprise_id = x.id
            LEFT JOIN (SELECT DISTINCT enterprise_id
                       FROM (SELECT c.enterprise_id, c.loan_balance,
                                    as_of = MAX(as_of) OVER (PARTITION BY enterprise_id, bank_id)
                                    AS is_latest
                             FROM {cs_sql} c) c2
                       WHERE is_latest AND loan_balance > 0) ca ON ca.enterprise_id = x.id""",
        nl_params + ent_params + act_params + ln_params + [end] + cs_params,
    )
    return {
        decode(row): {
            "active": row[2],
            "no_loan": row[3] or 0,
            "small_micro": row[4] or 0,
            "covered": row[5] or 0,
        }
        for row in _fetch(sql, params)
    }


def _list_counts(src, names, region):
    ent_sql, ent_params = src.ent
    act_sql, act_params = src.active
    nl_sql, nl_params = src.no_loan
    sql, params, decode = grouped_query(
        [n for n in names if n not in ("bank", "month")],
        region,
        "COUNT(*), SUM(CASE WHEN x.no_loan THEN 1 ELSE 0 END)",
        f"""FROM (SELECT e0.*, e0.id IN (SELECT n.enterprise_id FROM {nl_sql} n) AS no_loan
                FROM {ent_sql} e0
                WHERE e0.id IN (SELECT a.enterprise_id FROM {act_sql} a)) x""",
        nl_params + ent_params + act_params,
    )
    return {decode(row): {"active": row[2], "no_loan": row[3] or 0} for row in _fetch(sql, params)}


# ---------------------------------------------------------------------------------------------
# assembling


def _rate(numerator, denominator):
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_QUANTUM, ROUND_HALF_UP)


def _amount(value):
    return (value or ZERO).quantize(AMOUNT_QUANTUM)


def _row(flows, firsts, bal_end, bal_y0, bal_y1, entities, visits=None, approvals=None, recs=None):
    flows = flows or {}
    firsts = firsts or {}
    visits, approvals, recs = visits or {}, approvals or {}, recs or {}
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
        "visited_enterprises": visits.get("visited_enterprises", 0),
        "recommended_enterprises": recs.get("recommended_enterprises", 0),
        "credited_enterprises": approvals.get("credited_enterprises", 0),
        "credit_amount": _amount(approvals.get("credit_amount")),
        "avg_days_to_disburse": average_days(recs.get("days", 0), recs.get("with_loan", 0)),
        # funnel figures
        "need_found_enterprises": visits.get("need_found_enterprises", 0),
        "disbursed_enterprises": flows.get("disbursed_enterprises", 0),
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


# The figures the funnel shows (dashboards/funnel.py), computed alone by ``compute_funnel_live``.
FUNNEL_KEYS = (
    "active_entities",
    "visited_enterprises",
    "need_found_enterprises",
    "recommended_enterprises",
    "credited_enterprises",
    "disbursed_enterprises",
    "no_loan_entities",
    "first_loan_enterprises",
)


def compute_funnel_live(user, region, start, end):
    """The funnel's totals (``FUNNEL_KEYS``) of ``region`` over start..end, in the shape of
    ``compute_live``'s result: only the families the funnel shows, and those without the
    amounts, renewal balances, coverage and days to loan it does not show."""
    if start > end:
        raise StatsError("start after end")
    src = Sources.build(user, region, end)
    total = (None, None)
    entities = entity_figures(src, [], region, end, coverage=False)
    row = _row(
        loan_flows(src, [], region, start, end).get(total),
        first_loans(src, [], region, start, end).get(total),
        None,
        None,
        None,
        None if entities is None else entities.get(total, {}),
        visit_flows(src, [], region, start, end).get(total),
        approval_flows(src, [], region, start, end).get(total),
        recommendation_flows(src, [], region, start, end, days=False).get(total),
    )
    return _result(region, start, end, src, {key: row[key] for key in FUNNEL_KEYS})


def _result(region, start, end, src, totals):
    """The shape of a KPI result (stored and read back by ``snapshots``), no groups yet."""
    return {
        "region": region,
        "start": start,
        "end": end,
        "group_by": None,
        "as_of": timezone.now(),
        "data_as_of": data_as_of(),
        "screening_available": src.active is not None,
        "totals": totals,
        "rows": [],
        "groups": {},
    }


def compute_live(user, region, start, end, groups=GROUP_BY_CHOICES):
    """Totals and the rows of each grouping in ``groups``, with a handful of queries."""
    if start > end:
        raise StatsError("start after end")
    for name in groups:
        if name not in GROUP_BY_CHOICES:
            raise StatsError(name)
    src = Sources.build(user, region, end)
    year_start, year_ago = date(end.year, 1, 1), one_year_earlier(end)
    names = [n for n in groups if n != "month"]
    month_names = ["month"] if "month" in groups else []
    spans = month_spans(start, end) if month_names else []
    days = [end, year_start, year_ago]
    for _first, last in spans:
        days += [last, date(last.year, 1, 1), one_year_earlier(last)]

    flows = loan_flows(src, names + month_names, region, start, end)
    firsts = first_loans(src, names + month_names, region, start, end)
    balances = renewal_balances(src, names, region, days)
    entities = entity_figures(src, names, region, end)
    visits = visit_flows(src, names + month_names, region, start, end)
    approvals = approval_flows(src, names + month_names, region, start, end)
    recs = recommendation_flows(src, names + month_names, region, start, end)
    flow_maps = (flows, firsts, visits, approvals, recs)

    def row_for(group, key, day=end, entity_kpis=True):
        return _row(
            flows.get((group, key)),
            firsts.get((group, key)),
            balances.get((day, (group, key))),
            balances.get((date(day.year, 1, 1), (group, key))),
            balances.get((one_year_earlier(day), (group, key))),
            None if entities is None or not entity_kpis else entities.get((group, key), {}),
            visits.get((group, key)),
            approvals.get((group, key)),
            recs.get((group, key)),
        )

    result = _result(region, start, end, src, row_for(None, None))
    for name in groups:
        if name == "month":
            rows = []
            for first, last in spans:
                month = date(first.year, first.month, 1)
                key = month.isoformat()
                row = _row(
                    flows.get(("month", key)),
                    firsts.get(("month", key)),
                    balances.get((last, (None, None))),
                    balances.get((date(last.year, 1, 1), (None, None))),
                    balances.get((one_year_earlier(last), (None, None))),
                    None,
                    visits.get(("month", key)),
                    approvals.get(("month", key)),
                    recs.get(("month", key)),
                )
                label = month.strftime("%Y-%m")
                rows.append({"key": label, "label": label, **row})
            result["groups"][name] = rows
            continue
        result["groups"][name] = _group_rows(name, region, row_for, flow_maps, balances, entities)
    return result


def _group_rows(name, region, row_for, flow_maps, balances, entities):
    if name == "region" and not region_key_length(region):
        return []  # a township has no lower level
    labels = _labels(name, region)
    keys = {k for flow in flow_maps for (g, k) in flow if g == name}
    keys |= {k for (_day, (g, k)) in balances if g == name}
    if entities:
        keys |= {k for (g, k) in entities if g == name}
    ordered = list(labels) + sorted((k for k in keys if k not in labels), key=lambda k: k or "")
    rows = []
    for key in ordered:
        row = row_for(name, key, entity_kpis=name != "bank")
        label, code = labels.get(key, (None, None))
        rows.append({"key": key or "", "label": label or _other_label(name, key), **row})
        if name == "region":
            rows[-1]["region"] = code
    if name == "bank":
        label_banks(rows)
    return rows


def _other_label(group_by, key):
    from django.utils.translation import gettext as _

    if group_by == "region":
        return _("Not assigned to a lower level")
    if group_by in ("bank", "entity_type", "industry") and key:
        return key
    return _("Unknown")


def _labels(group_by, region):
    """Known keys in display order → (label, region code)."""
    from enterprises.choices import EntityType

    if group_by == "region":
        length = region_key_length(region)
        children = Region.objects.filter(parent=region).order_by("code")
        return {c.code[:length]: (c.name, c.code) for c in children}
    if group_by == "entity_type":
        return {value: (str(label), None) for value, label in EntityType.choices}
    return {}


def label_banks(rows):
    names = dict(Bank.objects.filter(code__in=[r["key"] for r in rows]).values_list("code", "name"))
    for row in rows:
        if row["key"] in names:
            row["label"] = names[row["key"]]
    return rows
