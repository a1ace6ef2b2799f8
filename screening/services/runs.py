"""Claiming, building, switching and cleaning up screening runs."""

import logging
from datetime import date, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.choices import RegionLevel
from enterprises.models import Region

from ..choices import RunStatus
from ..models import ListChange, ListExclusion, ListMembership, RuleSet, ScreeningRun

logger = logging.getLogger(__name__)

# A run still "running" after this long lost its worker; it no longer blocks new runs.
STALE_AFTER = timedelta(hours=2)
# Succeeded runs whose rows are kept per region (the current one and the one it is diffed to).
KEEP_RUNS = 2


class RunOverlap(Exception):
    """Another run of the same region is in progress (message is translated)."""


def counties_for(region):
    """The counties a rebuild of ``region`` covers (None: every county)."""
    if region is None:
        return list(Region.objects.filter(level=RegionLevel.COUNTY).order_by("code"))
    if region.level == RegionLevel.COUNTY:
        return [region]
    if region.level == RegionLevel.TOWNSHIP:
        return [region.parent]
    return list(
        Region.objects.filter(
            level=RegionLevel.COUNTY, code__startswith=region.scope_prefix
        ).order_by("code")
    )


def first_loan_period(rule_set, today):
    start = rule_set.first_loan_period_start or date(today.year, 1, 1)
    end = rule_set.first_loan_period_end or today
    return start, end


def rebuild(region=None, *, user=None, job=None, as_of=None):
    """Rebuild every county in ``region`` one after the other; returns the runs.

    A county whose run is refused (overlap) or fails is reported in the result and does not
    stop the others.
    """
    runs, problems = [], []
    counties = counties_for(region)
    as_of = as_of or timezone.localdate()
    # Several counties in one session (CLI, nightly in-process): gather the facts once.
    shared = len(counties) > 1 and connection.vendor == "postgresql"
    if shared:
        from . import sql

        prefix = region.scope_prefix if region is not None else ""
        sql.prepare_shared_facts(prefix, as_of, RuleSet.current())
    try:
        return _rebuild_each(counties, runs, problems, user, job, as_of, shared)
    finally:
        if shared:
            sql.drop_shared_facts()


def _rebuild_each(counties, runs, problems, user, job, as_of, shared):
    for done, county in enumerate(counties, start=1):
        try:
            runs.append(
                rebuild_region(county, user=user, job=job, as_of=as_of, shared_facts=shared)
            )
        except RunOverlap as exc:
            problems.append(str(exc))
        except Exception as exc:  # the run is already recorded as failed
            problems.append(f"{county.name}: {exc}")
        if job is not None:
            job.report(done=done, total=len(counties), step=county.name)
    return runs, problems


def rebuild_region(
    county,
    *,
    user=None,
    job=None,
    as_of=None,
    engine=None,
    before_switch=None,
    shared_facts=False,
):
    """Build all lists of ``county`` as a new run and make it current, atomically.

    Readers keep seeing the previous run until the new one is complete. A failure leaves the
    previous run current and this one marked failed. Raises ``RunOverlap`` when another run of
    the county is in progress.
    """
    if county.level == RegionLevel.TOWNSHIP:
        county = county.parent
    as_of = as_of or timezone.localdate()
    rule_set = RuleSet.current()
    run = _claim(county, rule_set, user=user, job=job, as_of=as_of)
    engine = engine or ("sql" if connection.vendor == "postgresql" else "python")
    try:
        with transaction.atomic():
            previous = (
                ScreeningRun.objects.select_for_update()
                .filter(region=county, is_current=True)
                .first()
            )
            if engine == "sql":
                from . import sql as builder
            else:
                from . import portable as builder
            counts = builder.build(run, rule_set, previous, shared=shared_facts and engine == "sql")
            if before_switch is not None:
                before_switch(run)
            ScreeningRun.objects.filter(region=county, is_current=True).update(is_current=False)
            ScreeningRun.objects.filter(pk=run.pk).update(
                status=RunStatus.SUCCEEDED,
                is_current=True,
                previous=previous,
                finished_at=timezone.now(),
                counts=counts,
            )
    except Exception as exc:
        logger.exception("screening run %s of %s failed", run.pk, county.code)
        ScreeningRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise
    run.refresh_from_db()
    # The switch was an UPDATE: save once so post_save listeners (dashboard caches) hear of it.
    run.save(update_fields=["counts"])
    _clean_up(county)
    return run


def _claim(county, rule_set, *, user, job, as_of):
    """Insert this county's running run; the partial unique index refuses a second one."""
    ScreeningRun.objects.filter(
        region=county, status=RunStatus.RUNNING, started_at__lt=timezone.now() - STALE_AFTER
    ).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        error=_("The run stopped reporting (its worker may have died)."),
    )
    start, end = first_loan_period(rule_set, as_of)
    try:
        with transaction.atomic():
            return ScreeningRun.objects.create(
                region=county,
                status=RunStatus.RUNNING,
                rule_set=rule_set,
                job=job,
                created_by=user if user is not None and user.is_authenticated else None,
                as_of=as_of,
                period_start=start,
                period_end=end,
                started_at=timezone.now(),
            )
    except IntegrityError:
        other = ScreeningRun.objects.filter(region=county, status=RunStatus.RUNNING).first()
        raise RunOverlap(
            _(
                "A screening run for {region} is already in progress (run #{run}, started "
                "{started}). Wait for it to finish, then try again."
            ).format(
                region=county.name,
                run=other.pk if other else "?",
                started=timezone.localtime(other.started_at).strftime("%Y-%m-%d %H:%M")
                if other and other.started_at
                else "?",
            )
        ) from None


def _clean_up(county):
    """Drop the rows of runs older than the current one and the one it was diffed against."""
    keep = list(
        ScreeningRun.objects.filter(region=county, status=RunStatus.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .values_list("pk", flat=True)[:KEEP_RUNS]
    )
    old = (
        ScreeningRun.objects.filter(region=county)
        .exclude(pk__in=keep)
        .exclude(status=RunStatus.RUNNING)
    )
    old_ids = list(old.values_list("pk", flat=True))
    if not old_ids:
        return
    # Plain SQL: an ORM delete would load and signal every row (dashboards watch memberships).
    with connection.cursor() as cursor:
        for model in (ListMembership, ListExclusion, ListChange):
            cursor.execute(
                f"DELETE FROM {model._meta.db_table} WHERE run_id IN ({', '.join(['%s'] * len(old_ids))})",
                old_ids,
            )
    logger.debug("dropped the rows of runs %s", old_ids)
