"""First loans and the stage path 无贷户 → 首贷户 → 伙伴客户, computed set-based.

A loan is a **first loan** when it is the enterprise's earliest live loan in Rongxie (any bank)
and no credit snapshot shows a loan before it: neither a first-loan date before its
disbursement nor a loan balance above 0 on a date before it.

An enterprise's stage (``EnterpriseStage``, one row; none = 无贷户):

- 首贷户 (``first_loan``) from the disbursement of its first loan;
- 有贷户 (``borrower``) when its earliest Rongxie loan was not a first loan (it borrowed before);
- 伙伴客户 (``partner``) from the disbursement of the loan that makes it borrow again — its
  N-th new loan, renewals not counted — or hold its P-th different product, whichever comes
  first (N, P: the county's ``LoanRules``, else settings LOANS_PARTNER_AFTER_LOANS /
  LOANS_PARTNER_PRODUCTS).

Every move is a ``StageChange`` row (from, to, date, cause loan): upgrades are dated by their
loan; a move back (a loan deleted, credit data showing an earlier loan) is dated today with no
cause loan. One run reads a few statements whatever the number of enterprises, portable SQL
(PostgreSQL and SQLite).
"""

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..models import EnterpriseStage, Loan, LoanRules, StageChange

LOAN = Loan._meta.db_table
CREDIT = "loans_creditsnapshot"
STAGE = EnterpriseStage._meta.db_table
CHANGE = StageChange._meta.db_table
RULES = LoanRules._meta.db_table
ENTERPRISE = "enterprises_enterprise"
TARGETS = "loans_stage_targets"
# One recompute at a time (PostgreSQL advisory lock): two at once for the same enterprise, a
# form and a bank system's job say, would both insert its stage row.
STAGE_LOCK = 0x53544147
CALC = "loans_stage_calc"

CALC_SQL = f"""
CREATE TEMP TABLE {CALC} AS
WITH live AS (
    SELECT l.id, l.enterprise_id, l.disbursed_on, l.product, l.is_renewal
    FROM {LOAN} l
    WHERE l.deleted_at IS NULL AND l.enterprise_id IN (SELECT enterprise_id FROM {TARGETS})
),
ranked AS (
    SELECT id, enterprise_id, disbursed_on, product, is_renewal,
           ROW_NUMBER() OVER (PARTITION BY enterprise_id ORDER BY disbursed_on, id) AS n,
           ROW_NUMBER() OVER (PARTITION BY enterprise_id, is_renewal
                              ORDER BY disbursed_on, id) AS k,
           ROW_NUMBER() OVER (PARTITION BY enterprise_id, product
                              ORDER BY disbursed_on, id) AS pn
    FROM live
),
products AS (
    -- the loan that brought each product, numbered in order
    SELECT id, enterprise_id, disbursed_on,
           ROW_NUMBER() OVER (PARTITION BY enterprise_id ORDER BY disbursed_on, id) AS p
    FROM ranked WHERE pn = 1
),
rules AS (
    SELECT e.id AS enterprise_id,
           COALESCE(r.partner_after_loans, %(loans)s) AS loans,
           COALESCE(r.partner_products, %(products)s) AS products
    FROM {ENTERPRISE} e
    LEFT JOIN {RULES} r ON r.region_id = substr(e.region_id, 1, 6)
    WHERE e.id IN (SELECT enterprise_id FROM {TARGETS})
),
candidates AS (
    SELECT x.enterprise_id, x.id, x.disbursed_on
    FROM ranked x JOIN rules u ON u.enterprise_id = x.enterprise_id
    WHERE NOT x.is_renewal AND x.k = u.loans
    UNION ALL
    SELECT x.enterprise_id, x.id, x.disbursed_on
    FROM products x JOIN rules u ON u.enterprise_id = x.enterprise_id
    WHERE x.p = u.products
),
partner AS (
    SELECT enterprise_id, id, disbursed_on,
           ROW_NUMBER() OVER (PARTITION BY enterprise_id ORDER BY disbursed_on, id) AS o
    FROM candidates
),
credit AS (
    -- the earliest day credit data show the enterprise owing a loan
    SELECT enterprise_id, MIN(COALESCE(first_loan_date, as_of)) AS earliest
    FROM {CREDIT}
    WHERE (first_loan_date IS NOT NULL OR loan_balance > 0)
      AND enterprise_id IN (SELECT enterprise_id FROM {TARGETS})
    GROUP BY enterprise_id
)
SELECT f.enterprise_id,
       f.id AS entry_loan,
       f.disbursed_on AS entry_on,
       CASE WHEN c.earliest IS NULL OR c.earliest >= f.disbursed_on
            THEN 'first_loan' ELSE 'borrower' END AS entry_stage,
       p.id AS partner_loan,
       p.disbursed_on AS partner_on
FROM ranked f
LEFT JOIN credit c ON c.enterprise_id = f.enterprise_id
LEFT JOIN partner p ON p.enterprise_id = f.enterprise_id AND p.o = 1
WHERE f.n = 1
"""

FINAL = "CASE WHEN k.partner_loan IS NOT NULL THEN 'partner' ELSE k.entry_stage END"

