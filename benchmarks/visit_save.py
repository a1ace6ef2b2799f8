"""Speed of saving a visit: 200 saves through ``record_visit`` with 1,000,000 enterprises and
500,000 visits in the database, against a bare single-row INSERT of the same row.

Usage:  .venv/bin/python benchmarks/visit_save.py [--enterprises N] [--visits V] [--saves S]

Builds a separate PostgreSQL database ``rongxie_bench_visitform`` with set-based SQL: N
enterprises (default 1,000,000) over the townships of 平阳县, a lead assignment each over
12 institutions × 30 branches, and V visits (default 500,000). Then times S saves (default 200)
through ``visits.services.visits.record_visit`` (server time: the service call, with its scope
checks, the 1+1 team lookup, the save, the change-history row, the signal and the scope
re-check), alternating a township worker of 昆阳镇 and a bank officer of branch I1-1, each
with a fresh draft key; and, as the baseline, the same number of bare single-row INSERTs of a
visit row. Prints p50 / p95 of both and the ratio (goal: p95 ≤ 100 ms).
"""

import argparse
import statistics
import time
import uuid
from datetime import date, timedelta

import common

DB_NAME = "rongxie_bench_visitform"
common.use_database(DB_NAME)
COUNTY = "330326"
TOWNSHIP = "330326100"
BRANCH = "I1-1"


def build(n, visits):
    from django.db import connection

    townships = common.migrated_townships(COUNTY)
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM visits_visit")
        if c.fetchone()[0] >= visits:
            c.execute("SELECT count(*) FROM enterprises_enterprise")
            if c.fetchone()[0] == n:
                return False
        c.execute(
            "TRUNCATE visits_visit, banks_bankassignment, banks_bank_service_regions, banks_bank,"
            " enterprises_enterprise CASCADE"
        )
        common.insert_bank_tree(c)
        common.insert_enterprises(c, townships, n)
        c.execute(
            """INSERT INTO banks_bankassignment (enterprise_id, bank_id, role, assigned_at,
                   status, due_on, explanation, override_reason)
               SELECT e.id, 'I' || (1 + mod(e.id, 12)) || '-' || (1 + mod(e.id / 12, 30)),
                      'lead', now(), 'contacted', NULL, '{}', ''
               FROM enterprises_enterprise e"""
        )
        # Visits: every other enterprise once, the dates over the last two years.
        c.execute(
            """INSERT INTO visits_visit (enterprise_id, round, visited_on, method, status,
                   township_worker_name, bank_officer_name, has_need, need_amount, need_purpose,
                   acceptable_guarantees, intent, problems, note, version, created_at,
                   updated_at, bank_id)
               SELECT e.id, 'first', CURRENT_DATE - mod(e.id, 730)::int, 'on_site', 'completed',
                      '', '', mod(e.id, 3) = 0,
                      CASE WHEN mod(e.id, 3) = 0 THEN 100 END,
                      CASE WHEN mod(e.id, 3) = 0 THEN 'working_capital' ELSE '' END,
                      '[]', '', '[]', '', 1, now(), now(), NULL
               FROM enterprises_enterprise e WHERE mod(e.id, 2) = 0 LIMIT %s""",
            [visits],
        )
        c.execute("ANALYZE")
    return True


def users():
    from accounts.choices import Role
    from accounts.models import User

    worker, _ = User.objects.get_or_create(
        username="bench-township", defaults={"role": Role.TOWNSHIP_WORKER, "region_id": TOWNSHIP}
    )
    officer, _ = User.objects.get_or_create(
        username="bench-officer", defaults={"role": Role.BANK_OFFICER, "bank_id": BRANCH}
    )
    return worker, officer


def targets(worker, officer, saves):
    """Enterprises each user may visit: the worker's township, the officer's branch."""
    from visits.services.visits import visitable_enterprises

    mine = list(visitable_enterprises(worker).order_by("pk").values_list("pk", flat=True)[:saves])
    theirs = list(
        visitable_enterprises(officer).order_by("-pk").values_list("pk", flat=True)[:saves]
    )
    return mine, theirs


def data(enterprise, n):
    return {
        "enterprise": enterprise,
        "round": "second",
        "visited_on": date.today() - timedelta(days=1),
        "method": "on_site",
        "operating_normally": True,
        "has_need": n % 2 == 0,
        "need_amount": "200",
        "need_purpose": "working_capital",
        "need_term_months": 12,
        "acceptable_guarantees": ["credit"],
        "intent": "strong",
        "problems": ["collateral"],
        "note": "基准测试",
        "next_visit_on": None,
        "township_worker_name": "",
        "bank_officer_name": "",
    }


def time_service(worker, officer, saves):
    from django.db import connection

    from core.history import acting_as
    from enterprises.models import Enterprise
    from visits.services.visits import record_visit

    mine, theirs = targets(worker, officer, saves)
    ms, queries = [], []
    for n in range(saves):
        user = worker if n % 2 == 0 else officer
        pk = (mine if user is worker else theirs)[n // 2]
        enterprise = Enterprise.objects.get(pk=pk)  # the form's lookup, outside the timing
        with acting_as(user, via="web"):
            before = len(connection.queries)
            t0 = time.perf_counter()
            record_visit(user, data(enterprise, n), client_key=uuid.uuid4())
            ms.append((time.perf_counter() - t0) * 1000)
            queries.append(len(connection.queries) - before)
    return ms, queries


def time_bare(saves):
    from django.db import connection

    ms = []
    with connection.cursor() as c:
        c.execute("SELECT id FROM enterprises_enterprise ORDER BY id LIMIT %s", [saves])
        ids = [row[0] for row in c.fetchall()]
        for pk in ids:
            t0 = time.perf_counter()
            c.execute(
                """INSERT INTO visits_visit (enterprise_id, round, visited_on, method, status,
                       township_worker_name, bank_officer_name, has_need, need_amount,
                       need_purpose, acceptable_guarantees, intent, problems, note, version,
                       created_at, updated_at, client_key)
                   VALUES (%s, 'second', %s, 'on_site', 'completed', '', '', true, 200,
                           'working_capital', '["credit"]', 'strong', '["collateral"]',
                           '基准测试', 1, now(), now(), %s)""",
                [pk, date.today() - timedelta(days=1), uuid.uuid4()],
            )
            ms.append((time.perf_counter() - t0) * 1000)
    return ms


def p95(values):
    return statistics.quantiles(values, n=20)[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=500_000)
    parser.add_argument("--saves", type=int, default=200)
    args = parser.parse_args()
    common.ensure_database(DB_NAME)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.DEBUG = True  # count the queries of each save (connection.queries)
    t0 = time.perf_counter()
    built = build(args.enterprises, args.visits)
    verb = "built" if built else "reused"
    print(
        f"{verb} {args.enterprises:,} enterprises and {args.visits:,} visits"
        f" in {time.perf_counter() - t0:.1f} s"
    )
    worker, officer = users()
    service, queries = time_service(worker, officer, args.saves)
    bare = time_bare(args.saves)
    connection.close()
    s50, s95 = statistics.median(service), p95(service)
    b50, b95 = statistics.median(bare), p95(bare)
    print(
        f"{args.saves} saves through record_visit: p50 {s50:.1f} ms, p95 {s95:.1f} ms "
        f"(goal ≤ 100 ms), {min(queries)}–{max(queries)} queries each · bare single-row INSERT: "
        f"p50 {b50:.2f} ms, p95 {b95:.2f} ms · ratio p95 {s95 / b95:.1f}×"
    )


if __name__ == "__main__":
    main()
