"""Follow-ups: the due-visits list (待走访) and second-round campaigns (二次走访).

- ``schedule_after_visit(visit)`` (the receiver of ``visit_recorded``): the visit closes the
  enterprise's open due visits that were due since on or before its date (one UPDATE), and,
  when it found a financing need or strong intent, opens the next one (due on the visit's
  next-visit date, else in ``follow_up_days()`` days, default 30);
- ``due_list(user)``: a worker's open due visits, soonest first, in a fixed number of queries;
- ``launch_campaign(user, name, region, criteria, due_on)``: staff fill the due lists of the
  key-visit enterprises of a sector, tier or township with one ``INSERT … SELECT`` (a job with
  a progress bar when the campaign is large).
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (
    CharField,
    Count,
    DateField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Action
from banks.choices import AssignmentRole, AssignmentStatus
from banks.models import BankAssignment
from core import jobs
from core.writes import OutOfScope, scoped_save
from enterprises.choices import IndustrySection, RegionLevel
from enterprises.models import Region
from screening.selectors import current_memberships

from ..choices import DueReason, Intent, VisitRound, VisitStatus
from ..models import Campaign, DueVisit
from .visits import follow_up_days

# Above this many enterprises a campaign fills the due lists in a job (one township at a time,
# with a progress bar) instead of in the request.
CAMPAIGN_INLINE_LIMIT = 5000

# Screening tiers of the key-visit list (RuleSet tier thresholds: 1, 2, else 3).
TIERS = (1, 2, 3)

# Who launches campaigns: task-force staff (the right to change their region's records).
CAMPAIGN_ACTION = Action.CHANGE


# --- After a visit -------------------------------------------------------------------------


def needs_follow_up(visit):
    return bool(visit.has_need) or visit.intent == Intent.STRONG or bool(visit.next_visit_on)


def follow_up_round(visit):
    """The round of the visit that follows ``visit``: after the first, the second round; after
    that, return visits (回访)."""
    return VisitRound.SECOND if visit.round == VisitRound.FIRST else VisitRound.RETURN


def schedule_after_visit(visit):
    """Close what ``visit`` did and open what it calls for; returns (closed, opened DueVisit or
    None). Safe to run again for the same visit (an edit): its own follow-up is updated."""
    if visit.status != VisitStatus.COMPLETED:
        # A withdrawn visit did nothing: its open follow-up goes too.
        DueVisit.objects.filter(source_visit=visit, done_by__isnull=True).delete()
        return 0, None
    closed = (
        DueVisit.objects.filter(enterprise_id=visit.enterprise_id, done_by__isnull=True)
        .exclude(source_visit=visit)
        .exclude(opened_on__gt=visit.visited_on)
        .update(done_by=visit)
    )
    own = DueVisit.objects.filter(source_visit=visit, done_by__isnull=True)
    if not needs_follow_up(visit):
        own.delete()
        return closed, None
    due_on = visit.next_visit_on or visit.visited_on + timedelta(days=follow_up_days())
    values = {
        "enterprise_id": visit.enterprise_id,
        "due_on": due_on,
        "opened_on": visit.visited_on,
        "round": follow_up_round(visit),
        "reason": DueReason.FOLLOW_UP,
    }
    existing = own.first()
    if existing is not None:
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save()
        return closed, existing
    return closed, DueVisit.objects.create(source_visit=visit, **values)


def undo_withdrawn_visit(visit):
    """A withdrawn visit did nothing: the due visits it closed are open again, and its own
    open follow-up goes. Returns (reopened, removed)."""
    reopened = DueVisit.objects.filter(done_by=visit).update(done_by=None)
    removed, _by_model = DueVisit.objects.filter(source_visit=visit, done_by__isnull=True).delete()
    return reopened, removed


# --- The due list ---------------------------------------------------------------------------


def _assigned_to(bank_codes):
    return Exists(
        BankAssignment.objects.filter(
            enterprise_id=OuterRef("enterprise_id"), bank_id__in=list(bank_codes)
        ).exclude(status__in=[AssignmentStatus.WAITING, AssignmentStatus.HANDED_OFF])
    )


def due_list(user):
    """The open due visits of the user's desk, soonest first: a township worker's township, a
    task-force member's region, a bank officer's assigned enterprises (a backup bank's once
    handed to it). Each row carries its enterprise, township, campaign and the enterprise's lead
    bank (``lead_bank_name``): one query for a page, whatever its length."""
    queryset = DueVisit.objects.restrict(user, Action.VISIT).filter(done_by__isnull=True)
    scope = user.scope
    if not scope.everything and scope.bank_codes is not None:
        queryset = queryset.filter(_assigned_to(scope.bank_codes))
    lead = BankAssignment.objects.filter(
        enterprise_id=OuterRef("enterprise_id"), role=AssignmentRole.LEAD
    ).values("bank__name")[:1]
    return (
        queryset.select_related("enterprise__region", "campaign", "source_visit")
        .annotate(lead_bank_name=Subquery(lead))
        .order_by("due_on", "pk")
    )


def mark_overdue(rows, today=None):
    """Set ``overdue``, ``days_left`` and ``days_overdue`` on each due visit of a page."""
    today = today or timezone.localdate()
    rows = list(rows)
    for row in rows:
        row.days_left = (row.due_on - today).days
        row.overdue = row.days_left < 0
        row.days_overdue = max(0, -row.days_left)
    return rows


# --- Campaigns -----------------------------------------------------------------------------


def clean_criteria(region, criteria):
    """Criteria as stored: ``section`` (GB/T 4754 letter), ``tiers`` (list of 1–3),
    ``township`` (a township code inside ``region``). Raises ValidationError by field."""
    criteria = dict(criteria or {})
    clean, errors = {}, {}
    section = (criteria.get("section") or "").strip().upper()
    if section:
        if section not in IndustrySection.values:
            errors["section"] = _("Choose one of the listed sectors.")
        clean["section"] = section
    tiers = criteria.get("tiers") or []
    try:
        tiers = sorted({int(t) for t in tiers})
    except (TypeError, ValueError):
        tiers = [0]
    if tiers:
        if any(t not in TIERS for t in tiers):
            errors["tiers"] = _("Choose tiers 1, 2 or 3.")
        clean["tiers"] = tiers
    township = (criteria.get("township") or "").strip()
    if township:
        is_township = Region.objects.filter(code=township, level=RegionLevel.TOWNSHIP).exists()
        if not is_township or not region.contains(township):
            errors["township"] = _("Choose a township of the campaign's region.")
        clean["township"] = township
    if errors:
        raise ValidationError(errors)
    return clean


def campaign_targets(campaign, user=None, township=None):
    """Key-visit memberships (current runs) matching the campaign, inside ``user``'s scope, as
    the rows to insert: (enterprise, due on, due since, round, reason, campaign). Enterprises
    already due by the campaign's date are left out (their list has them)."""
    criteria = campaign.criteria or {}
    prefix = criteria.get("township") or campaign.region.scope_prefix
    queryset = current_memberships("key_visit").filter(enterprise__region__code__startswith=prefix)
    if township is not None:
        queryset = queryset.filter(enterprise__region_id=township)
    if user is not None:
        queryset = queryset.restrict(user, CAMPAIGN_ACTION)
    if criteria.get("section"):
        queryset = queryset.filter(enterprise__industry_code__startswith=criteria["section"])
    if criteria.get("tiers"):
        queryset = queryset.filter(tier__in=criteria["tiers"])
    already_due = DueVisit.objects.filter(
        enterprise_id=OuterRef("enterprise_id"),
        done_by__isnull=True,
        due_on__lte=campaign.due_on,
    )
    opened_on = timezone.localtime(campaign.created_at).date()
    return (
        queryset.filter(~Exists(already_due))
        .annotate(
            c_due=Value(campaign.due_on, output_field=DateField()),
            c_opened=Value(opened_on, output_field=DateField()),
            c_round=Value(campaign.round, output_field=CharField()),
            c_reason=Value(DueReason.CAMPAIGN.value, output_field=CharField()),
            c_campaign=Value(campaign.pk, output_field=IntegerField()),
        )
        .values_list("enterprise_id", "c_due", "c_opened", "c_round", "c_reason", "c_campaign")
        .order_by()
        .distinct()
    )


