"""Screening speed: rebuild every list for 1,000,000 registered entities.

Usage:  .venv/bin/python benchmarks/rebuild_lists.py [--entities N] [--rebuild]

Builds (once; --rebuild to redo) a separate PostgreSQL database ``rongxie_bench_screening`` with
set-based SQL (generate_series): N entities over the Wenzhou townships, N tax records, 0.3·N
census records, 0.3·N credit snapshots, 0.05·N negative-list entries and 0.2·N loans.

Then times a full rebuild (every county, as ``rebuild_lists`` does): a first run with no diff,
a second run with its diff, a third that also drops the first run's rows. The baseline is the
same list logic as bare SQL statements: one pass over the whole city writing the same lists
(members, tiers, batch numbers) into an equivalent logged table with the same key index,
without reasons, exclusions, diff or run bookkeeping (see BARE_SQL); it runs before and after
the app and the faster of the two counts. Prints the times, the ratios and this process's peak
memory, then checks that the app's current lists and the baseline's are the same row for row.
"""

import argparse
import resource
import time

import common

DB_NAME = "rongxie_bench_screening"
common.use_database(DB_NAME)

AS_OF = "2025-06-30"


def build(n):
    from django.db import connection

    townships = common.migrated_townships("3303")
    t0 = time.perf_counter()
    with connection.cursor() as c:
        c.execute(
            "TRUNCATE screening_listchange, screening_listexclusion, screening_listmembership, "
            "screening_screeningrun, loans_loan, loans_creditsnapshot, enterprises_censusrecord, "
            "enterprises_taxrecord, enterprises_negativelistentry, banks_bankassignment, "
            "enterprises_enterprise, banks_bank CASCADE"
        )
        c.execute(
            """INSERT INTO banks_bank (code, name, parent_id, level, capacity)
               SELECT 'B' || b, '银行' || b, NULL, '', NULL FROM generate_series(1, 20) b"""
        )
        c.execute(
            """INSERT INTO enterprises_enterprise
                 (uscc, name, entity_type, legal_rep, phone, established_on, status,
                  industry_code, region_id, address, size, created_at, updated_at)
               SELECT '91' || LPAD(i::text, 16, '0'), '企业' || i,
                      (ARRAY['enterprise','individual','individual','cooperative'])[1 + mod(i, 4)],
                      '', '', DATE '2010-01-01' + mod(i, 5000),
                      (ARRAY['operating','surviving','operating','surviving','operating',
                             'surviving','operating','surviving','suspended','revoked'])
                          [1 + mod(i, 10)],
                      '', (%s::text[])[1 + mod(i, %s)], '',
                      (ARRAY['micro','micro','small','medium','large',''])[1 + mod(i, 6)],
                      now(), now()
               FROM generate_series(1, %s) i""",
            [townships, len(townships), n],
        )
        c.execute("SELECT min(id) FROM enterprises_enterprise")
        first = c.fetchone()[0]
        # One tax record per entity: 2022 (too old), 2023 or 2024; a third pay nothing.
        c.execute(
            """INSERT INTO enterprises_taxrecord
                 (enterprise_id, tax_year, credit_rating, tax_paid, export_rebate, taxable_sales)
               SELECT %s + i - 1, 2022 + mod(i, 3),
                      (ARRAY['A','B','M','C','D'])[1 + mod(i, 5)],
                      CASE WHEN mod(i, 3) = 0 THEN 0 ELSE mod(i, 97) END,
                      CASE WHEN mod(i, 11) = 0 THEN mod(i, 13) END,
                      CASE WHEN mod(i, 7) = 0 THEN 50 END
               FROM generate_series(1, %s) i""",
            [first, n],
        )
        c.execute(
            """INSERT INTO enterprises_censusrecord (enterprise_id, census_year, is_active)
               SELECT %s + mod(i::bigint * 7, %s), 2023, mod(i, 10) <> 0
               FROM generate_series(1, %s) i ON CONFLICT DO NOTHING""",
            [first, n, int(n * 0.3)],
        )
        c.execute(
            """INSERT INTO enterprises_negativelistentry
                 (enterprise_id, list_type, listed_on, removed_on, source, note)
               SELECT %s + mod(i::bigint * 7919, %s),
                      (ARRAY['abnormal_operation','dishonest_debtor','zombie','shell',
                             'serious_violation'])[1 + mod(i, 5)],
                      DATE '2023-01-01' + mod(i, 800),
                      CASE WHEN mod(i, 4) = 0 THEN DATE '2025-03-01' END, '', ''
               FROM generate_series(1, %s) i ON CONFLICT DO NOTHING""",
            [first, n, int(n * 0.05)],
        )
        c.execute(
            """INSERT INTO loans_creditsnapshot
                 (enterprise_id, bank_id, as_of, loan_balance, first_loan_date)
               SELECT %s + mod(i::bigint * 104729, %s), 'B' || (1 + mod(i, 20)),
                      DATE '2024-12-31' + mod(i, 2) * 181, mod(i, 7) * 10,
                      CASE WHEN mod(i, 5) = 0 THEN DATE '2018-01-01' + mod(i, 2700) END
               FROM generate_series(1, %s) i ON CONFLICT DO NOTHING""",
            [first, n, int(n * 0.3)],
        )
        c.execute(
            """INSERT INTO loans_loan
                 (bank_id, loan_no, enterprise_id, disbursed_on, matures_on, amount, balance,
                  product, guarantee, is_renewal, renews_loan_no)
               SELECT 'B' || (1 + mod(i, 20)), 'L' || i, %s + mod(i::bigint * 7919 * 3, %s),
                      DATE '2023-01-01' + mod(i, 900), DATE '2023-01-01' + mod(i, 900) + 365,
                      10 + mod(i, 500), NULL, 'working_capital', 'surety', FALSE, ''
               FROM generate_series(1, %s) i""",
            [first, n, int(n * 0.2)],
        )
        c.execute("ANALYZE")
    print(f"built {n:,} entities and their records in {time.perf_counter() - t0:.1f} s", flush=True)


