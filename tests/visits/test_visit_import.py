"""The ``visits`` and ``recommendations`` import kinds (docs/import-formats.md) with messy files:
encodings, bad dates, a future date, unknown USCCs and banks, a need without an amount, bad
choices, every separator, duplicates within a file, re-imports idempotent by key, scope."""

from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from accounts.choices import Role
from enterprises.importing import import_file
from tests.enterprises.helpers import write_csv, write_xlsx
from tests.factories import (
    LUCHENG_STREET,
    PINGYANG,
    make_assignment,
    make_enterprise,
    make_user,
)
from visits.models import Application, CoordinationItem, DueVisit, Recommendation, Visit

pytestmark = pytest.mark.django_db

HEADER = [
    "统一社会信用代码", "走访日期", "走访轮次", "走访方式", "乡镇工作人员", "银行机构代码",
    "银行客户经理", "是否正常经营", "是否有融资需求", "需求金额（万元）", "资金用途",
    "可接受担保方式", "融资意愿", "需协调问题", "备注",
]  # fmt: skip


def row(enterprise, **cells):
    values = {
        "uscc": enterprise.uscc,
        "visited_on": "2025-06-03",
        "round": "首次走访",
        "method": "上门",
        "township_worker": "",
        "bank_code": "",
        "bank_officer": "",
        "operating": "是",
        "has_need": "是",
        "need_amount": "200",
        "purpose": "流动资金",
        "guarantee": "信用",
        "intent": "强",
        "problems": "",
        "note": "",
    }
    values.update(cells)
    return list(values.values())


def errors(batch):
    return [(e.row_number, e.column, e.value, e.reason) for e in batch.errors.order_by("pk")]


def test_a_visits_file_with_every_kind_of_mistake_reports_each_row_in_chinese(cast, tmp_path):
    good = make_enterprise()
    future = (timezone.localdate() + timedelta(days=1)).isoformat()
    path = write_csv(
        tmp_path / "v.csv",
        HEADER,
        [
            row(good),  # 2: fine
            row(good, visited_on="2025-13-40"),  # 3: not a date
            row(good, visited_on=future, round="回访"),  # 4: in the future
            row(good, uscc="91330326000000000X"),  # 5: bad check digit
            row(good, bank_code="NO-SUCH-BANK", round="二次走访"),  # 6: unknown bank
            row(good, need_amount="", visited_on="2025-06-04"),  # 7: need without amount
            row(good, method="步行", visited_on="2025-06-05"),  # 8: unknown method
            row(good, problems="担保不足;天气", visited_on="2025-06-06"),  # 9: unknown problem
            row(good),  # 10: duplicate of row 2
            row(good, has_need="也许", visited_on="2025-06-07"),  # 11: not a boolean
        ],
        encoding="gb18030",
    )
    batch = import_file("visits", path, user=cast.staff, skip_bad_rows=True)
    assert batch.status == "applied", batch.message
    found = {(r, c): reason for r, c, _v, reason in errors(batch)}
    assert found == {
        (3, "走访日期"): "不是有效日期。",
        (4, "走访日期"): "走访日期晚于今天。",
        (5, "统一社会信用代码"): "统一社会信用代码无效（校验位或字符错误）。",
        (6, "银行机构代码"): "银行机构代码不存在。",
        (7, "需求金额(万元)"): "是否有融资需求为“是”时必须填写。",
        (8, "走访方式"): "无法识别的值；允许的值：上门 / 电话 / 线上。",
        (
            9,
            "需协调问题",
        ): "无法识别的值；允许的值：担保不足 / 抵押物不足 / 利率 / 手续繁琐 / 政策咨询 / 其他。",
        (10, "统一社会信用代码"): "重复记录：与第 2 行相同。",
        (11, "是否有融资需求"): "不是是/否值（是/否、Y/N、1/0、true/false）。",
    }
    assert Visit.objects.count() == 1


