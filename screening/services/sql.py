"""The PostgreSQL path: every list of a run is one INSERT … SELECT from one facts table.

Evidence is gathered with grouped LEFT JOINs (hash joins), never ``EXISTS … OR EXISTS``,
which PostgreSQL re-runs per row once its hash outgrows work_mem (docs: performance notes).
"""

import json

from django.db import connection

from ..choices import RunStatus  # noqa: F401  (kept for readers of the SQL below)

# Facts about every enterprise registered in the county: one row each, built once per run.
FACTS_SQL = """
CREATE TEMP TABLE {table} AS
WITH ent AS (
    SELECT id, status, size, entity_type, region_id
    FROM enterprises_enterprise
    WHERE region_id LIKE %(prefix)s
),
census AS (
    SELECT DISTINCT c.enterprise_id
    FROM enterprises_censusrecord c JOIN ent ON ent.id = c.enterprise_id
    WHERE c.is_active
      AND c.census_year = %(census_year)s
),
tax AS (
    SELECT t.enterprise_id,
           bool_or(coalesce(t.tax_paid, 0) > 0) AS paid,
           bool_or(coalesce(t.tax_paid, 0) + coalesce(t.export_rebate, 0) > 0) AS paid_rebate,
           bool_or(coalesce(t.taxable_sales, 0) > 0) AS sales
    FROM enterprises_taxrecord t JOIN ent ON ent.id = t.enterprise_id
    WHERE t.tax_year = ANY(%(tax_years)s)
    GROUP BY t.enterprise_id
),
rating AS (
    SELECT DISTINCT ON (t.enterprise_id) t.enterprise_id, t.credit_rating
    FROM enterprises_taxrecord t JOIN ent ON ent.id = t.enterprise_id
    ORDER BY t.enterprise_id, t.tax_year DESC
),
neg AS (
    SELECT n.enterprise_id,
           jsonb_agg(jsonb_build_object('code', 'neg_' || n.list_type, 'on', n.listed_on)
                     ORDER BY n.listed_on, n.list_type) AS reasons,
           count(DISTINCT n.list_type) AS types,
           bool_and(n.list_type IN ('abnormal_operation', 'dishonest_debtor',
                                    'serious_violation')) AS fixable
    FROM enterprises_negativelistentry n JOIN ent ON ent.id = n.enterprise_id
    WHERE n.listed_on <= %(as_of)s AND (n.removed_on IS NULL OR n.removed_on > %(as_of)s)
    GROUP BY n.enterprise_id
),
loan AS (
    SELECT l.enterprise_id, min(l.disbursed_on) AS first_on
    FROM loans_loan l JOIN ent ON ent.id = l.enterprise_id
    WHERE l.disbursed_on <= %(as_of)s
    GROUP BY l.enterprise_id
),
credit AS (
    SELECT c.enterprise_id, min(c.first_loan_date) AS first_on
    FROM loans_creditsnapshot c JOIN ent ON ent.id = c.enterprise_id
    WHERE c.as_of <= %(as_of)s AND (c.loan_balance > 0 OR c.first_loan_date IS NOT NULL)
    GROUP BY c.enterprise_id
),
latest_credit AS (
    SELECT DISTINCT ON (c.enterprise_id, c.bank_id) c.enterprise_id, c.bank_id, c.loan_balance
    FROM loans_creditsnapshot c JOIN ent ON ent.id = c.enterprise_id
    WHERE c.as_of <= %(as_of)s
    ORDER BY c.enterprise_id, c.bank_id, c.as_of DESC
),
banks AS (
    SELECT enterprise_id, count(*) AS n FROM (
        SELECT l.enterprise_id, l.bank_id
        FROM loans_loan l JOIN ent ON ent.id = l.enterprise_id
        WHERE l.disbursed_on <= %(as_of)s AND l.matures_on > %(as_of)s
        UNION
        SELECT enterprise_id, bank_id FROM latest_credit WHERE loan_balance > 0
    ) lenders
    GROUP BY enterprise_id
),
base AS (
    SELECT ent.id AS enterprise_id,
           ent.region_id,
           ent.status,
           ent.status IN ('surviving', 'operating') AS in_op,
           census.enterprise_id IS NOT NULL AS census_ok,
           coalesce(tax.paid, false) AS tax_paid,
           coalesce(tax.paid_rebate, false) AND NOT coalesce(tax.paid, false) AS tax_rebate,
           coalesce(tax.sales, false) AS tax_sales,
           coalesce(rating.credit_rating, '') AS rating,
           coalesce(neg.reasons, '[]'::jsonb) AS neg_reasons,
           coalesce(neg.types, 0) AS neg_types,
           coalesce(neg.fixable, true) AS neg_fixable,
           loan.enterprise_id IS NOT NULL AS loan_record,
           credit.enterprise_id IS NOT NULL AS credit_record,
           least(loan.first_on, credit.first_on) AS first_on,
           coalesce(banks.n, 0) AS bank_count,
           coalesce(ent.size, '') AS size,
           ent.entity_type
    FROM ent
    LEFT JOIN census ON census.enterprise_id = ent.id
    LEFT JOIN tax ON tax.enterprise_id = ent.id
    LEFT JOIN rating ON rating.enterprise_id = ent.id
    LEFT JOIN neg ON neg.enterprise_id = ent.id
    LEFT JOIN loan ON loan.enterprise_id = ent.id
    LEFT JOIN credit ON credit.enterprise_id = ent.id
    LEFT JOIN banks ON banks.enterprise_id = ent.id
)
SELECT base.*,
       base.census_ok OR base.tax_paid OR base.tax_rebate OR base.tax_sales AS evidence,
       base.in_op AND (base.census_ok OR base.tax_paid OR base.tax_rebate OR base.tax_sales)
           AND base.neg_types = 0 AS active,
       base.loan_record OR base.credit_record AS borrowed,
       coalesce((%(weights)s::jsonb -> 'rating' ->> base.rating)::int, 0)
       + coalesce((%(weights)s::jsonb -> 'bank_band' ->> CASE
             WHEN base.bank_count = 0 THEN '0' WHEN base.bank_count = 1 THEN '1'
             WHEN base.bank_count <= 3 THEN '2-3' ELSE '4+' END)::int, 0)
       + coalesce((%(weights)s::jsonb -> 'size' ->> base.size)::int, 0)
       + coalesce((%(weights)s::jsonb -> 'entity_type' ->> base.entity_type)::int, 0) AS score
FROM base
"""

