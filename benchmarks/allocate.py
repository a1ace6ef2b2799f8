"""Bank matching speed: allocate 100,000 enterprises over 12 institutions × 30 branches.

Usage:  .venv/bin/python benchmarks/allocate.py [--enterprises N] [--runs R]

Builds a separate PostgreSQL database ``rongxie_bench_allocate`` with set-based SQL: N
enterprises over the townships of 平阳县, 12 legal-person institutions with 30 branches each
(each branch serves three townships, one branch in ten the whole county; capacities 300–900),
a loan at one of the branches for one enterprise in five, and one visit batch holding them all.

Each run times the allocation job (``banks.allocate`` over the batch, as the UI and
``allocate_banks --batch`` start it) and, as the baseline, a bare INSERT of the same
assignment rows from a prepared table into the same table with the same indexes. Prints both
and their ratio (goal: ≤ 5 s and ≤ 3× the baseline).
"""

import argparse
import time

import common

DB_NAME = "rongxie_bench_allocate"
common.use_database(DB_NAME)
COUNTY = "330326"


def build(n):
    from django.db import connection

    townships = common.migrated_townships(COUNTY)
    with connection.cursor() as c:
        c.execute(
            "TRUNCATE banks_bankassignment, banks_unplacedenterprise, banks_allocationrun, "
            "banks_visitbatchmember, banks_visitbatch, loans_loan, enterprises_taxrecord, "
            "banks_bank_service_regions, banks_bank, enterprises_enterprise CASCADE"
        )
        common.insert_bank_tree(
            c,
            capacity="300 + 100 * mod(i * 7 + b, 7)",
            focus="""CASE WHEN mod(b, 5) = 0 THEN '["foreign_trade"]' ELSE '[]' END""",
        )
        # Each branch serves three townships; one in ten serves the whole county.
        c.execute(
            """INSERT INTO banks_bank_service_regions (bank_id, region_id)
               SELECT DISTINCT 'I' || i || '-' || b,
                      CASE WHEN mod(b, 10) = 0 THEN %s
                           ELSE (%s::text[])[1 + mod(i * 31 + b * 3 + k, %s)] END
               FROM generate_series(1, 12) i, generate_series(1, 30) b, generate_series(0, 2) k""",
            [COUNTY, townships, len(townships)],
        )
        common.insert_enterprises(c, townships, n)
        c.execute(
            """INSERT INTO loans_loan (bank_id, loan_no, enterprise_id, disbursed_on, matures_on,
                                       amount, product, guarantee, is_renewal, renews_loan_no)
               SELECT 'I' || (1 + mod(e.id, 12)) || '-' || (1 + mod(e.id, 30)), 'L' || e.id, e.id,
                      DATE '2024-01-01', DATE '2026-01-01', 100, 'working_capital', 'credit',
                      false, ''
               FROM enterprises_enterprise e WHERE mod(e.id, 5) = 0"""
        )
        c.execute(
            """INSERT INTO enterprises_taxrecord (enterprise_id, tax_year, credit_rating,
                                                  export_rebate)
               SELECT e.id, 2024, 'B', 5 FROM enterprises_enterprise e WHERE mod(e.id, 10) = 3"""
        )
        c.execute(
            """INSERT INTO banks_visitbatch (region_id, name, criteria, size, created_at)
               VALUES (%s, 'benchmark', '{}', %s, now()) RETURNING id""",
            [COUNTY, n],
        )
        batch_id = c.fetchone()[0]
        c.execute(
            """INSERT INTO banks_visitbatchmember (batch_id, enterprise_id)
               SELECT %s, id FROM enterprises_enterprise""",
            [batch_id],
        )
        c.execute("ANALYZE")
    return batch_id


def time_app(batch_id):
    from django.db import connection

    from core import jobs

    with connection.cursor() as c:
        c.execute("TRUNCATE banks_bankassignment, banks_unplacedenterprise CASCADE")
    t0 = time.perf_counter()
    job = jobs.run_now("banks.allocate", params={"batch": batch_id})
    elapsed = time.perf_counter() - t0
    assert job.status == "succeeded", job.error
    return elapsed, job.counts


def time_baseline():
    from django.db import connection

    with connection.cursor() as c:
        c.execute("DROP TABLE IF EXISTS bench_assignments")
        c.execute("CREATE TABLE bench_assignments AS SELECT * FROM banks_bankassignment")
        rows = c.execute("SELECT count(*) FROM bench_assignments").fetchone()[0]
        c.execute("TRUNCATE banks_bankassignment CASCADE")
        t0 = time.perf_counter()
        c.execute("INSERT INTO banks_bankassignment SELECT * FROM bench_assignments")
        elapsed = time.perf_counter() - t0
    return elapsed, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    common.ensure_database(DB_NAME)
    import django

    django.setup()
    from django.db import connection

    t0 = time.perf_counter()
    batch_id = build(args.enterprises)
    print(f"built {args.enterprises:,} enterprises in {time.perf_counter() - t0:.1f} s")
    for run in range(1, args.runs + 1):
        app, counts = time_app(batch_id)
        base, rows = time_baseline()
        connection.close()
        print(
            f"run {run}: allocation {app:.2f} s ({counts['placed']:,} placed, "
            f"{counts['unplaced']:,} not placed) · bare INSERT of {rows:,} rows {base:.2f} s · "
            f"ratio {app / base:.2f}×"
        )


if __name__ == "__main__":
    main()