XLSX_HEADER = [
    "统一社会信用代码", "走访日期", "乡镇工作人员", "银行机构代码", "银行客户经理",
    "是否有融资需求", "需求金额（万元）", "可接受担保方式", "需协调问题", "Note",
]  # fmt: skip


def test_imported_visits_are_completed_with_defaults_names_and_lists_and_raise_items_once(
    cast, tmp_path
):
    enterprise = make_enterprise()
    worker = make_user(
        "wang", Role.TOWNSHIP_WORKER, region="330326100", first_name="王", last_name="小明"
    )
    officer_name = "李经理"
    path = write_xlsx(
        tmp_path / "v.xlsx",
        [
            "统一社会信用代码",
            "走访日期",
            "乡镇工作人员",
            "银行机构代码",
            "银行客户经理",
            "是否有融资需求",
            "需求金额（万元）",
            "可接受担保方式",
            "需协调问题",
            "Note",
        ],
        [
            [
                enterprise.uscc,
                date(2025, 6, 3),
                "王 小明",
                "PY-BR",
                officer_name,
                "Y",
                120,
                "信用；保证、抵押,质押",
                "担保不足、利率;担保不足",
                "外贸订单",
            ],
            [enterprise.uscc, "2025/6/10", "无名氏", "", "", "否", "", "", "利率", ""],
        ],
    )
    batch = import_file("visits", path, user=cast.staff)
    assert batch.status == "applied", (batch.message, errors(batch))
    assert (batch.rows_created, batch.rows_updated) == (2, 0)
    first, second = Visit.objects.order_by("visited_on")
    assert (first.status, first.round, first.method) == ("completed", "first", "on_site")
    assert first.township_worker == worker and first.township_worker_name == "王 小明"
    assert first.bank_id == "PY-BR" and first.bank_officer is None
    assert first.bank_officer_name == officer_name  # kept as text: no such user
    assert first.acceptable_guarantees == ["credit", "surety", "mortgage", "pledge"]
    assert first.problems == ["guarantee", "rate"]
    assert first.note == "外贸订单" and first.batch == batch and first.version == 1
    assert second.township_worker is None and second.township_worker_name == "无名氏"
    assert second.has_need is False and second.need_amount is None
    # One open item per problem of the enterprise, not one per visit.
    items = CoordinationItem.objects.order_by("problem")
    assert [(i.problem, i.status, i.visit_id) for i in items] == [
        ("guarantee", "open", first.pk),
        ("rate", "open", first.pk),
    ]
    # Every written visit, item and application-list entry is in the change history, by the
    # importer (the first visit's need put the enterprise on the list).
    entries = LogEntry.objects.filter(additional_data__batch=batch.pk)
    assert entries.count() == 5
    assert {e.actor for e in entries} == {cast.staff}
    assert {e.action for e in entries} == {LogEntry.Action.CREATE}


def test_reimporting_a_visits_file_is_idempotent_and_a_changed_row_updates_by_key(cast, tmp_path):
    enterprise = make_enterprise()
    rows = [row(enterprise, problems="利率")]
    batch = import_file("visits", write_csv(tmp_path / "a.csv", HEADER, rows), user=cast.staff)
    assert (batch.rows_created, batch.rows_updated) == (1, 0)
    visit = Visit.objects.get()

    again = import_file(
        "visits", write_csv(tmp_path / "a.csv", HEADER, rows), user=cast.staff, force=True
    )
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 1)
    assert not LogEntry.objects.filter(additional_data__batch=again.pk).exists()

    # The same key (USCC, date, round) with another amount: the stored visit is updated.
    CoordinationItem.objects.update(status="resolved")
    changed = [row(enterprise, need_amount="350", problems="利率")]
    third = import_file("visits", write_csv(tmp_path / "b.csv", HEADER, changed), user=cast.staff)
    assert (third.rows_created, third.rows_updated) == (0, 1)
    visit.refresh_from_db()
    assert visit.need_amount == 350 and visit.version == 2
    assert Visit.objects.count() == 1
    # The resolved item of this very visit is not raised again.
    assert CoordinationItem.objects.count() == 1
    assert LogEntry.objects.get(additional_data__batch=third.pk).action == LogEntry.Action.UPDATE


