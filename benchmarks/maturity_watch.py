"""Speed of the maturity watch (提前1个月与企业沟通): the daily job over 300,000 loans.

Usage:  .venv/bin/python benchmarks/maturity_watch.py [--loans N] [--runs R]

Builds a separate PostgreSQL database ``rongxie_bench_watch`` with set-based SQL: N/2
enterprises of 平阳县 with two loans each (default 300,000 loans) over 12 institutions × 30
branches, maturities spread evenly over two years around the benchmark day (so about 4% mature
within the 30-day window), one in three of those with a renewal contact, one in ten renewed,
one in twenty repaid (balance 0), one in fifty soft-deleted, a county rule of 45 days for
平阳县.

It times the ``loans.maturity_watch`` job (as the beat schedule starts it, through the job
runner, job bookkeeping included) against, as the baseline, the bare ``SELECT`` of the same
selection (the job's own query text, without writing anything): once on an empty list (the
first fill), then once for each of the R following days (the daily run). Goal: the job
≤ 5 s. The last lines print the figures and the ratios.
"""

import argparse
import statistics
import time
from datetime import date

import common

DB_NAME = "rongxie_bench_watch"
common.use_database(DB_NAME)
COUNTY = "330326"
TODAY = date(2026, 6, 1)


def build(n_loans):
    from django.db import connection

    townships = common.migrated_townships(COUNTY)
    with connection.cursor() as c:
        c.execute(
            "TRUNCATE loans_maturitywatch, loans_renewalcontact, loans_loan, loans_loanrules, "
            "banks_bank_service_regions, banks_bank, enterprises_enterprise CASCADE"
        )
        common.insert_bank_tree(c)
        common.insert_enterprises(c, townships, n_loans // 2)
        c.execute(
            """INSERT INTO loans_loan (bank_id, loan_no, enterprise_id, disbursed_on, matures_on,
                   amount, balance, product, guarantee, is_renewal, renews_loan_no)
               SELECT 'I' || (1 + mod(e.id, 12)) || '-' || (1 + mod(e.id, 30)),
                      'L' || e.id || '-' || k, e.id,
                      DATE '2025-06-01' + mod(e.id * 7 + k * 331, 730)::int - 365,
                      DATE '2025-06-01' + mod(e.id * 7 + k * 331, 730)::int,
                      100, CASE WHEN mod(e.id, 20) = 0 THEN 0 ELSE 80 END,
                      'working_capital', 'credit', false, ''
               FROM enterprises_enterprise e, generate_series(1, 2) k"""
        )
        # One in ten renewed (a renewal pointing at it), one in fifty deleted.
        c.execute(
            """INSERT INTO loans_loan (bank_id, loan_no, enterprise_id, disbursed_on, matures_on,
                   amount, balance, product, guarantee, is_renewal, renews_loan_no, renews_id)
               SELECT bank_id, loan_no || 'R', enterprise_id, matures_on - 5, matures_on + 360,
                      amount, amount, product, guarantee, true, loan_no, id
               FROM loans_loan WHERE mod(id, 10) = 0"""
        )
        c.execute("UPDATE loans_loan SET deleted_at = now() WHERE mod(id, 50) = 1")
        c.execute(
            """INSERT INTO loans_renewalcontact (loan_id, contacted_on, outcome, note, created_at)
               SELECT id, %s, 'renew', '', now() FROM loans_loan
               WHERE mod(id, 3) = 0 AND matures_on BETWEEN %s AND %s::date + 60""",
            [TODAY, TODAY, TODAY],
        )
        c.execute(
            "INSERT INTO loans_loanrules (region_id, partner_after_loans, partner_products, "
            "watch_days) VALUES (%s, 2, 2, 45)",
            [COUNTY],
        )
        c.execute("ANALYZE")
        c.execute("SELECT count(*) FROM loans_loan")
        return c.fetchone()[0]


def time_job(day=TODAY):
    from core import jobs

    start = time.perf_counter()
    job = jobs.run_now("loans.maturity_watch", params={"today": day.isoformat()})
    elapsed = time.perf_counter() - start
    assert job.status == "succeeded", job.error
    return elapsed, job.counts["watched"]


def time_bare(day=TODAY):
    from django.db import connection

    from loans.services.watch import selection_sql, watch_params

    params = watch_params(day)
    start = time.perf_counter()
    with connection.cursor() as c:
        c.execute(f"SELECT count(*) FROM ({selection_sql()}) s", params)
        rows = c.fetchone()[0]
    return time.perf_counter() - start, rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    common.ensure_database(DB_NAME)
    import django

    django.setup()
    from datetime import timedelta

    from loans.models import MaturityWatch

    total = build(args.loans)
    time_bare()  # warm the caches once
    # The first fill (an empty list: every row written), then one run per following day
    # (the rows that entered or left the window are written).
    first, watched = time_job()
    first_bare, _rows = time_bare()
    jobs_s, bare_s = [], []
    for run in range(1, args.runs + 1):
        day = TODAY + timedelta(days=run)
        elapsed, watched = time_job(day)
        jobs_s.append(elapsed)
        bare, rows = time_bare(day)
        bare_s.append(bare)
        assert rows == watched == MaturityWatch.objects.count(), (rows, watched)
    job, base = statistics.median(jobs_s), statistics.median(bare_s)
    print(f"first fill: {first:.2f} s vs bare {first_bare:.2f} s, ratio {first / first_bare:.2f}×")
    print(
        f"maturity watch over {total:,} loans ({watched:,} watched), daily run: job {job:.2f} s "
        f"(goal ≤ 5 s) vs the bare SELECT {base:.2f} s, ratio {job / base:.2f}×"
    )


if __name__ == "__main__":
    main()
