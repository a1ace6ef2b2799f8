"""The staff screens of bank matching, for every role of the cast (status codes pinned)."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from banks.models import AllocationRun, BankAssignment, VisitBatch
from banks.services.batches import create_visit_batch
from core.models import Job
from enterprises.models import Region
from tests.banks.helpers import build
from tests.factories import LUCHENG, make_assignment

pytestmark = pytest.mark.django_db

ROLES = [
    "staff",
    "city_staff",
    "admin",
    "regulator",
    "partner",
    "township",
    "officer",
    "outsider_staff",
]


@pytest.fixture
def matched(cast):
    return build(cast)


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


# role → status: readers of 平阳县 see the pages; township workers and bank officers never.
READ_STATUS = {
    "staff": 200,
    "city_staff": 200,
    "admin": 200,
    "regulator": 200,
    "partner": 200,
    "township": 404,
    "officer": 404,
    "outsider_staff": 404,
}
WRITE_STATUS = {**READ_STATUS, "regulator": 404, "partner": 404}


@pytest.mark.parametrize("who", ROLES)
def test_batch_list_of_pingyang(client, cast, matched, who):
    url = reverse("banks:batch_list") + "?county=330326"
    response = get(client, getattr(cast, who), url)
    assert response.status_code == READ_STATUS[who]
    if response.status_code == 200:
        assert "第一批" in response.content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("staff", 200),
        ("city_staff", 200),
        ("admin", 200),
        ("regulator", 200),
        ("partner", 200),
        ("township", 404),
        ("officer", 404),
        ("outsider_staff", 200),
    ],
)
def test_batch_list_of_the_users_own_county(client, cast, matched, who, status):
    assert get(client, getattr(cast, who), reverse("banks:batch_list")).status_code == status


def test_outsider_staff_see_their_own_county_only(client, cast, matched):
    response = get(client, cast.outsider_staff, reverse("banks:batch_list"))
    assert response.context["county"].code == LUCHENG
    assert "第一批" not in response.content.decode()


@pytest.mark.parametrize("who", ROLES)
def test_batch_detail(client, cast, matched, who):
    url = reverse("banks:batch_detail", args=[matched.batch.pk])
    assert get(client, getattr(cast, who), url).status_code == READ_STATUS[who]


@pytest.mark.parametrize("who", ROLES)
def test_run_detail(client, cast, matched, who):
    url = reverse("banks:run_detail", args=[matched.run.pk])
    response = get(client, getattr(cast, who), url)
    assert response.status_code == READ_STATUS[who]


@pytest.mark.parametrize("who", ROLES)
def test_batch_form(client, cast, matched, who):
    url = reverse("banks:batch_create") + "?county=330326"
    assert get(client, getattr(cast, who), url).status_code == WRITE_STATUS[who]


def test_out_of_scope_batch_and_run_answer_404(client, cast, matched):
    lucheng = Region.objects.get(code=LUCHENG)
    batch = create_visit_batch(cast.outsider_staff, lucheng, "鹿城批次", {})
    run = AllocationRun.objects.create(region=lucheng, visit_batch=batch)
    client.force_login(cast.staff)
    assert client.get(reverse("banks:batch_detail", args=[batch.pk])).status_code == 404
    assert client.get(reverse("banks:run_detail", args=[run.pk])).status_code == 404
    assert client.get(reverse("banks:run_export", args=[run.pk])).status_code == 404
    assert client.get(reverse("banks:batch_list") + "?county=330302").status_code == 404
    response = client.post(reverse("banks:allocate"), {"batch": batch.pk})
    assert response.status_code == 404
    assert not Job.objects.exists()


def test_the_preview_counts_and_saving_freezes_the_members(client, cast, matched):
    client.force_login(cast.staff)
    url = reverse("banks:batch_create") + "?county=330326"
    data = {"name": "外贸一批", "tiers": ["1", "3"], "foreign_trade": "on", "loan": ""}

    preview = client.post(url, {**data, "preview": "1"})
    assert preview.status_code == 200
    assert preview.context["matches"] == 2
    assert not VisitBatch.objects.filter(name="外贸一批").exists()

    saved = client.post(url, {**data, "save": "1"})
    batch = VisitBatch.objects.get(name="外贸一批")
    assert saved.status_code == 302
    assert saved["Location"] == reverse("banks:batch_detail", args=[batch.pk])
    assert batch.size == 2
    assert batch.criteria == {"tiers": [1, 3], "foreign_trade": True}
    assert set(batch.members.values_list("enterprise_id", flat=True)) == {
        matched.firms[1].pk,
        matched.firms[5].pk,
    }


def test_a_batch_form_with_min_above_max_is_refused(client, cast, matched):
    client.force_login(cast.staff)
    url = reverse("banks:batch_create") + "?county=330326"
    response = client.post(url, {"name": "x", "banks_min": "3", "banks_max": "1", "save": "1"})
    assert response.status_code == 200
    assert not VisitBatch.objects.filter(name="x").exists()


@pytest.mark.parametrize("who", ROLES)
def test_allocate_a_batch(client, cast, matched, who, django_capture_on_commit_callbacks):
    BankAssignment.objects.all().delete()
    client.force_login(getattr(cast, who))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("banks:allocate"), {"batch": matched.batch.pk})
    assert response.status_code == (302 if WRITE_STATUS[who] == 200 else 404)
    if response.status_code == 302:
        job = Job.objects.get()
        assert response["Location"] == reverse("core:job_detail", args=[job.pk])
        job.refresh_from_db()
        assert (job.kind, job.status, job.region_id) == ("banks.allocate", "succeeded", "330326")
        assert job.counts["placed"] == 6
        assert BankAssignment.objects.count() == 12
    else:
        assert not Job.objects.exists()


def test_allocate_the_whole_key_visit_list_of_the_county(
    client, cast, matched, django_capture_on_commit_callbacks
):
    BankAssignment.objects.all().delete()
    client.force_login(cast.staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("banks:allocate"), {"county": "330326"})
    job = Job.objects.get()
    assert response.status_code == 302
    assert job.params == {}
    run = AllocationRun.objects.filter(job=job).get()
    assert run.visit_batch is None
    assert run.summary["placed"] == 6


def test_allocate_needs_post(client, cast, matched):
    client.force_login(cast.staff)
    assert client.get(reverse("banks:allocate")).status_code == 405


def test_the_run_page_shows_loads_and_unplaced_reasons_in_chinese(client, cast, matched):
    run = matched.run
    firm = matched.firms[0]
    run.unplaced.create(enterprise=firm, reason="no_serving_bank")
    run.summary["unplaced_by_reason"] = {"no_serving_bank": 1}
    run.save()
    client.force_login(cast.staff)
    response = client.get(reverse("banks:run_detail", args=[run.pk]), HTTP_ACCEPT_LANGUAGE="zh")
    body = response.content.decode()
    assert response.status_code == 200
    assert "没有服务该地的银行网点" in body
    assert firm.name in body
    leads = {row["bank"].code: row["lead"] for row in response.context["branches"]}
    assert sum(leads.values()) == 6
    assert set(leads) <= {"PY-BR", "RA-BR", "ABC-PY", "PY-BR2"}


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("staff", 200),
        ("city_staff", 200),
        ("admin", 200),
        ("regulator", 200),
        ("partner", 404),  # scopes "view" only: no export
        ("township", 404),
        ("officer", 404),
        ("outsider_staff", 404),
    ],
)
def test_run_export(client, cast, matched, who, status):
    response = get(client, getattr(cast, who), reverse("banks:run_export", args=[matched.run.pk]))
    assert response.status_code == status


def export_rows(response):
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    return list(sheet.iter_rows(values_only=True))


def test_the_export_masks_personal_data_for_the_regulator_only(client, cast, matched):
    url = reverse("banks:run_export", args=[matched.run.pk])
    staff_rows = export_rows(get(client, cast.staff, url))
    regulator_rows = export_rows(get(client, cast.regulator, url))
    assert len(staff_rows) == len(regulator_rows) == 1 + 12
    assert {row[2:4] for row in staff_rows[1:]} == {("张三丰", "13812345678")}
    assert {row[2:4] for row in regulator_rows[1:]} == {("张**", "*******5678")}
    assert all(row[12] for row in staff_rows[1:])  # every row explained


# --- override -------------------------------------------------------------------------------


@pytest.fixture
def lead(matched):
    firm = matched.firms[2]  # 鳌江镇
    BankAssignment.objects.filter(enterprise=firm).delete()
    make_assignment(firm, matched.other, role="backup")
    return make_assignment(firm, matched.lead_bank, role="lead")


@pytest.mark.parametrize("who", ROLES)
def test_override_form(client, cast, lead, who):
    url = reverse("banks:override", args=[lead.pk])
    assert get(client, getattr(cast, who), url).status_code == WRITE_STATUS[who]


def test_override_by_hand_redirects_to_the_enterprise(client, cast, matched, lead):
    client.force_login(cast.staff)
    response = client.post(
        reverse("banks:override", args=[lead.pk]), {"bank": "PY-BR2", "reason": "就近"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("enterprises:detail", args=[lead.enterprise_id])
    lead.refresh_from_db()
    assert (lead.bank_id, lead.override_reason) == ("PY-BR2", "就近")


@pytest.mark.parametrize(
    "data",
    [
        {"bank": "PY-BR2", "reason": ""},
        {"bank": "LC-BR", "reason": "x"},  # not offered: does not serve 鳌江镇
        {"bank": "RA-BR", "reason": "x"},  # not offered: the backup's institution
    ],
)
def test_override_refused_in_the_form(client, cast, matched, lead, data):
    client.force_login(cast.staff)
    response = client.post(reverse("banks:override", args=[lead.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    lead.refresh_from_db()
    assert (lead.bank_id, lead.override_reason) == ("PY-BR", "")


# --- enterprise panel ------------------------------------------------------------------------


def test_the_enterprise_panel_explains_in_chinese(client, cast, matched):
    firm = matched.firms[0]
    client.force_login(cast.staff)
    response = client.get(reverse("enterprises:detail", args=[firm.pk]), HTTP_ACCEPT_LANGUAGE="zh")
    body = response.content.decode()
    assert response.status_code == 200
    lead = BankAssignment.objects.get(enterprise=firm, role="lead")
    assert "主办行" in body and "备选行" in body
    assert f"{lead.bank.name} — 服务平阳县" in body
    assert reverse("banks:override", args=[lead.pk]) in body


def test_a_bank_officer_sees_only_its_own_banks_row_on_the_enterprise_page(client, cast, matched):
    firm = matched.firms[2]
    BankAssignment.objects.filter(enterprise=firm).delete()
    make_assignment(firm, matched.lead_bank, role="lead")
    make_assignment(firm, matched.other, role="backup")
    client.force_login(cast.officer)
    response = client.get(reverse("enterprises:detail", args=[firm.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "温州银行平阳支行" in body
    assert "瑞安农商银行" not in body
    assert "/banks/assignments/" not in body  # no override link


def test_the_panel_says_why_an_enterprise_was_not_placed(client, cast, matched):
    firm = matched.firms[0]
    BankAssignment.objects.filter(enterprise=firm).delete()
    matched.run.unplaced.create(enterprise=firm, reason="no_capacity")
    client.force_login(cast.staff)
    response = client.get(reverse("enterprises:detail", args=[firm.pk]), HTTP_ACCEPT_LANGUAGE="zh")
    assert "服务该地的网点走访容量均已满" in response.content.decode()


# --- branches --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "code", "status"),
    [
        ("staff", "PY-BR", 200),
        ("staff", "LC-BR", 404),  # serves 鹿城区 only
        ("staff", "PY-HEAD", 404),  # serves nothing
        ("city_staff", "LC-BR", 200),
        ("city_staff", "PY-HEAD", 200),
        ("admin", "LC-BR", 200),
        ("outsider_staff", "LC-BR", 200),
        ("outsider_staff", "PY-BR", 404),
        ("regulator", "PY-BR", 404),
        ("partner", "PY-BR", 404),
        ("township", "PY-BR", 404),
        ("officer", "PY-BR", 404),
    ],
)
def test_branch_edit_form(client, cast, matched, who, code, status):
    url = reverse("banks:bank_edit", args=[code])
    assert get(client, getattr(cast, who), url).status_code == status


def test_county_staff_edit_their_part_of_a_branchs_service(client, cast, matched):
    other = matched.other
    other.service_regions.set(["330326", "330381"])  # 平阳县 and 瑞安市
    client.force_login(cast.staff)
    response = client.post(
        reverse("banks:bank_edit", args=[other.code]),
        {
            "service_regions": ["330326100", "330326101"],
            "capacity": "25",
            "focus_areas": ["foreign_trade", "inclusive"],
            "contact": "李四 13900001111",
        },
    )
    assert response.status_code == 302
    other.refresh_from_db()
    # 瑞安市 is outside the 平阳 staff's area: kept as it was.
    assert set(other.service_regions.values_list("code", flat=True)) == {
        "330326100",
        "330326101",
        "330381",
    }
    assert (other.capacity, other.focus_areas, other.contact) == (
        25,
        ["foreign_trade", "inclusive"],
        "李四 13900001111",
    )


@pytest.mark.parametrize("who", ROLES)
def test_bank_directory_masks_the_contact(client, cast, matched, who):
    bank = matched.lead_bank
    bank.contact = "王小明 13912345678"
    bank.save()
    response = get(client, getattr(cast, who), reverse("banks:list"))
    body = response.content.decode()
    assert response.status_code == 200
    if getattr(cast, who).scope.sees_personal_data:
        assert "王小明 13912345678" in body
    else:
        assert "王** *******5678" in body
        assert "13912345678" not in body
    assert "平阳县" in body  # service regions by name


def test_menu_entry_for_staff_only(client, cast):
    url = reverse("banks:batch_list")
    for who in ROLES:
        body = get(client, getattr(cast, who), reverse("home")).content.decode()
        has_entry = f'href="{url}"' in body
        assert has_entry == (who in {"staff", "city_staff", "admin", "outsider_staff"}), who


# --- query counts do not grow with rows ------------------------------------------------------


def add_assigned_firms(matched, number):
    from banks.models import VisitBatchMember
    from tests.factories import PINGYANG_TOWN, make_enterprise

    for _ in range(number):
        firm = make_enterprise(PINGYANG_TOWN)
        VisitBatchMember.objects.create(batch=matched.batch, enterprise=firm)
        for role, bank in (("lead", matched.lead_bank), ("backup", matched.other)):
            assignment = make_assignment(firm, bank, role=role)
            BankAssignment.objects.filter(pk=assignment.pk).update(
                run=matched.run, explanation={"serves": "330326", "load": 1, "capacity": 10}
            )


@pytest.mark.parametrize("page", ["banks:batch_detail", "banks:run_export"])
def test_query_counts_do_not_grow_with_rows(client, cast, matched, page):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pk = matched.batch.pk if page == "banks:batch_detail" else matched.run.pk
    client.force_login(cast.staff)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse(page, args=[pk]))
            if page == "banks:run_export":
                b"".join(response.streaming_content)
        assert response.status_code == 200
        return len(captured)

    before = queries()
    add_assigned_firms(matched, 8)
    assert queries() == before


def test_the_allocation_job_page_links_its_visit_batch(client, cast, matched):
    from core import jobs

    job = jobs.run_now(
        "banks.allocate", user=cast.staff, region=matched.county, params={"batch": matched.batch.pk}
    )
    body = get(client, cast.staff, reverse("core:job_detail", args=[job.pk])).content.decode()
    assert reverse("banks:batch_detail", args=[matched.batch.pk]) in body
    assert "走访批次" in body
    assert f"/enterprises/imports/{matched.batch.pk}/" not in body


def test_the_history_of_an_assignment_reads_in_names(cast, matched):
    from auditlog.models import LogEntry

    from core.history import acting_as

    assignment = BankAssignment.objects.filter(run=matched.run).first()
    with acting_as(cast.staff):
        assignment.override_reason = "企业申请更换"
        assignment.save()
    entry = LogEntry.objects.get_for_object(assignment).latest("timestamp")
    assert entry.object_repr.startswith(assignment.enterprise.name + " → " + assignment.bank.name)
    assert "explanation" not in entry.changes_dict
    assert entry.changes_dict["override_reason"] == ["", "企业申请更换"]