def test_an_open_item_of_the_same_problem_is_not_duplicated_by_another_visit(cast, tmp_path):
    enterprise = make_enterprise()
    import_file(
        "visits",
        write_csv(tmp_path / "a.csv", HEADER, [row(enterprise, problems="利率")]),
        user=cast.staff,
    )
    later = [row(enterprise, visited_on="2025-07-01", problems="利率、政策咨询")]
    import_file("visits", write_csv(tmp_path / "b.csv", HEADER, later), user=cast.staff)
    assert sorted(CoordinationItem.objects.values_list("problem", flat=True)) == ["policy", "rate"]


def test_visits_of_enterprises_outside_the_region_are_row_errors(cast, tmp_path):
    theirs = make_enterprise(region=LUCHENG_STREET)
    path = write_csv(tmp_path / "v.csv", HEADER, [row(theirs)])
    batch = import_file("visits", path, user=cast.staff)
    assert [e[3] for e in errors(batch)] == ["该主体不在您的辖区内。"]
    assert not Visit.objects.exists()


def test_a_bank_token_imports_visits_only_of_its_own_bank_and_enterprises(cast, tmp_path):
    partner = make_user(
        "py-bank", Role.PARTNER, region=PINGYANG, bank=cast.bank, api_scopes="view,import"
    )
    ours, unlinked = make_enterprise(), make_enterprise()
    make_assignment(ours, cast.bank)
    path = write_csv(
        tmp_path / "v.csv",
        HEADER,
        [
            row(ours, bank_code="PY-BR"),  # 2: fine
            row(ours, bank_code="RA-BR", round="回访"),  # 3: another bank
            row(ours, bank_code="", round="二次走访"),  # 4: no bank named
            row(unlinked, bank_code="PY-BR"),  # 5: not the bank's enterprise
        ],
    )
    batch = import_file("visits", path, user=partner, skip_bad_rows=True)
    assert [(e[0], e[3]) for e in errors(batch)] == [
        (3, "该银行不在您的权限范围内。"),
        (4, "请填写本行的银行机构代码：您只能导入本行参与的走访。"),
        (5, "该企业不是本行的企业，不在您的权限范围内。"),
    ]
    assert list(Visit.objects.values_list("enterprise", "bank")) == [(ours.pk, "PY-BR")]


def test_imported_items_have_the_owners_and_due_date_of_a_visit_recorded_on_screen(
    cast, tmp_path, settings
):
    from core.workdays import add_working_days

    led, unled, elsewhere = make_enterprise(), make_enterprise(), make_enterprise()
    make_assignment(led, cast.other_bank)
    rows = [
        row(led, problems="担保不足、政策咨询"),  # no bank named: the lead bank takes 担保不足
        row(unled, bank_code="PY-BR", problems="利率"),  # the visit's bank
        row(elsewhere, problems="抵押物不足"),  # no bank at all: the county's office
    ]
    import_file("visits", write_csv(tmp_path / "v.csv", HEADER, rows), user=cast.staff)
    owners = {
        (i.enterprise_id, i.problem): (i.owner_bank_id, i.owner_department)
        for i in CoordinationItem.objects.all()
    }
    assert owners == {
        (led.pk, "guarantee"): ("RA-BR", ""),
        (led.pk, "policy"): (None, "平阳县金融办"),
        (unled.pk, "rate"): ("PY-BR", ""),
        (elsewhere.pk, "collateral"): (None, "平阳县金融办"),
    }
    due = add_working_days(timezone.localdate(), 10)
    assert set(CoordinationItem.objects.values_list("due_on", flat=True)) == {due}
    # a county's own department, as for a visit recorded on screen
    settings.RONGXIE_ITEM_DEPARTMENTS = {"330326": "平阳县发改局"}
    other = make_enterprise()
    import_file(
        "visits",
        write_csv(tmp_path / "w.csv", HEADER, [row(other, problems="其他")]),
        user=cast.staff,
    )
    assert CoordinationItem.objects.get(enterprise=other).owner_department == "平阳县发改局"


