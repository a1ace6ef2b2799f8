"""Shared fixtures: the region table, a cast of users per role, service checks.

In CI (CI=true) PostgreSQL and Redis are required: a missing service fails the run loudly
instead of skipping tests.
"""

import os

import pytest
from django.conf import settings

from tests import factories

REQUIRE_SERVICES = os.environ.get("CI", "").lower() in {"1", "true", "yes"} or os.environ.get(
    "RONGXIE_REQUIRE_SERVICES"
)


def _redis_answers():
    url = settings.REDIS_URL
    if not url:
        return False
    import redis

    try:
        return redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return False


def pytest_sessionstart(session):
    if not REQUIRE_SERVICES:
        return
    problems = []
    if not settings.IS_POSTGRES:
        problems.append("DATABASE_URL does not point to PostgreSQL")
    if not _redis_answers():
        problems.append(f"Redis does not answer at REDIS_URL={settings.REDIS_URL!r}")
    if problems:
        pytest.exit("CI needs its services: " + "; ".join(problems), returncode=3)


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and not settings.IS_POSTGRES:
        if REQUIRE_SERVICES:
            pytest.fail("this test needs PostgreSQL (DATABASE_URL)")
        pytest.skip("needs PostgreSQL: set DATABASE_URL or start PostgreSQL on 127.0.0.1:5432")
    if item.get_closest_marker("redis") and not _redis_answers():
        if REQUIRE_SERVICES:
            pytest.fail("this test needs Redis (REDIS_URL)")
        pytest.skip("needs Redis: set REDIS_URL to a running Redis")


@pytest.fixture
def regions(db):
    """The Wenzhou region table (province, city, 12 counties, their townships)."""
    factories.load_test_regions()


@pytest.fixture
def cast(regions):
    """One user per role: the fixed cast every scoping test uses (see factories.Cast)."""
    return factories.Cast.create()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The cast creates eight users per test; real PBKDF2 would make that seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def jobs_run_in_process():
    """Jobs run in-process in tests, as in the embedded default, even when REDIS_URL is set.

    In the calling thread, as in management commands: a job queued by a request has finished
    when its commit hook ran. The web process's worker thread (core.worker) is off unless a
    test turns it on (tests/core/test_jobs.py ``worker_thread``); tests that need a real
    Celery worker (marked ``redis``) switch Celery to the broker themselves.
    """
    from config.celery import app as celery_app

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def redis_worker(settings):
    """A real Celery worker (in a thread) on the Redis broker, for tests marked ``redis``."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app as celery_app

    celery_app.conf.update(task_always_eager=False, broker_url=settings.REDIS_URL)
    try:
        with start_worker(
            celery_app,
            perform_ping_check=False,
            pool="solo",
            loglevel="WARNING",
            shutdown_timeout=10,
        ):
            yield
    finally:
        celery_app.conf.update(task_always_eager=True, broker_url=settings.CELERY_BROKER_URL)
