"""Feedback of an assigned bank, the clocks and the hand-off to the backup bank."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.choices import Role
from banks.choices import AssignmentStatus, HandOffCause
from banks.models import AllocationRules, BankAssignment, BankFeedback, HandOff
from banks.services.feedback import record_feedback
from banks.services.handoff import hand_off
from core import jobs
from tests.factories import LUCHENG_STREET, PINGYANG, make_enterprise, make_user

from .pairs import make_pair

pytestmark = pytest.mark.django_db

FRI = date(2025, 9, 26)  # before the 2025 National Day break
SAT = date(2025, 9, 27)  # an ordinary Saturday
SUN_WORKED = date(2025, 9, 28)  # 调休: a working Sunday


def reload(*rows):
    for row in rows:
        row.refresh_from_db()


def test_the_officer_of_the_branch_answers_and_the_clock_stops(cast):
    lead, backup = make_pair(cast.bank, cast.other_bank, due_on=FRI)

    feedback = record_feedback(cast.officer, lead, "contacted", "电话联系了财务")

    reload(lead)
    assert lead.status == AssignmentStatus.CONTACTED
    assert (feedback.assignment, feedback.created_by, feedback.reason) == (
        lead,
        cast.officer,
        "电话联系了财务",
    )
    # answered: no longer pending, so the deadline no longer hands it off
    assert hand_off(date(2025, 10, 13)) == {"handed_off": 0, "ended": 0}
    reload(lead, backup)
    assert (lead.status, backup.status) == (AssignmentStatus.CONTACTED, AssignmentStatus.WAITING)


def test_only_the_assigned_bank_may_answer(cast):
    lead, _backup = make_pair(cast.bank, cast.other_bank, due_on=FRI)
    other_officer = make_user("ra", Role.BANK_OFFICER, bank=cast.other_bank)
    for user in (cast.staff, cast.admin, cast.partner, other_officer):
        with pytest.raises(PermissionDenied):
            record_feedback(user, lead, "contacted")
    assert not BankFeedback.objects.exists()
    reload(lead)
    assert lead.status == AssignmentStatus.PENDING


def test_a_bank_token_with_report_answers_for_its_bank(cast):
    lead, _backup = make_pair(cast.bank, cast.other_bank, due_on=FRI)
    viewer = make_user("bank-view", Role.PARTNER, bank=cast.bank, api_scopes="view")
    reporter = make_user("bank-report", Role.PARTNER, bank=cast.bank, api_scopes="view,report")
    with pytest.raises(PermissionDenied):
        record_feedback(viewer, lead, "accepted")
    record_feedback(reporter, lead, "accepted")
    reload(lead)
    assert lead.status == AssignmentStatus.ACCEPTED


def test_a_standing_by_backup_has_nothing_to_answer_yet(cast):
    _lead, backup = make_pair(cast.other_bank, cast.bank, due_on=FRI)
    with pytest.raises(ValidationError) as error:
        record_feedback(cast.officer, backup, "contacted")
    assert list(error.value.message_dict) == ["status"]


def test_declining_needs_a_reason_and_hands_off_at_once(cast):
    lead, backup = make_pair(cast.bank, cast.other_bank, due_on=date(2099, 1, 1))
    overdue, waiting = make_pair(cast.bank, cast.other_bank, due_on=FRI)
    with pytest.raises(ValidationError) as error:
        record_feedback(cast.officer, lead, "declined", "  ", decline_reason="not_eligible")
    assert list(error.value.message_dict) == ["reason"]
    with pytest.raises(ValidationError) as error:
        record_feedback(cast.officer, lead, "handed_off")
    assert list(error.value.message_dict) == ["status"]

    record_feedback(cast.officer, lead, "declined", "资产负债率过高", decline_reason="not_eligible")

    reload(lead, backup)
    assert lead.status == AssignmentStatus.HANDED_OFF
    assert backup.status == AssignmentStatus.PENDING
    assert backup.due_on is not None
    handoff = HandOff.objects.get()
    assert (handoff.from_assignment, handoff.to_assignment, handoff.cause) == (
        lead,
        backup,
        HandOffCause.DECLINED,
    )
    assert BankFeedback.objects.get().reason == "资产负债率过高"
    # only this enterprise: another one's overdue lead waits for the daily job
    reload(overdue, waiting)
    assert (overdue.status, waiting.status) == (AssignmentStatus.PENDING, AssignmentStatus.WAITING)


def test_each_county_starts_the_backup_clock_with_its_own_working_days(cast):
    AllocationRules.objects.create(region_id=PINGYANG, feedback_working_days=2)
    _pingyang_lead, pingyang_backup = make_pair(cast.bank, cast.other_bank, due_on=FRI)
    _lucheng_lead, lucheng_backup = make_pair(
        cast.bank, cast.other_bank, due_on=FRI, enterprise=make_enterprise(LUCHENG_STREET)
    )
    assert hand_off(SUN_WORKED) == {"handed_off": 2, "ended": 0}
    reload(pingyang_backup, lucheng_backup)
    assert pingyang_backup.due_on == date(2025, 9, 30)  # 2 working days: 29, 30 September
    # 鹿城区 has no rules of its own: the default 7 (29, 30 Sep, 9, 10, 11, 13, 14 Oct)
    assert lucheng_backup.due_on == date(2025, 10, 14)


def test_a_deadline_runs_out_on_the_next_working_day_across_a_adjusted_weekend(cast):
    AllocationRules.objects.create(region_id=PINGYANG, feedback_working_days=5)
    lead, backup = make_pair(cast.bank, cast.other_bank, due_on=FRI)

    # due on Friday: still in time that day, and nothing is late on an ordinary Saturday
    assert hand_off(FRI) == {"handed_off": 0, "ended": 0}
    assert hand_off(SAT) == {"handed_off": 0, "ended": 0}
    reload(lead, backup)
    assert (lead.status, backup.status) == (AssignmentStatus.PENDING, AssignmentStatus.WAITING)

    # Sunday 28 September 2025 is a working day (调休): the clock has run out
    assert hand_off(SUN_WORKED) == {"handed_off": 1, "ended": 0}
    reload(lead, backup)
    assert lead.status == AssignmentStatus.HANDED_OFF
    assert backup.status == AssignmentStatus.PENDING
    # the county's 5 working days from Sunday 28th: 29, 30 September, then 1–8 October off,
    # 9, 10, 11 (a worked Saturday)
    assert backup.due_on == date(2025, 10, 11)
    handoff = HandOff.objects.get()
    assert (handoff.cause, handoff.to_assignment) == (HandOffCause.DEADLINE, backup)

    # a second run the same day does nothing twice
    assert hand_off(SUN_WORKED) == {"handed_off": 0, "ended": 0}
    # the backup's own clock: due Saturday 11 October, late on Monday 13th
    assert hand_off(date(2025, 10, 11)) == {"handed_off": 0, "ended": 0}
    assert hand_off(date(2025, 10, 12)) == {"handed_off": 0, "ended": 0}  # a Sunday off
    assert hand_off(date(2025, 10, 13)) == {"handed_off": 0, "ended": 1}
    end = HandOff.objects.get(from_assignment=backup)
    assert (end.to_assignment, end.cause) == (None, HandOffCause.DEADLINE)
    reload(backup)
    assert backup.status == AssignmentStatus.PENDING  # recorded, not handed further
    assert hand_off(date(2025, 10, 14)) == {"handed_off": 0, "ended": 0}


def test_declined_by_both_is_recorded_and_goes_no_further(cast):
    lead, backup = make_pair(cast.other_bank, cast.bank, due_on=FRI)
    hand_off(SUN_WORKED)
    reload(backup)
    assert backup.status == AssignmentStatus.PENDING

    record_feedback(cast.officer, backup, "declined", "无经营场所", decline_reason="not_eligible")

    reload(lead, backup)
    assert (lead.status, backup.status) == (
        AssignmentStatus.HANDED_OFF,
        AssignmentStatus.DECLINED,
    )
    end = HandOff.objects.get(from_assignment=backup)
    assert (end.to_assignment, end.cause) == (None, HandOffCause.DECLINED)


def test_the_daily_job_hands_off(cast):
    lead, _backup = make_pair(cast.bank, cast.other_bank, due_on=FRI)
    job = jobs.run_now("banks.hand_off", params={"today": "2025-09-29"})
    assert job.status == "succeeded"
    assert job.counts == {"handed_off": 1, "ended": 0}
    assert BankAssignment.objects.get(pk=lead.pk).status == AssignmentStatus.HANDED_OFF


def test_the_beat_schedule_runs_the_hand_off_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["banks-daily-hand-off"]
    assert entry["task"] == "banks.tasks.daily_hand_off"
    from banks.tasks import daily_hand_off

    job_id = daily_hand_off()
    from core.models import Job

    assert Job.objects.get(pk=job_id).kind == "banks.hand_off"


def test_feedback_and_the_status_it_sets_are_in_the_change_history(cast):
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from core.history import acting_as

    lead, _backup = make_pair(cast.bank, cast.other_bank, due_on=FRI)
    with acting_as(cast.officer):
        feedback = record_feedback(cast.officer, lead, "contacted", "电话联系了财务")

    created = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(BankFeedback), object_pk=str(feedback.pk)
    )
    assert created.actor == cast.officer
    assert created.changes_dict["status"] == [None, "contacted"]
    changed = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(BankAssignment), object_pk=str(lead.pk)
    ).latest("timestamp")
    assert changed.changes_dict["status"] == ["pending", "contacted"]
