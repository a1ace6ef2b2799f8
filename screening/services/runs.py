"""Claiming, building, switching and cleaning up screening runs."""

import logging
from datetime import date

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.jobs import OutsideProgress, stale_q
from enterprises.choices import RegionLevel
from enterprises.models import Region

from ..choices import RunStatus
from ..models import ListChange, ListExclusion, ListMembership, RuleSet, ScreeningRun

logger = logging.getLogger(__name__)

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
    """Rebuild every county in ``region``; returns ``(runs, problems)``.

    On PostgreSQL the counties are built together: each still gets its own run, claimed on
    its own (a county with a run in progress is refused and reported, the others go on), but
    every list is written for all of them by one statement and all switch at one COMMIT, so
    readers see either every old list or every new one. A failure marks all those runs
    failed and leaves the previous runs current. The portable path builds one county after
    the other, and a failing county does not stop the others.
    """
    counties = counties_for(region)
    as_of = as_of or timezone.localdate()
    if len(counties) > 1 and connection.vendor == "postgresql":
        return _rebuild_together(counties, user, job, as_of)
    runs, problems = [], []
    for done, county in enumerate(counties, start=1):
        try:
            runs.append(rebuild_region(county, user=user, job=job, as_of=as_of))
        except RunOverlap as exc:
            problems.append(str(exc))
        except Exception:  # the run is already recorded as failed
            logger.exception("the screening run of %s failed", county.code)
            problems.append(failed_message(county))
        if job is not None:
            job.report(done=done, total=len(counties), step=county.name)
    return runs, problems


def failed_message(county):
    """What users read of a county whose run failed: the exception itself (it can hold SQL
    and data) goes to the log, which the job keeps for administrators."""
    return _("{region}: the lists could not be rebuilt because of an internal error.").format(
        region=county.name
    )


def _rebuild_together(counties, user, job, as_of):
    rule_set = RuleSet.current()
    runs, problems = [], []
    for county in counties:
        try:
            runs.append(_claim(county, rule_set, user=user, job=job, as_of=as_of))
        except RunOverlap as exc:
            problems.append(str(exc))
        except Exception:  # no run was recorded for this county; the others go on
            logger.exception("claiming a screening run of %s failed", county.code)
            problems.append(failed_message(county))
    # The build is one transaction: its progress goes out on a connection of its own.
    progress = OutsideProgress(job)
    if runs:
        try:
            _build_and_switch(runs, rule_set, "sql", progress=progress)
        except Exception:  # the runs are already recorded as failed
            logger.exception("building the lists of %d counties failed", len(runs))
            problems.extend(failed_message(run.region) for run in runs)
            runs = []
        finally:
            progress.close()
    for run in runs:
        _after_switch(run)
    _clean_up([run.region for run in runs])
    if job is not None:
        job.report(done=4, total=4, step=gettext_lazy("Lists switched"), force=True)
    return runs, problems


def rebuild_region(
    county,
    *,
    user=None,
    job=None,
    as_of=None,
    engine=None,
    before_switch=None,
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
    _build_and_switch([run], rule_set, engine, before_switch)
    _after_switch(run)
    _clean_up([county])
    return run


def _build_and_switch(runs, rule_set, engine, before_switch=None, progress=None):
    """Build the claimed ``runs`` and make each its county's current run, in one transaction."""
    regions = [run.region_id for run in runs]
    try:
        with transaction.atomic():
            previous = {
                p.region_id: p
                for p in ScreeningRun.objects.select_for_update().filter(
                    region_id__in=regions, is_current=True
                )
            }
            pairs = [(run, previous.get(run.region_id)) for run in runs]
            if engine == "sql":
                from . import sql

                counts = sql.build(pairs, rule_set, progress)
            else:
                from . import portable

                counts = {run.pk: portable.build(run, rule_set, prev) for run, prev in pairs}
            if before_switch is not None:
                for run in runs:
                    before_switch(run)
            ScreeningRun.objects.filter(region_id__in=regions, is_current=True).update(
                is_current=False
            )
            finished = timezone.now()
            for run, prev in pairs:
                ScreeningRun.objects.filter(pk=run.pk).update(
                    status=RunStatus.SUCCEEDED,
                    is_current=True,
                    previous=prev,
                    finished_at=finished,
                    counts=counts[run.pk],
                )
    except Exception as exc:
        logger.exception("screening runs %s failed", [run.pk for run in runs])
        ScreeningRun.objects.filter(pk__in=[run.pk for run in runs]).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise


def _after_switch(run):
    # The switch was an UPDATE; the dashboards need no signal for it, because the current
    # runs are part of their data version (dashboards.snapshots.data_version).
    run.refresh_from_db()


def _claim(county, rule_set, *, user, job, as_of):
    """Insert this county's running run; the partial unique index refuses a second one."""
    # A run whose job stopped reporting lost its worker: it no longer blocks new runs (the
    # same rule as for jobs).
    ScreeningRun.objects.filter(stale_q("job__"), region=county).update(
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


def _clean_up(counties):
    """Drop the rows of runs older than the current one and the one it was diffed against."""
    old_ids = []
    for county in counties:
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
        old_ids += old.values_list("pk", flat=True)
    if not old_ids:
        return
    # Plain SQL, one statement per table for every county: an ORM delete would load and
    # signal every row (dashboards watch memberships).
    placeholders = ", ".join(["%s"] * len(old_ids))  # an IN list: SQLite has no = ANY(array)
    with connection.cursor() as cursor:
        for model in (ListMembership, ListExclusion, ListChange):
            cursor.execute(
                f"DELETE FROM {model._meta.db_table} WHERE run_id IN ({placeholders})", old_ids
            )
    logger.debug("dropped the rows of runs %s", old_ids)
