"""Reserve pool (首贷户储备库) speed: what reading the visits and the application list adds to a
full list rebuild.

Usage:  .venv/bin/python benchmarks/reserve_pool.py [--entities N] [--visits V]

Builds a separate PostgreSQL database ``rongxie_bench_recommend`` with set-based SQL: N
operating enterprises over the Wenzhou townships, each active (census 2023), a tenth with a
loan; V completed visits (a third found a need, some enterprises visited twice) and 0.02·N
open application-list entries. Then times a full rebuild (every county, as ``rebuild_lists``
runs it) with the visit tables empty — the baseline, the same rebuild before the reserve pool
had a source — and with them filled, twice each (after a warm-up), and prints both, the
ratio and the reserve pool's size.
"""

import argparse
import time
from datetime import date

import common

DB_NAME = "rongxie_bench_recommend"
common.use_database(DB_NAME)
AS_OF = date(2025, 6, 30)


def build(n, visits):
    from django.db import connection

    townships = common.migrated_townships("3303")
    with connection.cursor() as c:
        c.execute(
            "TRUNCATE screening_listchange, screening_listexclusion, screening_listmembership, "
            "screening_screeningrun, loans_loan, enterprises_censusrecord, visits_visit, "
            "visits_application, enterprises_enterprise, banks_bank CASCADE"
        )
        c.execute(
            "INSERT INTO banks_bank (code, name, level, focus_areas, contact) "
            "VALUES ('B1', '银行', '', '[]', '')"
        )
        common.insert_enterprises(c, townships, n)
        c.execute("SELECT min(id) FROM enterprises_enterprise")
        first = c.fetchone()[0]
        c.execute(
            """INSERT INTO enterprises_censusrecord (enterprise_id, census_year, is_active)
               SELECT %s + i - 1, 2023, true FROM generate_series(1, %s) i""",
            [first, n],
        )
        c.execute(
            """INSERT INTO loans_loan (enterprise_id, bank_id, loan_no, amount, disbursed_on,
                                       matures_on, product, guarantee, rate, is_renewal,
                                       renews_loan_no)
               SELECT %s + i * 10 - 1, 'B1', 'L' || i, 100, DATE '2024-01-01',
                      DATE '2026-01-01', 'working_capital', 'credit', NULL, false, ''
               FROM generate_series(1, %s) i""",
            [first, n // 10],
        )
        c.execute(
            """INSERT INTO visits_visit (enterprise_id, round, visited_on, method, status,
                   township_worker_name, bank_officer_name, has_need, need_amount,
                   need_purpose, acceptable_guarantees, intent, problems, note, version,
                   created_at, updated_at)
               SELECT %s + mod(i::bigint * 7919, %s), 'first',
                      DATE '2025-01-01' + mod(i, 170), 'on_site', 'completed', '', '',
                      mod(i, 3) = 0, CASE WHEN mod(i, 3) = 0 THEN 100 END,
                      CASE WHEN mod(i, 3) = 0 THEN 'working_capital' ELSE '' END,
                      '[]', '', '[]', '', 1, now(), now()
               FROM generate_series(1, %s) i""",
            [first, n, visits],
        )
        c.execute(
            """INSERT INTO visits_application (enterprise_id, status, checks, check_note,
                                               version, created_at)
               SELECT %s + i * 50 - 1, 'pending', '{}', '', 1, now()
               FROM generate_series(1, %s) i""",
            [first, n // 50],
        )
        c.execute("ANALYZE")


def full_rebuild():
    from screening import services

    t0 = time.perf_counter()
    runs, problems = services.rebuild(None, as_of=AS_OF)
    assert not problems, problems
    return time.perf_counter() - t0, sum(r.counts.get("reserve", 0) for r in runs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=500_000)
    args = parser.parse_args()
    common.ensure_database(DB_NAME)
    import django

    django.setup()
    from django.db import connection

    print(f"building {args.entities:,} enterprises, {args.visits:,} visits …", flush=True)
    t0 = time.perf_counter()
    build(args.entities, args.visits)
    print(f"built in {time.perf_counter() - t0:.1f} s")
    with connection.cursor() as c:
        c.execute("CREATE TEMP TABLE keep_v AS SELECT * FROM visits_visit")
        c.execute("CREATE TEMP TABLE keep_a AS SELECT * FROM visits_application")
    full_rebuild()  # warm-up (first run: no diff)
    timings = {"without visits (baseline)": [], "with visits": []}
    reserve = {}
    for _round in range(2):
        with connection.cursor() as c:
            c.execute("TRUNCATE visits_application, visits_visit CASCADE")
        seconds, reserve["without visits (baseline)"] = full_rebuild()
        timings["without visits (baseline)"].append(seconds)
        with connection.cursor() as c:
            c.execute("INSERT INTO visits_visit SELECT * FROM keep_v")
            c.execute("INSERT INTO visits_application SELECT * FROM keep_a")
            c.execute("ANALYZE visits_visit, visits_application")
        seconds, reserve["with visits"] = full_rebuild()
        timings["with visits"].append(seconds)
    for name, values in timings.items():
        shown = ", ".join(f"{v:.1f}" for v in values)
        print(f"full rebuild {name}: {shown} s (best {min(values):.1f}); reserve {reserve[name]:,}")
    base, new = min(timings["without visits (baseline)"]), min(timings["with visits"])
    print(f"ratio with / without visits: {new / base:.2f}")


if __name__ == "__main__":
    main()
