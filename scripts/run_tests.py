"""`make test`: pick the database and the broker, then run pytest.

DATABASE_URL when set; else the local PostgreSQL on 127.0.0.1:5432 when it answers; else
SQLite. REDIS_URL the same way: when set; else the local Redis on 127.0.0.1:6379 when it
answers; else none. Tests that need a missing service are skipped with a visible reason.
"""

import os
import socket
import subprocess
import sys

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/rongxie"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


def local_postgres_answers():
    try:
        import psycopg

        psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=2
        ).close()
    except Exception:
        return False
    return True


def local_redis_answers(host="127.0.0.1", port=6379):
    """A PING answered by PONG (plain socket: the check needs no package)."""
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def services_environment(
    environ, postgres_answers=local_postgres_answers, redis_answers=local_redis_answers
):
    """The environment pytest runs in: the given one, plus the local services that answer."""
    env = dict(environ)
    if not env.get("DATABASE_URL") and postgres_answers():
        env["DATABASE_URL"] = LOCAL_POSTGRES
    if not env.get("REDIS_URL") and redis_answers():
        env["REDIS_URL"] = LOCAL_REDIS
    return env


def main():
    env = services_environment(os.environ)
    where = env.get("DATABASE_URL") or "SQLite (embedded default)"
    redis = env.get("REDIS_URL") or "none (tests that need it are skipped)"
    print(f"make test: database {where}; Redis {redis}", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *sys.argv[1:]], env=env)


if __name__ == "__main__":
    sys.exit(main())
