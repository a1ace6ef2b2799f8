"""Recording, editing and withdrawing field visits (走访): the one service every door uses.

The visit form, and later the API and the imports, call ``record_visit`` / ``update_visit`` /
``withdraw_visit``. Each writes through ``core.writes.scoped_save(user, Action.VISIT, …)`` (one
transaction, the saved row re-checked against the user's scope, change history kept) and edits
through ``core.locking.save_if_unchanged`` (optimistic locking). After each save the
``visits.signals`` signals are sent inside the same transaction.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Action, Role
from banks.choices import AssignmentRole, AssignmentStatus
from banks.models import BankAssignment
from core.history import field_in_words
from core.locking import save_if_unchanged
from core.writes import OutOfScope, scoped_save
from enterprises.models import Enterprise

from ..choices import (
    Intent,
    NeedPurpose,
    ProblemType,
    VisitMethod,
    VisitRound,
    VisitStatus,
    guarantee_choices,
)
from ..models import Visit
from ..signals import visit_recorded, visit_withdrawn

# A visit that found a need or strong intent is followed up this many days later unless the
# visitor sets another date (settings.VISIT_FOLLOW_UP_DAYS overrides it per installation).
DEFAULT_FOLLOW_UP_DAYS = 30

# The fields a visit form / API body may set; everything else is filled here.
EDITABLE_FIELDS = (
    "round",
    "visited_on",
    "method",
    "operating_normally",
    "has_need",
    "need_amount",
    "need_purpose",
    "need_term_months",
    "acceptable_guarantees",
    "intent",
    "problems",
    "note",
    "next_visit_on",
    "township_worker_name",
    "bank_officer_name",
)
NEED_FIELDS = ("need_amount", "need_purpose", "need_term_months", "acceptable_guarantees")


def follow_up_days():
    return int(getattr(settings, "VISIT_FOLLOW_UP_DAYS", DEFAULT_FOLLOW_UP_DAYS))


def visitable_enterprises(user):
    """The enterprises ``user`` may record visits for.

    ``restrict(user, "visit")`` (a township worker: the township; task force: the county), and
    for a bank (an officer, or a bank-scoped token) only the enterprises handed to its branch:
    a BankAssignment of one of its branches that is not a backup still standing by. A loan or
    credit line at the bank alone does not make an enterprise the bank's to visit.
    """
    queryset = Enterprise.objects.restrict(user, Action.VISIT)
    codes = user.scope.bank_codes
    if codes is not None and not user.scope.everything:
        assigned = BankAssignment.objects.filter(
            enterprise=OuterRef("pk"), bank_id__in=list(codes)
        ).exclude(status=AssignmentStatus.WAITING)
        queryset = queryset.filter(Exists(assigned))
    return queryset


def editable_visits(user):
    """The visits ``user`` may edit or withdraw: of enterprises they may visit."""
    return Visit.objects.restrict(user, Action.VISIT).filter(
        enterprise__in=visitable_enterprises(user)
    )


def _codes(values, choices, field, errors):
    allowed = {code for code, _label in choices}
    values = list(dict.fromkeys(values or []))  # keep the order, drop repeats
    if any(v not in allowed for v in values):
        errors[field] = _("Choose from the listed options.")
    return values


def clean_visit_fields(data, today=None):
    """Check the rules of a visit's fields; return the cleaned dict (by model field name).

    Raises ``ValidationError`` with a Chinese message per field. Without a need the need's
    fields are cleared; with a need or strong intent and no next-visit date, the follow-up is
    set ``follow_up_days()`` after the visit.
    """
    today = today or timezone.localdate()
    errors = {}
    cleaned = {name: data.get(name) for name in EDITABLE_FIELDS if name in data}
    for name, choices in (
        ("round", VisitRound.choices),
        ("method", VisitMethod.choices),
    ):
        if cleaned.get(name) not in {c for c, _label in choices}:
            errors[name] = _("Choose one of the options.")
    visited_on = cleaned.get("visited_on")
    if not visited_on:
        errors["visited_on"] = _("Enter the visit date.")
    elif visited_on > today:
        errors["visited_on"] = _("The visit date cannot be in the future.")
    has_need = cleaned.get("has_need")
    if has_need is None:
        errors["has_need"] = _("Say whether the enterprise has a financing need.")
    intent = cleaned.get("intent") or ""
    if intent not in {"", *Intent.values}:
        errors["intent"] = _("Choose one of the options.")
    cleaned["intent"] = intent
    cleaned["problems"] = _codes(cleaned.get("problems"), ProblemType.choices, "problems", errors)
    guarantees = _codes(
        cleaned.get("acceptable_guarantees"),
        guarantee_choices(),
        "acceptable_guarantees",
        errors,
    )
    if has_need:
        amount = cleaned.get("need_amount")
        if amount is None or Decimal(amount) <= 0:
            errors["need_amount"] = _("Enter the amount needed, more than 0 (10k yuan).")
        if cleaned.get("need_purpose") not in NeedPurpose.values:
            errors["need_purpose"] = _("Choose what the loan is for.")
        term = cleaned.get("need_term_months")
        if term is not None and not 1 <= term <= 360:
            errors["need_term_months"] = _("Enter a term between 1 and 360 months.")
        cleaned["acceptable_guarantees"] = guarantees
    else:
        # A visit without a need carries none of its details (the KPIs count needs by them).
        cleaned.update(
            need_amount=None, need_purpose="", need_term_months=None, acceptable_guarantees=[]
        )
    next_visit_on = cleaned.get("next_visit_on")
    if next_visit_on and visited_on and next_visit_on <= visited_on:
        errors["next_visit_on"] = _("The next visit must come after this visit.")
    if errors:
        raise ValidationError(errors)
    if not next_visit_on and (has_need or intent == Intent.STRONG):
        cleaned["next_visit_on"] = visited_on + timedelta(days=follow_up_days())
    for name in ("note", "township_worker_name", "bank_officer_name"):
        cleaned[name] = (cleaned.get(name) or "").strip()
    return cleaned


def lead_assignment(enterprise):
    """The enterprise's lead bank assignment (its 1+1 partner bank), or None."""
    return (
        BankAssignment.objects.filter(enterprise=enterprise, role=AssignmentRole.LEAD)
        .select_related("bank", "township_worker")
        .first()
    )