def _insert_select(queryset):
    """INSERT INTO the due visits the rows ``queryset`` selects, in the database; the count."""
    sql, params = queryset.query.sql_with_params()
    table = connection.ops.quote_name(DueVisit._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(c)
        for c in ("enterprise_id", "due_on", "opened_on", "round", "reason", "campaign_id")
    )
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {sql}", params)
        return cursor.rowcount


def fill_campaign(campaign, user=None, progress=None):
    """Fill the due lists with the campaign's enterprises; returns {"added": n}.

    Without ``progress``: one INSERT … SELECT. With it (the job): one per township of the
    region, reporting after each, so the progress bar moves on a large county.
    """
    if progress is None:
        with transaction.atomic():
            return {"added": _insert_select(campaign_targets(campaign, user))}
    township = (campaign.criteria or {}).get("township")
    if township or campaign.region.level == RegionLevel.TOWNSHIP:
        townships = [township or campaign.region_id]
    else:
        # The county's own code too: an enterprise may be registered at county level.
        townships = list(
            Region.objects.filter(code__startswith=campaign.region.scope_prefix)
            .order_by("code")
            .values_list("code", flat=True)
        )
    added = 0
    for number, code in enumerate(townships, start=1):
        with transaction.atomic():
            added += _insert_select(campaign_targets(campaign, user, township=code))
        progress(number, len(townships))
    return {"added": added}


