"""申报清单 → 五项标准 → 推荐清单: application list from visits, the facts, check, maker-checker
approval, push in batches, optimistic locking and history."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from core.locking import EditConflict
from tests.factories import (
    PINGYANG,
    make_assignment,
    make_bank,
    make_enterprise,
    make_negative,
    make_tax,
    make_user,
)
from visits.choices import ApplicationStatus, FiveStandard
from visits.models import Application, Recommendation, RecommendationBatch, RecommendationRules
from visits.services.recommendations import (
    MakerCheckerRefused,
    add_application,
    approve_application,
    check_application,
    facts_for,
    push_recommendations,
)

from .recommendation_helpers import firm_with_lead, record, second_member

pytestmark = pytest.mark.django_db

ALL_MET = dict.fromkeys(FiveStandard.values, True)


def checked(cast, firm=None):
    firm = firm or firm_with_lead(cast)
    record(firm)
    app = Application.objects.get(enterprise=firm)
    return check_application(cast.staff, app, ALL_MET, "", app.version)


# --- The application list ---------------------------------------------------------------------


def test_a_visit_with_a_need_puts_the_enterprise_on_the_list_once_with_the_latest_amount(cast):
    firm = firm_with_lead(cast)
    record(firm, visited_on=date(2025, 5, 1), need_amount=Decimal("100"))
    record(firm, visited_on=date(2025, 6, 1), need_amount=Decimal("300"))
    app = Application.objects.get(enterprise=firm)
    assert app.status == ApplicationStatus.PENDING
    assert app.need_amount == Decimal("300")
    # An older visit recorded late does not overwrite the latest need.
    record(firm, visited_on=date(2025, 4, 1), need_amount=Decimal("50"))
    assert Application.objects.get(enterprise=firm).need_amount == Decimal("300")


def test_a_visit_without_a_need_or_of_a_firm_not_operating_adds_nothing(cast):
    no_need, closed = firm_with_lead(cast), firm_with_lead(cast)
    record(no_need, has_need=False, need_amount=None)
    record(closed, operating_normally=False)
    assert not Application.objects.filter(enterprise__in=[no_need, closed]).exists()


def test_a_rejected_entry_is_closed_so_a_new_need_opens_a_new_one(cast):
    firm = firm_with_lead(cast)
    record(firm)
    app = Application.objects.get(enterprise=firm)
    check_application(cast.staff, app, {}, "暂不符合", app.version)
    record(firm, visited_on=date(2025, 6, 20))
    assert list(Application.objects.filter(enterprise=firm).values_list("status", flat=True)) == [
        ApplicationStatus.REJECTED,
        ApplicationStatus.PENDING,
    ]


def test_staff_add_an_enterprise_by_hand_but_not_twice(cast):
    firm = firm_with_lead(cast)
    client = _client(cast.staff)
    response = client.post(reverse("visits:application_list"), {"uscc": firm.uscc})
    app = Application.objects.get(enterprise=firm)
    assert response.status_code == 302 and app.visit is None
    again = client.post(
        reverse("visits:application_list"), {"uscc": firm.uscc, "need_amount": "80"}
    )
    assert "该企业已在申报清单中" in again.content.decode() or "already" in again.content.decode()
    assert Application.objects.filter(enterprise=firm).count() == 1
    # What was typed stays in the form.
    assert 'value="80"' in again.content.decode()


# --- The facts beside each standard -------------------------------------------------------------


def _facts(app):
    app = Application.objects.select_related("enterprise").get(pk=app.pk)
    return {s.code: s for s in facts_for([app])[app.pk]}


def test_the_facts_show_age_negative_lists_tax_rating_and_the_visit(cast):
    today = timezone.localdate()
    young = firm_with_lead(cast, established_on=today - timedelta(days=200))
    make_negative(young, list_type="abnormal_operation", listed_on=today - timedelta(days=30))
    make_negative(  # removed: not current
        young, list_type="zombie", listed_on=date(2020, 1, 1), removed_on=date(2021, 1, 1)
    )
    make_tax(young, tax_year=2023, credit_rating="A")
    make_tax(young, tax_year=2024, credit_rating="C")
    record(young, need_purpose="equipment", need_amount=Decimal("150"), intent="moderate")
    facts = _facts(Application.objects.get(enterprise=young))

    compliant = facts[FiveStandard.COMPLIANT_OPERATION]
    values = [f.value for f in compliant.facts]
    assert "6" in values[0] and "12" in values[0] and compliant.facts[0].warn
    assert compliant.facts[3].warn and "2020" not in values[3]
    assert compliant.suggested is False
    credit = facts[FiveStandard.GOOD_CREDIT]
    assert credit.facts[0].value.startswith("C") and "2024" in credit.facts[0].value
    assert credit.facts[0].warn
    need = facts[FiveStandard.REAL_NEED]
    assert "150.00" in need.facts[1].value
    premises = facts[FiveStandard.FIXED_PREMISES]
    assert premises.facts[0].value == "平阳县昆阳镇工业路8号"


def test_the_county_sets_how_many_months_count_as_continuing_operation(cast):
    today = timezone.localdate()
    firm = firm_with_lead(cast, established_on=today - timedelta(days=400))
    record(firm)
    app = Application.objects.get(enterprise=firm)
    assert _facts(app)[FiveStandard.COMPLIANT_OPERATION].facts[0].warn is False
    RecommendationRules.objects.create(region_id=PINGYANG, min_months_established=24)
    assert _facts(app)[FiveStandard.COMPLIANT_OPERATION].facts[0].warn is True


def test_staff_edit_the_county_rules_on_a_page(cast):
    client = _client(cast.staff)
    response = client.post(
        reverse("visits:recommendation_rules"), {"county": PINGYANG, "min_months_established": "36"}
    )
    assert response.status_code == 302
    assert RecommendationRules.objects.get(region_id=PINGYANG).min_months_established == 36
    # Another county's task force cannot edit 平阳县's rules.
    _client(cast.outsider_staff).post(
        reverse("visits:recommendation_rules"), {"county": PINGYANG, "min_months_established": "1"}
    )
    assert RecommendationRules.objects.get(region_id=PINGYANG).min_months_established == 36


def test_the_facts_take_the_same_number_of_queries_for_one_or_many(cast, django_assert_num_queries):
    for _ in range(5):
        firm = firm_with_lead(cast)
        make_tax(firm)
        make_negative(firm)
        record(firm)
    apps = list(Application.objects.select_related("enterprise"))
    with django_assert_num_queries(6):
        facts_for(apps[:1])
    with django_assert_num_queries(6):
        facts_for(apps)


def test_the_check_page_shows_the_facts_with_big_checkboxes(cast):
    firm = firm_with_lead(cast)
    make_tax(firm, tax_year=2024, credit_rating="B")
    record(firm, note="自有厂房两千平方米")
    app = Application.objects.get(enterprise=firm)
    page = _client(cast.staff).get(reverse("visits:application_check", args=[app.pk])).content
    text = page.decode()
    assert "B（2024）" in text
    assert "自有厂房两千平方米" in text
    assert "平阳县昆阳镇工业路8号" in text
    assert text.count('type="checkbox"') == 5
    assert cast.bank.name in text  # the lead bank it would go to


# --- The check -----------------------------------------------------------------------------------


def test_all_five_standards_must_be_met_to_pass(cast):
    firm = firm_with_lead(cast)
    record(firm)
    app = Application.objects.get(enterprise=firm)
    four = {**ALL_MET, FiveStandard.GOOD_CREDIT: False}
    with pytest.raises(ValidationError) as refused:
        check_application(cast.staff, app, four, "", app.version)
    assert "原因" in str(refused.value) or "why" in str(refused.value)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.PENDING
    check_application(cast.staff, app, four, "纳税信用等级为D", app.version)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.REJECTED
    assert app.check_note == "纳税信用等级为D"
    assert app.checks[FiveStandard.GOOD_CREDIT] is False


def test_a_rejected_check_on_the_page_keeps_what_was_ticked(cast):
    firm = firm_with_lead(cast)
    record(firm)
    app = Application.objects.get(enterprise=firm)
    data = {"version": app.version, FiveStandard.REAL_NEED: "on", FiveStandard.FIXED_PREMISES: "on"}
    response = _client(cast.staff).post(reverse("visits:application_check", args=[app.pk]), data)
    assert response.status_code == 200
    text = response.content.decode()
    assert text.count("checked>") == 2 or text.count(" checked") == 2
    app.refresh_from_db()
    assert app.status == ApplicationStatus.PENDING


def test_a_stale_check_is_refused_with_what_changed(cast):
    firm = firm_with_lead(cast)
    record(firm)
    app = Application.objects.get(enterprise=firm)
    stale = app.version
    record(firm, visited_on=date(2025, 6, 15), need_amount=Decimal("999"))  # bumps the version
    with pytest.raises(EditConflict):
        check_application(cast.staff, app, ALL_MET, "", stale)
    response = _client(cast.staff).post(
        reverse("visits:application_check", args=[app.pk]),
        {**{code: "on" for code in FiveStandard.values}, "version": stale, "note": "我写的备注"},
    )
    text = response.content.decode()
    assert "未保存" in text
    assert "我写的备注" in text  # the note typed is kept
    app.refresh_from_db()
    assert app.status == ApplicationStatus.PENDING


def test_a_stale_check_names_each_change_in_the_readers_language(cast):
    firm = firm_with_lead(cast)
    record(firm)
    app = Application.objects.get(enterprise=firm)
    stale = app.version
    record(firm, visited_on=date(2025, 6, 15))  # bumps the version
    url = reverse("visits:application_check", args=[app.pk])
    data = {**{code: "on" for code in FiveStandard.values}, "version": stale}
    client = _client(cast.staff)

    english = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    errors = english[english.index('id="form-errors"') :]
    errors = errors[: errors.index("</div></div>")]
    # The page was read fresh, so only the check itself differs: the status, for one.
    assert "status: now “Awaiting the five-standards check”, yours “Checked" in errors
    assert "；" not in errors and "：" not in errors
    # the check itself in words, as the change history shows it (no Python dict), and the
    # time in Asia/Shanghai to the minute
    assert "Real financing need: yes" in errors
    assert "{'" not in errors and "True" not in errors and "+00:00" not in errors

    chinese = client.post(url, data, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "状态：现为“" in chinese and "您填写的是“" in chinese


# --- Maker-checker approval --------------------------------------------------------------------------


def test_the_member_who_checked_cannot_approve(cast):
    app = checked(cast)
    with pytest.raises(MakerCheckerRefused) as refused:
        approve_application(cast.staff, app, app.version)
    assert "复核" in str(refused.value) or "second" in str(refused.value)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.CHECKED
    assert not Recommendation.objects.exists()


def test_the_approval_page_refuses_the_checker_in_words(cast):
    app = checked(cast)
    response = _client(cast.staff).post(
        reverse("visits:application_approve", args=[app.pk]), {"version": app.version}
    )
    assert response.status_code == 200
    assert 'id="form-errors"' in response.content.decode()
    app.refresh_from_db()
    assert app.status == ApplicationStatus.CHECKED and not Recommendation.objects.exists()


def test_a_second_member_approves_and_the_lead_bank_gets_the_recommendation(cast):
    app = checked(cast)
    make_assignment(app.enterprise, cast.other_bank, role="backup")
    approver = second_member()
    response = _client(approver).post(
        reverse("visits:application_approve", args=[app.pk]), {"version": app.version}
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.status == ApplicationStatus.APPROVED and app.approved_by == approver
    rec = Recommendation.objects.get(enterprise=app.enterprise)
    assert rec.bank == cast.bank and rec.application == app
    assert rec.recommended_on is None and rec.push is None  # not pushed yet


def test_without_a_lead_bank_the_entry_stays_checked(cast):
    firm = make_enterprise(address="某地")
    app = checked(cast, firm)
    with pytest.raises(ValidationError) as refused:
        approve_application(second_member(), app, app.version)
    assert "主办" in str(refused.value) or "lead bank" in str(refused.value)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.CHECKED


def test_only_a_checked_entry_can_be_approved(cast):
    firm = firm_with_lead(cast)
    record(firm)
    app = Application.objects.get(enterprise=firm)
    with pytest.raises(ValidationError):
        approve_application(second_member(), app, app.version)


# --- Push ---------------------------------------------------------------------------------------


def approved(cast, bank=None):
    firm = make_enterprise(address="某地")
    make_assignment(firm, bank or cast.bank, role="lead")
    app = checked(cast, firm)
    return approve_application(second_member(f"approver{app.pk}"), app, app.version)


def test_a_push_makes_one_batch_per_bank_and_sets_the_recommendation_date(cast):
    ours = [approved(cast), approved(cast)]
    theirs = approved(cast, cast.other_bank)
    left = approved(cast)
    batches = push_recommendations(cast.staff, [r.pk for r in [*ours, theirs]])
    today = timezone.localdate()
    assert sorted(b.bank_id for b in batches) == sorted([cast.bank.pk, cast.other_bank.pk])
    for rec in [*ours, theirs]:
        rec.refresh_from_db()
        assert rec.recommended_on == today and rec.push.bank_id == rec.bank_id
        assert rec.batch_no == rec.push.batch_no
    assert Recommendation.objects.get(pk=left.pk).recommended_on is None
    assert RecommendationBatch.objects.get(bank=cast.bank).recommendations.count() == 2
    # Pushing again pushes nothing twice.
    with pytest.raises(ValidationError):
        push_recommendations(cast.staff, [r.pk for r in ours])


def test_the_push_page_asks_for_confirmation_first(cast):
    rec = approved(cast)
    client = _client(cast.staff)
    ask = client.post(reverse("visits:recommendation_push"), {"ids": [rec.pk]})
    assert ask.status_code == 200 and "confirm-push" in ask.content.decode()
    rec.refresh_from_db()
    assert rec.recommended_on is None
    done = client.post(reverse("visits:recommendation_push"), {"ids": [rec.pk], "confirm": "1"})
    assert done.status_code == 302
    rec.refresh_from_db()
    assert rec.recommended_on == timezone.localdate()


def test_the_bank_officer_sees_pushed_recommendations_in_the_workspace(cast):
    pushed, waiting = approved(cast), approved(cast)
    elsewhere = approved(cast, make_bank(code="ELSE", name="别家银行"))
    push_recommendations(cast.staff, [pushed.pk, elsewhere.pk])
    text = _client(cast.officer).get(reverse("banks:workspace")).content.decode()
    start = text.index('id="recommended-to-us"')
    section = text[start : text.index("</section>", start)]
    assert pushed.enterprise.name in section
    assert waiting.enterprise.name not in section  # not pushed yet
    assert elsewhere.enterprise.name not in section  # another bank's


# --- A pushed batch's page -----------------------------------------------------------------------


@pytest.fixture
def pushed_batch(cast):
    rec = approved(cast)
    (batch,) = push_recommendations(cast.staff, [rec.pk])
    return batch, rec


def test_the_countys_staff_open_a_pushed_batch_with_its_enterprises(cast, pushed_batch):
    batch, rec = pushed_batch
    response = _client(cast.staff).get(reverse("visits:batch_detail", args=[batch.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert batch.batch_no in text and rec.enterprise.name in text


def test_bank_officers_read_pushed_batches_in_their_workspace_not_on_the_batch_page(
    cast, pushed_batch
):
    batch, _rec = pushed_batch
    url = reverse("visits:batch_detail", args=[batch.pk])
    other_officer = make_user("other_officer", Role.BANK_OFFICER, bank=cast.other_bank)
    # The batch's own bank too: the pages are the task force's (recommendation_views).
    for officer in (cast.officer, other_officer):
        response = _client(officer).get(url)
        assert response.status_code == 403
        assert batch.batch_no not in response.content.decode()


def test_another_countys_staff_cannot_find_a_pushed_batch(cast, pushed_batch):
    batch, _rec = pushed_batch
    url = reverse("visits:batch_detail", args=[batch.pk])
    assert _client(cast.outsider_staff).get(url).status_code == 404


# --- History -----------------------------------------------------------------------------------------


def test_check_approval_and_push_are_in_the_change_history(cast):
    rec = approved(cast)
    push_recommendations(cast.staff, [rec.pk])
    app_type = ContentType.objects.get_for_model(Application)
    app_entries = LogEntry.objects.filter(content_type=app_type, object_pk=str(rec.application_id))
    statuses = [e.changes.get("status") for e in app_entries.order_by("timestamp", "pk")]
    assert ["pending", "checked"] in statuses and ["checked", "approved"] in statuses
    rec_type = ContentType.objects.get_for_model(Recommendation)
    rec_entries = LogEntry.objects.filter(content_type=rec_type, object_pk=str(rec.pk))
    pushed = rec_entries.get(action=LogEntry.Action.UPDATE)
    assert pushed.actor == cast.staff
    assert pushed.changes["recommended_on"][1] == str(timezone.localdate())
    assert rec_entries.filter(action=LogEntry.Action.CREATE).exists()


def test_a_push_from_the_page_records_who_when_which_door_and_before_and_after(cast):
    recs = [approved(cast), approved(cast)]
    before = timezone.now()
    _client(cast.staff).post(
        reverse("visits:recommendation_push"),
        {"ids": [r.pk for r in recs], "confirm": "1"},
        REMOTE_ADDR="10.1.2.3",
    )
    batch = RecommendationBatch.objects.get()
    rec_type = ContentType.objects.get_for_model(Recommendation)
    entries = LogEntry.objects.filter(
        content_type=rec_type,
        object_pk__in=[str(r.pk) for r in recs],
        action=LogEntry.Action.UPDATE,
    )
    assert entries.count() == 2
    for entry in entries:
        assert entry.actor == cast.staff
        assert entry.timestamp >= before
        assert entry.remote_addr == "10.1.2.3"
        assert entry.additional_data["via"] == "web"
        assert entry.additional_data["actor_name"] == cast.staff.get_username()
        assert entry.changes["push"] == ["None", str(batch.pk)]
        assert entry.changes["batch_no"] == ["", batch.batch_no]
        assert entry.object_repr.endswith(f" → {batch.bank_id}")


def test_add_application_refuses_another_countys_enterprise(cast):
    firm = firm_with_lead(cast)
    with pytest.raises(PermissionDenied):
        add_application(cast.outsider_staff, firm)
    assert not Application.objects.exists()


def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


# --- Through the visit form's service (record_visit, update_visit, withdraw_visit) ---------------


def test_the_visit_service_feeds_the_application_list_and_a_withdrawal_takes_it_back(cast):
    from visits.services.visits import record_visit, update_visit, withdraw_visit

    from .helpers import visit_data

    firm = firm_with_lead(cast)
    first, _created = record_visit(
        cast.township, visit_data(firm, visited_on=date(2025, 5, 1), need_amount="100")
    )
    app = Application.objects.get(enterprise=firm)
    assert app.visit == first and app.need_amount == Decimal("100")
    second, _created = record_visit(
        cast.township, visit_data(firm, visited_on=date(2025, 6, 1), need_amount="250")
    )
    app.refresh_from_db()
    assert app.visit == second and app.need_amount == Decimal("250")
    # Withdrawn: the entry follows the earlier visit, which found a need too.
    withdraw_visit(cast.township, second, second.version)
    app.refresh_from_db()
    assert app.visit == first and app.need_amount == Decimal("100")
    # Edited to no need: nothing is left to check.
    first.refresh_from_db()
    update_visit(
        cast.township,
        first,
        visit_data(
            firm,
            visited_on=date(2025, 5, 1),
            has_need=False,
            need_amount=None,
            need_purpose="",
            need_term_months=None,
            acceptable_guarantees=[],
        ),
        first.version,
    )
    assert not Application.objects.filter(enterprise=firm).exists()


def test_the_history_names_the_five_standards_in_words(cast):
    from core.history import describe_changes

    rec = approved(cast)
    app_type = ContentType.objects.get_for_model(Application)
    checked = next(
        e
        for e in LogEntry.objects.filter(content_type=app_type, object_pk=str(rec.application_id))
        if "checks" in e.changes_dict
    )
    rows = {label: after for label, _before, after in describe_changes(checked)}
    assert "合规持续经营：是" in rows["五项标准审核"]
    assert "compliant_operation" not in rows["五项标准审核"]
