"""申报清单 → 五项标准 → 推荐清单: the application list, the five-standards check, the second
member's approval (maker-checker) and the push of approved enterprises to their lead banks.

Every write goes through the one write path (``core.writes.scoped_save``) with the ``change``
action, so the pages and any other caller refuse the same things with the same messages.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from core.history import record_set_based
from core.locking import save_if_unchanged
from core.writes import OutOfScope, scoped_save
from enterprises.choices import IN_OPERATION_STATUSES, REGION_PREFIX_LENGTH, RegionLevel
from enterprises.models import Enterprise, NegativeListEntry, TaxRecord

from ..choices import ApplicationStatus, FiveStandard, VisitStatus
from ..models import (
    Application,
    Recommendation,
    RecommendationBatch,
    RecommendationRules,
    Visit,
)

OPEN_STATUSES = (ApplicationStatus.PENDING, ApplicationStatus.CHECKED)
COUNTY_LENGTH = REGION_PREFIX_LENGTH[RegionLevel.COUNTY]
# Tax credit ratings that read as good standing (A, B, M: no record of dishonesty).
GOOD_RATINGS = {"A", "B", "M"}


class MakerCheckerRefused(ValidationError):
    """The member who checked an application tried to approve it too."""


# --- The application list -------------------------------------------------------------------


def latest_visit_subquery(path="enterprise"):
    """The id of the enterprise's latest completed visit (for annotate)."""
    return Subquery(
        Visit.objects.filter(enterprise=OuterRef(path), status=VisitStatus.COMPLETED)
        .order_by("-visited_on", "-id")
        .values("id")[:1]
    )


def note_visit(visit):
    """Put the visit's enterprise on the application list when the visit found a need.

    One open entry per enterprise: an open one takes the latest visit's need amount; none open
    (or the last one closed) adds a new pending entry. A visit without a need, of an enterprise
    not operating normally, or withdrawn adds nothing. Runs inside the visit's transaction.
    """
    if (
        not visit.has_need
        or visit.operating_normally is False
        or visit.status != VisitStatus.COMPLETED
    ):
        forget_visit(visit)  # an edit may have taken back the need this visit found
        return None
    current = (
        Application.objects.select_for_update()
        .filter(enterprise_id=visit.enterprise_id, status__in=OPEN_STATUSES)
        .first()
    )
    if current is not None:
        newer = current.visit_id is None or _is_later(visit, current.visit_id)
        if newer:
            current.visit = visit
            current.need_amount = visit.need_amount
            current.version += 1
            current.save()
        return current
    try:
        with transaction.atomic():
            return Application.objects.create(
                enterprise_id=visit.enterprise_id, visit=visit, need_amount=visit.need_amount
            )
    except IntegrityError:
        # Another visit of the same enterprise added the open entry at the same moment.
        return Application.objects.filter(
            enterprise_id=visit.enterprise_id, status__in=OPEN_STATUSES
        ).first()


def forget_visit(visit):
    """A visit withdrawn, or edited to no need: the pending entry it started follows the
    enterprise's latest remaining completed visit when that one found a need, and is removed
    otherwise (a checked entry carries a member's decision and is left alone)."""
    entry = (
        Application.objects.select_for_update()
        .filter(enterprise_id=visit.enterprise_id, status=ApplicationStatus.PENDING, visit=visit)
        .first()
    )
    if entry is None:
        return
    latest = (
        Visit.objects.filter(enterprise_id=visit.enterprise_id, status=VisitStatus.COMPLETED)
        .exclude(pk=visit.pk)
        .order_by("-visited_on", "-id")
        .first()
    )
    if latest is not None and latest.has_need and latest.operating_normally is not False:
        entry.visit = latest
        entry.need_amount = latest.need_amount
        entry.version += 1
        entry.save()
    else:
        entry.delete()


def _is_later(visit, other_id):
    other = Visit.objects.filter(pk=other_id).values_list("visited_on", "id").first()
    return other is None or (visit.visited_on, visit.pk) >= other


