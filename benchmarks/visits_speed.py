"""Issue 14 speed: the enterprise timeline with 1,000,000 enterprises and 500,000 visits.

Usage:  .venv/bin/python benchmarks/visits_speed.py [--entities N] [--visits N] [--rebuild]
                                                    [--runs 50]
        (wrap in ``flock /tmp/rongxie-bench.lock`` on a shared machine)

Builds (once; --rebuild to redo) its own PostgreSQL database ``rongxie_bench_timeline`` with
set-based SQL (generate_series / INSERT … SELECT): the Wenzhou regions, 12 institutions × 30
branches, N enterprises, and in proportion to the visits: lead and backup assignments (one
enterprise in five), one feedback per lead, hand-offs, visits (two per visited enterprise),
coordination items (one per five visits), application-list entries and recommendations,
loans, credit approvals, tax and census rows with their import batches, negative-list entries,
and two screening runs of 平阳县 (the first run's memberships, the second's diff). One
enterprise of 昆阳镇 gets a heavy history (dozens of visits, items, feedback, loans …).

Then times, warm and server side (Django test Client, no network), p95 of ``--runs``:
the timeline view (``/enterprises/<pk>/timeline/``) of the heavy enterprise as county staff
and as its lead bank's officer, the whole enterprise page, and the timeline of a typical
enterprise; each with its query count. The baseline is the bare SQL of the same rows: one
UNION ALL of every source's newest 101 rows for that enterprise, no scoping, no Python.
"""

import argparse
import statistics
import time

import common

DB_NAME = "rongxie_bench_timeline"
common.use_database(DB_NAME)

COUNTY = "330326"
TOWN = "330326100"
GOAL_MS = 150


def bank_of(expr, shift=0):
    """SQL: a branch code 'I<i>-<b>' computed from the integer expression ``expr``."""
    return f"'I' || (1 + mod({expr} + {shift}, 12)) || '-' || (1 + mod({expr} / 12, 30))"