def test_an_imported_visit_schedules_its_follow_up_and_closes_what_was_due(cast, tmp_path):
    enterprise, quiet = make_enterprise(), make_enterprise()
    first = [
        row(enterprise, visited_on="2025-06-03"),  # a need: due again in 30 days
        row(quiet, has_need="否", need_amount="", intent="暂无"),  # nothing to follow up
    ]
    import_file("visits", write_csv(tmp_path / "a.csv", HEADER, first), user=cast.staff)
    (due,) = DueVisit.objects.all()
    visit = Visit.objects.get(enterprise=enterprise)
    assert (due.enterprise_id, due.source_visit_id, due.done_by_id) == (
        enterprise.pk,
        visit.pk,
        None,
    )
    assert (due.due_on, due.opened_on, due.round) == (date(2025, 7, 3), date(2025, 6, 3), "second")
    # the same file again changes nothing
    import_file("visits", write_csv(tmp_path / "a.csv", HEADER, first), user=cast.staff, force=True)
    assert DueVisit.objects.count() == 1
    # the second-round visit, strong intent without a need: closes the first, opens a 回访
    later = [row(enterprise, visited_on="2025-07-01", round="二次走访", has_need="否",
                 need_amount="")]  # fmt: skip
    import_file("visits", write_csv(tmp_path / "b.csv", HEADER, later), user=cast.staff)
    second = Visit.objects.get(enterprise=enterprise, round="second")
    due.refresh_from_db()
    assert due.done_by_id == second.pk
    reopened = DueVisit.objects.get(done_by__isnull=True)
    assert (reopened.source_visit_id, reopened.round) == (second.pk, "return")
    assert reopened.due_on == date(2025, 7, 31)
    # an older visit imported afterwards is not the latest: it schedules nothing
    older = [row(enterprise, visited_on="2025-05-01", round="回访")]
    import_file("visits", write_csv(tmp_path / "c.csv", HEADER, older), user=cast.staff)
    assert list(DueVisit.objects.filter(done_by__isnull=True)) == [reopened]


def test_an_imported_need_puts_the_enterprise_on_the_application_list_once(cast, tmp_path):
    enterprise, closed, no_need = make_enterprise(), make_enterprise(), make_enterprise()
    rows = [
        row(enterprise, visited_on="2025-06-03", need_amount="200"),
        row(closed, operating="否"),  # not operating normally: not on the list
        row(no_need, has_need="否", need_amount=""),
    ]
    batch = import_file("visits", write_csv(tmp_path / "a.csv", HEADER, rows), user=cast.staff)
    (entry,) = Application.objects.all()
    first = Visit.objects.get(enterprise=enterprise)
    assert (entry.enterprise_id, entry.visit_id, entry.status) == (
        enterprise.pk,
        first.pk,
        "pending",
    )
    assert entry.need_amount == 200
    created = LogEntry.objects.get_for_object(entry).get()
    assert (created.action, created.actor) == (LogEntry.Action.CREATE, cast.staff)
    assert created.additional_data["batch"] == batch.pk
    # the same file again: no second entry, no history
    again = import_file(
        "visits", write_csv(tmp_path / "a.csv", HEADER, rows), user=cast.staff, force=True
    )
    assert Application.objects.count() == 1
    assert not LogEntry.objects.filter(additional_data__batch=again.pk).exists()
    # a later visit with another amount: the open entry follows it
    later = [row(enterprise, visited_on="2025-07-01", round="二次走访", need_amount="350")]
    third = import_file("visits", write_csv(tmp_path / "b.csv", HEADER, later), user=cast.staff)
    entry.refresh_from_db()
    assert entry.visit == Visit.objects.get(round="second") and entry.need_amount == 350
    assert entry.version == 2 and Application.objects.count() == 1
    updated = LogEntry.objects.get_for_object(entry).get(additional_data__batch=third.pk)
    assert updated.action == LogEntry.Action.UPDATE
    # an older visit does not take the entry back
    older = [row(enterprise, visited_on="2025-05-01", round="回访", need_amount="90")]
    import_file("visits", write_csv(tmp_path / "c.csv", HEADER, older), user=cast.staff)
    entry.refresh_from_db()
    assert entry.need_amount == 350