# The baseline: the same list logic as bare SQL statements, written plainly. It computes the
# same lists as the app (members, tiers, batch numbers within each county; asserted after the
# timing) for the whole city in one pass and writes them into an equivalent logged table with
# the same key index, (county, list_type, enterprise_id). It leaves out what only the app does:
# reason codes, scores/ratings/bank counts/first-loan dates on each row, the exclusions with
# their reasons, the diff, runs and the per-county switch; all of that counts against the app.
BARE_TABLE = """
CREATE TABLE bench_bare_lists (
    county integer NOT NULL,  -- stands for the app's run id: one run per county
    list_type varchar(12) NOT NULL,
    enterprise_id bigint NOT NULL,
    tier smallint,
    batch_no integer,
    UNIQUE (county, list_type, enterprise_id)
)
"""

BARE_SQL = [
    "SET LOCAL work_mem = '256MB'",
    "SET LOCAL jit = off",
    "TRUNCATE bench_bare_lists",
    # One row per registered enterprise with what the lists need.
    """CREATE TEMP TABLE b_facts ON COMMIT DROP AS
       SELECT e.id, left(e.region_id, 6)::integer AS county,
              e.status IN ('surviving', 'operating')
              AND e.id IN (SELECT enterprise_id FROM enterprises_censusrecord
                            WHERE is_active AND census_year = %(census_year)s
                           UNION
                           SELECT enterprise_id FROM enterprises_taxrecord
                            WHERE tax_year = ANY(%(tax_years)s)
                              AND (coalesce(tax_paid, 0) > 0
                                   OR coalesce(tax_paid, 0) + coalesce(export_rebate, 0) > 0
                                   OR coalesce(taxable_sales, 0) > 0))
              AND e.id NOT IN (SELECT enterprise_id FROM enterprises_negativelistentry
                                WHERE listed_on <= %(d)s
                                  AND (removed_on IS NULL OR removed_on > %(d)s)) AS active,
              b.enterprise_id IS NOT NULL AS borrowed,
              b.first_on,
              coalesce((%(weights)s::jsonb -> 'rating' ->> coalesce(r.credit_rating, ''))::int, 0)
              + coalesce((%(weights)s::jsonb -> 'bank_band' ->> CASE
                    WHEN coalesce(n.banks, 0) = 0 THEN '0' WHEN n.banks = 1 THEN '1'
                    WHEN n.banks <= 3 THEN '2-3' ELSE '4+' END)::int, 0)
              + coalesce((%(weights)s::jsonb -> 'size' ->> coalesce(e.size, ''))::int, 0)
              + coalesce((%(weights)s::jsonb -> 'entity_type' ->> e.entity_type)::int, 0)
                AS score
       FROM enterprises_enterprise e
       LEFT JOIN (SELECT enterprise_id, min(first_on) AS first_on FROM (
                    SELECT enterprise_id, disbursed_on AS first_on FROM loans_loan
                     WHERE disbursed_on <= %(d)s
                    UNION ALL
                    SELECT enterprise_id, first_loan_date FROM loans_creditsnapshot
                     WHERE as_of <= %(d)s
                       AND (loan_balance > 0 OR first_loan_date IS NOT NULL)) x
                  GROUP BY enterprise_id) b ON b.enterprise_id = e.id
       LEFT JOIN (SELECT DISTINCT ON (enterprise_id) enterprise_id, credit_rating
                  FROM enterprises_taxrecord ORDER BY enterprise_id, tax_year DESC) r
              ON r.enterprise_id = e.id
       LEFT JOIN (SELECT enterprise_id, count(*) AS banks FROM (
                    SELECT enterprise_id, bank_id FROM loans_loan
                     WHERE disbursed_on <= %(d)s AND matures_on > %(d)s
                    UNION
                    SELECT enterprise_id, bank_id FROM (
                      SELECT DISTINCT ON (enterprise_id, bank_id)
                             enterprise_id, bank_id, loan_balance
                      FROM loans_creditsnapshot WHERE as_of <= %(d)s
                      ORDER BY enterprise_id, bank_id, as_of DESC) latest
                     WHERE loan_balance > 0) lenders
                  GROUP BY enterprise_id) n ON n.enterprise_id = e.id
       WHERE e.region_id LIKE '3303%%'""",
    """INSERT INTO bench_bare_lists (county, list_type, enterprise_id, tier, batch_no)
       SELECT county, 'active', id, NULL::smallint, NULL::integer FROM b_facts WHERE active
       UNION ALL
       SELECT county, 'no_loan', id, NULL, NULL FROM b_facts WHERE active AND NOT borrowed
       UNION ALL
       SELECT county, 'has_loan', id, NULL, NULL FROM b_facts WHERE active AND borrowed
       UNION ALL
       SELECT county, 'first_loan', id, NULL, NULL FROM b_facts
        WHERE first_on BETWEEN %(start)s AND %(end)s
       UNION ALL
       SELECT county, 'key_visit', id, tier,
              (row_number() OVER (PARTITION BY county, tier ORDER BY score DESC, id) - 1)
                  / %(batch_size)s + 1
       FROM (SELECT *, CASE WHEN score >= %(tier1)s THEN 1 WHEN score >= %(tier2)s THEN 2
                            ELSE 3 END AS tier
             FROM b_facts WHERE active AND score >= %(min_score)s) ranked""",
]