MEMBER_COLUMNS = (
    "run_id, list_type, enterprise_id, tier, batch_no, score, rating, bank_count, "
    "first_loan_on, reasons"
)

EVIDENCE_JSON = """
    '[{"code": "in_operation"}]'::jsonb
    || CASE WHEN census_ok THEN '[{"code": "census_active"}]'::jsonb ELSE '[]' END
    || CASE WHEN tax_paid THEN '[{"code": "tax_paid"}]'::jsonb ELSE '[]' END
    || CASE WHEN tax_rebate THEN '[{"code": "export_rebate"}]'::jsonb ELSE '[]' END
    || CASE WHEN tax_sales THEN '[{"code": "taxable_sales"}]'::jsonb ELSE '[]' END
"""

# Why a registered enterprise is not active: every reason, not just the first.
NOT_ACTIVE_JSON = """
    CASE WHEN NOT in_op THEN jsonb_build_array(
        jsonb_build_object('code', 'not_in_operation', 'status', status)) ELSE '[]' END
    || neg_reasons
    || CASE WHEN NOT evidence THEN '[{"code": "no_census"}, {"code": "no_tax"}]'::jsonb
            ELSE '[]' END
"""

STATEMENTS = [
    (
        "active",
        f"""
        INSERT INTO screening_listmembership ({MEMBER_COLUMNS})
        SELECT %(run)s, 'active', enterprise_id, NULL, NULL, score, rating, bank_count,
               first_on, {EVIDENCE_JSON}
        FROM scr_facts WHERE active
        """,
    ),
    (
        "no_loan",
        f"""
        INSERT INTO screening_listmembership ({MEMBER_COLUMNS})
        SELECT %(run)s, 'no_loan', enterprise_id, NULL, NULL, score, rating, bank_count,
               NULL, '[{{"code": "never_borrowed"}}]'::jsonb
        FROM scr_facts WHERE active AND NOT borrowed
        """,
    ),
    (
        "has_loan",
        f"""
        INSERT INTO screening_listmembership ({MEMBER_COLUMNS})
        SELECT %(run)s, 'has_loan', enterprise_id, NULL, NULL, score, rating, bank_count,
               first_on,
               CASE WHEN loan_record THEN '[{{"code": "loan_record"}}]'::jsonb ELSE '[]' END
               || CASE WHEN credit_record THEN '[{{"code": "credit_balance"}}]'::jsonb
                       ELSE '[]' END
        FROM scr_facts WHERE active AND borrowed
        """,
    ),
    (
        "first_loan",
        f"""
        INSERT INTO screening_listmembership ({MEMBER_COLUMNS})
        SELECT %(run)s, 'first_loan', enterprise_id, NULL, NULL, score, rating, bank_count,
               first_on,
               jsonb_build_array(jsonb_build_object('code', 'first_loan_in_period',
                                                    'on', first_on))
        FROM scr_facts WHERE first_on BETWEEN %(start)s AND %(end)s
        """,
    ),
    (
        "key_visit",
        f"""
        INSERT INTO screening_listmembership ({MEMBER_COLUMNS})
        SELECT %(run)s, 'key_visit', enterprise_id, tier,
               (row_number() OVER (PARTITION BY tier ORDER BY score DESC, enterprise_id) - 1)
                   / %(batch_size)s + 1,
               score, rating, bank_count, first_on,
               jsonb_build_array(jsonb_build_object('code', 'priority_score', 'score', score,
                                                    'tier', tier))
        FROM (
            SELECT *, CASE WHEN score >= %(tier1)s THEN 1 WHEN score >= %(tier2)s THEN 2
                           ELSE 3 END AS tier
            FROM scr_facts WHERE active AND score >= %(min_score)s
        ) ranked
        """,
    ),
    (
        "excluded_active",
        f"""
        INSERT INTO screening_listexclusion
            (run_id, list_type, enterprise_id, reasons, obstacles, repairable)
        SELECT %(run)s, 'active', enterprise_id, {NOT_ACTIVE_JSON}, obstacles,
               obstacles = 1 AND (in_op OR status = 'suspended') AND neg_fixable
        FROM (
            SELECT *, (CASE WHEN in_op THEN 0 ELSE 1 END) + neg_types
                      + (CASE WHEN evidence THEN 0 ELSE 1 END) AS obstacles
            FROM scr_facts WHERE NOT active
        ) f
        """,
    ),
    (
        "excluded_key_visit",
        """
        INSERT INTO screening_listexclusion
            (run_id, list_type, enterprise_id, reasons, obstacles, repairable)
        SELECT %(run)s, 'key_visit', enterprise_id,
               jsonb_build_array(jsonb_build_object('code', 'below_threshold', 'score', score,
                                                    'threshold', %(min_score)s)),
               1, false
        FROM scr_facts WHERE active AND score < %(min_score)s
        """,
    ),
]