CHANGES_SQL = [
    # Entering the path: 无贷户 → 首贷户 / 有贷户, dated by the earliest loan.
    f"""INSERT INTO {CHANGE} (enterprise_id, from_stage, to_stage, changed_on, loan_id, recorded_at)
        SELECT k.enterprise_id, 'no_loan', k.entry_stage, k.entry_on, k.entry_loan, %(now)s
        FROM {CALC} k LEFT JOIN {STAGE} s ON s.enterprise_id = k.enterprise_id
        WHERE s.enterprise_id IS NULL""",
    # Becoming a partner, dated by the loan that made it one.
    f"""INSERT INTO {CHANGE} (enterprise_id, from_stage, to_stage, changed_on, loan_id, recorded_at)
        SELECT k.enterprise_id,
               CASE WHEN s.stage IN ('first_loan', 'borrower') THEN s.stage
                    ELSE k.entry_stage END,
               'partner', k.partner_on, k.partner_loan, %(now)s
        FROM {CALC} k LEFT JOIN {STAGE} s ON s.enterprise_id = k.enterprise_id
        WHERE k.partner_loan IS NOT NULL AND (s.stage IS NULL OR s.stage <> 'partner')""",
    # Corrections (a move back or sideways): today, no cause loan.
    f"""INSERT INTO {CHANGE} (enterprise_id, from_stage, to_stage, changed_on, loan_id, recorded_at)
        SELECT s.enterprise_id, s.stage, COALESCE({FINAL}, 'no_loan'), %(today)s, NULL, %(now)s
        FROM {STAGE} s LEFT JOIN {CALC} k ON k.enterprise_id = s.enterprise_id
        WHERE s.enterprise_id IN (SELECT enterprise_id FROM {TARGETS})
          AND COALESCE({FINAL}, 'no_loan') <> s.stage
          AND COALESCE({FINAL}, 'no_loan') <> 'partner'""",
    f"DELETE FROM {STAGE} WHERE enterprise_id IN (SELECT enterprise_id FROM {TARGETS})",
    f"""INSERT INTO {STAGE} (enterprise_id, stage, since, first_loan_id, updated_at)
        SELECT k.enterprise_id, {FINAL},
               CASE WHEN k.partner_loan IS NOT NULL THEN k.partner_on ELSE k.entry_on END,
               CASE WHEN k.entry_stage = 'first_loan' THEN k.entry_loan END, %(now)s
        FROM {CALC} k""",
    # The derived first-loan flag of each loan (only rows whose flag moves are written).
    f"""UPDATE {LOAN}
        SET is_first_loan = (id IN (SELECT entry_loan FROM {CALC} WHERE entry_stage = 'first_loan'))
        WHERE enterprise_id IN (SELECT enterprise_id FROM {TARGETS})
          AND is_first_loan <> (id IN (SELECT entry_loan FROM {CALC}
                                       WHERE entry_stage = 'first_loan'))""",
]


def _targets_sql(enterprise_ids, batch):
    if enterprise_ids is not None:
        return None
    if batch is not None:
        return (
            f"INSERT INTO {TARGETS} SELECT enterprise_id FROM {LOAN} WHERE batch_id = %(batch)s "
            f"UNION SELECT enterprise_id FROM {CREDIT} WHERE batch_id = %(batch)s"
        )
    return (
        f"INSERT INTO {TARGETS} SELECT enterprise_id FROM {LOAN} "
        f"UNION SELECT enterprise_id FROM {CREDIT} "
        f"UNION SELECT enterprise_id FROM {STAGE}"
    )


def recompute_stages(*, enterprise_ids=None, batch=None, today=None):
    """Recompute first loans, stages and stage history for some enterprises (``enterprise_ids``),
    those an import ``batch`` wrote, or (neither) every enterprise with loans, credit or a
    stage. Returns the number of stage changes written."""
    today = today or timezone.localdate()
    params = {
        "loans": settings.LOANS_PARTNER_AFTER_LOANS,
        "products": settings.LOANS_PARTNER_PRODUCTS,
        "now": timezone.now(),
        "today": today,
        "batch": getattr(batch, "pk", batch),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [STAGE_LOCK])
        for table in (CALC, TARGETS):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMP TABLE {TARGETS} (enterprise_id bigint PRIMARY KEY)")
        fill = _targets_sql(enterprise_ids, batch)
        if fill is None:
            ids = sorted({int(i) for i in enterprise_ids})
            if not ids:
                cursor.execute(f"DROP TABLE {TARGETS}")
                return 0
            for start in range(0, len(ids), 1000):  # one statement per thousand, not per id
                chunk = ids[start : start + 1000]
                values = ", ".join(["(%s)"] * len(chunk))
                cursor.execute(f"INSERT INTO {TARGETS} VALUES {values}", chunk)
        else:
            cursor.execute(fill, params)
        cursor.execute(CALC_SQL, params)
        written = 0
        for number, sql in enumerate(CHANGES_SQL):
            cursor.execute(sql, params)
            if number < 3:
                written += max(cursor.rowcount, 0)
        for table in (CALC, TARGETS):
            cursor.execute(f"DROP TABLE {table}")
    return written


def recompute_after_import(sender, batch=None, **kwargs):
    """Loan and credit imports change first loans and stages: recompute the batch's enterprises."""
    from enterprises.choices import ImportKind

    if batch is None or batch.kind not in (ImportKind.LOANS, ImportKind.CREDIT):
        return
    recompute_stages(batch=batch)
    if batch.kind == ImportKind.LOANS:
        from .watch import refresh_watch

        refresh_watch()
