"""The PostgreSQL path: one facts table, then one INSERT … SELECT per list for every county
of the rebuild at once (each row carries its county's run id).

Evidence is gathered as one UNION ALL of every source, grouped once by enterprise (one hash
aggregate and one join instead of a hash join per source); never ``EXISTS … OR EXISTS``,
which PostgreSQL re-runs per row once its hash outgrows work_mem (docs: performance notes).
"""

import json

from django.db import connection
from django.utils.translation import gettext_lazy

from enterprises.choices import REGION_PREFIX_LENGTH, RegionLevel

COUNTY_LENGTH = REGION_PREFIX_LENGTH[RegionLevel.COUNTY]

# Facts about every enterprise registered in the counties of the rebuild: one row each.
# ``{in_scope}`` narrows every source to the counties when only a few are rebuilt; a rebuild
# of (nearly) everything reads each table whole, which is cheaper than filtering it.
FACTS_SQL = """
CREATE TEMP TABLE scr_facts ON COMMIT DROP AS
WITH evidence AS (
    -- Which evidence an enterprise has, as bits OR-ed together (one aggregate, not six):
    -- 1 census, 2 tax paid, 4 tax paid + export rebate, 8 taxable sales (in the two latest
    -- tax years), 16 loan on record, 32 credit record.
    SELECT enterprise_id,
           bit_or(flags) AS flags,
           -- the rating of the latest tax year: "2024A" > "2023B"
           substr(max(rating_key), 5) AS rating,
           min(first_on) AS first_on
    FROM (
        SELECT enterprise_id, 1 AS flags, NULL::text AS rating_key, NULL::date AS first_on
        FROM enterprises_censusrecord
        WHERE is_active AND census_year = %(census_year)s {in_scope}
        UNION ALL
        SELECT enterprise_id,
               CASE WHEN tax_year = ANY(%(tax_years)s)
                    THEN (coalesce(tax_paid, 0) > 0)::int * 2
                         + (coalesce(tax_paid, 0) + coalesce(export_rebate, 0) > 0)::int * 4
                         + (coalesce(taxable_sales, 0) > 0)::int * 8
                    ELSE 0 END,
               lpad(tax_year::text, 4, '0') || coalesce(credit_rating, ''),
               NULL
        FROM enterprises_taxrecord
        WHERE true {in_scope}
        UNION ALL
        SELECT enterprise_id, 16, NULL, disbursed_on
        FROM loans_loan
        WHERE disbursed_on <= %(as_of)s {in_scope}
        UNION ALL
        SELECT enterprise_id, 32, NULL, first_loan_date
        FROM loans_creditsnapshot
        WHERE as_of <= %(as_of)s AND (loan_balance > 0 OR first_loan_date IS NOT NULL)
              {in_scope}
    ) sources
    GROUP BY enterprise_id
),
neg AS (
    SELECT enterprise_id,
           jsonb_agg(jsonb_build_object('code', 'neg_' || list_type, 'on', listed_on)
                     ORDER BY listed_on, list_type) AS reasons,
           count(DISTINCT list_type) AS types,
           bool_and(list_type IN ('abnormal_operation', 'dishonest_debtor',
                                  'serious_violation')) AS fixable
    FROM enterprises_negativelistentry
    WHERE listed_on <= %(as_of)s AND (removed_on IS NULL OR removed_on > %(as_of)s) {in_scope}
    GROUP BY enterprise_id
),
latest_credit AS (
    SELECT DISTINCT ON (enterprise_id, bank_id) enterprise_id, bank_id, loan_balance
    FROM loans_creditsnapshot
    WHERE as_of <= %(as_of)s {in_scope}
    ORDER BY enterprise_id, bank_id, as_of DESC
),
banks AS (
    SELECT enterprise_id, count(*) AS n FROM (
        SELECT enterprise_id, bank_id
        FROM loans_loan
        WHERE disbursed_on <= %(as_of)s AND matures_on > %(as_of)s {in_scope}
        UNION
        SELECT enterprise_id, bank_id FROM latest_credit WHERE loan_balance > 0
    ) lenders
    GROUP BY enterprise_id
),
need AS (
    -- A financing need: the latest completed visit (to the day of the run) found one, or the
    -- enterprise has an open application-list entry. The visits app sits above screening:
    -- its tables are read by name, as the loans tables are.
    SELECT enterprise_id, max(need_on) AS need_on, bool_or(listed) AS listed
    FROM (
        SELECT enterprise_id, visited_on AS need_on, false AS listed
        FROM (
            SELECT DISTINCT ON (enterprise_id) enterprise_id, visited_on, has_need
            FROM visits_visit
            WHERE status = 'completed' AND visited_on <= %(as_of)s {in_scope}
            ORDER BY enterprise_id, visited_on DESC, id DESC
        ) latest
        WHERE has_need
        UNION ALL
        SELECT enterprise_id, NULL, true
        FROM visits_application
        WHERE status IN ('pending', 'checked') {in_scope}
    ) needs
    GROUP BY enterprise_id
),
base AS (
    SELECT r.run_id,
           e.id AS enterprise_id,
           e.status,
           e.status IN ('surviving', 'operating') AS in_op,
           coalesce(ev.flags & 1 > 0, false) AS census_ok,
           coalesce(ev.flags & 2 > 0, false) AS tax_paid,
           coalesce(ev.flags & 6 = 4, false) AS tax_rebate,  -- only with the rebate
           coalesce(ev.flags & 8 > 0, false) AS tax_sales,
           coalesce(ev.rating, '') AS rating,
           coalesce(neg.reasons, '[]'::jsonb) AS neg_reasons,
           coalesce(neg.types, 0) AS neg_types,
           coalesce(neg.fixable, true) AS neg_fixable,
           coalesce(ev.flags & 16 > 0, false) AS loan_record,
           coalesce(ev.flags & 32 > 0, false) AS credit_record,
           ev.first_on,
           coalesce(banks.n, 0) AS bank_count,
           coalesce(e.size, '') AS size,
           e.entity_type,
           need.enterprise_id IS NOT NULL AS has_need,
           need.need_on,
           coalesce(need.listed, false) AS need_listed
    FROM enterprises_enterprise e
    JOIN scr_runs r ON r.county = left(e.region_id, {county_length})
    LEFT JOIN evidence ev ON ev.enterprise_id = e.id
    LEFT JOIN neg ON neg.enterprise_id = e.id
    LEFT JOIN banks ON banks.enterprise_id = e.id
    LEFT JOIN need ON need.enterprise_id = e.id
    WHERE e.region_id LIKE %(prefix)s
)
SELECT run_id, enterprise_id, status, in_op, census_ok, tax_paid, tax_rebate, tax_sales, rating,
       neg_reasons, neg_types, neg_fixable, loan_record, credit_record, first_on, bank_count,
       has_need, need_on, need_listed,
       census_ok OR tax_paid OR tax_rebate OR tax_sales AS evidence,
       in_op AND (census_ok OR tax_paid OR tax_rebate OR tax_sales) AND neg_types = 0 AS active,
       loan_record OR credit_record AS borrowed,
       coalesce((%(weights)s::jsonb -> 'rating' ->> rating)::int, 0)
       + coalesce((%(weights)s::jsonb -> 'bank_band' ->> CASE
             WHEN bank_count = 0 THEN '0' WHEN bank_count = 1 THEN '1'
             WHEN bank_count <= 3 THEN '2-3' ELSE '4+' END)::int, 0)
       + coalesce((%(weights)s::jsonb -> 'size' ->> size)::int, 0)
       + coalesce((%(weights)s::jsonb -> 'entity_type' ->> entity_type)::int, 0) AS score
FROM base
-- Rows of one run together: each list's rows of a run then share few pages, so the diff and
-- the list pages, which read one run at a time, read only those.
ORDER BY run_id, enterprise_id
"""

