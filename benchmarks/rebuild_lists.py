"""Screening speed: rebuild every list for 1,000,000 registered entities.

Usage:  .venv/bin/python benchmarks/rebuild_lists.py [--entities N] [--rebuild]

Builds (once; --rebuild to redo) a separate PostgreSQL database ``rongxie_bench_screening`` with
set-based SQL (generate_series): N entities over the Wenzhou townships, N tax records, 0.3·N
census records, 0.3·N credit snapshots, 0.05·N negative-list entries and 0.2·N loans. Then
times a full rebuild (every county, one after the other, as ``rebuild_lists`` does; a first
run with no diff and a second run with its diff) and, as the baseline, the same list logic as
bare SQL statements (one pass over the whole city, no reasons, no diff, no run bookkeeping).
Prints both, the ratio, and this process's peak memory.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "rongxie_bench_screening"
SERVER = "postgres://postgres@127.0.0.1:5432"
os.environ["DATABASE_URL"] = f"{SERVER}/{DB_NAME}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

AS_OF = "2025-06-30"


def ensure_database():
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def build(n):
    from django.core.management import call_command
    from django.db import connection

    from enterprises.models import Region
    from enterprises.services.regions import load_regions

    call_command("migrate", verbosity=0)
    if not Region.objects.exists():
        load_regions(ROOT / "data" / "regions-wenzhou.csv")
    townships = list(
        Region.objects.filter(code__startswith="3303", level="township").values_list(
            "code", flat=True
        )
    )
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


# The same list logic as bare SQL: one pass over the city, results into temp tables.
BARE_SQL = [
    "SET LOCAL work_mem = '256MB'",
    "SET LOCAL jit = off",
    """CREATE TEMP TABLE b_active ON COMMIT DROP AS
       SELECT e.id FROM enterprises_enterprise e
       JOIN (SELECT enterprise_id FROM enterprises_censusrecord
              WHERE is_active AND census_year = (SELECT max(census_year)
                                                 FROM enterprises_censusrecord)
             UNION
             SELECT enterprise_id FROM enterprises_taxrecord
              WHERE tax_year IN (SELECT DISTINCT tax_year FROM enterprises_taxrecord
                                 ORDER BY tax_year DESC LIMIT 2)
                AND (coalesce(tax_paid, 0) + coalesce(export_rebate, 0) > 0
                     OR taxable_sales > 0)) ev ON ev.enterprise_id = e.id
       WHERE e.region_id LIKE '3303%%' AND e.status IN ('surviving', 'operating')
         AND NOT EXISTS (SELECT 1 FROM enterprises_negativelistentry n
                         WHERE n.enterprise_id = e.id AND n.listed_on <= %(d)s
                           AND (n.removed_on IS NULL OR n.removed_on > %(d)s))""",
    """CREATE TEMP TABLE b_borrowed ON COMMIT DROP AS
       SELECT enterprise_id, min(first_on) AS first_on FROM (
         SELECT enterprise_id, disbursed_on AS first_on FROM loans_loan
          WHERE disbursed_on <= %(d)s
         UNION ALL
         SELECT enterprise_id, first_loan_date FROM loans_creditsnapshot
          WHERE as_of <= %(d)s AND (loan_balance > 0 OR first_loan_date IS NOT NULL)) x
       GROUP BY enterprise_id""",
    """CREATE TEMP TABLE b_no_loan ON COMMIT DROP AS SELECT a.id FROM b_active a
       WHERE NOT EXISTS (SELECT 1 FROM b_borrowed b WHERE b.enterprise_id = a.id)""",
    """CREATE TEMP TABLE b_has_loan ON COMMIT DROP AS SELECT a.id FROM b_active a
       JOIN b_borrowed b ON b.enterprise_id = a.id""",
    """CREATE TEMP TABLE b_first_loan ON COMMIT DROP AS SELECT enterprise_id FROM b_borrowed
       WHERE first_on BETWEEN DATE '2025-01-01' AND %(d)s""",
    """CREATE TEMP TABLE b_key_visit ON COMMIT DROP AS
       SELECT a.id, row_number() OVER (ORDER BY r.credit_rating, a.id) AS rank
       FROM b_active a
       LEFT JOIN (SELECT DISTINCT ON (enterprise_id) enterprise_id, credit_rating
                  FROM enterprises_taxrecord ORDER BY enterprise_id, tax_year DESC) r
              ON r.enterprise_id = a.id""",
    """CREATE TEMP TABLE b_excluded ON COMMIT DROP AS
       SELECT e.id FROM enterprises_enterprise e
       WHERE e.region_id LIKE '3303%%'
         AND NOT EXISTS (SELECT 1 FROM b_active a WHERE a.id = e.id)""",
]


def bare_sql():
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as c:
        for statement in BARE_SQL:
            c.execute(statement, {"d": AS_OF})
        c.execute("SELECT count(*) FROM b_active")
        return c.fetchone()[0]


def full_rebuild():
    from datetime import date

    from screening import services

    runs, problems = services.rebuild(None, as_of=date.fromisoformat(AS_OF))
    assert not problems, problems
    return sum(r.counts.get("active", 0) for r in runs), runs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the benchmark data")
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    from enterprises.models import Enterprise

    if args.rebuild or Enterprise.objects.count() != args.entities:
        build(args.entities)
    else:
        from django.db import connection

        with connection.cursor() as c:  # plain SQL: an ORM delete signals every row
            c.execute(
                "TRUNCATE screening_listchange, screening_listexclusion, "
                "screening_listmembership, screening_screeningrun CASCADE"
            )

    t0 = time.perf_counter()
    bare_active = bare_sql()
    bare = time.perf_counter() - t0
    t0 = time.perf_counter()
    active, runs = full_rebuild()
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    active2, runs2 = full_rebuild()
    second = time.perf_counter() - t0
    changes = sum(r.counts.get("entered", 0) + r.counts.get("left", 0) for r in runs2)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"entities: {Enterprise.objects.count():,} in {len(runs)} counties")
    print(f"bare SQL of the list logic:      {bare:6.1f} s  (active {bare_active:,})")
    print(f"full rebuild, first run:         {first:6.1f} s  (active {active:,})")
    print(f"full rebuild, second run + diff: {second:6.1f} s  (changes {changes:,})")
    print(f"ratio first run / bare SQL:      {first / bare:6.2f}")
    print(f"ratio second run / bare SQL:     {second / bare:6.2f}")
    print(f"peak memory of this process:     {peak_mb:6.0f} MB")
    assert active == active2 == bare_active, (active, active2, bare_active)


if __name__ == "__main__":
    main()
