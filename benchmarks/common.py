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
