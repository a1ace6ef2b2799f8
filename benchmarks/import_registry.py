"""Import speed: an N-row registry CSV, bare COPY vs Rongxie's full import.

Usage:  .venv/bin/python benchmarks/import_registry.py N

Uses a separate PostgreSQL database ``rongxie_bench_import`` (or ``$BENCH_DB_NAME``) on the
local server (created and migrated when missing; its enterprise table is emptied at the start). In one run it:

1. generates an N-row registry CSV (valid USCCs, Wenzhou townships, every column of the spec);
2. (a) baseline: a bare ``COPY … FROM STDIN (FORMAT csv)`` of that file into an equivalent
   table with the same indexes as the enterprise table (read from the catalogue at run time);
3. (b) the full import: ``import_file("registry", …)`` — read, normalise, USCC check digits,
   region checks, duplicate keys, COPY into staging, set-based upsert;
4. (c) a re-import of the same rows with 1% changed (names) — must not be slower than (b).

Prints the times, the ratio b/a, and this process's peak memory (ru_maxrss).

With ``--xlsx`` (``import_registry.py 100000 --xlsx``) it instead writes the N rows as .xlsx and
times a bare python-calamine read of the sheet against the full import of the workbook.
"""

import os
import random
import re
import resource
import sys
import time
from pathlib import Path

import common

# BENCH_DB_NAME: another database name, so parallel branches do not share one.
DB_NAME = os.environ.get("BENCH_DB_NAME", "rongxie_bench_import")
common.use_database(DB_NAME)
os.environ.setdefault("IMPORT_MAX_UPLOAD_MB", "2000")

HEADER = (
    "统一社会信用代码,主体名称,主体类型,法定代表人,联系电话,成立日期,注册资本（万元）,"
    "登记状态,行业代码,所在地区划代码,经营地址,从业人数,企业规模"
)
STATUSES = ["存续", "在业", "停业", "吊销", "注销"]
SIZES = ["小型", "微型", "中型", ""]


def generate(path, n, townships, changed_share=0.0, seed=1):
    from enterprises.importing.normalise import _USCC_TABLE, USCC_ALPHABET

    rng = random.Random(seed)
    changed = random.Random(seed + 1)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER + "\n")
        for i in range(n):
            town = townships[i % len(townships)]
            prefix = "91" if i % 4 else "92"
            body = f"{prefix}{town[:6]}{i:09d}"
            total = sum(t[c] for t, c in zip(_USCC_TABLE, body, strict=False))
            uscc = body + USCC_ALPHABET[(31 - total % 31) % 31]
            name = f"温州测试{i}有限公司"
            if changed_share and changed.random() < changed_share:
                name = f"温州测试{i}有限公司（更名）"
            capital = f"{rng.randint(1, 5000)}.{rng.randint(0, 99):02d}"
            fh.write(
                f"{uscc},{name},,张{i % 100},1380000{i % 10000:04d},"
                f"{2000 + i % 25}-{1 + i % 12:02d}-{1 + i % 28:02d},{capital},"
                f"{STATUSES[i % 5]},C{3400 + i % 99},{town},温州市某路{i}号,{i % 300},"
                f"{SIZES[i % 4]}\n"
            )


def bare_copy(path):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute(
            """CREATE TABLE bench_copy (
                id bigserial PRIMARY KEY, uscc varchar(18) NOT NULL,
                name varchar(200) NOT NULL, entity_type varchar(20), legal_rep varchar(100),
                phone varchar(50), established_on date, registered_capital numeric(20,6),
                status varchar(20), industry_code varchar(5), region_id varchar(12),
                address varchar(300), employees integer, size varchar(10))"""
        )
        # The same indexes as the enterprise table has now, whatever they are.
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'enterprises_enterprise' "
            "AND indexname <> 'enterprises_enterprise_pkey'"
        )
        for (definition,) in cursor.fetchall():
            cursor.execute(
                re.sub(r"INDEX (\S+) ON \S+ ", r"INDEX bench_\1 ON bench_copy ", definition)
            )
    start = time.perf_counter()
    with connection.cursor() as cursor, open(path, "rb") as fh:
        columns = (
            "uscc, name, entity_type, legal_rep, phone, established_on, registered_capital, "
            "status, industry_code, region_id, address, employees, size"
        )
        with cursor.cursor.copy(
            f"COPY bench_copy ({columns}) FROM STDIN (FORMAT csv, HEADER true)"
        ) as copy:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
    elapsed = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy")
    return elapsed


def xlsx_run(csv_path, folder):
    import csv

    from openpyxl import Workbook
    from python_calamine import CalamineWorkbook

    from enterprises.importing import import_file

    path = folder / (csv_path.stem + ".xlsx")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    with open(csv_path, encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            sheet.append(row)
    workbook.save(path)
    start = time.perf_counter()
    rows = sum(
        1 for _row in CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows()
    )
    read_s = time.perf_counter() - start
    print(f"(a) bare calamine read of {rows - 1:,} rows: {read_s:.1f} s", flush=True)
    start = time.perf_counter()
    batch = import_file("registry", path)
    import_s = time.perf_counter() - start
    print(
        f"(b) full .xlsx import: {import_s:.1f} s — {batch.status}, created {batch.rows_created:,}"
        f"  ratio b/a = {import_s / read_s:.2f}"
    )


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    common.ensure_database(DB_NAME)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from enterprises.importing import import_file
    from enterprises.signals import batch_applied

    # Time the import alone: the list rebuild and the dashboard refresh an applied batch
    # triggers are background jobs with benchmarks of their own.
    batch_applied.receivers = []
    townships = common.migrated_townships()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE enterprises_enterprise CASCADE")
        cursor.execute("TRUNCATE enterprises_importbatch CASCADE")

    folder = Path(settings.BASE_DIR) / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    first = folder / f"registry-{n}.csv"
    second = folder / f"registry-{n}-changed.csv"
    start = time.perf_counter()
    generate(first, n, townships)
    generate(second, n, townships, changed_share=0.01)
    print(
        f"generated 2 × {n:,} rows in {time.perf_counter() - start:.1f} s "
        f"({first.stat().st_size / 1e6:.0f} MB each)",
        flush=True,
    )

    if "--xlsx" in sys.argv:
        xlsx_run(first, folder)
        return
    copy_s = bare_copy(first)
    print(f"(a) bare COPY into an indexed table: {copy_s:.1f} s", flush=True)

    start = time.perf_counter()
    batch = import_file("registry", first)
    import_s = time.perf_counter() - start
    print(
        f"(b) full import: {import_s:.1f} s — {batch.status}, created {batch.rows_created:,}, "
        f"errors {batch.rows_failed}  ratio b/a = {import_s / copy_s:.2f}",
        flush=True,
    )

    start = time.perf_counter()
    batch = import_file("registry", second)
    again_s = time.perf_counter() - start
    print(
        f"(c) re-import, 1% changed: {again_s:.1f} s — {batch.status}, created "
        f"{batch.rows_created:,}, updated {batch.rows_updated:,}, unchanged "
        f"{batch.rows_unchanged:,}  (c/b = {again_s / import_s:.2f})",
        flush=True,
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (ru_maxrss): {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