# --- recommendations --------------------------------------------------------------------------

REC_HEADER = ["统一社会信用代码", "推荐银行机构代码", "推荐日期", "推荐批次", "需求金额（万元）"]


def test_recommendations_import_with_their_date_and_skip_the_five_standards(cast, tmp_path):
    enterprise, other = make_enterprise(), make_enterprise()
    path = write_csv(
        tmp_path / "r.csv",
        REC_HEADER,
        [
            [enterprise.uscc, "PY-BR", "2025年6月10日", "省平台-06", "1,200.5"],
            [other.uscc, "NOPE", "2025-06-10", "", ""],  # unknown bank
            [other.uscc, "PY-BR", "10/06/2025", "", ""],  # not a date
            [other.uscc, "PY-BR", "2025-06-11", "", "-3"],  # not > 0
            [enterprise.uscc, "PY-BR", "2025-06-10", "", ""],  # duplicate of row 2
            ["913303260000000019", "PY-BR", "2025-06-10", "", ""],  # unknown USCC
        ],
        encoding="utf-8-sig",
    )
    batch = import_file("recommendations", path, user=cast.staff, skip_bad_rows=True)
    assert batch.status == "applied", batch.message
    assert [(e[0], e[1]) for e in errors(batch)] == [
        (3, "推荐银行机构代码"),
        (4, "推荐日期"),
        (5, "需求金额(万元)"),
        (6, "统一社会信用代码"),
        (7, "统一社会信用代码"),
    ]
    rec = Recommendation.objects.get()
    assert (rec.enterprise, rec.bank_id, rec.recommended_on) == (
        enterprise,
        "PY-BR",
        date(2025, 6, 10),
    )
    assert rec.application is None and rec.batch_no == "省平台-06"
    assert str(rec.need_amount) == "1200.500000"
    assert LogEntry.objects.filter(additional_data__batch=batch.pk).count() == 1

    again = import_file("recommendations", path, user=cast.staff, force=True, skip_bad_rows=True)
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 1)
    assert Recommendation.objects.count() == 1


def test_a_bank_token_imports_only_its_own_banks_recommendations(cast, tmp_path):
    partner = make_user(
        "py-bank", Role.PARTNER, region=PINGYANG, bank=cast.bank, api_scopes="view,import"
    )
    enterprise = make_enterprise()
    path = write_csv(
        tmp_path / "r.csv",
        REC_HEADER,
        [
            [enterprise.uscc, "RA-BR", "2025-06-10", "", ""],
            [enterprise.uscc, "PY-BR", "2025-06-10", "", ""],
        ],
    )
    batch = import_file("recommendations", path, user=partner, skip_bad_rows=True)
    assert [(e[0], e[3]) for e in errors(batch)] == [(2, "该银行不在您的权限范围内。")]
    assert list(Recommendation.objects.values_list("bank", flat=True)) == ["PY-BR"]


def test_a_visits_file_shows_among_the_enterprise_imports_in_its_timeline(cast, tmp_path):
    from enterprises.timeline import timeline

    enterprise = make_enterprise()
    batch = import_file(
        "visits", write_csv(tmp_path / "v.csv", HEADER, [row(enterprise)]), user=cast.staff
    )
    events, _more = timeline(enterprise, cast.staff)
    imports = [e for e in events if e.source == "imports"]
    assert any(f"#{batch.pk}" in e.detail for e in imports)