def add_application(user, enterprise, need_amount=None, note=""):
    """Staff put an enterprise on the application list by hand; returns the entry.

    Refuses (ValidationError) when the enterprise already has an open entry; the need comes
    from its latest completed visit unless given.
    """
    if not Enterprise.objects.restrict(user, "change").filter(pk=enterprise.pk).exists():
        raise PermissionDenied(_("You may not add this enterprise to the application list."))

    def add():
        if Application.objects.filter(enterprise=enterprise, status__in=OPEN_STATUSES).exists():
            raise ValidationError(_("This enterprise is already on the application list."))
        visit = (
            Visit.objects.filter(enterprise=enterprise, status=VisitStatus.COMPLETED)
            .order_by("-visited_on", "-id")
            .first()
        )
        amount = need_amount
        if amount is None and visit is not None and visit.has_need:
            amount = visit.need_amount
        return Application.objects.create(
            enterprise=enterprise,
            visit=visit if visit is not None and visit.has_need else None,
            need_amount=amount,
            check_note=note,
        )

    return scoped_save(user, "change", add)


# --- The facts beside each standard ---------------------------------------------------------


@dataclass
class Fact:
    """One thing Rongxie knows, shown beside a standard; ``warn`` marks an adverse fact."""

    label: str
    value: str
    warn: bool = False


@dataclass
class StandardFacts:
    code: str
    label: str
    facts: list = field(default_factory=list)
    # What the facts suggest (the checker decides): True met, False not met, None unknown.
    suggested: bool | None = None


def months_between(start, end):
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - (1 if end.day < start.day else 0)


def min_months_by_county(county_codes):
    """{county code: months established at least} (one query; the default when no row)."""
    stored = dict(
        RecommendationRules.objects.filter(region_id__in=set(county_codes)).values_list(
            "region_id", "min_months_established"
        )
    )
    return {code: stored.get(code, RecommendationRules.DEFAULT_MIN_MONTHS) for code in county_codes}


def facts_for(applications, today=None):
    """{application id: [StandardFacts × 5]} for the given applications (their enterprises
    selected with them), read in a constant number of queries whatever their number."""
    today = today or timezone.localdate()
    applications = list(applications)
    enterprise_ids = {a.enterprise_id for a in applications}
    months_needed = min_months_by_county(
        {a.enterprise.region_id[:COUNTY_LENGTH] for a in applications}
    )
    latest_ids = dict(
        Enterprise.objects.filter(pk__in=enterprise_ids)
        .annotate(latest=latest_visit_subquery("pk"))
        .values_list("pk", "latest")
    )
    visits = {
        v.enterprise_id: v
        for v in Visit.objects.filter(pk__in=[i for i in latest_ids.values() if i])
    }
    negatives = {}
    for entry in NegativeListEntry.objects.filter(enterprise_id__in=enterprise_ids).order_by(
        "listed_on"
    ):
        if entry.in_force_on(today):
            negatives.setdefault(entry.enterprise_id, []).append(entry)
    ratings = {}
    for tax in TaxRecord.objects.filter(enterprise_id__in=enterprise_ids).order_by("tax_year"):
        ratings[tax.enterprise_id] = tax  # ascending: the latest year wins
    leads = lead_banks(enterprise_ids)
    return {
        a.pk: _standards(a, months_needed, visits, negatives, ratings, leads, today)
        for a in applications
    }


def lead_banks(enterprise_ids):
    """{enterprise id: lead Bank} (one query; banks sit below visits, read by name)."""
    BankAssignment = apps.get_model("banks", "BankAssignment")
    return {
        a.enterprise_id: a.bank
        for a in BankAssignment.objects.filter(
            enterprise_id__in=enterprise_ids, role="lead"
        ).select_related("bank")
    }


def _yes_no(value):
    if value is None:
        return _("Not recorded")
    return _("Yes") if value else _("No")


