"""What every benchmark shares: a database of its own on the local PostgreSQL, migrated, with
the Wenzhou regions loaded."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"


def use_database(name):
    """Point Django at the benchmark's own database ``name`` (before ``django.setup()``)."""
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"{SERVER}/{name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def ensure_database(name):
    """Create the database ``name`` when it does not exist yet."""
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def migrated_townships(prefix=""):
    """Migrate, load the Wenzhou regions when missing; return the township codes under
    ``prefix``."""
    from django.core.management import call_command

    from enterprises.models import Region
    from enterprises.services.regions import load_regions

    call_command("migrate", verbosity=0)
    if not Region.objects.exists():
        load_regions(ROOT / "data" / "regions-wenzhou.csv")
    return list(
        Region.objects.filter(code__startswith=prefix, level="township").values_list(
            "code", flat=True
        )
    )


def insert_bank_tree(cursor, institutions=12, branches=30, capacity="NULL", focus="'[]'"):
    """Institutions I1…In and their branches I<i>-<b>; ``capacity`` and ``focus`` are SQL
    expressions over ``i`` (institution) and ``b`` (branch)."""
    cursor.execute(
        """INSERT INTO banks_bank (code, name, parent_id, level, capacity, focus_areas, contact)
           SELECT 'I' || i, '机构' || i, NULL, 'legal_person', NULL, '[]', ''
           FROM generate_series(1, %s) i""",
        [institutions],
    )
    cursor.execute(
        f"""INSERT INTO banks_bank (code, name, parent_id, level, capacity, focus_areas, contact)
            SELECT 'I' || i || '-' || b, '机构' || i || '网点' || b, 'I' || i, 'sub_branch',
                   {capacity}, ({focus})::jsonb, ''
            FROM generate_series(1, %s) i, generate_series(1, %s) b""",
        [institutions, branches],
    )


def insert_enterprises(cursor, townships, n):
    """``n`` operating small enterprises spread over ``townships``."""
    cursor.execute(
        """INSERT INTO enterprises_enterprise
             (uscc, name, entity_type, legal_rep, phone, established_on, status,
              industry_code, region_id, address, size, created_at, updated_at)
           SELECT '91' || LPAD(i::text, 16, '0'), '企业' || i, 'enterprise', '', '',
                  DATE '2015-01-01', 'operating', '', (%s::text[])[1 + mod(i, %s)], '',
                  'small', now(), now()
           FROM generate_series(1, %s) i""",
        [townships, len(townships), n],
    )


def valid_uscc(body):
    """``body`` (17 characters) with its GB 32100 check character: the imports check it."""
    from enterprises.importing.normalise import _USCC_TABLE, USCC_ALPHABET

    total = sum(t[c] for t, c in zip(_USCC_TABLE, body, strict=False))
    return body + USCC_ALPHABET[(31 - total % 31) % 31]


def give_valid_usccs(cursor):
    """Replace every enterprise's USCC by a valid one ("91" + its county + its id), for
    benchmarks that import files naming the enterprises."""
    cursor.execute("SELECT id, region_id FROM enterprises_enterprise")
    rows = [(valid_uscc(f"91{region[:6]}{pk:09d}"), pk) for pk, region in cursor.fetchall()]
    cursor.execute("CREATE TEMP TABLE bench_uscc (uscc varchar(18), id bigint)")
    with cursor.copy("COPY bench_uscc (uscc, id) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cursor.execute(
        "UPDATE enterprises_enterprise e SET uscc = b.uscc FROM bench_uscc b WHERE b.id = e.id"
    )
    cursor.execute("DROP TABLE bench_uscc")
