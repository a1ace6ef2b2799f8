"""Dashboard speed: a city with 1,000,000 entities, 300,000 loans (50,000 renewals).

Usage:  .venv/bin/python benchmarks/dashboard.py [--entities N] [--loans N] [--renewals N]
                                                  [--rebuild] [--runs 5]

Builds (once; --rebuild to redo) a separate PostgreSQL database ``rongxie_bench_dashboard`` on
the local server with set-based SQL (generate_series), then times, warm and server side
(Django test Client, so no network), the city dashboard page and GET /api/v1/stats/ for the
city as a city task-force user; and, as the baseline, the bare SQL of the same total KPIs
(no scoping sub-selects, no grouping, no rendering). Prints figure vs baseline and the ratio.
"""

import argparse
import statistics
import time

import common

DB_NAME = "rongxie_bench_dashboard"
common.use_database(DB_NAME)

CITY = "330300"
START, END = "2025-01-01", "2025-06-30"


def build(entities, loans, renewals):
    from django.db import connection

    from accounts.models import User

    townships = common.migrated_townships("3303")
    t0 = time.perf_counter()
    with connection.cursor() as c:
        c.execute(
            "TRUNCATE screening_listmembership, loans_loan, loans_creditsnapshot, "
            "banks_bankassignment, enterprises_enterprise, banks_bank CASCADE"
        )
        # 10 head institutions with 3 branches each.
        c.execute(
            """INSERT INTO banks_bank (code, name, parent_id, level, capacity)
               SELECT 'H' || h, '银行' || h, NULL, '', NULL FROM generate_series(1, 10) h"""
        )
        c.execute(
            """INSERT INTO banks_bank (code, name, parent_id, level, capacity)
               SELECT 'H' || h || '-B' || b, '银行' || h || '支行' || b, 'H' || h, '', NULL
               FROM generate_series(1, 10) h, generate_series(1, 3) b"""
        )
        c.execute(
            """INSERT INTO enterprises_enterprise
                 (uscc, name, entity_type, legal_rep, phone, established_on, status,
                  industry_code, region_id, address, size, created_at, updated_at)
               SELECT '91' || LPAD(i::text, 16, '0'), '企业' || i,
                      (ARRAY['enterprise','individual','individual','cooperative'])[1 + mod(i, 4)],
                      '', '', DATE '2010-01-01' + (mod(i, 5000)), 'operating',
                      (ARRAY['A','C','C','F','F','G','I','M'])[1 + mod(i, 8)] || '1234',
                      (%s::text[])[1 + mod(i, %s)], '',
                      (ARRAY['micro','micro','small','medium','large',''])[1 + mod(i, 6)],
                      now(), now()
               FROM generate_series(1, %s) i""",
            [townships, len(townships), entities],
        )
        c.execute("SELECT MIN(id) FROM enterprises_enterprise")
        first_id = c.fetchone()[0]
        plain = loans - renewals
        c.execute(
            """INSERT INTO loans_loan
                 (bank_id, loan_no, enterprise_id, disbursed_on, matures_on, amount, balance,
                  product, guarantee, is_renewal, renews_loan_no)
               SELECT 'H' || (1 + mod(i, 10)) || '-B' || (1 + mod(i, 3)), 'L' || i,
                      %s + mod((i::bigint * 7919), %s),
                      DATE '2023-01-01' + (mod(i, 900)), DATE '2023-01-01' + (mod(i, 900)) + 365,
                      10 + (mod(i, 500)), CASE WHEN mod(i, 3) = 0 THEN NULL ELSE 5 + (mod(i, 400)) END,
                      'working_capital',
                      (ARRAY['credit','surety','mortgage','pledge'])[1 + mod(i, 4)],
                      FALSE, ''
               FROM generate_series(1, %s) i""",
            [first_id, entities, plain],
        )
        c.execute(
            """INSERT INTO loans_loan
                 (bank_id, loan_no, enterprise_id, disbursed_on, matures_on, amount, balance,
                  product, guarantee, is_renewal, renews_loan_no)
               SELECT 'H' || (1 + mod(i, 10)) || '-B' || (1 + mod(i, 3)), 'R' || i,
                      %s + mod((i::bigint * 7919), %s),
                      DATE '2023-06-01' + (mod(i, 750)), DATE '2023-06-01' + (mod(i, 750)) + 365,
                      20 + (mod(i, 300)), 20 + (mod(i, 300)), 'working_capital', 'surety', TRUE, ''
               FROM generate_series(1, %s) i""",
            [first_id, entities, renewals],
        )
        c.execute(
            """INSERT INTO loans_creditsnapshot
                 (enterprise_id, bank_id, as_of, loan_balance, first_loan_date)
               SELECT %s + mod((i::bigint * 104729), %s), 'H' || (1 + mod(i, 10)) || '-B1',
                      DATE '2024-12-31' + (mod(i, 2)) * 181, (mod(i, 7)) * 10,
                      CASE WHEN mod(i, 5) = 0 THEN DATE '2018-01-01' + (mod(i, 2000)) END
               FROM generate_series(1, %s) i
               ON CONFLICT DO NOTHING""",
            [first_id, entities, entities // 5],
        )
    from screening.models import ScreeningRun

    ScreeningRun.objects.all().delete()
    run = ScreeningRun.objects.create(region_id=CITY, status="succeeded", is_current=True)
    with connection.cursor() as c:
        c.execute(
            """INSERT INTO screening_listmembership
                 (run_id, list_type, enterprise_id, rating, bank_count, reasons)
               SELECT %s, 'active', id, '', 0, '[]'::jsonb
               FROM enterprises_enterprise WHERE mod(id, 10) < 6""",
            [run.pk],
        )
        c.execute("ANALYZE")
    User.objects.filter(username="bench_city").delete()
    User.objects.create_user("bench_city", password="x", role="task_force", region_id=CITY)
    print(f"built in {time.perf_counter() - t0:.1f} s", flush=True)


BASELINE_SQL = """
WITH e AS (SELECT id FROM enterprises_enterprise WHERE region_id LIKE '3303%%'),
l AS (SELECT l.* FROM loans_loan l JOIN e ON e.id = l.enterprise_id
      WHERE l.disbursed_on <= %(end)s),
first AS (SELECT enterprise_id, MIN(disbursed_on) AS d FROM l GROUP BY 1)
SELECT
  (SELECT SUM(amount) FROM l WHERE disbursed_on >= %(start)s),
  (SELECT SUM(amount) FROM l WHERE disbursed_on >= %(start)s AND guarantee = 'credit'),
  (SELECT SUM(COALESCE(balance, amount)) FROM l WHERE is_renewal AND matures_on > %(end)s),
  (SELECT COUNT(*) FROM first WHERE d >= %(start)s),
  (SELECT COUNT(*) FROM screening_listmembership m JOIN e ON e.id = m.enterprise_id
   WHERE m.list_type = 'active')
"""


def timed(func, runs):
    func()  # warm
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        func()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--loans", type=int, default=300_000)
    parser.add_argument("--renewals", type=int, default=50_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    common.ensure_database(DB_NAME)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from accounts.models import User
    from enterprises.models import Enterprise

    settings.ALLOWED_HOSTS = ["*"]
    setup_test_environment()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    built = connection.introspection.table_names()
    if args.rebuild or "enterprises_enterprise" not in built or not Enterprise.objects.exists():
        build(args.entities, args.loans, args.renewals)
    counts = {
        "entities": Enterprise.objects.count(),
        "loans": connection.cursor().execute("SELECT COUNT(*) FROM loans_loan").fetchone()[0],
    }
    print(f"data: {counts}", flush=True)

    client = Client()
    client.force_login(User.objects.get(username="bench_city"))
    query = {"region": CITY, "start": START, "end": END}

    def page():
        response = client.get("/dashboards/", query)
        assert response.status_code == 200, response.status_code

    def api():
        response = client.get("/api/v1/stats/", query)
        assert response.status_code == 200, response.status_code

    def api_by_region():
        response = client.get("/api/v1/stats/", {**query, "group_by": "region"})
        assert response.status_code == 200, response.status_code

    def baseline():
        with connection.cursor() as c:
            c.execute(BASELINE_SQL, {"start": START, "end": END})
            c.fetchall()

    from dashboards.snapshots import bump

    def cold(func):
        def run():
            bump()  # a data change: the stored result no longer holds, queries run live
            func()

        return run

    from core import jobs

    def after_refresh(func):
        """A data change, then the refresh job it queues, then the first view: (view, job) ms."""
        view_ms, job_ms = [], []
        for _ in range(args.runs):
            bump()
            t0 = time.perf_counter()
            job = jobs.run_now("dashboards.refresh")
            job_ms.append((time.perf_counter() - t0) * 1000)
            assert job.status == "succeeded", job.error
            t0 = time.perf_counter()
            func()
            view_ms.append((time.perf_counter() - t0) * 1000)
        return statistics.median(view_ms), statistics.median(job_ms)

    base = timed(baseline, args.runs)
    rows = [
        ("page, warm (stored result)", timed(page, args.runs)),
        ("stats API totals, warm", timed(api, args.runs)),
        ("stats API group_by=region, warm", timed(api_by_region, args.runs)),
        ("page, live queries (after a change)", timed(cold(page), args.runs)),
        ("stats API totals, live", timed(cold(api), args.runs)),
        ("stats API group_by=region, live", timed(cold(api_by_region), args.runs)),
    ]
    page_after, refresh_job = after_refresh(page)
    rows.append(("page, first view after change + refresh", page_after))
    print(f"{'measure':40} {'median ms':>10} {'baseline ms':>12} {'ratio':>7}  goal")
    for name, ms in rows:
        verdict = "ok" if ms <= 500 else "over 500 ms"
        print(f"{name:40} {ms:10.1f} {base:12.0f} {ms / base:7.2f}  {verdict}")
    print(f"refresh job after a change (background): {refresh_job:.0f} ms median")


if __name__ == "__main__":
    main()
