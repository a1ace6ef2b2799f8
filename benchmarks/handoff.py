"""Speed of the clocks: the daily hand-off job over 1,000,000 assignments, and the bank
officer's workspace of a branch with 20,000 enterprises.

Usage:  .venv/bin/python benchmarks/handoff.py [--enterprises N] [--branch-size M] [--runs R]

Builds a separate PostgreSQL database ``rongxie_bench_handoff`` with set-based SQL: N
enterprises of 平阳县 (default 500,000: a lead and a backup each, 1,000,000 assignments) over
12 institutions × 30 branches; the first M enterprises (default 20,000) have branch I1-1 as
lead. Leads: one in ten overdue and pending, one in twenty declined, the rest answered;
backups stand by, except one in fifty already handed over and overdue itself.

Each run resets that state and times
- the hand-off job (``banks.hand_off``, as the beat schedule starts it) against, as the
  baseline, the same INSERT/UPDATE statements (captured from the job) run bare (goal ≤ 10 s);
- the workspace page of an officer of I1-1 through Django's test Client (server time, goal
  ≤ 150 ms) against the same SQL queries run bare, with the query count of a branch of M and
  of a branch of a few hundred enterprises (it must not grow with rows).
The last line prints the figures and ratios.
"""

import argparse
import statistics
import time
from datetime import date

import common

DB_NAME = "rongxie_bench_handoff"
common.use_database(DB_NAME)
COUNTY = "330326"
TODAY = date(2025, 10, 13)  # a Monday, a working day
BRANCH = "I1-1"


def build(n, branch_size):
    from django.db import connection

    townships = common.migrated_townships(COUNTY)
    with connection.cursor() as c:
        c.execute(
            "TRUNCATE banks_handoff, banks_bankfeedback, banks_bankassignment, "
            "banks_bank_service_regions, banks_bank, enterprises_enterprise CASCADE"
        )
        common.insert_bank_tree(c)
        common.insert_enterprises(c, townships, n)
        c.execute("SELECT min(id) FROM enterprises_enterprise")
        first = c.fetchone()[0]
        # Leads: the first ``branch_size`` at I1-1, the rest spread over the other branches of
        # institutions 1–6; backups at institutions 7–12.
        c.execute(
            """INSERT INTO banks_bankassignment (enterprise_id, bank_id, role, assigned_at,
                   status, due_on, explanation, override_reason)
               SELECT e.id,
                      CASE WHEN e.id - %s < %s THEN %s
                           ELSE 'I' || (1 + mod(e.id, 6)) || '-' || (2 + mod(e.id, 29)) END,
                      'lead', now(), 'pending', DATE '2025-10-09', '{}', ''
               FROM enterprises_enterprise e""",
            [first, branch_size, BRANCH],
        )
        c.execute(
            """INSERT INTO banks_bankassignment (enterprise_id, bank_id, role, assigned_at,
                   status, due_on, explanation, override_reason)
               SELECT e.id, 'I' || (7 + mod(e.id, 6)) || '-' || (1 + mod(e.id, 30)),
                      'backup', now(), 'waiting', NULL, '{}', ''
               FROM enterprises_enterprise e"""
        )
        c.execute("ANALYZE")