IN_SCOPE = (
    "AND enterprise_id IN (SELECT id FROM enterprises_enterprise WHERE region_id LIKE %(prefix)s)"
)

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

# Every list's rows for every run, written by one INSERT (one pass, one plan) as a UNION ALL
# of one SELECT per list.
MEMBER_SELECTS = {
    "active": f"""
        SELECT run_id, 'active', enterprise_id, NULL::smallint, NULL::integer, score, rating,
               bank_count, first_on, {EVIDENCE_JSON}
        FROM scr_facts WHERE active
        """,
    "no_loan": """
        SELECT run_id, 'no_loan', enterprise_id, NULL, NULL, score, rating, bank_count,
               NULL, '[{"code": "never_borrowed"}]'::jsonb
        FROM scr_facts WHERE active AND NOT borrowed
        """,
    "has_loan": """
        SELECT run_id, 'has_loan', enterprise_id, NULL, NULL, score, rating, bank_count,
               first_on,
               CASE WHEN loan_record THEN '[{"code": "loan_record"}]'::jsonb ELSE '[]' END
               || CASE WHEN credit_record THEN '[{"code": "credit_balance"}]'::jsonb
                       ELSE '[]' END
        FROM scr_facts WHERE active AND borrowed
        """,
    "first_loan": """
        SELECT run_id, 'first_loan', enterprise_id, NULL, NULL, score, rating, bank_count,
               first_on,
               jsonb_build_array(jsonb_build_object('code', 'first_loan_in_period',
                                                    'on', first_on))
        FROM scr_facts WHERE first_on BETWEEN %(start)s AND %(end)s
        """,
    "key_visit": """
        SELECT run_id, 'key_visit', enterprise_id, tier,
               (row_number() OVER (PARTITION BY run_id, tier
                                   ORDER BY score DESC, enterprise_id) - 1)
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
    "reserve": """
        SELECT run_id, 'reserve', enterprise_id, NULL, NULL, score, rating, bank_count,
               NULL,
               '[{"code": "never_borrowed"}]'::jsonb
               || CASE WHEN need_on IS NOT NULL
                       THEN jsonb_build_array(jsonb_build_object('code', 'financing_need',
                                                                 'on', need_on))
                       ELSE '[]' END
               || CASE WHEN need_listed THEN '[{"code": "on_application_list"}]'::jsonb
                       ELSE '[]' END
        FROM scr_facts WHERE active AND NOT borrowed AND has_need
        """,
}

# Each statement reports how many rows it wrote per run and list (counted in the server).
MEMBERS = f"""
WITH written AS (
    INSERT INTO screening_listmembership ({MEMBER_COLUMNS})
    {" UNION ALL ".join(f"({select})" for select in MEMBER_SELECTS.values())}
    RETURNING run_id, list_type
)
SELECT run_id, list_type, count(*) FROM written GROUP BY run_id, list_type
"""

EXCLUSIONS = f"""
WITH written AS (
    INSERT INTO screening_listexclusion
        (run_id, list_type, enterprise_id, reasons, obstacles, repairable)
    (SELECT run_id, 'active', enterprise_id, {NOT_ACTIVE_JSON}, obstacles,
            obstacles = 1 AND (in_op OR status = 'suspended') AND neg_fixable
     FROM (
         SELECT *, (CASE WHEN in_op THEN 0 ELSE 1 END) + neg_types
                   + (CASE WHEN evidence THEN 0 ELSE 1 END) AS obstacles
         FROM scr_facts WHERE NOT active
     ) f)
    UNION ALL
    (SELECT run_id, 'key_visit', enterprise_id,
            jsonb_build_array(jsonb_build_object('code', 'below_threshold', 'score', score,
                                                 'threshold', %(min_score)s)),
            1, false
     FROM scr_facts WHERE active AND score < %(min_score)s)
    RETURNING run_id, 'excluded_' || list_type AS name
)
SELECT run_id, name, count(*) FROM written GROUP BY run_id, name
"""


# The diff of each run against its previous run: per run, one FULL JOIN of the two runs'
# memberships on (list, enterprise), both read by the unique (run, list, enterprise) index,
# keeps the keys found on one side only. Usually few; their reasons are looked up after.
DIFF_KEYS = """
CREATE TEMP TABLE scr_changes ON COMMIT DROP AS
SELECT r.run_id, c.list_type, c.enterprise_id, c.entered
FROM scr_runs r
CROSS JOIN LATERAL (
    SELECT coalesce(n.list_type, o.list_type) AS list_type,
           coalesce(n.enterprise_id, o.enterprise_id) AS enterprise_id,
           n.enterprise_id IS NOT NULL AS entered
    FROM (SELECT list_type, enterprise_id FROM screening_listmembership
          WHERE run_id = r.run_id) n
    FULL JOIN (SELECT list_type, enterprise_id FROM screening_listmembership
               WHERE run_id = r.prev_id) o
      ON o.list_type = n.list_type AND o.enterprise_id = n.enterprise_id
    WHERE n.enterprise_id IS NULL OR o.enterprise_id IS NULL
) c
WHERE r.prev_id IS NOT NULL
"""

# Why an enterprise entered: its reasons on the list. Why it left: the new run's exclusion
# of that list when there is one, else "not active" with the active list's reasons, else
# what changed for the derived list.
DIFF = """
INSERT INTO screening_listchange (run_id, list_type, change, enterprise_id, reasons)
SELECT c.run_id, c.list_type, CASE WHEN c.entered THEN 'entered' ELSE 'left' END,
       c.enterprise_id,
       CASE
         WHEN c.entered THEN m.reasons
         WHEN f.enterprise_id IS NULL THEN '[{"code": "left_region"}]'::jsonb
         WHEN same.reasons IS NOT NULL THEN same.reasons
         WHEN c.list_type <> 'first_loan' AND NOT f.active
           THEN '[{"code": "not_active"}]'::jsonb || coalesce(act.reasons, '[]'::jsonb)
         WHEN c.list_type IN ('no_loan', 'reserve') AND f.borrowed
           THEN '[{"code": "has_loan"}]'::jsonb
         WHEN c.list_type = 'reserve' THEN '[{"code": "no_need_source"}]'::jsonb
         WHEN c.list_type = 'no_loan' THEN '[{"code": "has_loan"}]'::jsonb
         WHEN c.list_type = 'has_loan' THEN '[{"code": "no_loan_record"}]'::jsonb
         WHEN c.list_type = 'first_loan' AND f.first_on < %(start)s
           THEN jsonb_build_array(jsonb_build_object('code', 'first_loan_earlier',
                                                     'on', f.first_on))
         WHEN c.list_type = 'first_loan' AND f.first_on > %(end)s
           THEN jsonb_build_array(jsonb_build_object('code', 'first_loan_later',
                                                     'on', f.first_on))
         ELSE '[{"code": "no_loan_record"}]'::jsonb
       END
FROM scr_changes c
LEFT JOIN screening_listmembership m
       ON c.entered AND m.run_id = c.run_id AND m.list_type = c.list_type
      AND m.enterprise_id = c.enterprise_id
LEFT JOIN scr_facts f
       ON NOT c.entered AND f.run_id = c.run_id AND f.enterprise_id = c.enterprise_id
LEFT JOIN screening_listexclusion same
       ON NOT c.entered AND same.run_id = c.run_id AND same.list_type = c.list_type
      AND same.enterprise_id = c.enterprise_id
LEFT JOIN screening_listexclusion act
       ON NOT c.entered AND act.run_id = c.run_id AND act.list_type = 'active'
      AND act.enterprise_id = c.enterprise_id
"""

DIFF_COUNTS = (
    "SELECT run_id, CASE WHEN entered THEN 'entered' ELSE 'left' END, count(*) "
    "FROM scr_changes GROUP BY 1, 2"
)


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


def common_prefix(codes):
    prefix = codes[0]
    for code in codes[1:]:
        while not code.startswith(prefix):
            prefix = prefix[:-1]
    return prefix


def params_for(runs, rule_set):
    first = runs[0]
    # Every run of one rebuild shares its day, period and rule set (one statement serves all).
    assert all(
        (r.as_of, r.period_start, r.period_end)
        == (first.as_of, first.period_start, first.period_end)
        for r in runs
    )
    census_year, tax_years = latest_years()
    return {
        "census_year": census_year,
        "tax_years": tax_years,
        "prefix": common_prefix([r.region.scope_prefix for r in runs]) + "%",
        "as_of": first.as_of,
        "start": first.period_start,
        "end": first.period_end,
        "weights": json.dumps(rule_set.weights),
        "tier1": rule_set.tier1_min_score,
        "tier2": rule_set.tier2_min_score,
        "min_score": rule_set.key_visit_min_score,
        "batch_size": max(1, rule_set.batch_size),
    }


def build(pairs, rule_set, progress=None):
    """Fill the lists, exclusions and diff of every ``(run, previous run or None)`` in
    ``pairs`` (inside the caller's transaction); returns ``{run id: counts}``.

    ``progress(done, total, step)`` hears of each of the build's four steps.
    """
    progress = progress or (lambda done, total, step: None)
    runs = [run for run, _previous in pairs]
    params = params_for(runs, rule_set)
    counts = {run.pk: {"registered": 0} for run in runs}
    for run in runs:
        counts[run.pk].update({name: 0 for name in MEMBER_SELECTS})
        counts[run.pk].update(excluded_active=0, excluded_key_visit=0)

    def add(rows, name=None):
        for row in rows:
            counts[row[0]][name or row[1]] = row[-1]

    # A few counties: narrow each source to them; many: read each table once, whole.
    in_scope = IN_SCOPE if len(runs) <= 2 else ""
    facts_sql = FACTS_SQL.replace("{in_scope}", in_scope).replace(
        "{county_length}", str(COUNTY_LENGTH)
    )
    with connection.cursor() as cursor:
        # Evidence joins hash ~1M rows: give them memory so they stay hashed (see docstring).
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # The grouped joins' row estimates are poor, so the planner's cost looks huge and JIT
        # compiles for ~1 s per statement: far more than the statements themselves take.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            "CREATE TEMP TABLE scr_runs (county text PRIMARY KEY, run_id bigint NOT NULL, "
            "prev_id bigint) ON COMMIT DROP"
        )
        cursor.executemany(
            "INSERT INTO scr_runs (county, run_id, prev_id) VALUES (%s, %s, %s)",
            [
                (run.region.scope_prefix, run.pk, previous.pk if previous else None)
                for run, previous in pairs
            ],
        )
        progress(0, 4, gettext_lazy("Gathering the facts of every enterprise"))
        cursor.execute(facts_sql, params)
        cursor.execute("SELECT run_id, count(*) FROM scr_facts GROUP BY run_id")
        add(cursor.fetchall(), "registered")
        progress(1, 4, gettext_lazy("Writing the lists"))
        cursor.execute(MEMBERS, params)
        add(cursor.fetchall())
        progress(2, 4, gettext_lazy("Recording why the others are not on them"))
        cursor.execute(EXCLUSIONS, params)
        add(cursor.fetchall())
        progress(3, 4, gettext_lazy("Comparing with the previous lists"))
        if any(previous is not None for _run, previous in pairs):
            for run, previous in pairs:
                if previous is not None:
                    counts[run.pk].update(entered=0, left=0)
            cursor.execute(DIFF_KEYS)
            # Real row counts let the planner look the (usually few) changes up by index.
            cursor.execute("ANALYZE scr_changes")
            cursor.execute(DIFF, params)
            cursor.execute(DIFF_COUNTS)
            add(cursor.fetchall())
            cursor.execute("DROP TABLE scr_changes")
        cursor.execute("DROP TABLE scr_facts, scr_runs")
    return counts