DIFF_ENTERED = """
INSERT INTO screening_listchange (run_id, list_type, change, enterprise_id, reasons)
SELECT %(run)s, m.list_type, 'entered', m.enterprise_id, m.reasons
FROM screening_listmembership m
WHERE m.run_id = %(run)s
  AND NOT EXISTS (SELECT 1 FROM screening_listmembership o
                  WHERE o.run_id = %(prev)s AND o.list_type = m.list_type
                    AND o.enterprise_id = m.enterprise_id)
"""

# Why an enterprise left a list: the new run's exclusion of that list when there is one,
# else "not active" with the active list's reasons, else what changed for the derived list.
DIFF_LEFT = """
INSERT INTO screening_listchange (run_id, list_type, change, enterprise_id, reasons)
SELECT %(run)s, o.list_type, 'left', o.enterprise_id,
       CASE
         WHEN f.enterprise_id IS NULL THEN '[{"code": "left_region"}]'::jsonb
         WHEN same.reasons IS NOT NULL THEN same.reasons
         WHEN o.list_type <> 'first_loan' AND NOT f.active
           THEN '[{"code": "not_active"}]'::jsonb || coalesce(act.reasons, '[]'::jsonb)
         WHEN o.list_type = 'no_loan' THEN '[{"code": "has_loan"}]'::jsonb
         WHEN o.list_type = 'has_loan' THEN '[{"code": "no_loan_record"}]'::jsonb
         WHEN o.list_type = 'first_loan' AND f.first_on < %(start)s
           THEN jsonb_build_array(jsonb_build_object('code', 'first_loan_earlier',
                                                     'on', f.first_on))
         WHEN o.list_type = 'first_loan' AND f.first_on > %(end)s
           THEN jsonb_build_array(jsonb_build_object('code', 'first_loan_later',
                                                     'on', f.first_on))
         ELSE '[{"code": "no_loan_record"}]'::jsonb
       END
FROM screening_listmembership o
LEFT JOIN scr_facts f ON f.enterprise_id = o.enterprise_id
LEFT JOIN screening_listexclusion same
       ON same.run_id = %(run)s AND same.list_type = o.list_type
      AND same.enterprise_id = o.enterprise_id
LEFT JOIN screening_listexclusion act
       ON act.run_id = %(run)s AND act.list_type = 'active' AND act.enterprise_id = o.enterprise_id
WHERE o.run_id = %(prev)s
  AND NOT EXISTS (SELECT 1 FROM screening_listmembership m
                  WHERE m.run_id = %(run)s AND m.list_type = o.list_type
                    AND m.enterprise_id = o.enterprise_id)
"""