def team_defaults(user, enterprise):
    """The 1+1 team a new visit starts with: the user on their side, the enterprise's lead
    bank (and its paired township worker) on the other."""
    lead = lead_assignment(enterprise)
    team = {
        "township_worker": lead.township_worker if lead else None,
        "bank": lead.bank if lead else None,
        "bank_officer": None,
    }
    if user.role == Role.BANK_OFFICER:
        team["bank_officer"] = user
        if team["bank"] is None or team["bank"].code not in user.scope.bank_codes:
            team["bank"] = user.bank
    elif user.role == Role.TOWNSHIP_WORKER:
        team["township_worker"] = user
    team["township_worker_name"] = (
        team["township_worker"].display_name if team["township_worker"] else ""
    )
    team["bank_officer_name"] = team["bank_officer"].display_name if team["bank_officer"] else ""
    return team


def _apply_team(visit, team, cleaned):
    """Team members' names as typed; a typed name other than the default user's drops the
    link to that user (the visit then names someone Rongxie has no account for)."""
    for role in ("township_worker", "bank_officer"):
        member = team.get(role)
        name = cleaned.get(f"{role}_name", "")
        if member is not None and name and name != member.display_name:
            member = None
        setattr(visit, role, member)
        setattr(visit, f"{role}_name", name or (member.display_name if member else ""))
    visit.bank = team.get("bank")


def _existing_draft(user, client_key):
    existing = Visit.objects.filter(client_key=client_key).first()
    if existing is None:
        return None
    if not Visit.objects.restrict(user, Action.VISIT).filter(pk=existing.pk).exists():
        raise OutOfScope()
    return existing