def reset():
    """Leads: 10 % overdue, 5 % declined, the rest answered; 2 % already handed over and
    their backup overdue; no hand-off recorded for this run yet."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute("DELETE FROM banks_handoff")
        c.execute(
            """UPDATE banks_bankassignment SET
                 status = CASE WHEN mod(enterprise_id, 10) = 0 THEN 'pending'
                               WHEN mod(enterprise_id, 20) = 1 THEN 'declined'
                               WHEN mod(enterprise_id, 50) = 7 THEN 'handed_off'
                               ELSE 'contacted' END,
                 due_on = CASE WHEN mod(enterprise_id, 10) = 0 THEN DATE '2025-10-09'
                               ELSE DATE '2025-10-20' END
               WHERE role = 'lead'"""
        )
        c.execute(
            """UPDATE banks_bankassignment SET
                 status = CASE WHEN mod(enterprise_id, 50) = 7 THEN 'pending' ELSE 'waiting' END,
                 due_on = CASE WHEN mod(enterprise_id, 50) = 7 THEN DATE '2025-10-10' END
               WHERE role = 'backup'"""
        )
        c.execute(
            """INSERT INTO banks_handoff (enterprise_id, from_assignment_id, to_assignment_id,
                                          cause, created_at)
               SELECT l.enterprise_id, l.id, b.id, 'deadline', now()
               FROM banks_bankassignment l JOIN banks_bankassignment b
                 ON b.enterprise_id = l.enterprise_id AND b.role = 'backup'
               WHERE l.role = 'lead' AND l.status = 'handed_off'"""
        )
        c.execute("VACUUM ANALYZE banks_bankassignment")
        c.execute("VACUUM ANALYZE banks_handoff")


def time_job():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core import jobs

    reset()
    with CaptureQueriesContext(connection) as captured:
        t0 = time.perf_counter()
        job = jobs.run_now("banks.hand_off", params={"today": TODAY.isoformat()})
        elapsed = time.perf_counter() - t0
    assert job.status == "succeeded", job.error
    writes = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"]
        .lstrip()
        .startswith(('INSERT INTO "banks_handoff"', 'UPDATE "banks_bankassignment"'))
    ]
    return elapsed, job.counts, writes


def time_bare(statements):
    from django.db import connection, transaction

    reset()
    t0 = time.perf_counter()
    # Timed to the commit, like the job: the hand-off rows' foreign keys are checked there.
    with transaction.atomic(), connection.cursor() as c:
        for sql in statements:
            c.execute(sql)
    return time.perf_counter() - t0


def officer(code):
    from accounts.models import User

    user, _ = User.objects.get_or_create(
        username=f"bench-{code}", defaults={"role": "bank_officer", "bank_id": code}
    )
    return user


def time_page(code):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(officer(code))
    client.get("/banks/workspace/")  # warm: templates, the session
    with CaptureQueriesContext(connection) as captured:
        t0 = time.perf_counter()
        response = client.get("/banks/workspace/")
        elapsed = time.perf_counter() - t0
    assert response.status_code == 200
    return elapsed, [q["sql"] for q in captured.captured_queries]


def time_queries(statements):
    from django.db import connection

    with connection.cursor() as c:
        t0 = time.perf_counter()
        for sql in statements:
            c.execute(sql)
            c.fetchall()
        return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=500_000)
    parser.add_argument("--branch-size", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    common.ensure_database(DB_NAME)
    import django

    django.setup()
    from django.db import connection

    t0 = time.perf_counter()
    build(args.enterprises, args.branch_size)
    print(f"built {2 * args.enterprises:,} assignments in {time.perf_counter() - t0:.1f} s")

    jobs_s, bare_s = [], []
    for run in range(1, args.runs + 1):
        app, counts, statements = time_job()
        bare = time_bare(statements)
        jobs_s.append(app)
        bare_s.append(bare)
        print(
            f"run {run}: hand-off job {app:.2f} s ({counts['handed_off']:,} handed off, "
            f"{counts['ended']:,} ended) · the same {len(statements)} statements bare "
            f"{bare:.2f} s · ratio {app / bare:.2f}×"
        )
    connection.close()

    reset()  # the workspace as the morning finds it
    small = "I2-2"
    with connection.cursor() as c:
        c.execute(
            "SELECT count(*) FROM banks_bankassignment WHERE bank_id = %s AND status <> 'waiting'",
            [BRANCH],
        )
        big_rows = c.fetchone()[0]
        c.execute(
            "SELECT count(*) FROM banks_bankassignment WHERE bank_id = %s AND status <> 'waiting'",
            [small],
        )
        small_rows = c.fetchone()[0]
    pages, bares = [], []
    for _run in range(args.runs):
        page, queries = time_page(BRANCH)
        pages.append(page)
        bares.append(time_queries(queries))
    _small_page, small_queries = time_page(small)
    page_ms, bare_ms = statistics.median(pages) * 1000, statistics.median(bares) * 1000
    print(
        f"workspace of {big_rows:,} enterprises: {page_ms:.0f} ms, {len(queries)} queries "
        f"(a branch of {small_rows:,}: {len(small_queries)} queries) · the same SQL bare "
        f"{bare_ms:.0f} ms · ratio {page_ms / bare_ms:.2f}×"
    )
    job_s, base_s = statistics.median(jobs_s), statistics.median(bare_s)
    print(
        f"hand-off over {2 * args.enterprises:,} assignments {job_s:.2f} s (goal ≤ 10 s) vs bare "
        f"{base_s:.2f} s, ratio {job_s / base_s:.2f}× · workspace {page_ms:.0f} ms (goal ≤ 150 ms)"
        f" vs bare {bare_ms:.0f} ms, ratio {page_ms / bare_ms:.2f}×, {len(queries)} queries"
    )


if __name__ == "__main__":
    main()
