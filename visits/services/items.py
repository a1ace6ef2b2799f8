"""Coordination items (问题协调): the problems a visit found, each owned by a bank or department.

Plain functions, the user first, so that the pages, the REST API and jobs call the same code:

- ``items_from_visit(visit, user)`` opens one item per problem of the visit (the receiver of
  ``visit_recorded``), skipping a problem already open for the enterprise;
- ``update_item(user, item, data, expected_version)`` edits an item and moves its status
  待处理 → 处理中 → 已解决 (a resolution is required to resolve);
- ``escalate(user, item, reason)`` hands it to the city level.

Every write goes through ``core.writes.scoped_save`` and ``core.locking.save_if_unchanged``, so it
is scope-checked, refused on a stale version, and kept in the change history.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Action, Role
from banks.choices import AssignmentRole
from banks.models import Bank, BankAssignment
from core.locking import EditConflict, differences, save_if_unchanged
from core.workdays import add_working_days
from core.writes import scoped_save
from enterprises.models import Region

from ..choices import ItemLevel, ItemStatus, ProblemType
from ..models import CoordinationItem

# The write action of items: everyone who visits (task force, township workers, bank
# officers) works on the problems visits find; regulators only read them.
ITEM_ACTION = Action.VISIT

# Working days an owner has to act on a new item.
ITEM_DUE_WORKING_DAYS = 10

# Problems a bank solves (its products and terms); the others go to a department.
BANK_PROBLEMS = frozenset(
    {
        ProblemType.INSUFFICIENT_GUARANTEE,
        ProblemType.INSUFFICIENT_COLLATERAL,
        ProblemType.INTEREST_RATE,
        ProblemType.PAPERWORK,
    }
)

# Status moves an item may make; a resolved item may be reopened (back to 处理中).
TRANSITIONS = {
    ItemStatus.OPEN: {ItemStatus.IN_PROGRESS, ItemStatus.RESOLVED},
    ItemStatus.IN_PROGRESS: {ItemStatus.RESOLVED},
    ItemStatus.RESOLVED: {ItemStatus.IN_PROGRESS},
}

# Fields ``update_item`` takes from ``data``; the owner fields only from task-force staff.
EDIT_FIELDS = ("status", "description", "resolution", "due_on")
OWNER_FIELDS = ("owner_department", "owner_bank")


# The default owner of policy and other questions: the county's financial office.
DEPARTMENT_SUFFIX = "金融办"


def department_overrides():
    """{county code: department name} from ``settings.RONGXIE_ITEM_DEPARTMENTS``."""
    return getattr(settings, "RONGXIE_ITEM_DEPARTMENTS", {}) or {}


def default_department(enterprise):
    """The department that owns policy and other questions in the enterprise's county.

    ``settings.RONGXIE_ITEM_DEPARTMENTS`` ({county code: name}) overrides the default, the
    county's financial office (e.g. 平阳县金融办).
    """
    county_code = enterprise.region_id[:6]
    overrides = department_overrides()
    if county_code in overrides:
        return overrides[county_code]
    county = Region.objects.filter(code=county_code).values_list("name", flat=True).first()
    return f"{county or ''}{DEPARTMENT_SUFFIX}"


def lead_bank_id(enterprise_id):
    return (
        BankAssignment.objects.filter(enterprise_id=enterprise_id, role=AssignmentRole.LEAD)
        .values_list("bank_id", flat=True)
        .first()
    )


def default_owner(visit, problem):
    """(department, bank id) owning ``problem`` found on ``visit``: a bank problem goes to the
    visit's bank, else the enterprise's lead bank; the rest (or a bank problem with no bank)
    to the county's department."""
    if problem in BANK_PROBLEMS:
        bank_id = visit.bank_id or lead_bank_id(visit.enterprise_id)
        if bank_id:
            return "", bank_id
    return default_department(visit.enterprise), None


def items_from_visit(visit, user):
    """Open one item per problem code of ``visit.problems`` that is not already open for the
    enterprise; return the new items. Due in ``ITEM_DUE_WORKING_DAYS`` working days."""
    problems = [p for p in dict.fromkeys(visit.problems or []) if p in ProblemType.values]
    if not problems:
        return []
    already_open = set(
        CoordinationItem.objects.filter(enterprise_id=visit.enterprise_id, problem__in=problems)
        .exclude(status=ItemStatus.RESOLVED)
        .values_list("problem", flat=True)
    )
    due_on = add_working_days(timezone.localdate(), ITEM_DUE_WORKING_DAYS)
    created = []
    for problem in problems:
        if problem in already_open:
            continue
        department, bank_id = default_owner(visit, problem)
        item = CoordinationItem(
            enterprise_id=visit.enterprise_id,
            visit=visit,
            problem=problem,
            description=visit.note,
            owner_department=department,
            owner_bank_id=bank_id,
            due_on=due_on,
            created_by=user if user is not None and user.is_authenticated else None,
        )
        if user is None:  # an import or a job without a person: no scope to check
            item.save()
        else:
            scoped_save(user, ITEM_ACTION, item)
        created.append(item)
    return created


# --- Who may do what -----------------------------------------------------------------------


def editable_items(user):
    """The items ``user`` may change: task force and township workers those of their region,
    a bank officer (or bank token) those its branches own."""
    queryset = CoordinationItem.objects.restrict(user, ITEM_ACTION)
    scope = user.scope
    if not scope.everything and scope.bank_codes is not None:
        queryset = queryset.filter(owner_bank_id__in=list(scope.bank_codes))
    return queryset


