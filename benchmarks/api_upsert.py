"""Speed of the idempotent bank API: 10,000 loans upserted through ``POST /api/v1/loans/`` in
batches, against the bare ``INSERT … ON CONFLICT DO UPDATE … WHERE the row differs`` of the
same rows (issue 15: goal ≤ 3×).

Usage:  .venv/bin/python benchmarks/api_upsert.py [--loans N] [--batch B] [--runs R]

Builds a separate PostgreSQL database ``rongxie_bench_api_upsert``: N enterprises of 平阳县,
the bank tree of benchmarks/common.py and a bank token of institution I1 (its branches are in
its scope) with the ``report`` right. Each run empties the loan table and times
- the first send: N loans of branch I1-1 POSTed in batches of B through Django's test client
  (token authentication, JSON parsing, validation, scope checks, the upsert: server time);
- the re-send of the same batches (every record unchanged: nothing written);
against, as baselines, the same two passes as bare SQL — one ``INSERT … SELECT FROM unnest(…)
ON CONFLICT … DO UPDATE … WHERE …`` per batch with the enterprise ids already known.

As in production, a Celery worker (a subprocess, on Redis db 11) runs the follow-up job each
written batch queues (first loans, stages, maturity watch): the answer does not wait for it.
The benchmark also reports how long those jobs took and checks that every enterprise with a
loan has its stage once they are done. The last line prints the figures and ratios.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import common

DB_NAME = "rongxie_bench_api_upsert"
common.use_database(DB_NAME)
BROKER = "redis://127.0.0.1:6379/11"
os.environ["REDIS_URL"] = BROKER  # jobs go to the worker, as in production
COUNTY = "330326"


def build(n):
    from django.db import connection

    townships = common.migrated_townships(COUNTY)
    with connection.cursor() as c:
        c.execute(
            "TRUNCATE loans_loan, loans_creditapproval, banks_bank_service_regions, banks_bank, "
            "enterprises_enterprise, authtoken_token, core_idempotencykey CASCADE"
        )
        common.insert_bank_tree(c, institutions=2, branches=5)
        common.insert_enterprises(c, townships, n)
        c.execute("DELETE FROM accounts_user WHERE username = 'bench-bank'")
    from rest_framework.authtoken.models import Token

    from accounts.choices import Role
    from accounts.models import User

    user = User.objects.create_user(
        "bench-bank",
        role=Role.PARTNER,
        region_id=COUNTY,
        bank_id="I1",
        api_scopes="view,report",
    )
    return Token.objects.create(user=user).key


def records(n):
    from enterprises.models import Enterprise

    usccs = list(Enterprise.objects.order_by("id").values_list("uscc", flat=True)[:n])
    return [
        {
            "bank_code": "I1-1",
            "loan_no": f"L{i:08d}",
            "uscc": usccs[i % len(usccs)],
            "disbursed_on": "2025-03-01",
            "matures_on": "2026-02-28",
            "amount": f"{100 + i % 400}",
            "balance": f"{50 + i % 300}",
            "product": "working_capital",
            "guarantee": "surety" if i % 3 else "credit",
            "rate": "3.45",
        }
        for i in range(n)
    ]


def through_api(token, batches):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    bodies = [json.dumps(batch) for batch in batches]
    started = time.perf_counter()
    for body in bodies:
        response = client.post("/api/v1/loans/", body, content_type="application/json")
        assert response.status_code in (200, 201), response.content[:500]
    return time.perf_counter() - started


BARE = """
INSERT INTO loans_loan (bank_id, loan_no, enterprise_id, disbursed_on, matures_on, amount,
    balance, product, guarantee, rate, is_renewal, renews_loan_no)
SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::date[], %s::date[],
    %s::numeric[], %s::numeric[], %s::text[], %s::text[], %s::numeric[], %s::boolean[],
    %s::text[]) WHERE true
ON CONFLICT (bank_id, loan_no) DO UPDATE SET enterprise_id = excluded.enterprise_id,
    disbursed_on = excluded.disbursed_on, matures_on = excluded.matures_on,
    amount = excluded.amount, balance = excluded.balance, product = excluded.product,
    guarantee = excluded.guarantee, rate = excluded.rate, is_renewal = excluded.is_renewal,
    renews_loan_no = excluded.renews_loan_no