def bare_params():
    import json
    from datetime import date

    from screening.models import RuleSet
    from screening.services import first_loan_period
    from screening.services.sql import latest_years

    rule_set = RuleSet.current()
    census_year, tax_years = latest_years()
    start, end = first_loan_period(rule_set, date.fromisoformat(AS_OF))
    return {
        "d": AS_OF,
        "start": start,
        "end": end,
        "census_year": census_year,
        "tax_years": tax_years,
        "weights": json.dumps(rule_set.weights),
        "tier1": rule_set.tier1_min_score,
        "tier2": rule_set.tier2_min_score,
        "min_score": rule_set.key_visit_min_score,
        "batch_size": max(1, rule_set.batch_size),
    }


def bare_sql(params):
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as c:
        for statement in BARE_SQL:
            c.execute(statement, params)
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM bench_bare_lists WHERE list_type = 'active'")
        return c.fetchone()[0]


# Every row of the app's current lists (list, enterprise, tier, batch) against the baseline's.
SAME_LISTS = """
SELECT count(*) FROM (
    (SELECT m.list_type, m.enterprise_id, m.tier, m.batch_no
     FROM screening_listmembership m JOIN screening_screeningrun r ON r.id = m.run_id
     WHERE r.is_current
     EXCEPT ALL
     SELECT list_type, enterprise_id, tier, batch_no FROM bench_bare_lists)
    UNION ALL
    (SELECT list_type, enterprise_id, tier, batch_no FROM bench_bare_lists
     EXCEPT ALL
     SELECT m.list_type, m.enterprise_id, m.tier, m.batch_no
     FROM screening_listmembership m JOIN screening_screeningrun r ON r.id = m.run_id
     WHERE r.is_current)
) differences
"""


