"""`make test`: pick the database, then run pytest.

DATABASE_URL when set; else the local PostgreSQL on 127.0.0.1:5432 when it answers; else
SQLite (tests that need PostgreSQL or Redis are then skipped with a visible reason).
"""

import os
import subprocess
import sys

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/rongxie"


def local_postgres_answers():
    try:
        import psycopg

        psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=2
        ).close()
    except Exception:
        return False
    return True


def main():
    env = dict(os.environ)
    if not env.get("DATABASE_URL") and local_postgres_answers():
        env["DATABASE_URL"] = LOCAL_POSTGRES
    where = env.get("DATABASE_URL") or "SQLite (embedded default)"
    print(f"make test: database {where}; Redis {env.get('REDIS_URL') or 'not set'}", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *sys.argv[1:]], env=env)


if __name__ == "__main__":
    sys.exit(main())