WHERE (loans_loan.enterprise_id, loans_loan.disbursed_on, loans_loan.matures_on,
    loans_loan.amount, loans_loan.balance, loans_loan.product, loans_loan.guarantee,
    loans_loan.rate, loans_loan.is_renewal, loans_loan.renews_loan_no)
    IS DISTINCT FROM (excluded.enterprise_id, excluded.disbursed_on, excluded.matures_on,
    excluded.amount, excluded.balance, excluded.product, excluded.guarantee, excluded.rate,
    excluded.is_renewal, excluded.renews_loan_no)
"""


def bare_params(batches):
    from datetime import date
    from decimal import Decimal

    from enterprises.models import Enterprise

    ids = dict(Enterprise.objects.values_list("uscc", "id"))
    params = []
    for batch in batches:
        params.append(
            [
                [r["bank_code"] for r in batch],
                [r["loan_no"] for r in batch],
                [ids[r["uscc"]] for r in batch],
                [date.fromisoformat(r["disbursed_on"]) for r in batch],
                [date.fromisoformat(r["matures_on"]) for r in batch],
                [Decimal(r["amount"]) for r in batch],
                [Decimal(r["balance"]) for r in batch],
                [r["product"] for r in batch],
                [r["guarantee"] for r in batch],
                [Decimal(r["rate"]) for r in batch],
                [False for _r in batch],
                ["" for _r in batch],
            ]
        )
    return params


def bare(params):
    from django.db import connection, transaction

    started = time.perf_counter()
    for batch in params:
        with transaction.atomic(), connection.cursor() as c:  # one commit per batch, as the API
            c.execute(BARE, batch)
    return time.perf_counter() - started


def empty_loans():
    from django.db import connection

    with connection.cursor() as c:
        c.execute("TRUNCATE loans_loan, loans_enterprisestage, loans_stagechange CASCADE")
        c.execute("DELETE FROM core_job")


def start_worker():
    import redis

    redis.Redis.from_url(BROKER).flushdb()  # no task left over from an earlier run
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-l",
         "warning"],
        cwd=common.ROOT,
        env={**os.environ, "DATABASE_URL": f"{common.SERVER}/{DB_NAME}", "REDIS_URL": BROKER},
    )  # fmt: skip


def follow_up_seconds(batches):
    """Wait for the batches' follow-up jobs; the seconds they ran (sum of the jobs' runs)."""
    from core.models import Job
    from loans.models import EnterpriseStage, Loan

    deadline = time.monotonic() + 300
    while Job.objects.exclude(status__in=("succeeded", "failed")).exists():
        assert time.monotonic() < deadline, "follow-up jobs still running after 5 minutes"
        time.sleep(0.2)
    jobs = list(Job.objects.filter(kind="loans.sent_loans"))
    assert len(jobs) == batches and all(j.status == "succeeded" for j in jobs), [
        (j.status, j.error) for j in jobs
    ]
    borrowers = Loan.objects.values("enterprise_id").distinct().count()
    assert EnterpriseStage.objects.count() == borrowers, "an enterprise with a loan has no stage"
    return sum((j.finished_at - j.started_at).total_seconds() for j in jobs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    common.ensure_database(DB_NAME)
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    token = build(args.loans)
    rows = records(args.loans)
    batches = [rows[i : i + args.batch] for i in range(0, len(rows), args.batch)]
    params = bare_params(batches)
    figures = {"api_first": [], "api_again": [], "bare_first": [], "bare_again": []}
    follow_up = []
    worker = start_worker()
    try:
        for _run in range(args.runs):
            empty_loans()
            figures["bare_first"].append(bare(params))
            figures["bare_again"].append(bare(params))
            empty_loans()
            figures["api_first"].append(through_api(token, batches))
            follow_up.append(follow_up_seconds(len(batches)))
            figures["api_again"].append(through_api(token, batches))
    finally:
        worker.terminate()
        worker.wait()
    from loans.models import Loan

    assert Loan.objects.count() == args.loans
    med = {k: statistics.median(v) for k, v in figures.items()}
    for name, values in figures.items():
        print(f"{name}: " + ", ".join(f"{v:.3f} s" for v in values))
    print(
        f"{args.loans:,} loans in batches of {args.batch:,}: first send API "
        f"{med['api_first']:.3f} s vs bare {med['bare_first']:.3f} s = "
        f"{med['api_first'] / med['bare_first']:.2f}×; re-send (no-op) API "
        f"{med['api_again']:.3f} s vs bare {med['bare_again']:.3f} s = "
        f"{med['api_again'] / med['bare_again']:.2f}× (goal ≤ 3×); the first send's "
        f"follow-up jobs on the worker (stages, watch) {statistics.median(follow_up):.3f} s"
    )


if __name__ == "__main__":
    main()