def _standards(app, months_needed, visits, negatives, ratings, leads, today):
    enterprise = app.enterprise
    visit = visits.get(enterprise.pk)
    negs = negatives.get(enterprise.pk, [])
    needed = months_needed[enterprise.region_id[:COUNTY_LENGTH]]
    age = months_between(enterprise.established_on, today)
    in_operation = enterprise.status in IN_OPERATION_STATUSES
    operating = visit.operating_normally if visit else None
    neg_text = "；".join(f"{n.get_list_type_display()}（{n.listed_on}）" for n in negs) or _("None")
    tax = ratings.get(enterprise.pk)
    labels = dict(FiveStandard.choices)
    visit_text = (
        f"{visit.visited_on} · {visit.get_round_display()} · {visit.get_method_display()}"
        if visit
        else _("No visit recorded")
    )

    compliant = StandardFacts(
        FiveStandard.COMPLIANT_OPERATION,
        labels[FiveStandard.COMPLIANT_OPERATION],
        [
            Fact(
                _("Established"),
                _("%(date)s, %(months)s months (at least %(needed)s)")
                % {"date": enterprise.established_on, "months": age, "needed": needed},
                warn=age < needed,
            ),
            Fact(
                _("Registration status"),
                enterprise.get_status_display(),
                warn=not in_operation,
            ),
            Fact(
                _("Operating normally (latest visit)"), _yes_no(operating), warn=operating is False
            ),
            Fact(_("Current negative-list entries"), neg_text, warn=bool(negs)),
        ],
        suggested=age >= needed and in_operation and operating is not False and not negs,
    )
    premises = StandardFacts(
        FiveStandard.FIXED_PREMISES,
        labels[FiveStandard.FIXED_PREMISES],
        [
            Fact(
                _("Address on the register"),
                enterprise.address or _("Not recorded"),
                warn=not enterprise.address,
            ),
            Fact(_("Latest visit"), visit_text, warn=visit is None),
        ],
        suggested=bool(enterprise.address) or None,
    )
    amount = app.need_amount if app.need_amount is not None else (visit and visit.need_amount)
    need = StandardFacts(
        FiveStandard.REAL_NEED,
        labels[FiveStandard.REAL_NEED],
        [
            Fact(
                _("Financing need found on the visit"),
                _yes_no(visit.has_need if visit else None),
                warn=not (visit and visit.has_need),
            ),
            Fact(
                _("Amount needed"),
                _("%(amount)s (10k yuan)") % {"amount": f"{amount:,.2f}"}
                if amount
                else _("Not recorded"),
                warn=not amount,
            ),
            Fact(
                _("Purpose"),
                (visit.get_need_purpose_display() if visit and visit.need_purpose else "")
                or _("Not recorded"),
            ),
            Fact(
                _("Term"),
                _("%(months)s months") % {"months": visit.need_term_months}
                if visit and visit.need_term_months
                else _("Not recorded"),
            ),
            Fact(
                _("Intent"),
                (visit.get_intent_display() if visit and visit.intent else "") or _("Not recorded"),
                warn=bool(visit and visit.intent == "none"),
            ),
        ],
        suggested=bool(visit and visit.has_need and amount),
    )
    credit = StandardFacts(
        FiveStandard.GOOD_CREDIT,
        labels[FiveStandard.GOOD_CREDIT],
        [
            Fact(
                _("Latest tax credit rating"),
                f"{tax.credit_rating}（{tax.tax_year}）" if tax else _("Not recorded"),
                warn=bool(tax and tax.credit_rating not in GOOD_RATINGS),
            ),
            Fact(_("Current negative-list entries"), neg_text, warn=bool(negs)),
        ],
        suggested=(tax.credit_rating in GOOD_RATINGS if tax else None) if not negs else False,
    )
    purpose = StandardFacts(
        FiveStandard.LAWFUL_PURPOSE,
        labels[FiveStandard.LAWFUL_PURPOSE],
        [
            Fact(
                _("Purpose"),
                (visit.get_need_purpose_display() if visit and visit.need_purpose else "")
                or _("Not recorded"),
                warn=not (visit and visit.need_purpose),
            ),
            Fact(_("Visit notes"), (visit.note if visit else "") or _("None")),
        ],
        suggested=bool(visit and visit.need_purpose) or None,
    )
    lead = leads.get(enterprise.pk)
    app.lead_bank = lead
    return [compliant, premises, need, credit, purpose]


# --- Check, approve, push -------------------------------------------------------------------


def check_application(user, application, checks, note, expected_version):
    """The five-standards check by a first task-force member; returns the application.

    ``checks`` maps each FiveStandard code to True/False. All five met → CHECKED (awaiting a
    second member's approval); any not met → REJECTED, which needs a reason in ``note``.
    Raises ValidationError (wrong status, no reason), EditConflict (someone saved first),
    OutOfScope / PermissionDenied (not the user's to change).
    """
    if application.status != ApplicationStatus.PENDING:
        raise ValidationError(_("This entry has already been checked."))
    ticked = {code: bool(checks.get(code)) for code in FiveStandard.values}
    note = (note or "").strip()
    passed = all(ticked.values())
    if not passed and not note:
        raise ValidationError(
            {"note": _("Say why the enterprise does not meet the standards it fails.")}
        )
    application.checks = ticked
    application.check_note = note
    application.status = ApplicationStatus.CHECKED if passed else ApplicationStatus.REJECTED
    application.checked_by = user
    application.checked_at = timezone.now()
    return scoped_save(user, "change", lambda: save_if_unchanged(application, expected_version))


