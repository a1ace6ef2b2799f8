"""A lead and a backup assignment of one enterprise, as the allocation leaves them."""

from banks.choices import AssignmentRole, AssignmentStatus
from banks.models import BankAssignment
from tests.factories import PINGYANG_TOWN, make_enterprise


def make_pair(lead_bank, backup_bank, due_on, enterprise=None, **fields):
    enterprise = enterprise or make_enterprise(PINGYANG_TOWN, **fields)
    lead = BankAssignment.objects.create(
        enterprise=enterprise,
        bank=lead_bank,
        role=AssignmentRole.LEAD,
        status=AssignmentStatus.PENDING,
        due_on=due_on,
    )
    backup = BankAssignment.objects.create(
        enterprise=enterprise,
        bank=backup_bank,
        role=AssignmentRole.BACKUP,
        status=AssignmentStatus.WAITING,
    )
    return lead, backup
