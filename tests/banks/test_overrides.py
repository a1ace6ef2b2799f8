"""Changing an assignment's bank by hand: reason, serving branch, two institutions, scope."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from banks.choices import AssignmentStatus
from banks.models import BankAssignment
from banks.services.allocation import explain
from banks.services.overrides import override_assignment, override_candidates
from tests.banks.helpers import build
from tests.factories import make_assignment

pytestmark = pytest.mark.django_db


@pytest.fixture
def matched(cast):
    return build(cast)


@pytest.fixture
def pair(matched):
    """firms[2] (鳌江镇) with lead 温州银行平阳支行 and backup 瑞安农商银行, set by hand."""
    firm = matched.firms[2]
    BankAssignment.objects.filter(enterprise=firm).delete()
    lead = make_assignment(firm, matched.lead_bank, role="lead")
    backup = make_assignment(firm, matched.other, role="backup")
    BankAssignment.objects.filter(pk=backup.pk).update(status=AssignmentStatus.WAITING)
    backup.refresh_from_db()
    return lead, backup


def test_the_candidates_serve_the_location_and_are_of_another_institution(matched, pair):
    lead, backup = pair
    # Backup: not 温州银行 (the lead's institution, both its branches), not 鹿城, not itself.
    assert list(override_candidates(backup).values_list("code", flat=True)) == ["ABC-PY"]
    # Lead: its sibling 温州银行鳌江支行 serves 鳌江镇 and differs from the backup's institution.
    assert set(override_candidates(lead).values_list("code", flat=True)) == {"ABC-PY", "PY-BR2"}


def test_an_override_saves_the_bank_the_reason_and_a_new_clock(cast, matched, pair):
    lead, _backup = pair

    saved = override_assignment(
        cast.staff, lead, matched.sibling, "企业要求就近办理", today=date(2026, 11, 2)
    )

    saved.refresh_from_db()
    assert saved.bank_id == "PY-BR2"
    assert saved.override_reason == "企业要求就近办理"
    assert saved.status == AssignmentStatus.PENDING
    # The new branch's own clock: 7 working days from Monday 2 November 2026.
    assert saved.due_on == date(2026, 11, 11)
    with translation.override("zh-hans"):
        assert explain(saved) == "温州银行鳌江支行 — 服务鳌江镇 （人工调整：企业要求就近办理）"


def test_an_override_of_a_standing_by_backup_keeps_its_status(cast, matched, pair):
    _lead, backup = pair
    saved = override_assignment(cast.staff, backup, matched.third, "备选行调整")
    assert (saved.bank_id, saved.status, saved.due_on) == ("ABC-PY", "waiting", None)


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_an_override_needs_a_reason(cast, matched, pair, reason):
    lead, _backup = pair
    with pytest.raises(ValidationError):
        override_assignment(cast.staff, lead, matched.sibling, reason)
    lead.refresh_from_db()
    assert lead.bank_id == "PY-BR"


def test_an_override_to_a_branch_not_serving_the_location_is_refused(cast, matched, pair):
    lead, _backup = pair
    with pytest.raises(ValidationError):
        override_assignment(cast.staff, lead, matched.far, "鹿城的银行")
    # 温州银行鳌江支行 serves 鳌江镇 only, not 昆阳镇.
    firm = matched.firms[0]
    BankAssignment.objects.filter(enterprise=firm).delete()
    kunyang_lead = make_assignment(firm, matched.other, role="lead")
    make_assignment(firm, matched.third, role="backup")
    with pytest.raises(ValidationError):
        override_assignment(cast.staff, kunyang_lead, matched.sibling, "鳌江的支行")
    lead.refresh_from_db()
    kunyang_lead.refresh_from_db()
    assert (lead.bank_id, kunyang_lead.bank_id) == ("PY-BR", "RA-BR")


def test_an_override_to_the_other_roles_institution_is_refused(cast, matched, pair):
    _lead, backup = pair
    with pytest.raises(ValidationError):
        override_assignment(cast.staff, backup, matched.sibling, "同一机构")
    backup.refresh_from_db()
    assert backup.bank_id == "RA-BR"


def test_an_override_to_the_current_bank_is_refused(cast, matched, pair):
    lead, _backup = pair
    with pytest.raises(ValidationError):
        override_assignment(cast.staff, lead, matched.lead_bank, "不变")


@pytest.mark.parametrize("who", ["outsider_staff", "regulator", "township", "officer", "partner"])
def test_an_override_outside_the_allocate_scope_is_refused(cast, matched, pair, who):
    lead, _backup = pair
    with pytest.raises(PermissionDenied):
        override_assignment(getattr(cast, who), lead, matched.sibling, "越权")
    lead.refresh_from_db()
    assert (lead.bank_id, lead.override_reason) == ("PY-BR", "")


@pytest.mark.parametrize("who", ["city_staff", "admin"])
def test_city_staff_and_admins_may_override(cast, matched, pair, who):
    lead, _backup = pair
    saved = override_assignment(getattr(cast, who), lead, matched.sibling, "市级调整")
    assert saved.bank_id == "PY-BR2"
