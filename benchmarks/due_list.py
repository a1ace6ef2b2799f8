"""Speed of follow-ups: a township worker's due-visits page, and a second-round campaign.

Usage:  .venv/bin/python benchmarks/due_list.py [--enterprises N] [--visits V] [--runs R]

Builds a separate PostgreSQL database ``rongxie_bench_duelist`` with set-based SQL: N
enterprises (default 1,000,000) spread over the townships of 平阳县, V visits (default 500,000,
one per enterprise for the first V), and an open follow-up due visit for every other visit
(due dates spread over ±60 days, so a page holds overdue and coming ones). A current screening
run puts every tenth enterprise on the key-visit list (tiers 1–3).

Each run times
- the due-visits page (``/visits/due/``) of a township worker of 昆阳镇 through Django's test
  Client (server time; goal ≤ 150 ms) against the same SQL queries run bare, with its query
  count at this size and with a township of a few rows (it must not grow with rows);
- a tier-1 campaign of the county (``launch_campaign`` inline, one INSERT … SELECT; above
  5,000 enterprises the page runs it as a job) against the same INSERT run bare.
The last line prints the figures and ratios.
"""

import argparse
import statistics
import time

import common

DB_NAME = "rongxie_bench_duelist"
common.use_database(DB_NAME)
COUNTY = "330326"
TOWN = "330326100"  # 昆阳镇


def build(n, visits):
    from django.db import connection

    townships = common.migrated_townships(COUNTY)
    with connection.cursor() as c:
        c.execute(
            "TRUNCATE visits_duevisit, visits_campaign, visits_coordinationitem, visits_visit, "
            "screening_listmembership, screening_screeningrun, enterprises_enterprise CASCADE"
        )
        common.insert_enterprises(c, townships, n)
        c.execute("SELECT min(id) FROM enterprises_enterprise")
        first = c.fetchone()[0]
        c.execute(
            """INSERT INTO visits_visit (enterprise_id, round, visited_on, method, status,
                   township_worker_name, bank_officer_name, has_need, need_purpose, acceptable_guarantees,
                   intent, problems, note, created_at, updated_at, version)
               SELECT e.id, 'first', CURRENT_DATE - 40 + mod(e.id, 40)::int, 'on_site', 'completed',
                      '', '', mod(e.id, 2) = 0, '', '[]', '', '[]', '', now(), now(), 1
               FROM enterprises_enterprise e WHERE e.id - %s < %s""",
            [first, visits],
        )
        c.execute(
            """INSERT INTO visits_duevisit (enterprise_id, due_on, opened_on, round, reason,
                   source_visit_id)
               SELECT v.enterprise_id, CURRENT_DATE - 60 + mod(v.id, 120)::int, v.visited_on,
                      'second', 'follow_up', v.id
               FROM visits_visit v WHERE v.has_need"""
        )
        c.execute(
            """INSERT INTO screening_screeningrun (region_id, status, is_current, counts, error,
                   created_at)
               VALUES (%s, 'succeeded', true, '{}', '', now()) RETURNING id""",
            [COUNTY],
        )
        run = c.fetchone()[0]
        c.execute(
            """INSERT INTO screening_listmembership (run_id, list_type, enterprise_id, tier,
                   bank_count, reasons, rating)
               SELECT %s, 'key_visit', e.id, 1 + mod(e.id / 10, 3), 0, '[]', ''
               FROM enterprises_enterprise e WHERE mod(e.id, 10) = 0""",
            [run],
        )
        c.execute("ANALYZE")


def users():
    from accounts.models import User

    worker, _c = User.objects.get_or_create(
        username="bench_township", defaults={"role": "township_worker", "region_id": TOWN}
    )
    staff, _c = User.objects.get_or_create(
        username="bench_staff", defaults={"role": "task_force", "region_id": COUNTY}
    )
    # A township with a few due visits: the query count must be the same.
    small = "330326119"
    few, _c = User.objects.get_or_create(
        username="bench_small_town", defaults={"role": "township_worker", "region_id": small}
    )
    return worker, staff, few


def time_page(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.status_code
    return elapsed, [q["sql"] for q in queries.captured_queries]


def bare(sqls):
    from django.db import connection

    start = time.perf_counter()
    with connection.cursor() as c:
        for sql in sqls:
            if sql.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                continue
            c.execute(sql)
            if c.description:
                c.fetchall()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--enterprises", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    common.ensure_database(DB_NAME)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from enterprises.models import Region
    from visits.models import DueVisit
    from visits.services import followups

    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False
    if not args.no_build:
        start = time.perf_counter()
        build(args.enterprises, args.visits)
        print(f"built in {time.perf_counter() - start:.1f} s")
    worker, staff, few = users()
    open_due = DueVisit.objects.filter(done_by__isnull=True)
    print(
        f"{open_due.count()} open due visits, "
        f"{open_due.filter(enterprise__region_id=TOWN).count()} in 昆阳镇"
    )
    client = Client()
    client.force_login(worker)
    small_client = Client()
    small_client.force_login(few)
    time_page(client, "/visits/due/")  # warm
    pages, bares = [], []
    for _ in range(args.runs):
        elapsed, sqls = time_page(client, "/visits/due/")
        pages.append(elapsed)
        bares.append(bare(sqls))
    count_big = len(sqls)
    _elapsed, small_sqls = time_page(small_client, "/visits/due/")
    page_ms, bare_ms = statistics.median(pages) * 1000, statistics.median(bares) * 1000

    county = Region.objects.get(code=COUNTY)
    # Timed inline (the job runs the same INSERT … SELECT township by township).
    followups.CAMPAIGN_INLINE_LIMIT = 10**9
    campaigns, campaign_bares = [], []
    for number in range(args.runs):
        due_on = timezone.localdate() + timezone.timedelta(days=90)
        with transaction.atomic():
            start = time.perf_counter()
            campaign, _job = followups.launch_campaign(
                staff, f"bench {number}", county, {"tiers": [1]}, due_on
            )
            campaigns.append(time.perf_counter() - start)
            added = campaign.due_visits.count()
            sql, params = followups.campaign_targets(campaign, staff).query.sql_with_params()
            transaction.set_rollback(True)
        with transaction.atomic(), connection.cursor() as c:
            start = time.perf_counter()
            c.execute(
                "INSERT INTO visits_duevisit (enterprise_id, due_on, opened_on, round, reason,"
                f" campaign_id) {sql}",
                params,
            )
            campaign_bares.append(time.perf_counter() - start)
            transaction.set_rollback(True)
    camp_s, camp_bare_s = statistics.median(campaigns), statistics.median(campaign_bares)
    print(
        f"due list page: {page_ms:.0f} ms vs bare SQL {bare_ms:.0f} ms "
        f"({page_ms / bare_ms:.2f}×), {count_big} queries ({len(small_sqls)} for a small "
        f"township) | campaign of {added} enterprises: {camp_s:.2f} s vs bare INSERT "
        f"{camp_bare_s:.2f} s ({camp_s / camp_bare_s:.2f}×)"
    )


if __name__ == "__main__":
    main()
