"""Runs: atomic switch, overlap refused, failures keep the old lists, diffs, triggers."""

import threading
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection, connections

from core.choices import JobStatus
from core.models import Job
from enterprises.models import ImportBatch, Region
from enterprises.signals import batch_applied
from screening.models import ListChange, ScreeningRun
from screening.selectors import current_memberships
from screening.services import RunOverlap, counties_for
from tests.factories import (
    LUCHENG,
    LUCHENG_STREET,
    PINGYANG,
    make_census,
    make_enterprise,
    make_negative,
)

from .helpers import codes, members, rebuild


def active_firm(**fields):
    firm = make_enterprise(**fields)
    make_census(firm, census_year=2023)
    return firm


@pytest.mark.django_db
def test_a_succeeded_run_becomes_the_only_current_one(engine):
    active_firm()
    first = rebuild(engine)
    second = rebuild(engine)
    first.refresh_from_db()
    assert (first.is_current, second.is_current) == (False, True)
    assert second.previous_id == first.pk
    assert second.status == "succeeded" and second.rule_set is not None


@pytest.mark.django_db
def test_a_second_run_of_the_same_county_is_refused(engine):
    county = Region.objects.get(code=PINGYANG)
    ScreeningRun.objects.create(region=county, status="running", started_at="2099-01-01T00:00Z")
    with pytest.raises(RunOverlap, match=r"#\d+"):
        rebuild(engine)


@pytest.mark.django_db
def test_a_failed_run_keeps_the_previous_lists(engine):
    firm = active_firm()
    old = rebuild(engine)

    def explode(run):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        rebuild(engine, before_switch=explode)
    failed = ScreeningRun.objects.exclude(pk=old.pk).get()
    assert failed.status == "failed" and "disk full" in failed.error
    assert not failed.memberships.exists()
    old.refresh_from_db()
    assert old.is_current
    assert set(current_memberships("active").values_list("enterprise_id", flat=True)) == {firm.pk}
    # The county is free again: the next run is not refused.
    assert rebuild(engine).is_current


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_readers_see_the_old_lists_until_the_run_commits(regions):
    old_firm = active_firm()
    rebuild()
    new_firm = active_firm()
    seen = {}

    def read_from_another_connection(run):
        def read():
            try:
                seen["during"] = set(
                    current_memberships("active").values_list("enterprise_id", flat=True)
                )
            finally:
                connections.close_all()

        thread = threading.Thread(target=read)
        thread.start()
        thread.join()
        seen["inside"] = members(run, "active")

    rebuild(before_switch=read_from_another_connection)
    assert seen["during"] == {old_firm.pk}
    assert seen["inside"] == {old_firm.pk, new_firm.pk}
    after = set(current_memberships("active").values_list("enterprise_id", flat=True))
    assert after == {old_firm.pk, new_firm.pk}
    assert connection.vendor == "postgresql"


@pytest.mark.django_db
def test_the_diff_lists_who_entered_and_who_left_and_why(engine):
    stays, leaves = active_firm(), active_firm()
    rebuild(engine)
    make_negative(leaves, listed_on=date(2025, 3, 2))
    newcomer = active_firm()
    run = rebuild(engine)
    entered = ListChange.objects.filter(run=run, change="entered")
    left = ListChange.objects.filter(run=run, change="left")
    assert set(entered.filter(list_type="active").values_list("enterprise_id", flat=True)) == {
        newcomer.pk
    }
    gone = left.get(list_type="active")
    assert gone.enterprise_id == leaves.pk
    assert codes(gone.reasons) == ["neg_abnormal_operation"]
    assert codes(left.get(list_type="no_loan").reasons) == [
        "not_active",
        "neg_abnormal_operation",
    ]
    assert not ListChange.objects.filter(run=run, enterprise=stays).exists()
    assert run.counts["entered"] == entered.count() and run.counts["left"] == left.count()


@pytest.mark.django_db
def test_a_city_covers_each_of_its_counties(regions):
    city = Region.objects.get(code="330300")
    assert len(counties_for(city)) == 12
    assert counties_for(Region.objects.get(code="330326100")) == [Region.objects.get(code=PINGYANG)]


