"""The second clock: a credit decision (已授信 or 不予授信) within N calendar days (default 30,
per county) after the bank marks the materials complete; overdue decisions in 待关注 and in
the workspace; recommendation → feedback → hand-off end to end."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from accounts.choices import Role
from banks.choices import AssignmentStatus, HandOffCause
from banks.models import AllocationRules, BankAssignment, HandOff
from banks.services.feedback import record_feedback
from banks.services.handoff import hand_off
from tests.factories import LUCHENG_STREET, PINGYANG, make_enterprise, make_user

from .pairs import make_pair

pytestmark = pytest.mark.django_db

MON = date(2025, 6, 2)
FUTURE = date(2099, 1, 1)
WORKSPACE = "/banks/workspace/"
ATTENTION = "/banks/attention/"


def test_materials_complete_starts_a_30_calendar_day_clock_once(cast, frozen_today):
    lead, _backup = make_pair(cast.bank, cast.other_bank, due_on=FUTURE)
    with pytest.raises(ValidationError) as error:
        record_feedback(cast.officer, lead, "contacted", materials_complete_on=MON)
    assert list(error.value.message_dict) == ["materials_complete_on"]
    with pytest.raises(ValidationError) as error:
        record_feedback(cast.officer, lead, "accepted", materials_complete_on=MON + timedelta(1))
    assert list(error.value.message_dict) == ["materials_complete_on"]

    record_feedback(cast.officer, lead, "accepted")  # accepted, materials not complete yet
    lead.refresh_from_db()
    assert (lead.materials_complete_on, lead.decision_due_on) == (None, None)
    record_feedback(cast.officer, lead, "accepted", materials_complete_on=MON)
    lead.refresh_from_db()
    # calendar days, weekends and holidays included: 2 June + 30 = 2 July
    assert (lead.materials_complete_on, lead.decision_due_on) == (MON, date(2025, 7, 2))
    frozen_today(date(2025, 6, 20))
    record_feedback(cast.officer, lead, "accepted", materials_complete_on=date(2025, 6, 20))
    lead.refresh_from_db()
    assert lead.decision_due_on == date(2025, 7, 2)  # marked again: the clock is not reset


def test_each_county_sets_its_own_decision_days(cast, frozen_today):
    AllocationRules.objects.create(region_id=PINGYANG, decision_days=10)
    pingyang, _ = make_pair(cast.bank, cast.other_bank, due_on=FUTURE)
    lucheng, _ = make_pair(
        cast.bank, cast.other_bank, due_on=FUTURE, enterprise=make_enterprise(LUCHENG_STREET)
    )
    for lead in (pingyang, lucheng):
        record_feedback(cast.officer, lead, "accepted", materials_complete_on=MON)
        lead.refresh_from_db()
    assert pingyang.decision_due_on == date(2025, 6, 12)
    assert lucheng.decision_due_on == date(2025, 7, 2)  # no rules of its own: 30


@pytest.fixture
def clocked(cast, frozen_today):
    """Four leads of 温州银行平阳支行 with complete materials on 2 June (due 2 July): one to
    stay open, one credited in time, one of no need, and one of another bank."""
    ra_officer = make_user("ra", Role.BANK_OFFICER, bank=cast.other_bank)
    rows = {}
    for name, bank, officer in (
        ("open", cast.bank, cast.officer),
        ("credited", cast.bank, cast.officer),
        ("no_need", cast.bank, cast.officer),
        ("theirs", cast.other_bank, ra_officer),
    ):
        other = cast.other_bank if bank == cast.bank else cast.bank
        lead, _backup = make_pair(bank, other, due_on=FUTURE, name=f"{name}有限公司")
        record_feedback(officer, lead, "accepted", materials_complete_on=MON)
        rows[name] = lead
    frozen_today(date(2025, 7, 1))
    record_feedback(cast.officer, rows["credited"], "credited", credit_amount="80",
                    credit_product="working_capital")  # fmt: skip
    record_feedback(cast.officer, rows["no_need"], "no_need")
    rows["ra_officer"] = ra_officer
    return rows


def test_an_overdue_decision_is_in_needs_attention_with_the_days_overdue(
    client, cast, clocked, frozen_today
):
    client.force_login(cast.staff)
    tab = {"kind": "decision_overdue"}
    frozen_today(date(2025, 7, 2))  # the due day itself: still in time
    response = client.get(ATTENTION, tab)
    assert list(response.context["page"].object_list) == []
    frozen_today(date(2025, 7, 5))
    response = client.get(ATTENTION, tab)
    counts = {key: count for key, _label, count in response.context["tabs"]}
    assert counts["decision_overdue"] == 2
    rows = {a.enterprise.name: a for a in response.context["page"].object_list}
    assert sorted(rows) == ["open有限公司", "theirs有限公司"]
    assert rows["open有限公司"].decision_days_overdue == 3
    content = response.content.decode()
    assert "2025-07-02" in content and "逾期天数" in content
    # staff of another county see none of it; bank officers and regulators have no such page
    client.force_login(cast.outsider_staff)
    response = client.get(ATTENTION, tab)
    assert list(response.context["page"].object_list) == []
    for user in (cast.officer, cast.regulator, cast.township):
        client.force_login(user)
        assert client.get(ATTENTION, tab).status_code == 403


def test_the_officer_sees_its_own_overdue_decisions_only(client, cast, clocked, frozen_today):
    frozen_today(date(2025, 7, 5))
    client.force_login(cast.officer)
    response = client.get(WORKSPACE)
    assert response.context["decisions_overdue"] == 1
    content = response.content.decode()
    assert "1 项授信决定已逾期" in content
    assert "已逾期 3 天" in content
    assert "theirs有限公司" not in content
    response = client.get(WORKSPACE, {"decision_overdue": "1"})
    assert [a.enterprise.name for a in response.context["page"].object_list] == ["open有限公司"]
    client.force_login(clocked["ra_officer"])
    response = client.get(WORKSPACE, {"decision_overdue": "1"})
    assert [a.enterprise.name for a in response.context["page"].object_list] == ["theirs有限公司"]
    # a decision, even late, stops the clock
    record_feedback(cast.officer, clocked["open"], "credited", credit_amount="10",
                    credit_product="other")  # fmt: skip
    clocked["open"].refresh_from_db()
    assert clocked["open"].decided_on == date(2025, 7, 5)
    client.force_login(cast.officer)
    assert client.get(WORKSPACE).context["decisions_overdue"] == 0


def test_recommended_then_materials_complete_then_declined_hands_off_to_the_backup(
    client, cast, frozen_today
):
    """Recommendation (visits) → feedback → overdue decision → decline → hand-off → the
    backup's own clocks."""
    from visits.models import Recommendation, RecommendationBatch

    lead, backup = make_pair(cast.bank, cast.other_bank, due_on=date(2025, 6, 11))
    ra_officer = make_user("ra", Role.BANK_OFFICER, bank=cast.other_bank)
    push = RecommendationBatch.objects.create(
        bank=cast.bank, region_id=PINGYANG, pushed_on=MON, pushed_by=cast.staff
    )
    Recommendation.objects.create(
        enterprise=lead.enterprise, bank=cast.bank, push=push, recommended_on=MON
    )
    other, _ = make_pair(cast.bank, cast.other_bank, due_on=FUTURE, name="未推荐有限公司")

    # the lead bank's workspace lists the recommended enterprise to answer, with its date
    client.force_login(cast.officer)
    response = client.get(WORKSPACE, {"recommended": "1"})
    rows = response.context["page"].object_list
    assert [a.pk for a in rows] == [lead.pk]
    assert rows[0].recommended_on == MON
    assert "推荐日期" in response.content.decode()
    assert client.get(f"/banks/feedback/enterprise/{lead.enterprise_id}/")["Location"] == (
        f"/banks/workspace/{lead.pk}/answer/"
    )

    # first feedback in time, materials complete on 4 June: the decision is due 4 July
    frozen_today(date(2025, 6, 4))
    response = client.post(
        f"/banks/workspace/{lead.pk}/answer/", {"status": "accepted", "materials_complete": "on"}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.decision_due_on) == (AssignmentStatus.ACCEPTED, date(2025, 7, 4))
    assert hand_off(date(2025, 6, 12)) == {"handed_off": 0, "ended": 0}  # answered: no hand-off

    # no decision by 4 July: needs attention (not a hand-off: only a decline hands off)
    frozen_today(date(2025, 7, 8))
    assert hand_off(date(2025, 7, 8)) == {"handed_off": 0, "ended": 0}
    client.force_login(cast.staff)
    response = client.get(ATTENTION, {"kind": "decision_overdue"})
    assert [(a.pk, a.decision_days_overdue) for a in response.context["page"].object_list] == [
        (lead.pk, 4)
    ]

    # the decline: reason code and explanation, handed to the backup at once
    client.force_login(cast.officer)
    response = client.post(
        f"/banks/workspace/{lead.pk}/answer/",
        {"status": "declined", "decline_reason": "insufficient_collateral", "reason": "无抵押"},
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    backup.refresh_from_db()
    assert (lead.status, lead.decided_on) == (AssignmentStatus.HANDED_OFF, date(2025, 7, 8))
    assert backup.status == AssignmentStatus.PENDING and backup.due_on > date(2025, 7, 8)
    handoff = HandOff.objects.get(from_assignment=lead)
    assert (handoff.to_assignment, handoff.cause) == (backup, HandOffCause.DECLINED)
    client.force_login(cast.staff)
    response = client.get(ATTENTION, {"kind": "decision_overdue"})
    assert list(response.context["page"].object_list) == []  # decided (late, but decided)
    response = client.get(ATTENTION, {"kind": "handed_off"})
    assert [h.pk for h in response.context["page"].object_list] == [handoff.pk]

    # the backup bank now answers; its materials start its own decision clock
    record_feedback(ra_officer, backup, "accepted", materials_complete_on=date(2025, 7, 8))
    backup.refresh_from_db()
    assert backup.decision_due_on == date(2025, 8, 7)
    assert BankAssignment.objects.get(pk=other.pk).decision_due_on is None
    frozen_today(date(2025, 8, 8))
    client.force_login(ra_officer)
    response = client.get(WORKSPACE, {"decision_overdue": "1"})
    assert [a.pk for a in response.context["page"].object_list] == [backup.pk]
    # the lead bank no longer answers for it
    client.force_login(cast.officer)
    assert client.get(f"/banks/feedback/enterprise/{lead.enterprise_id}/").status_code == 404