def may_edit(user, item):
    return item.pk is not None and editable_items(user).filter(pk=item.pk).exists()


def may_reassign(user):
    """Task-force staff (and administrators) hand an item to another owner."""
    return user.scope.allows(Action.CHANGE)


def _locked(user, item):
    """Refuse (PermissionDenied) unless ``user`` may change ``item``."""
    if not may_edit(user, item):
        raise PermissionDenied(_("You may not change this coordination item."))


# --- Edits ---------------------------------------------------------------------------------


def update_item(user, item, data, expected_version):
    """Apply ``data`` (status, description, resolution, due_on; owner_department and owner_bank
    for task-force staff) to ``item`` and save it if nobody saved it since ``expected_version``.

    Resolving needs a resolution and stamps ``resolved_at``; reopening clears it. Raises
    ValidationError (by field), PermissionDenied, EditConflict, OutOfScope.
    """
    _locked(user, item)
    fields = EDIT_FIELDS + (OWNER_FIELDS if may_reassign(user) else ())
    errors = {}
    for name in fields:
        if name not in data:
            continue
        value = data[name]
        if name == "owner_bank":
            if isinstance(value, Bank):
                value = value.pk
            item.owner_bank_id = value or None
            continue
        if isinstance(value, str):
            value = value.strip()
        setattr(item, name, value if value is not None or name == "due_on" else "")
    # A stale edit is refused first: its checks were made against an old row.
    stored = CoordinationItem.objects.get(pk=item.pk)
    if expected_version is None or int(expected_version) != stored.version:
        raise EditConflict(stored, differences(stored, item))
    old_status = stored.status
    if item.status not in ItemStatus.values:
        errors["status"] = _("Choose one of the listed statuses.")
    elif item.status != old_status and item.status not in TRANSITIONS[old_status]:
        errors["status"] = _("An item that is “{old}” cannot become “{new}”.").format(
            old=ItemStatus(old_status).label, new=ItemStatus(item.status).label
        )
    if item.status == ItemStatus.RESOLVED and not (item.resolution or "").strip():
        errors["resolution"] = _("Say how the problem was solved before marking it resolved.")
    if not item.owner_bank_id and not (item.owner_department or "").strip():
        errors["owner_department"] = _("Name the responsible department or choose a bank.")
    if item.owner_bank_id and not Bank.objects.filter(pk=item.owner_bank_id).exists():
        errors["owner_bank"] = _("Choose one of the listed banks.")
    if errors:
        raise ValidationError(errors)
    if item.status == ItemStatus.RESOLVED and old_status != ItemStatus.RESOLVED:
        item.resolved_at = timezone.now()
    elif item.status != ItemStatus.RESOLVED:
        item.resolved_at = None
    return scoped_save(user, ITEM_ACTION, lambda: save_if_unchanged(item, expected_version))


def escalate(user, item, reason, expected_version=None):
    """Hand ``item`` to the city level (市级协调) with ``reason``; city task-force staff then
    find it in their list. ``expected_version`` defaults to the version ``item`` was read at."""
    _locked(user, item)
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["escalation_reason"] = _("Say why the county cannot solve it.")
    if item.level == ItemLevel.CITY:
        errors["level"] = _("This item is already at city level.")
    if item.status == ItemStatus.RESOLVED:
        errors["status"] = _("A resolved item is not escalated.")
    if errors:
        raise ValidationError(errors)
    version = item.version if expected_version is None else expected_version
    item.level = ItemLevel.CITY
    item.escalated_at = timezone.now()
    item.escalation_reason = reason
    return scoped_save(user, ITEM_ACTION, lambda: save_if_unchanged(item, version))


# --- Lists ---------------------------------------------------------------------------------


def item_list(user):
    """Every item ``user`` may see, with what a list row shows (one query)."""
    return CoordinationItem.objects.restrict(user).select_related(
        "enterprise__region", "owner_bank", "owner"
    )


def open_items(user):
    """Open items (待处理, 处理中) by age, oldest first."""
    return item_list(user).exclude(status=ItemStatus.RESOLVED).order_by("created_at", "pk")


def my_items(user):
    """The items the user's desk owns: a bank officer's branch's, a task-force member's
    department items of the county (and, at city level, the escalated ones), a township
    worker's of the township. Open ones first, then by age."""
    queryset = item_list(user)
    scope = user.scope
    if scope.everything:
        return queryset.none()
    if scope.bank_codes is not None:
        queryset = queryset.filter(owner_bank_id__in=list(scope.bank_codes))
    elif scope.role == Role.TASK_FORCE:
        department = Q(owner_bank__isnull=True) & ~Q(owner_department="")
        if is_city_user(user):
            department |= Q(level=ItemLevel.CITY)
        queryset = queryset.filter(department)
    elif scope.role != Role.TOWNSHIP_WORKER:
        return queryset.none()
    return queryset.order_by("status", "created_at", "pk")


def is_city_user(user):
    """A user whose region is a city or above (or an administrator): the level items are
    escalated to."""
    scope = user.scope
    if scope.everything:
        return True
    return scope.region_prefix is not None and len(scope.region_prefix) <= 4


def escalated_items(user):
    """Open items escalated to city level that ``user`` may see, oldest escalation first."""
    return (
        item_list(user)
        .filter(level=ItemLevel.CITY)
        .exclude(status=ItemStatus.RESOLVED)
        .order_by("escalated_at", "pk")
    )