def record_visit(user, data, client_key=None):
    """Record a new visit of ``data["enterprise"]``; return ``(visit, created)``.

    ``data`` holds the ``EDITABLE_FIELDS`` (Python values) and ``enterprise``. ``client_key``
    (the browser draft's UUID) makes the call idempotent: a draft sent again returns the
    visit it made (``created`` False), also when two copies arrive at once (the unique index
    decides, the loser reads the winner's row). Raises ``ValidationError`` by field, or
    ``OutOfScope`` when the enterprise is not one the user may visit.
    """
    if client_key and (existing := _existing_draft(user, client_key)):
        return existing, False
    enterprise = data.get("enterprise")
    if enterprise is None:
        raise ValidationError({"enterprise": _("Choose the enterprise visited.")})
    if not visitable_enterprises(user).filter(pk=enterprise.pk).exists():
        raise OutOfScope(_("You may not record visits for this enterprise."))
    cleaned = clean_visit_fields(data)
    visit = Visit(enterprise=enterprise, created_by=user, client_key=client_key or None)
    for name, value in cleaned.items():
        if not name.endswith("_name"):
            setattr(visit, name, value)
    _apply_team(visit, team_defaults(user, enterprise), cleaned)

    def save():
        visit.save()
        visit_recorded.send(sender=Visit, visit=visit, user=user, created=True)
        return visit

    # A lost race on the client_key index rolls back scoped_save's own transaction (or its
    # savepoint, inside a caller's transaction), so the winner's row can be read after it.
    try:
        return scoped_save(user, Action.VISIT, save), True
    except IntegrityError:
        if client_key and (existing := _existing_draft(user, client_key)):
            return existing, False
        raise


def update_visit(user, visit, data, expected_version):
    """Save an edit of ``visit`` made on version ``expected_version``; return the visit.

    The enterprise, draft key and recorder never change. Raises ``EditConflict`` (with what the
    other person changed) when someone saved in between, ``ValidationError`` by field, or
    ``OutOfScope``.
    """
    if not editable_visits(user).filter(pk=visit.pk).exists():
        raise OutOfScope(_("You may not change this visit."))
    if visit.status == VisitStatus.WITHDRAWN:
        raise ValidationError(_("This visit was withdrawn; it can no longer be changed."))
    cleaned = clean_visit_fields(data)
    team = {
        "township_worker": visit.township_worker,
        "bank_officer": visit.bank_officer,
        "bank": visit.bank,
    }
    for name, value in cleaned.items():
        if not name.endswith("_name"):
            setattr(visit, name, value)
    _apply_team(visit, team, cleaned)

    def save():
        save_if_unchanged(visit, expected_version)
        visit_recorded.send(sender=Visit, visit=visit, user=user, created=False)
        return visit

    return scoped_save(user, Action.VISIT, save)


def withdraw_visit(user, visit, expected_version):
    """Withdraw ``visit`` (status 已撤回, a soft delete kept in the history); return it.

    Raises ``EditConflict`` when it changed since ``expected_version``, or ``OutOfScope``.
    """
    if not editable_visits(user).filter(pk=visit.pk).exists():
        raise OutOfScope(_("You may not change this visit."))
    visit.status = VisitStatus.WITHDRAWN

    def save():
        save_if_unchanged(visit, expected_version)
        visit_withdrawn.send(sender=Visit, visit=visit, user=user)
        return visit

    return scoped_save(user, Action.VISIT, save)


def shown_value(visit, name):
    """A field's value as a person reads it (labels, not codes)."""
    value = getattr(visit, name)
    field = Visit._meta.get_field(name)
    if isinstance(value, list):  # problems, guarantees: their labels, as the history shows them
        return field_in_words(Visit, field, value)
    if field.choices:
        return getattr(visit, f"get_{name}_display")() or "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return "—" if value in (None, "") else str(value)


def conflict_rows(current, mine):
    """(field label, their value, your value) of every editable field where the stored visit
    ``current`` differs from the refused edit ``mine``: what the other person changed."""
    rows = []
    for name in EDITABLE_FIELDS:
        if getattr(current, name) != getattr(mine, name):
            label = Visit._meta.get_field(name).verbose_name
            rows.append((label, shown_value(current, name), shown_value(mine, name)))
    return rows