def full_rebuild():
    from datetime import date

    from screening import services

    runs, problems = services.rebuild(None, as_of=date.fromisoformat(AS_OF))
    assert not problems, problems
    return sum(r.counts.get("active", 0) for r in runs), runs


def _has_data(n):
    from django.db import connection

    from enterprises.models import Enterprise

    if "enterprises_enterprise" not in connection.introspection.table_names():
        return False
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # new screening migrations on an existing database
    return Enterprise.objects.count() == n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the benchmark data")
    args = parser.parse_args()
    common.ensure_database(DB_NAME)
    import django

    django.setup()
    from django.db import connection

    from enterprises.models import Enterprise

    if args.rebuild or not _has_data(args.entities):
        build(args.entities)
    else:
        with connection.cursor() as c:  # plain SQL: an ORM delete signals every row
            c.execute(
                "TRUNCATE screening_listchange, screening_listexclusion, "
                "screening_listmembership, screening_screeningrun CASCADE"
            )

    params = bare_params()
    with connection.cursor() as c:  # created afresh, outside the timing
        c.execute("DROP TABLE IF EXISTS bench_bare_lists")
        c.execute(BARE_TABLE)
    t0 = time.perf_counter()
    bare_active = bare_sql(params)
    bare = time.perf_counter() - t0
    t0 = time.perf_counter()
    active, runs = full_rebuild()
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    active2, runs2 = full_rebuild()
    second = time.perf_counter() - t0
    changes = sum(r.counts.get("entered", 0) + r.counts.get("left", 0) for r in runs2)
    # Steady state: from the third run on, each rebuild also drops the oldest run's rows.
    t0 = time.perf_counter()
    active3, _runs3 = full_rebuild()
    third = time.perf_counter() - t0
    # The baseline again, after the app: the faster of its two runs is the reference (the
    # conservative choice for the ratios).
    t0 = time.perf_counter()
    bare_sql(params)
    bare = min(bare, time.perf_counter() - t0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"entities: {Enterprise.objects.count():,} in {len(runs)} counties")
    print(f"bare SQL of the list logic:      {bare:6.1f} s  (active {bare_active:,})")
    print(f"full rebuild, first run:         {first:6.1f} s  (active {active:,})")
    print(f"full rebuild, second run + diff: {second:6.1f} s  (changes {changes:,})")
    print(f"full rebuild, third run + drop:  {third:6.1f} s  (rows of the first run dropped)")
    print(f"ratio first run / bare SQL:      {first / bare:6.2f}")
    print(f"ratio second run / bare SQL:     {second / bare:6.2f}")
    print(f"ratio third run / bare SQL:      {third / bare:6.2f}")
    print(f"peak memory of this process:     {peak_mb:6.0f} MB")
    assert active == active2 == active3 == bare_active, (active, active2, active3, bare_active)
    with connection.cursor() as c:
        c.execute(SAME_LISTS)
        differences = c.fetchone()[0]
    print(f"rows differing between the app's lists and the baseline's: {differences}")
    assert differences == 0


if __name__ == "__main__":
    main()
