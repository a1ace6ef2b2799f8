"""Coordination items: opened from a visit's problems, owned, moved through their statuses,
escalated, listed per desk, refused out of scope, locked against lost updates, in the history."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from accounts.choices import Role
from core.history import entries_for
from core.locking import EditConflict
from core.workdays import add_working_days
from tests.factories import (
    LUCHENG_STREET,
    PINGYANG_TOWN,
    make_assignment,
    make_enterprise,
    make_user,
)
from tests.visits.followhelpers import record
from visits.models import CoordinationItem
from visits.services import items as svc

AOJIANG = "330326101"


@pytest.fixture
def firm(cast):
    return make_enterprise(PINGYANG_TOWN, name="平阳鑫达五金有限公司")


def items_of(enterprise):
    return list(CoordinationItem.objects.filter(enterprise=enterprise).order_by("problem"))


def test_each_problem_of_a_visit_opens_an_item_owned_by_the_bank_or_the_county_office(cast, firm):
    record(cast.township, firm, bank=cast.bank, problems=["guarantee", "policy"], note="缺担保")
    guarantee, policy = sorted(items_of(firm), key=lambda i: i.problem != "guarantee")
    assert guarantee.problem == "guarantee" and guarantee.owner_bank == cast.bank
    assert guarantee.owner_department == ""
    assert policy.owner_bank is None and policy.owner_department == "平阳县金融办"
    for item in (guarantee, policy):
        assert item.status == "open" and item.level == "county"
        assert item.due_on == add_working_days(timezone.localdate(), 10)
        assert item.created_by == cast.township and item.description == "缺担保"


def test_a_bank_problem_goes_to_the_lead_bank_when_the_visit_names_no_bank(cast, firm):
    make_assignment(firm, cast.other_bank, role="lead")
    record(cast.township, firm, problems=["rate"])
    assert items_of(firm)[0].owner_bank == cast.other_bank


def test_a_bank_problem_with_no_bank_at_all_goes_to_the_department(cast, firm, settings):
    settings.RONGXIE_ITEM_DEPARTMENTS = {"330326": "平阳县发改局"}
    record(cast.township, firm, problems=["collateral"])
    item = items_of(firm)[0]
    assert item.owner_bank is None and item.owner_department == "平阳县发改局"


def test_a_problem_already_open_for_the_enterprise_is_not_opened_twice(cast, firm):
    record(cast.township, firm, bank=cast.bank, problems=["guarantee", "guarantee"])
    record(cast.officer, firm, bank=cast.bank, problems=["guarantee", "paperwork"])
    assert [i.problem for i in items_of(firm)] == ["guarantee", "paperwork"]
    guarantee = CoordinationItem.objects.get(enterprise=firm, problem="guarantee")
    svc.update_item(
        cast.staff, guarantee, {"status": "resolved", "resolution": "已引入担保公司"}, 1
    )
    record(cast.township, firm, bank=cast.bank, problems=["guarantee"])
    assert CoordinationItem.objects.filter(enterprise=firm, problem="guarantee").count() == 2


def test_status_moves_open_to_in_progress_to_resolved_and_resolving_needs_a_resolution(cast, firm):
    record(cast.township, firm, bank=cast.bank, problems=["guarantee"])
    item = items_of(firm)[0]
    svc.update_item(cast.officer, item, {"status": "in_progress"}, item.version)
    item.refresh_from_db()
    assert item.status == "in_progress" and item.resolved_at is None and item.version == 2

    with pytest.raises(ValidationError) as refused:
        svc.update_item(cast.officer, item, {"status": "resolved", "resolution": "  "}, 2)
    assert "resolution" in refused.value.message_dict
    item.refresh_from_db()
    assert item.status == "in_progress"

    with pytest.raises(ValidationError) as backwards:
        svc.update_item(cast.officer, item, {"status": "open"}, 2)
    assert "status" in backwards.value.message_dict

    svc.update_item(cast.officer, item, {"status": "resolved", "resolution": "改用信用贷款"}, 2)
    item.refresh_from_db()
    assert item.status == "resolved" and item.resolution == "改用信用贷款"
    assert item.resolved_at is not None

    svc.update_item(cast.staff, item, {"status": "in_progress"}, item.version)  # reopened
    item.refresh_from_db()
    assert item.status == "in_progress" and item.resolved_at is None


def test_the_second_of_two_editors_is_refused_with_what_changed(cast, firm):
    record(cast.township, firm, bank=cast.bank, problems=["guarantee"])
    mine = items_of(firm)[0]
    theirs = CoordinationItem.objects.get(pk=mine.pk)
    svc.update_item(cast.officer, theirs, {"status": "in_progress", "description": "已联系"}, 1)
    with pytest.raises(EditConflict) as conflict:
        svc.update_item(cast.staff, mine, {"description": "我的说明"}, 1)
    with translation.override("en"):
        changed = {str(name) for name, _theirs, _mine in conflict.value.changes}
    assert "description" in changed and "status" in changed
    stored = CoordinationItem.objects.get(pk=mine.pk)
    assert stored.description == "已联系" and stored.version == 2


def test_escalation_moves_the_item_to_the_city_list(cast, firm):
    record(cast.township, firm, problems=["policy"])
    item = items_of(firm)[0]
    with pytest.raises(ValidationError):
        svc.escalate(cast.staff, item, " ")
    assert not svc.escalated_items(cast.city_staff).exists()

    svc.escalate(cast.staff, item, "县级政策无法覆盖")
    item.refresh_from_db()
    assert item.level == "city" and item.escalated_at is not None
    assert item.escalation_reason == "县级政策无法覆盖"
    assert list(svc.escalated_items(cast.city_staff)) == [item]
    assert item in svc.my_items(cast.city_staff)
    assert not svc.escalated_items(cast.outsider_staff).exists()
    with pytest.raises(ValidationError):  # already at city level
        svc.escalate(cast.staff, item, "再次上报")
    # city staff work on it
    svc.update_item(cast.city_staff, item, {"status": "resolved", "resolution": "市级协调解决"}, 2)
    item.refresh_from_db()
    assert item.status == "resolved"


def test_each_desk_sees_its_own_items(cast, firm):
    aojiang_worker = make_user("aojiang", Role.TOWNSHIP_WORKER, region=AOJIANG)
    other_town_firm = make_enterprise(AOJIANG)
    make_assignment(firm, cast.bank)
    record(cast.township, firm, bank=cast.bank, problems=["guarantee", "policy"])
    record(aojiang_worker, other_town_firm, bank=cast.other_bank, problems=["rate", "other"])
    ours = CoordinationItem.objects.get(enterprise=firm, problem="guarantee")
    department = CoordinationItem.objects.get(enterprise=firm, problem="policy")
    theirs = CoordinationItem.objects.get(enterprise=other_town_firm, problem="rate")
    other_department = CoordinationItem.objects.get(enterprise=other_town_firm, problem="other")

    # the bank officer: the items its branch owns, not the department's on its enterprise
    assert list(svc.my_items(cast.officer)) == [ours]
    # the task force: the department items of the county
    assert set(svc.my_items(cast.staff)) == {department, other_department}
    # a township worker: the items of the township
    assert set(svc.my_items(cast.township)) == {ours, department}
    assert set(svc.my_items(aojiang_worker)) == {theirs, other_department}
    # the staff list: every open item of the county, oldest first
    assert list(svc.open_items(cast.staff)) == [ours, department, theirs, other_department]


def test_out_of_scope_items_are_invisible_and_unwritable_for_every_role(cast, firm):
    outsider_firm = make_enterprise(LUCHENG_STREET)
    aojiang_worker = make_user("aojiang", Role.TOWNSHIP_WORKER, region=AOJIANG)
    make_assignment(firm, cast.bank)
    record(cast.township, firm, bank=cast.bank, problems=["guarantee", "policy"])
    record(cast.outsider_staff, outsider_firm, bank=cast.other_bank, problems=["rate"])
    bank_item = CoordinationItem.objects.get(enterprise=firm, problem="guarantee")
    department_item = CoordinationItem.objects.get(enterprise=firm, problem="policy")
    outsider_item = CoordinationItem.objects.get(enterprise=outsider_firm)

    cases = [
        # (user, items it must not see, items it must not change)
        (cast.outsider_staff, [bank_item, department_item], [bank_item, department_item]),
        (cast.staff, [outsider_item], [outsider_item]),
        (aojiang_worker, [bank_item, department_item], [bank_item, department_item]),
        (cast.officer, [outsider_item], [outsider_item, department_item]),
        (cast.regulator, [outsider_item], [bank_item, department_item]),
        (cast.partner, [outsider_item], [bank_item, department_item]),
    ]
    for user, hidden, locked in cases:
        visible = set(svc.item_list(user))
        assert not visible & set(hidden), user.username
        for item in locked:
            before = CoordinationItem.objects.get(pk=item.pk)
            for write in (
                lambda i=before, u=user: svc.update_item(u, i, {"status": "in_progress"}, 1),
                lambda i=before, u=user: svc.escalate(u, i, "越权上报"),
            ):
                with pytest.raises(PermissionDenied):
                    write()
            after = CoordinationItem.objects.get(pk=item.pk)
            assert (after.status, after.level, after.version) == ("open", "county", 1)
    # the regulator reads its county's items, read-only
    assert {bank_item, department_item} <= set(svc.item_list(cast.regulator))
    # a bank officer from another bank sees none of them
    other_officer = make_user("other_officer", Role.BANK_OFFICER, bank=cast.other_bank)
    assert outsider_item in set(svc.item_list(other_officer))  # owned by its bank
    assert not {bank_item, department_item} & set(svc.item_list(other_officer))


def test_a_staff_member_may_hand_an_item_to_another_owner_a_bank_officer_may_not(cast, firm):
    record(cast.township, firm, bank=cast.bank, problems=["guarantee"])
    item = items_of(firm)[0]
    svc.update_item(cast.officer, item, {"owner_bank": cast.other_bank.pk}, 1)
    item.refresh_from_db()
    assert item.owner_bank == cast.bank and item.version == 2  # the owner field was ignored
    svc.update_item(cast.staff, item, {"owner_bank": "", "owner_department": "平阳县财政局"}, 2)
    item.refresh_from_db()
    assert item.owner_bank is None and item.owner_department == "平阳县财政局"
    with pytest.raises(ValidationError) as nobody:
        svc.update_item(cast.staff, item, {"owner_bank": "", "owner_department": ""}, 3)
    assert "owner_department" in nobody.value.message_dict


def test_every_change_to_an_item_is_in_the_change_history(cast, firm):
    record(cast.township, firm, bank=cast.bank, problems=["guarantee"])
    item = items_of(firm)[0]
    svc.update_item(cast.officer, item, {"status": "in_progress"}, 1)
    svc.escalate(cast.staff, item, "需市级协调")
    entries = list(entries_for(item))
    assert [e.action for e in entries] == [1, 1, 0]  # update, update, create (newest first)
    assert entries[0].changes_dict["level"] == ["county", "city"]
    assert entries[1].changes_dict["status"] == ["open", "in_progress"]
