"""The bank officer's workspace (home page), its export and one-click feedback; the staff's
needs-attention list."""

from datetime import date, timedelta
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from accounts.choices import Role
from banks.choices import AssignmentStatus, UnplacedReason
from banks.models import AllocationRun, BankAssignment, UnplacedEnterprise
from banks.services.feedback import record_feedback
from core.workdays import add_working_days
from tests.factories import PINGYANG, make_enterprise, make_user

from .pairs import make_pair

pytestmark = pytest.mark.django_db

URL = "/banks/workspace/"


@pytest.fixture
def world(cast):
    today = timezone.localdate()
    ours, _theirs = make_pair(
        cast.bank, cast.other_bank, due_on=add_working_days(today, 3), name="甲制造有限公司"
    )
    late, _late_backup = make_pair(
        cast.bank, cast.other_bank, due_on=today - timedelta(days=10), name="乙贸易有限公司"
    )
    their_lead, standing_by = make_pair(
        cast.other_bank, cast.bank, due_on=add_working_days(today, 3), name="丙科技有限公司"
    )
    handed_lead, handed_to_us = make_pair(
        cast.other_bank, cast.bank, due_on=add_working_days(today, 3), name="丁农业合作社"
    )
    ra_officer = make_user("ra", Role.BANK_OFFICER, bank=cast.other_bank)
    record_feedback(
        ra_officer, handed_lead, "declined", "不符合准入", decline_reason="not_eligible"
    )
    handed_to_us.refresh_from_db()
    return {
        "today": today,
        "ours": ours,
        "late": late,
        "standing_by": standing_by,
        "their_lead": their_lead,
        "handed_to_us": handed_to_us,
        "ra_officer": ra_officer,
    }


def names_in(response):
    return [a.enterprise.name for a in response.context["page"].object_list]


def test_the_home_page_of_a_bank_officer_is_the_workspace(client, cast):
    client.force_login(cast.officer)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == URL
    client.force_login(cast.staff)
    assert client.get("/").status_code == 200


def test_my_enterprises_as_lead_or_handed_to_us_and_nothing_of_the_other_bank(client, cast, world):
    client.force_login(cast.officer)
    response = client.get(URL)
    assert response.status_code == 200
    # the late lead first (by due date), then ours and the one handed to us
    assert sorted(names_in(response)) == sorted(
        ["甲制造有限公司", "乙贸易有限公司", "丁农业合作社"]
    )
    content = response.content.decode()
    assert "丙科技有限公司" not in content  # we only stand by as backup: not ours yet
    assert cast.other_bank.name not in content
    assert f'id="assignment-{world["their_lead"].pk}"' not in content
    # the other bank sees only its own side
    client.force_login(world["ra_officer"])
    content = client.get(URL).content.decode()
    assert cast.bank.name not in content and "甲制造有限公司" not in content


def test_days_left_and_overdue_highlighted(client, cast, world):
    client.force_login(cast.officer)
    rows = {a.pk: a for a in client.get(URL).context["page"].object_list}
    assert rows[world["ours"].pk].days_left == 3
    assert rows[world["ours"].pk].overdue is False
    assert rows[world["late"].pk].overdue is True
    assert rows[world["handed_to_us"].pk].days_left == 7  # the backup's own clock
    content = client.get(URL).content.decode()
    assert f'<tr id="assignment-{world["late"].pk}" class="table-danger">' in content


def test_filters_and_search(client, cast, world):
    client.force_login(cast.officer)
    assert names_in(client.get(URL, {"overdue": "1"})) == ["乙贸易有限公司"]
    assert names_in(client.get(URL, {"q": "甲制造"})) == ["甲制造有限公司"]
    uscc = world["handed_to_us"].enterprise.uscc
    assert names_in(client.get(URL, {"q": uscc.lower()})) == ["丁农业合作社"]
    record_feedback(cast.officer, world["ours"], "contacted")
    assert names_in(client.get(URL, {"status": "contacted"})) == ["甲制造有限公司"]


def test_the_export_holds_only_my_enterprises(client, cast, world):
    client.force_login(cast.officer)
    response = client.get(URL + "export/")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sorted(row[1] for row in rows[1:]) == sorted(
        ["甲制造有限公司", "乙贸易有限公司", "丁农业合作社"]
    )
    assert {row[3] for row in rows[1:]} == {cast.bank.name}
    assert not any("丙科技有限公司" in str(cell) for row in rows for cell in row)


