"""Read-side queries other apps use (dashboards, enterprise pages)."""

from .choices import RunStatus
from .models import ListMembership, ScreeningRun


def current_runs():
    """The current succeeded run of every region."""
    return ScreeningRun.objects.filter(is_current=True, status=RunStatus.SUCCEEDED)


def current_memberships(list_type):
    """Memberships of ``list_type`` in the current succeeded run of each region.

    Chain ``.restrict(user)`` for scoping, e.g. active entities a user may see:
    ``current_memberships("active").restrict(user)``.
    """
    return ListMembership.objects.filter(
        list_type=list_type, run__is_current=True, run__status=RunStatus.SUCCEEDED
    )