def build(entities, visits):
    from django.db import connection

    from accounts.models import User

    townships = common.migrated_townships("3303")
    t0 = time.perf_counter()
    per_visited = 2
    visited = visits // per_visited  # enterprises with visits
    step = max(entities // visited, 1)
    with connection.cursor() as c:
        c.execute(
            "TRUNCATE enterprises_enterprise, banks_bank, enterprises_importbatch, "
            "screening_screeningrun, accounts_user CASCADE"
        )
        common.insert_bank_tree(c, institutions=12, branches=30)
        common.insert_enterprises(c, townships, entities)
        c.execute(
            """INSERT INTO enterprises_importbatch
                 (kind, file_name, file_sha256, file_size, stored_file, status, forced,
                  created_at, applied_at, rows_read, rows_created, rows_updated,
                  rows_unchanged, rows_failed, unknown_columns, message, rejected_for,
                  skip_bad_rows)
               SELECT k, k || '-2025.xlsx', md5(k), 0, '', 'applied', FALSE, now(), now(),
                      0, 0, 0, 0, 0, '[]', '', '', FALSE
               FROM unnest(ARRAY['registry', 'census', 'tax', 'loans']) k"""
        )
        c.execute("SELECT kind, id FROM enterprises_importbatch")
        batch = dict(c.fetchall())
        c.execute("UPDATE enterprises_enterprise SET batch_id = %s", [batch["registry"]])
        c.execute(
            """INSERT INTO enterprises_taxrecord (tax_year, credit_rating, tax_paid, batch_id,
                                                  enterprise_id)
               SELECT 2024, 'B', 10, %s, id FROM enterprises_enterprise WHERE mod(id, 2) = 0""",
            [batch["tax"]],
        )
        c.execute(
            """INSERT INTO enterprises_censusrecord (census_year, is_active, batch_id,
                                                     enterprise_id)
               SELECT 2023, TRUE, %s, id FROM enterprises_enterprise WHERE mod(id, 2) = 1""",
            [batch["census"]],
        )
        c.execute(
            """INSERT INTO enterprises_negativelistentry (list_type, listed_on, source, note,
                                                          enterprise_id)
               SELECT 'abnormal_operation', DATE '2024-01-01' + mod(id, 500)::int, '市监局', '',
                      id
               FROM enterprises_enterprise WHERE mod(id, 50) = 7"""
        )
        # The heavy enterprise: the first of 昆阳镇.
        c.execute("SELECT MIN(id) FROM enterprises_enterprise WHERE region_id = %s", [TOWN])
        heavy = c.fetchone()[0]
        # Lead and backup banks: one enterprise in five, and the heavy one.
        for role, shift in (("lead", 0), ("backup", 1)):
            c.execute(
                f"""INSERT INTO banks_bankassignment
                      (role, assigned_at, bank_id, enterprise_id, due_on, explanation,
                       override_reason, status)
                    SELECT %s, now() - interval '60 days', {bank_of("id", shift)}, id,
                           DATE '2025-03-01', '{{}}', '', 'pending'
                    FROM enterprises_enterprise WHERE mod(id, 5) = 0 OR id = %s""",
                [role, heavy],
            )
        c.execute(
            """INSERT INTO banks_bankfeedback (status, reason, created_at, feedback_on,
                                               assignment_id)
               SELECT 'contacted', '', a.assigned_at + interval '3 days',
                      ((a.assigned_at + interval '3 days') AT TIME ZONE 'Asia/Shanghai')::date,
                      a.id
               FROM banks_bankassignment a WHERE a.role = 'lead'"""
        )
        c.execute(
            """INSERT INTO banks_handoff (cause, created_at, enterprise_id, from_assignment_id,
                                          to_assignment_id)
               SELECT 'deadline', now() - interval '20 days', l.enterprise_id, l.id, b.id
               FROM banks_bankassignment l
               JOIN banks_bankassignment b ON b.enterprise_id = l.enterprise_id
                                          AND b.role = 'backup'
               WHERE l.role = 'lead' AND (mod(l.enterprise_id, 50) = 0 OR l.enterprise_id = %s)""",
            [heavy],
        )
        # Visits: two per visited enterprise, with its lead bank when it has one.
        c.execute(
            f"""INSERT INTO visits_visit
                  (version, round, visited_on, method, status, township_worker_name,
                   bank_officer_name, has_need, need_amount, need_purpose, acceptable_guarantees,
                   intent, problems, note, created_at, updated_at, bank_id, enterprise_id)
                SELECT 1, CASE WHEN n = 1 THEN 'first' ELSE 'second' END,
                       DATE '2025-01-01' + (mod(e.id, 300) + n * 30)::int, 'on_site',
                       'completed', '王五', '', mod(e.id, 3) = 0,
                       CASE WHEN mod(e.id, 3) = 0 THEN 100 END,
                       CASE WHEN mod(e.id, 3) = 0 THEN 'working_capital' ELSE '' END, '[]',
                       'moderate', '[]', '走访记录', now(), now(),
                       CASE WHEN mod(e.id, 5) = 0 THEN {bank_of("e.id")} END, e.id
                FROM enterprises_enterprise e, generate_series(1, {per_visited}) n
                WHERE mod(e.id, %s) = 0""",
            [step],
        )
        c.execute(
            """INSERT INTO visits_coordinationitem
                 (version, problem, description, owner_department, status, level, resolution,
                  escalation_reason, created_at, enterprise_id, visit_id)
               SELECT 1, 'collateral', '抵押物不足', '县金融办',
                      CASE WHEN mod(id, 2) = 0 THEN 'resolved' ELSE 'open' END, 'county', '', '',
                      now() - interval '10 days', enterprise_id, id
               FROM visits_visit WHERE mod(id, 5) = 0"""
        )
        c.execute(
            """INSERT INTO visits_application
                 (version, need_amount, status, checks, check_note, checked_at, approved_at,
                  created_at, enterprise_id)
               SELECT 1, 100, 'approved', '{}', '', now() - interval '9 days',
                      now() - interval '8 days', now() - interval '10 days', id
               FROM enterprises_enterprise WHERE mod(id, 20) = 0"""
        )
        c.execute(
            f"""INSERT INTO visits_recommendation
                  (recommended_on, batch_no, need_amount, created_at, bank_id, enterprise_id)
                SELECT DATE '2025-06-01', 'B1', 100, now(), {bank_of("id")}, id
                FROM enterprises_enterprise WHERE mod(id, 20) = 0"""
        )
        c.execute(
            f"""INSERT INTO loans_loan
                  (bank_id, loan_no, enterprise_id, disbursed_on, matures_on, amount, balance,
                   product, guarantee, is_renewal, renews_loan_no, batch_id)
                SELECT {bank_of("e.id")}, 'L' || e.id, e.id,
                       DATE '2024-01-01' + mod(e.id, 500)::int,
                       DATE '2025-01-01' + mod(e.id, 500)::int, 50, 50, 'working_capital',
                       'surety', mod(e.id, 7) = 0, '', %s
                FROM enterprises_enterprise e WHERE mod(e.id, 10) < 3""",
            [batch["loans"]],
        )
        c.execute(
            f"""INSERT INTO loans_creditapproval
                  (approval_no, approved_on, amount, product, guarantee, created_at,
                   updated_at, bank_id, enterprise_id)
                SELECT 'A' || id, DATE '2025-02-01' + mod(id, 100)::int, 80, '', '', now(),
                       now(), {bank_of("id")}, id
                FROM enterprises_enterprise WHERE mod(id, 20) = 3"""
        )
        # The heavy enterprise's long history, all with its lead bank.
        lead = f"({bank_of(str(heavy))})"
        c.execute(
            f"""INSERT INTO visits_visit
                  (version, round, visited_on, method, status, township_worker_name,
                   bank_officer_name, has_need, need_purpose, acceptable_guarantees, intent,
                   problems, note, created_at, updated_at, bank_id, enterprise_id)
                SELECT 1, 'return', DATE '2023-01-01' + n * 9, 'phone', 'completed', '王五', '',
                       TRUE, 'equipment', '[]', 'strong', '["rate"]', '回访', now(), now(),
                       {lead}, %s
                FROM generate_series(1, 60) n""",
            [heavy],
        )
        c.execute(
            """INSERT INTO visits_coordinationitem
                 (version, problem, description, owner_department, status, level, resolution,
                  escalation_reason, resolved_at, created_at, enterprise_id)
               SELECT 1, 'rate', '利率偏高', '县金融办', 'resolved', 'county', '已协调', '',
                      now() - n * interval '5 days', now() - n * interval '6 days', %s
               FROM generate_series(1, 30) n""",
            [heavy],
        )
        c.execute(
            """INSERT INTO banks_bankfeedback (status, reason, created_at, feedback_on,
                                               assignment_id)
               SELECT 'needs_coordination', '需协调担保', now() - n * interval '4 days',
                      ((now() - n * interval '4 days') AT TIME ZONE 'Asia/Shanghai')::date, a.id
               FROM banks_bankassignment a, generate_series(1, 30) n
               WHERE a.enterprise_id = %s AND a.role = 'lead'""",
            [heavy],
        )
        c.execute(
            f"""INSERT INTO loans_loan
                  (bank_id, loan_no, enterprise_id, disbursed_on, matures_on, amount, balance,
                   product, guarantee, is_renewal, renews_loan_no)
                SELECT {lead}, 'H' || n, %s, DATE '2020-01-01' + n * 40,
                       DATE '2021-01-01' + n * 40, 30, 30, 'working_capital', 'credit',
                       mod(n, 2) = 0, ''
                FROM generate_series(1, 40) n""",
            [heavy],
        )
        c.execute(
            f"""INSERT INTO loans_creditapproval
                  (approval_no, approved_on, amount, product, guarantee, created_at,
                   updated_at, bank_id, enterprise_id)
                SELECT 'HA' || n, DATE '2020-01-01' + n * 60, 60, '', '', now(), now(),
                       {lead}, %s
                FROM generate_series(1, 20) n""",
            [heavy],
        )
        c.execute(
            "SELECT id FROM enterprises_enterprise WHERE id <> %s AND region_id = %s "
            "AND mod(id, %s) = 0 ORDER BY id LIMIT 1",
            [heavy, TOWN, step],
        )
        typical = c.fetchone()[0]
    # Screening: the county's first run (memberships) and the second (its diff).
    from screening.models import ScreeningRun

    first = ScreeningRun.objects.create(
        region_id=COUNTY,
        status="succeeded",
        as_of="2025-06-30",
        period_start="2025-01-01",
        period_end="2025-06-30",
    )
    second = ScreeningRun.objects.create(
        region_id=COUNTY,
        status="succeeded",
        is_current=True,
        previous=first,
        as_of="2025-06-30",
        period_start="2025-01-01",
        period_end="2025-06-30",
    )
    with connection.cursor() as c:
        c.execute(
            """INSERT INTO screening_listmembership
                 (run_id, list_type, enterprise_id, rating, bank_count, reasons)
               SELECT r.id, l, e.id, '', 0, '[{"code": "census_active"}]'::jsonb
               FROM enterprises_enterprise e, screening_screeningrun r, unnest(ARRAY['active',
                    'no_loan']) l
               WHERE e.region_id LIKE %s AND r.region_id = %s""",
            [COUNTY + "%", COUNTY],
        )
        c.execute(
            """INSERT INTO screening_listchange (run_id, list_type, change, enterprise_id,
                                                 reasons)
               SELECT %s, 'key_visit', 'entered', id, '[{"code": "priority_score"}]'::jsonb
               FROM enterprises_enterprise WHERE region_id LIKE %s AND mod(id, 3) = 0
                 OR id = %s""",
            [second.pk, COUNTY + "%", heavy],
        )
        c.execute("ANALYZE")
    c = connection.cursor()
    c.execute(
        "SELECT bank_id FROM banks_bankassignment WHERE enterprise_id = %s AND role = 'lead'",
        [heavy],
    )
    lead_code = c.fetchone()[0]
    User.objects.create_user("bench_staff", password="x", role="task_force", region_id=COUNTY)
    User.objects.create_user("bench_officer", password="x", role="bank_officer", bank_id=lead_code)
    User.objects.create_user("bench_township", password="x", role="township_worker", region_id=TOWN)
    with connection.cursor() as c:
        c.execute("CREATE TABLE IF NOT EXISTS bench_marks (name text PRIMARY KEY, id bigint)")
        c.execute("DELETE FROM bench_marks")
        c.execute("INSERT INTO bench_marks VALUES ('heavy', %s), ('typical', %s)", [heavy, typical])
    print(f"built in {time.perf_counter() - t0:.1f} s", flush=True)


BASELINE_SQL = """
(SELECT 'batch', id, applied_at::date FROM enterprises_importbatch WHERE id IN (
    SELECT batch_id FROM enterprises_enterprise WHERE id = %(e)s
    UNION SELECT batch_id FROM enterprises_censusrecord WHERE enterprise_id = %(e)s
    UNION SELECT batch_id FROM enterprises_taxrecord WHERE enterprise_id = %(e)s
    UNION SELECT batch_id FROM loans_loan WHERE enterprise_id = %(e)s) LIMIT 101)
UNION ALL (SELECT 'negative', id, listed_on FROM enterprises_negativelistentry
           WHERE enterprise_id = %(e)s ORDER BY listed_on DESC LIMIT 101)
UNION ALL (SELECT 'change', c.id, r.created_at::date FROM screening_listchange c
           JOIN screening_screeningrun r ON r.id = c.run_id
           WHERE c.enterprise_id = %(e)s ORDER BY r.created_at DESC LIMIT 101)
UNION ALL (SELECT 'member', m.id, r.created_at::date FROM screening_listmembership m
           JOIN screening_screeningrun r ON r.id = m.run_id
           WHERE m.enterprise_id = %(e)s AND r.region_id = %(county)s AND r.previous_id IS NULL
             AND m.list_type IN ('active', 'no_loan', 'has_loan', 'first_loan', 'key_visit',
                                 'reserve')
           LIMIT 101)
UNION ALL (SELECT 'assignment', a.id, a.assigned_at::date FROM banks_bankassignment a
           JOIN banks_bank b ON b.code = a.bank_id
           WHERE a.enterprise_id = %(e)s ORDER BY a.assigned_at DESC LIMIT 101)
UNION ALL (SELECT 'handoff', h.id, h.created_at::date FROM banks_handoff h
           WHERE h.enterprise_id = %(e)s ORDER BY h.created_at DESC LIMIT 101)
UNION ALL (SELECT 'feedback', f.id, f.created_at::date FROM banks_bankfeedback f
           JOIN banks_bankassignment a ON a.id = f.assignment_id
           WHERE a.enterprise_id = %(e)s ORDER BY f.created_at DESC LIMIT 101)
UNION ALL (SELECT 'visit', v.id, v.visited_on FROM visits_visit v
           LEFT JOIN banks_bank b ON b.code = v.bank_id
           WHERE v.enterprise_id = %(e)s ORDER BY v.visited_on DESC LIMIT 101)
UNION ALL (SELECT 'item', id, created_at::date FROM visits_coordinationitem
           WHERE enterprise_id = %(e)s ORDER BY created_at DESC LIMIT 101)
UNION ALL (SELECT 'application', id, created_at::date FROM visits_application
           WHERE enterprise_id = %(e)s ORDER BY created_at DESC LIMIT 101)
UNION ALL (SELECT 'recommendation', id, recommended_on FROM visits_recommendation
           WHERE enterprise_id = %(e)s ORDER BY recommended_on DESC LIMIT 101)
UNION ALL (SELECT 'approval', id, approved_on FROM loans_creditapproval
           WHERE enterprise_id = %(e)s ORDER BY approved_on DESC LIMIT 101)
UNION ALL (SELECT 'loan', l.id, l.disbursed_on FROM loans_loan l
           JOIN banks_bank b ON b.code = l.bank_id
           WHERE l.enterprise_id = %(e)s ORDER BY l.disbursed_on DESC LIMIT 101)
"""


def p95(samples):
    return statistics.quantiles(samples, n=20)[18]


def timed(func, runs):
    func()  # warm
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        func()
        samples.append((time.perf_counter() - t0) * 1000)
    return p95(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=500_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each source")
    args = parser.parse_args()

    common.ensure_database(DB_NAME)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from accounts.models import User

    settings.ALLOWED_HOSTS = ["*"]
    setup_test_environment()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    built = "bench_marks" in connection.introspection.table_names()
    if args.rebuild or not built:
        build(args.entities, args.visits)
    with connection.cursor() as c:
        c.execute("SELECT name, id FROM bench_marks")
        marks = dict(c.fetchall())
        counts = {}
        for table in (
            "enterprises_enterprise",
            "visits_visit",
            "visits_coordinationitem",
            "banks_bankassignment",
            "banks_bankfeedback",
            "loans_loan",
            "screening_listchange",
        ):
            c.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table.split("_", 1)[1]] = c.fetchone()[0]
    print(f"data: {counts}", flush=True)
    import os

    print(f"load average before timing: {os.getloadavg()[0]:.1f} (2 cores)", flush=True)

    def get(user, path):
        client = Client()
        client.force_login(User.objects.get(username=user))

        def run():
            response = client.get(path)
            assert response.status_code == 200, response.status_code
            return response

        return run

    def queries_of(func):
        with CaptureQueriesContext(connection) as queries:
            response = func()
        return len(queries), response.content.decode().count('data-source="')

    def baseline(enterprise):
        def run():
            with connection.cursor() as c:
                c.execute(BASELINE_SQL, {"e": enterprise, "county": COUNTY})
                c.fetchall()

        return run

    heavy, typical = marks["heavy"], marks["typical"]
    rows = [
        ("timeline, heavy enterprise, county staff", "bench_staff", heavy, "timeline"),
        ("timeline, heavy enterprise, bank officer", "bench_officer", heavy, "timeline"),
        ("timeline, heavy enterprise, township worker", "bench_township", heavy, "timeline"),
        ("timeline, typical enterprise, county staff", "bench_staff", typical, "timeline"),
        ("whole enterprise page, heavy, county staff", "bench_staff", heavy, "page"),
    ]
    base = {e: timed(baseline(e), args.runs) for e in (heavy, typical)}
    print(
        f"{'measure':46} {'p95 ms':>7} {'events':>6} {'queries':>7} {'bare SQL':>8} "
        f"{'ratio':>6}  goal {GOAL_MS} ms"
    )
    for name, user, enterprise, what in rows:
        path = f"/enterprises/{enterprise}/" + ("timeline/" if what == "timeline" else "")
        func = get(user, path)
        ms = timed(func, args.runs)
        n_queries, events = queries_of(func)
        verdict = "ok" if ms <= GOAL_MS else "OVER"
        print(
            f"{name:46} {ms:7.1f} {events:6d} {n_queries:7d} {base[enterprise]:8.1f} "
            f"{ms / base[enterprise]:6.1f}  {verdict}",
            flush=True,
        )

    if args.explain:
        from enterprises.timeline import SOURCES

        staff = User.objects.get(username="bench_staff")
        from enterprises.models import Enterprise

        enterprise = Enterprise.objects.get(pk=heavy)
        for name, source in SOURCES.items():
            with CaptureQueriesContext(connection) as queries:
                source(enterprise, staff, 101)
            for q in queries:
                with connection.cursor() as c:
                    c.execute("EXPLAIN ANALYZE " + q["sql"])
                    plan = [r[0] for r in c.fetchall()]
                print(f"--- {name}: {plan[-1]}")
                if args.explain and float(plan[-1].split()[2]) > 5:
                    print("\n".join(plan))


if __name__ == "__main__":
    main()