def latest_years():
    """The latest census year and the two latest tax years imported (whole data)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(census_year) FROM enterprises_censusrecord")
        census_year = cursor.fetchone()[0]
        cursor.execute(
            "SELECT DISTINCT tax_year FROM enterprises_taxrecord ORDER BY tax_year DESC LIMIT 2"
        )
        tax_years = [row[0] for row in cursor.fetchall()]
    return census_year, tax_years


def params_for(run, rule_set, previous):
    start, end = run.period_start, run.period_end
    census_year, tax_years = latest_years()
    return {
        "census_year": census_year,
        "tax_years": tax_years,
        "run": run.pk,
        "prev": previous.pk if previous else None,
        "prefix": run.region.scope_prefix + "%",
        "as_of": run.as_of,
        "start": start,
        "end": end,
        "weights": json.dumps(rule_set.weights),
        "tier1": rule_set.tier1_min_score,
        "tier2": rule_set.tier2_min_score,
        "min_score": rule_set.key_visit_min_score,
        "batch_size": max(1, rule_set.batch_size),
    }


def prepare_shared_facts(prefix, as_of, rule_set):
    """Facts of every enterprise under ``prefix``, once, for a rebuild of many counties in
    this session: each county's run then copies its slice instead of rescanning every table."""
    params = {
        "prefix": prefix + "%",
        "as_of": as_of,
        "weights": json.dumps(rule_set.weights),
    }
    params["census_year"], params["tax_years"] = latest_years()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS scr_facts_shared")
        cursor.execute("SET work_mem = '256MB'")
        cursor.execute("SET jit = off")
        cursor.execute(FACTS_SQL.replace("{table}", "scr_facts_shared"), params)
        cursor.execute("RESET work_mem")
        cursor.execute("RESET jit")


def drop_shared_facts():
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS scr_facts_shared")


def build(run, rule_set, previous, shared=False):
    """Fill the run's lists, exclusions and diff (inside the caller's transaction)."""
    params = params_for(run, rule_set, previous)
    counts = {}
    with connection.cursor() as cursor:
        # Evidence joins hash ~1M rows: give them memory so they stay hashed (see docstring).
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # The grouped joins' row estimates are poor, so the planner's cost looks huge and JIT
        # compiles for ~1 s per statement: far more than the statements themselves take.
        cursor.execute("SET LOCAL jit = off")
        if shared:
            cursor.execute(
                "CREATE TEMP TABLE scr_facts ON COMMIT DROP AS "
                "SELECT * FROM scr_facts_shared WHERE region_id LIKE %(prefix)s",
                params,
            )
        else:
            cursor.execute(FACTS_SQL.replace("{table}", "scr_facts ON COMMIT DROP"), params)
        counts["registered"] = cursor.rowcount
        cursor.execute("ANALYZE scr_facts")
        for name, statement in STATEMENTS:
            cursor.execute(statement, params)
            counts[name] = cursor.rowcount
        counts["reserve"] = 0  # no financing-need source yet (visits app is empty)
        if previous is not None:
            cursor.execute(DIFF_ENTERED, params)
            counts["entered"] = cursor.rowcount
            cursor.execute(DIFF_LEFT, params)
            counts["left"] = cursor.rowcount
        cursor.execute("DROP TABLE scr_facts")
    return counts