def approve_application(user, application, expected_version):
    """The second member's approval; creates the Recommendation to the enterprise's lead bank
    (not yet pushed) and returns it.

    Refuses (MakerCheckerRefused) the member who checked the entry, and (ValidationError) an
    entry not checked or an enterprise without a lead bank (which stays checked).
    """
    if application.status != ApplicationStatus.CHECKED:
        raise ValidationError(
            _("Only an entry that passed the five-standards check can be approved.")
        )
    if application.checked_by_id == user.pk:
        raise MakerCheckerRefused(
            _(
                "You checked this entry yourself: a second task-force member must approve it "
                "(the same person may not both check and approve)."
            )
        )
    lead = lead_banks([application.enterprise_id]).get(application.enterprise_id)
    if lead is None:
        raise ValidationError(
            _(
                "The enterprise has no lead bank yet: assign one in bank matching, then approve. "
                "The entry stays checked."
            )
        )

    def approve():
        application.status = ApplicationStatus.APPROVED
        application.approved_by = user
        application.approved_at = timezone.now()
        save_if_unchanged(application, expected_version)
        recommendation = Recommendation.objects.create(
            enterprise_id=application.enterprise_id,
            bank=lead,
            application=application,
            need_amount=application.need_amount,
        )
        application.recommendation = recommendation
        return application

    scoped_save(user, "change", approve)
    return application.recommendation


def awaiting_push(user):
    """Approved recommendations not pushed yet, in the user's scope."""
    return Recommendation.objects.restrict(user, "change").filter(
        push__isnull=True, recommended_on__isnull=True
    )


def push_recommendations(user, ids, today=None):
    """Push the chosen approved-not-pushed recommendations: one RecommendationBatch per bank
    (and county), ``recommended_on`` = today for all of them; returns the batches.

    Set-based: one UPDATE per batch; the history gets one entry per recommendation, written
    in one INSERT … SELECT per batch. Ids outside the user's scope or already pushed are ignored.
    """
    if not user.scope.allows("change"):
        raise PermissionDenied(_("You may not push recommendations."))
    today = today or timezone.localdate()
    chosen = awaiting_push(user).filter(pk__in=list(ids))
    groups = (
        chosen.values("bank_id", "enterprise__region_id")
        .annotate(n=Count("pk"))
        .order_by("bank_id", "enterprise__region_id")
    )
    by_group = {}
    for row in groups:
        county = row["enterprise__region_id"][:COUNTY_LENGTH]
        by_group.setdefault((row["bank_id"], county), 0)
        by_group[(row["bank_id"], county)] += row["n"]
    if not by_group:
        raise ValidationError(
            _("Choose at least one approved recommendation that is not pushed yet.")
        )

    batches = []

    def push():
        for (bank_id, county), _n in by_group.items():
            sequence = RecommendationBatch.objects.filter(bank_id=bank_id, pushed_on=today).count()
            batch = RecommendationBatch.objects.create(
                bank_id=bank_id,
                region_id=county,
                pushed_on=today,
                pushed_by=user,
                batch_no=f"{today:%Y%m%d}-{bank_id}-{sequence + 1}",
            )
            rows = chosen.filter(bank_id=bank_id, enterprise__region__code__startswith=county)
            pushed = list(rows.values_list("pk", flat=True))
            Recommendation.objects.filter(pk__in=pushed).update(
                push=batch, recommended_on=today, batch_no=batch.batch_no
            )
            _log_push(user, batch)
            batches.append(batch)
        # scoped_save re-checks the first batch; the others here, in the same transaction.
        visible = RecommendationBatch.objects.restrict(user, "change")
        if visible.filter(pk__in=[b.pk for b in batches]).count() != len(batches):
            raise OutOfScope()
        return batches[0]

    scoped_save(user, "change", push)
    return batches


def _log_push(user, batch):
    """One history entry per recommendation of the batch, in one INSERT … SELECT: a bulk
    UPDATE writes none of its own. Every row had no push before (``awaiting_push``)."""
    record_set_based(
        Recommendation,
        "t.push_id = %s",
        (batch.pk,),
        # The batch was created just now, its recommendations before it: all are updates.
        created_since=batch.created_at,
        actor=user,
        changes={
            "recommended_on": ["None", str(batch.pushed_on)],
            "batch_no": ["", batch.batch_no],
            "push": ["None", str(batch.pk)],
        },
        repr_sql=(
            f"(SELECT e.name FROM {Enterprise._meta.db_table} e WHERE e.id = t.enterprise_id) "
            "|| ' → ' || t.bank_id"
        ),
    )
