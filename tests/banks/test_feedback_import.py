"""The ``feedback`` import kind (银行反馈, docs/import-formats.md): messy files, the bank's
assignment, scope, and the assignment status set as the feedback form sets it."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.choices import Role
from banks.choices import AssignmentStatus, HandOffCause
from banks.models import BankAssignment, BankFeedback, HandOff
from enterprises.importing import import_file
from tests.enterprises.helpers import write_csv, write_xlsx
from tests.factories import LUCHENG_STREET, PINGYANG, make_enterprise, make_user

from .pairs import make_pair

pytestmark = pytest.mark.django_db

HEADER = ["统一社会信用代码", "银行机构代码", "反馈日期", "反馈结果", "不予授信原因", "说明"]
FUTURE = date(2099, 1, 1)


def errors_of(batch):
    return sorted((e.row_number, e.column, e.reason) for e in batch.errors.all())


@pytest.fixture
def pairs(cast):
    """Three enterprises of 平阳县 with 温州银行平阳支行 (cast.bank) as lead, 瑞安农商 as backup."""
    return [make_pair(cast.bank, cast.other_bank, due_on=FUTURE) for _ in range(3)]


def test_a_clean_file_records_feedback_and_sets_each_assignments_status(cast, pairs, tmp_path):
    (a, _), (b, b_backup), (c, _) = pairs
    path = write_xlsx(
        tmp_path / "f.xlsx",
        HEADER,
        [
            [a.enterprise.uscc, "PY-BR", "2025/6/1", "已联系", None, "电话联系"],
            # two answers on one assignment: the later one sets the status
            [a.enterprise.uscc, "PY-BR", "2025年6月9日", "已受理", None, None],
            [b.enterprise.uscc, "PY-BR", "20250610", "不予授信", "担保不足", "无抵押物"],
            [c.enterprise.uscc, "　PY-BR ", "2025-06-11", "已授信", None, None],
        ],
    )
    batch = import_file("feedback", path, user=cast.staff)

    assert batch.status == "applied", batch.message
    assert errors_of(batch) == []
    assert (batch.rows_created, batch.rows_updated) == (4, 0)
    for row in (a, b, b_backup, c):
        row.refresh_from_db()
    assert a.status == AssignmentStatus.ACCEPTED
    assert c.status == AssignmentStatus.CREDITED and c.decided_on == date(2025, 6, 11)
    # the decline hands the enterprise to the backup bank, whose own clock starts
    assert b.status == AssignmentStatus.HANDED_OFF and b.decided_on == date(2025, 6, 10)
    assert b_backup.status == AssignmentStatus.PENDING and b_backup.due_on is not None
    assert HandOff.objects.get(from_assignment=b).cause == HandOffCause.DECLINED
    declined = BankFeedback.objects.get(assignment=b)
    assert (declined.decline_reason, declined.reason, declined.batch) == (
        "insufficient_collateral",
        "无抵押物",
        batch,
    )
    assert list(BankFeedback.objects.filter(assignment=a).values_list("feedback_on", "status")) == [
        (date(2025, 6, 9), "accepted"),
        (date(2025, 6, 1), "contacted"),
    ]


def test_the_same_file_again_changes_nothing_and_a_changed_note_updates(cast, pairs, tmp_path):
    (a, _), *_rest = pairs
    row = [a.enterprise.uscc, "PY-BR", "2025-06-01", "已联系", None, "电话联系"]
    import_file("feedback", write_csv(tmp_path / "1.csv", HEADER, [row]), user=cast.staff)
    again = import_file(
        "feedback", write_csv(tmp_path / "2.csv", HEADER, [row]), user=cast.staff, force=True
    )
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 1)
    changed = import_file(
        "feedback",
        write_csv(tmp_path / "3.csv", HEADER, [[*row[:5], "上门拜访"]]),
        user=cast.staff,
    )
    assert (changed.rows_created, changed.rows_updated) == (0, 1)
    assert BankFeedback.objects.get().reason == "上门拜访"


def test_a_messy_file_reports_every_bad_row_in_chinese(cast, pairs, tmp_path):
    (a, _), (b, _), (c, _) = pairs
    far = make_enterprise(LUCHENG_STREET)
    unassigned = make_enterprise()
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    rows = [
        [a.enterprise.uscc, "PY-BR", "2025-06-01", "已放款", None, None],  # 2 bad result
        [b.enterprise.uscc, "PY-BR", "2025-06-01", "不予授信", None, "不符合"],  # 3 no reason
        [c.enterprise.uscc, "PY-BR", "2025-06-01", "不予授信", "其他", None],  # 4 其他 no note
        ["91330326MA0000000X", "PY-BR", "2025-06-01", "已联系", None, None],  # 5 bad USCC
        [unassigned.uscc, "PY-BR", "2025-06-01", "已联系", None, None],  # 6 not assigned
        [a.enterprise.uscc, "RA-BR", "2025-06-01", "已联系", None, None],  # 7 standing by
        [a.enterprise.uscc, "NO-SUCH", "2025-06-01", "已联系", None, None],  # 8 unknown bank
        [far.uscc, "PY-BR", "2025-06-01", "已联系", None, None],  # 9 outside the region
        [a.enterprise.uscc, "PY-BR", tomorrow, "已联系", None, None],  # 10 in the future
        [a.enterprise.uscc, "PY-BR", "2025-06-01", "已联系", "担保不足", None],  # 11 reason?
        [a.enterprise.uscc, "PY-BR", "2025-06-02", "已联系", None, None],  # ok
        [a.enterprise.uscc, "PY-BR", "2025-06-02", "已联系", None, "again"],  # 13 duplicate key
    ]
    batch = import_file(
        "feedback", write_csv(tmp_path / "m.csv", HEADER, rows), user=cast.staff,
        skip_bad_rows=True,
    )  # fmt: skip
    assert batch.status == "applied", batch.message
    found = errors_of(batch)
    assert [(row, column) for row, column, _reason in found] == [
        (2, "反馈结果"),
        (3, "不予授信原因"),
        (4, "说明"),
        (5, "统一社会信用代码"),
        (6, "银行机构代码"),
        (7, "银行机构代码"),
        (8, "银行机构代码"),
        (9, "统一社会信用代码"),
        (10, "反馈日期"),
        (11, "不予授信原因"),
        (13, "统一社会信用代码"),
    ]
    reasons = dict(((row, column), reason) for row, column, reason in found)
    assert reasons[3, "不予授信原因"] == "反馈结果为不予授信时必填。"
    assert reasons[4, "说明"] == "不予授信原因为其他时必填：请说明。"
    assert reasons[6, "银行机构代码"] == "该银行未被分配对接此企业（既非主办行也非备选行）。"
    assert reasons[7, "银行机构代码"].startswith("该银行对此企业没有进行中的对接")
    assert "已联系" in reasons[2, "反馈结果"]
    # only the one good row was written; nothing else changed
    assert BankFeedback.objects.count() == 1
    b.refresh_from_db()
    assert b.status == AssignmentStatus.PENDING and not HandOff.objects.exists()


def test_a_bank_token_imports_only_its_own_banks_rows(cast, pairs, tmp_path):
    (a, a_backup), *_rest = pairs
    ra_partner = make_user(
        "ra-api", Role.PARTNER, region=PINGYANG, bank=cast.other_bank, api_scopes="view,import"
    )
    py_partner = make_user(
        "py-api", Role.PARTNER, region=PINGYANG, bank=cast.bank, api_scopes="view,import"
    )
    rows = [
        [a.enterprise.uscc, "PY-BR", "2025-06-01", "已联系", None, None],
        [a.enterprise.uscc, "RA-BR", "2025-06-01", "已联系", None, None],
    ]
    path = write_csv(tmp_path / "s.csv", HEADER, rows)
    theirs = import_file("feedback", path, user=ra_partner, skip_bad_rows=True)
    assert [(r, c) for r, c, _reason in errors_of(theirs)] == [
        (2, "银行机构代码"),
        (3, "银行机构代码"),
    ]
    assert errors_of(theirs)[0][2] == "该银行不在您的权限范围内。"
    ours = import_file("feedback", path, user=py_partner, force=True, skip_bad_rows=True)
    assert [(r, c) for r, c, _reason in errors_of(ours)] == [(3, "银行机构代码")]
    assert list(BankFeedback.objects.values_list("assignment", flat=True)) == [a.pk]
    a_backup.refresh_from_db()
    assert a_backup.status == AssignmentStatus.WAITING


def test_staff_of_another_county_import_nothing_of_this_one(cast, pairs, tmp_path):
    (a, _), *_rest = pairs
    rows = [[a.enterprise.uscc, "PY-BR", "2025-06-01", "已联系", None, None]]
    batch = import_file(
        "feedback", write_csv(tmp_path / "o.csv", HEADER, rows), user=cast.outsider_staff
    )
    assert batch.status == "rejected"
    assert errors_of(batch)[0][2] == "该主体不在您的辖区内。"
    assert not BankFeedback.objects.exists()
    assert BankAssignment.objects.get(pk=a.pk).status == AssignmentStatus.PENDING


def test_a_missing_required_column_rejects_the_file(cast, pairs, tmp_path):
    path = write_csv(tmp_path / "h.csv", HEADER[:3], [["x", "PY-BR", "2025-06-01"]])
    batch = import_file("feedback", path, user=cast.staff)
    assert batch.status == "rejected"
    assert "反馈结果" in batch.message