def campaign_regions(user):
    """The regions a user may launch a campaign in: their own and the ones inside it."""
    scope = user.scope
    if not scope.allows(CAMPAIGN_ACTION) or scope.bank_codes is not None:
        return Region.objects.none()
    levels = [RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWNSHIP]
    queryset = Region.objects.filter(level__in=levels)
    if not scope.everything:
        queryset = queryset.filter(code__startswith=scope.region_prefix)
    return queryset.order_by("code")


def launch_campaign(user, name, region, criteria, due_on):
    """Launch a second-round campaign (二次走访) in ``region`` for the key-visit enterprises
    matching ``criteria`` (see ``clean_criteria``), due by ``due_on``; returns (campaign, job).

    Small campaigns fill the due lists at once (``job`` is None); large ones in the job
    ``visits.campaign_fill`` (its page shows the progress). Raises ValidationError by field,
    OutOfScope for a region outside the user's.
    """
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("Give the campaign a name.")
    if due_on is None:
        errors["due_on"] = _("Give the date the visits are due by.")
    elif due_on < timezone.localdate():
        errors["due_on"] = _("The due date cannot be in the past.")
    if region is None:
        errors["region"] = _("Choose a region.")
    elif not campaign_regions(user).filter(pk=region.pk).exists():
        raise OutOfScope(_("You may not launch a campaign in this region."))
    if errors:
        raise ValidationError(errors)
    criteria = clean_criteria(region, criteria)
    campaign = Campaign(
        name=name,
        round=VisitRound.SECOND,
        region=region,
        criteria=criteria,
        due_on=due_on,
        created_by=user,
    )
    scoped_save(user, CAMPAIGN_ACTION, campaign)
    size = campaign_targets(campaign, user).count()
    if size > CAMPAIGN_INLINE_LIMIT:
        job = jobs.enqueue(
            "visits.campaign_fill", user=user, region=region, params={"campaign": campaign.pk}
        )
        return campaign, job
    fill_campaign(campaign, user)
    return campaign, None


def campaign_list(user):
    """Campaigns of the user's region, newest first, with their open and done due visits."""
    return (
        Campaign.objects.restrict(user)
        .select_related("region", "created_by")
        .annotate(
            due_total=Count("due_visits"),
            due_done=Count("due_visits", filter=Q(due_visits__done_by__isnull=False)),
        )
        .order_by("-created_at", "-pk")
    )


def describe_criteria(criteria, township_names=None):
    """The criteria of a campaign in words (for lists), in the reader's language;
    ``township_names`` ({code: name}) saves a query per campaign on a list."""
    parts = []
    if criteria.get("section"):
        parts.append(str(IndustrySection(criteria["section"]).label))
    if criteria.get("tiers"):
        parts.append(_("tier {tiers}").format(tiers="/".join(str(t) for t in criteria["tiers"])))
    if criteria.get("township"):
        code = criteria["township"]
        if township_names is None:
            township_names = dict(Region.objects.filter(code=code).values_list("code", "name"))
        parts.append(township_names.get(code, code))
    return " · ".join(parts) or _("the whole key-visit list")