def test_one_click_feedback_answers_the_row(client, cast, world):
    client.force_login(cast.officer)
    ours = world["ours"]
    url = f"{URL}{ours.pk}/feedback/"
    response = client.post(url, {"status": "accepted", "reason": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content.decode().strip().startswith(f'<tr id="assignment-{ours.pk}"')
    assert BankAssignment.objects.get(pk=ours.pk).status == AssignmentStatus.ACCEPTED

    response = client.post(url, {"status": "declined", "reason": ""}, HTTP_HX_REQUEST="true")
    assert "请填写不予授信的原因。" in response.content.decode()
    assert BankAssignment.objects.get(pk=ours.pk).status == AssignmentStatus.ACCEPTED
    # another bank's row, and a row we only stand by for, are not ours: 404
    for other in (world["their_lead"], world["standing_by"]):
        response = client.post(f"{URL}{other.pk}/feedback/", {"status": "contacted"})
        assert response.status_code == 404
    assert BankAssignment.objects.get(pk=world["their_lead"].pk).status == AssignmentStatus.PENDING


def test_only_bank_users_have_a_workspace(client, cast):
    client.force_login(cast.staff)
    assert client.get(URL).status_code == 403
    assert client.get(URL + "export/").status_code == 403


def test_a_branch_manager_sees_the_load_of_the_branches(client, cast, world):
    manager = make_user("manager", Role.BANK_OFFICER, bank=cast.bank.parent)
    client.force_login(manager)
    response = client.get(URL)
    loads = list(response.context["loads"])
    assert loads == [
        {"bank_id": "PY-BR", "bank__name": cast.bank.name, "total": 3, "pending": 3, "overdue": 1}
    ]
    client.force_login(cast.officer)
    assert client.get(URL).context["loads"] is None


def test_the_query_count_does_not_grow_with_rows(client, cast, world):
    client.force_login(cast.officer)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    before = queries()
    for n in range(20):
        make_pair(cast.bank, cast.other_bank, due_on=date(2099, 1, 1 + n))
    assert queries() == before


def test_needs_attention_lists_and_counts(client, cast, world):
    earlier = AllocationRun.objects.create(region_id=PINGYANG)
    UnplacedEnterprise.objects.create(
        run=earlier, enterprise=make_enterprise(name="戊企业"), reason=UnplacedReason.NO_CAPACITY
    )
    latest = AllocationRun.objects.create(region_id=PINGYANG)
    UnplacedEnterprise.objects.create(
        run=latest, enterprise=make_enterprise(name="己企业"), reason=UnplacedReason.NO_SERVING_BANK
    )
    # declined by both: the backup that received 丁 declines too
    record_feedback(
        cast.officer, world["handed_to_us"], "declined", "无经营场所", decline_reason="not_eligible"
    )
    client.force_login(cast.staff)
    response = client.get("/banks/attention/")
    assert response.status_code == 200
    counts = {key: count for key, _label, count in response.context["tabs"]}
    assert counts == {
        "overdue": 1,
        "decision_overdue": 0,
        "handed_off": 1,
        "declined_by_both": 1,
        "unplaced": 1,
    }
    assert [a.enterprise.name for a in response.context["page"].object_list] == ["乙贸易有限公司"]
    response = client.get("/banks/attention/", {"kind": "declined_by_both"})
    assert [h.enterprise.name for h in response.context["page"].object_list] == ["丁农业合作社"]
    response = client.get("/banks/attention/", {"kind": "unplaced"})
    assert [u.enterprise.name for u in response.context["page"].object_list] == ["己企业"]
    response = client.get("/banks/attention/", {"kind": "handed_off", "q": "甲"})
    assert list(response.context["page"].object_list) == []
    for user in (cast.officer, cast.regulator):
        client.force_login(user)
        assert client.get("/banks/attention/").status_code == 403
    client.force_login(cast.outsider_staff)
    counts = {key: c for key, _label, c in client.get("/banks/attention/").context["tabs"]}
    assert counts == {
        "overdue": 0,
        "decision_overdue": 0,
        "handed_off": 0,
        "declined_by_both": 0,
        "unplaced": 0,
    }
