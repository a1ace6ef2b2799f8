"""Speed of the ``feedback`` import (银行反馈): N rows of a bank report against the bare SQL of
the same writes.

Usage:  .venv/bin/python benchmarks/feedback_import.py [--rows N]

Builds a separate PostgreSQL database ``rongxie_bench_feedback2`` (or ``$BENCH_DB_NAME``): N
enterprises of 平阳县 (default 100,000), each with a pending lead at a branch I1-1…I6-30 and a
standing-by backup. A CSV in the contract's format gives one answer per lead (已联系 / 已受理 /
已授信 / 需协调, and one in twenty 不予授信 with its reason, which hands off to the backup).

- (a) baseline: the same file COPYed bare into a temporary table, then one INSERT … SELECT of
  the feedback rows (joining the enterprises by USCC and the assignments) and one UPDATE of
  the assignments' status, committed;
- (b) ``import_file("feedback", …)``: read, normalise and check every row, stage, the
  set-based checks (USCC, bank, assignment, closed ones, existing answers), the writes, the
  hand-off of the declined ones, committed.
Prints both times and the ratio b/a.
"""

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

import common

DB_NAME = os.environ.get("BENCH_DB_NAME", "rongxie_bench_feedback2")
common.use_database(DB_NAME)
os.environ.setdefault("IMPORT_MAX_UPLOAD_MB", "2000")
COUNTY = "330326"
RESULTS = ["已联系", "已受理", "已授信", "需协调"]


def build(n):
    from django.db import connection

    townships = common.migrated_townships(COUNTY)
    with connection.cursor() as c:
        c.execute(
            "TRUNCATE banks_handoff, banks_bankfeedback, banks_bankassignment, "
            "banks_bank_service_regions, banks_bank, enterprises_enterprise CASCADE"
        )
        common.insert_bank_tree(c)
        common.insert_enterprises(c, townships, n)
        common.give_valid_usccs(c)
        c.execute(
            """INSERT INTO banks_bankassignment (enterprise_id, bank_id, role, assigned_at,
                   status, due_on, explanation, override_reason)
               SELECT e.id, 'I' || (1 + mod(e.id, 6)) || '-' || (1 + mod(e.id, 30)),
                      'lead', now(), 'pending', DATE '2099-01-01', '{}', ''
               FROM enterprises_enterprise e"""
        )
        c.execute(
            """INSERT INTO banks_bankassignment (enterprise_id, bank_id, role, assigned_at,
                   status, due_on, explanation, override_reason)
               SELECT e.id, 'I' || (7 + mod(e.id, 6)) || '-' || (1 + mod(e.id, 30)),
                      'backup', now(), 'waiting', NULL, '{}', ''
               FROM enterprises_enterprise e"""
        )
        c.execute("ANALYZE")
        c.execute(
            "SELECT e.uscc, a.bank_id FROM banks_bankassignment a "
            "JOIN enterprises_enterprise e ON e.id = a.enterprise_id "
            "WHERE a.role = 'lead' ORDER BY a.id"
        )
        return c.fetchall()


def write_file(path, leads):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["统一社会信用代码", "银行机构代码", "反馈日期", "反馈结果", "不予授信原因", "说明"]
        )
        for i, (uscc, bank) in enumerate(leads):
            if i % 20 == 0:
                writer.writerow([uscc, bank, "2025-06-01", "不予授信", "担保不足", "无抵押物"])
            else:
                writer.writerow([uscc, bank, "2025-06-01", RESULTS[i % 4], "", "月度反馈"])


def reset():
    from django.db import connection

    with connection.cursor() as c:
        c.execute("DELETE FROM banks_handoff")
        c.execute("DELETE FROM banks_bankfeedback")
        c.execute(
            "UPDATE banks_bankassignment SET status = CASE role WHEN 'lead' THEN 'pending' "
            "ELSE 'waiting' END, decided_on = NULL, due_on = CASE role WHEN 'lead' "
            "THEN DATE '2099-01-01' END"
        )
        c.execute("VACUUM ANALYZE banks_bankassignment")
        c.execute("VACUUM ANALYZE banks_bankfeedback")


CODES = {
    "已联系": "contacted",
    "已受理": "accepted",
    "已授信": "credited",
    "需协调": "needs_coordination",
    "不予授信": "declined",
}


def baseline(path):
    from django.db import connection, transaction

    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in CODES.items())
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as c:
        c.execute(
            "CREATE TEMP TABLE bare (uscc text, bank_code text, feedback_on date, result text, "
            "decline_reason text, note text) ON COMMIT DROP"
        )
        with (
            open(path, encoding="utf-8") as handle,
            c.cursor.copy("COPY bare FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            copy.write(handle.read())
        c.execute(
            "INSERT INTO banks_bankfeedback (assignment_id, status, reason, decline_reason, "
            "credit_product, feedback_on, created_at) "
            f"SELECT a.id, CASE s.result {cases} END, COALESCE(s.note, ''), "
            "CASE WHEN s.decline_reason = '担保不足' THEN 'insufficient_collateral' ELSE '' END, "
            "'', s.feedback_on, now() FROM bare s "
            "JOIN enterprises_enterprise e ON e.uscc = s.uscc "
            "JOIN banks_bankassignment a ON a.enterprise_id = e.id AND a.bank_id = s.bank_code"
        )
        c.execute(
            f"UPDATE banks_bankassignment a SET status = CASE s.result {cases} END FROM bare s "
            "JOIN enterprises_enterprise e ON e.uscc = s.uscc "
            "WHERE a.enterprise_id = e.id AND a.bank_id = s.bank_code"
        )
    return time.perf_counter() - t0


def full(path):
    from enterprises.importing import import_file
    from enterprises.signals import batch_applied

    t0 = time.perf_counter()
    with batch_applied.muted():  # no list rebuild: a feedback file changes no list
        batch = import_file("feedback", path, force=True)
    elapsed = time.perf_counter() - t0
    assert batch.status == "applied" and batch.rows_failed == 0, batch.message
    return elapsed, batch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    common.ensure_database(DB_NAME)
    import django

    django.setup()
    leads = build(args.rows)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "feedback.csv"
        write_file(path, leads)
        reset()
        bare = baseline(path)
        reset()
        elapsed, batch = full(path)
    print(
        f"feedback import of {args.rows:,} rows: {elapsed:.2f} s "
        f"(created {batch.rows_created:,}); bare COPY + INSERT + UPDATE {bare:.2f} s; "
        f"ratio {elapsed / bare:.2f}x"
    )


if __name__ == "__main__":
    main()