@pytest.mark.django_db
def test_the_command_rebuilds_a_region_and_returns_when_done(regions, capsys):
    firm = active_firm()
    active_firm(region=LUCHENG_STREET)
    call_command("rebuild_lists", "--region", PINGYANG)
    run = ScreeningRun.objects.get(is_current=True)
    assert run.region_id == PINGYANG and firm.pk in members(run, "active")
    assert "succeeded" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_command_without_region_rebuilds_every_county(regions):
    active_firm()
    active_firm(region=LUCHENG_STREET)
    call_command("rebuild_lists")
    assert ScreeningRun.objects.filter(is_current=True).count() == 12
    job = Job.objects.get(kind="screening.rebuild")
    assert job.status == JobStatus.SUCCEEDED and job.counts["active"] == 2


@pytest.mark.django_db(transaction=True)
def test_an_applied_import_rebuilds_its_region(regions):
    firm = active_firm()
    batch = ImportBatch.objects.create(
        kind="census", file_name="c.xlsx", file_sha256="x", region_id=PINGYANG
    )
    batch_applied.send(sender=ImportBatch, batch=batch)
    job = Job.objects.get(kind="screening.rebuild")
    assert job.region_id == PINGYANG and job.status == JobStatus.SUCCEEDED
    assert firm.pk in members(ScreeningRun.objects.get(is_current=True), "active")


def rebuild_city(as_of=date(2025, 6, 30)):
    from screening.services import rebuild as rebuild_many

    return rebuild_many(Region.objects.get(code="330300"), as_of=as_of)


@pytest.mark.django_db
def test_a_city_rebuild_gives_each_county_its_own_run_and_diff(regions):
    moving = active_firm(region=LUCHENG_STREET)
    stays = active_firm()
    runs, problems = rebuild_city()
    assert not problems and len(runs) == 12
    by_county = {run.region_id: run for run in runs}
    assert members(by_county[LUCHENG], "active") == {moving.pk}
    assert members(by_county[PINGYANG], "active") == {stays.pk}
    assert by_county[PINGYANG].counts["registered"] == 1
    # The firm moves from Lucheng to Pingyang: it leaves one county's list and enters the other.
    type(moving).objects.filter(pk=moving.pk).update(region_id="330326100")
    runs, problems = rebuild_city()
    by_county = {run.region_id: run for run in runs}
    left = ListChange.objects.get(run=by_county[LUCHENG], list_type="active")
    assert (left.change, left.enterprise_id, codes(left.reasons)) == (
        "left",
        moving.pk,
        ["left_region"],
    )
    entered = ListChange.objects.get(run=by_county[PINGYANG], list_type="active")
    assert (entered.change, entered.enterprise_id) == ("entered", moving.pk)
    assert by_county[PINGYANG].counts["entered"] >= 1 and by_county[LUCHENG].counts["left"] >= 1
    assert ScreeningRun.objects.filter(is_current=True).count() == 12


@pytest.mark.django_db
def test_a_city_rebuild_skips_only_the_county_in_progress(regions):
    active_firm()
    busy = Region.objects.get(code=LUCHENG)
    ScreeningRun.objects.create(region=busy, status="running", started_at="2099-01-01T00:00Z")
    runs, problems = rebuild_city()
    assert len(runs) == 11 and len(problems) == 1 and busy.name in problems[0]
    assert not ScreeningRun.objects.filter(region=busy, is_current=True).exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_failed_city_rebuild_keeps_every_previous_run(regions, monkeypatch):
    from screening.services import sql

    firm = active_firm()
    old_runs, _problems = rebuild_city()
    real_build = sql.build

    def build_then_fail(pairs, rule_set, progress=None):
        real_build(pairs, rule_set, progress)  # rows written, then the transaction rolls back
        raise RuntimeError("disk full")

    monkeypatch.setattr(sql, "build", build_then_fail)
    runs, problems = rebuild_city()
    assert runs == [] and len(problems) == 12
    # Users read a plain message; the exception goes to the log (the job's, for admins).
    assert problems[0] == "鹿城区：因内部错误，名单未能重建。"
    failed = ScreeningRun.objects.exclude(pk__in=[run.pk for run in old_runs])
    assert failed.count() == 12 and set(failed.values_list("status", flat=True)) == {"failed"}
    assert not ListChange.objects.filter(run__in=failed).exists()
    assert set(ScreeningRun.objects.filter(is_current=True)) == set(old_runs)
    assert set(current_memberships("active").values_list("enterprise_id", flat=True)) == {firm.pk}
