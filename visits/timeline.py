"""The visits part of the enterprise timeline: visits, coordination items, the application
list and the recommendations to banks.

A bank officer reads the visits made without a bank or with their own branches (``Visit``'s
scope rule); a visit with another bank is that bank's business and stays out, as its loans do. An item owned by another
bank shows without that bank's name. People's names are masked for users without the
personal-data right (``enterprises.timeline.person``).
"""

from functools import partial

from django.utils.translation import gettext as _

from enterprises.timeline import (
    Event,
    amount,
    join,
    label,
    link,
    person,
    register_batch_rows,
    register_source,
    shorten,
)

from .choices import (
    ApplicationStatus,
    Intent,
    ItemLevel,
    ItemStatus,
    NeedPurpose,
    ProblemType,
    VisitMethod,
    VisitRound,
    VisitStatus,
)
from .models import Application, CoordinationItem, Recommendation, Visit


def _labels(choices, codes):
    return [str(choices(code).label) for code in codes or () if code in choices.values]


def visit_events(enterprise, user, limit):
    """The enterprise's visits (withdrawn ones left out): the team, the need, the intent (one
    query)."""
    rows = (
        Visit.objects.restrict(user)
        .filter(enterprise=enterprise)
        .exclude(status=VisitStatus.WITHDRAWN)
        .select_related("township_worker", "bank", "bank_officer")
        .order_by("-visited_on", "-pk")[:limit]
    )
    kind = _("Visit")
    return [
        Event(visit.visited_on, kind, icon="bi-person-walking", render=partial(_visit, user, visit))
        for visit in rows
    ]


def _visit(user, visit):
    team = join(
        person(user, visit.township_worker, visit.township_worker_name),
        visit.bank.name if visit.bank_id else "",
        person(user, visit.bank_officer, visit.bank_officer_name),
    )
    if visit.has_need:
        need = join(
            _("financing need"),
            amount(visit.need_amount),
            label(NeedPurpose, visit.need_purpose) if visit.need_purpose else "",
        )
    else:
        need = _("no financing need")
    return {
        "title": join(label(VisitRound, visit.round), label(VisitMethod, visit.method)),
        "detail": join(
            team,
            need,
            _("intent: {intent}").format(intent=label(Intent, visit.intent))
            if visit.intent
            else "",
            "、".join(_labels(ProblemType, visit.problems)),
            shorten(visit.note),
        ),
        "url": link("visits:detail", visit.pk),
    }


def item_events(enterprise, user, limit):
    """Coordination items: raised, escalated to the city, resolved (one query)."""
    rows = (
        CoordinationItem.objects.restrict(user)
        .filter(enterprise=enterprise)
        .select_related("owner_bank", "owner")
        .order_by("-created_at", "-pk")[:limit]
    )
    kind = _("Coordination item")
    events = []
    for item in rows:
        events.append(
            Event(item.created_at, kind, icon="bi-flag", render=partial(_raised, user, item))
        )
        if item.escalated_at and item.level == ItemLevel.CITY:
            events.append(
                Event(
                    item.escalated_at,
                    kind,
                    icon="bi-arrow-up-circle",
                    render=partial(_item_step, item, _("Escalated to the city: {problem}"), ""),
                )
            )
        if item.resolved_at:
            events.append(
                Event(
                    item.resolved_at,
                    kind,
                    icon="bi-check2-circle",
                    render=partial(
                        _item_step, item, _("Problem resolved: {problem}"), item.resolution
                    ),
                )
            )
    return events


def _raised(user, item):
    codes = user.scope.bank_codes
    if item.owner_bank_id and (codes is None or item.owner_bank_id in codes):
        owner_bank = item.owner_bank.name
    else:
        owner_bank = ""  # another bank's item: not its name
    return {
        "title": _("Problem raised: {problem}").format(problem=label(ProblemType, item.problem)),
        "detail": join(
            label(ItemStatus, item.status),
            item.owner_department,
            owner_bank,
            person(user, item.owner),
            _("due {day}").format(day=item.due_on.isoformat()) if item.due_on else "",
            shorten(item.description),
        ),
        "url": link("visits:item", item.pk),
    }


def _item_step(item, title, detail):
    return {
        "title": title.format(problem=label(ProblemType, item.problem)),
        "detail": shorten(detail),
        "url": link("visits:item", item.pk),
    }


def application_events(enterprise, user, limit):
    """The application list (申报清单): added, checked against the five standards, approved or
    found short of them (one query)."""
    rows = (
        Application.objects.restrict(user)
        .filter(enterprise=enterprise)
        .select_related("checked_by", "approved_by")
        .order_by("-created_at", "-pk")[:limit]
    )
    kind = _("Recommendation")
    events = []
    for row in rows:
        events.append(
            Event(
                row.created_at,
                kind,
                icon="bi-card-checklist",
                render=lambda row=row: {
                    "title": _("Added to the application list"),
                    "detail": amount(row.need_amount),
                },
            )
        )
        if row.checked_at:
            if row.status == ApplicationStatus.REJECTED:
                title = _("Does not meet the five standards")
            else:
                title = _("Checked against the five standards")
            events.append(
                Event(
                    row.checked_at,
                    kind,
                    icon="bi-list-check",
                    render=lambda row=row, title=title: {
                        "title": title,
                        "detail": join(person(user, row.checked_by), shorten(row.check_note)),
                    },
                )
            )
        if row.approved_at:
            events.append(
                Event(
                    row.approved_at,
                    kind,
                    icon="bi-patch-check",
                    render=lambda row=row: {
                        "title": _("Approved for the recommendation list"),
                        "detail": person(user, row.approved_by),
                    },
                )
            )
    return events


def recommendation_events(enterprise, user, limit):
    """Recommendations pushed to a bank (the push date counts for the KPIs), or approved and
    waiting for the push (one query)."""
    rows = (
        Recommendation.objects.restrict(user)
        .filter(enterprise=enterprise)
        .select_related("bank")
        .order_by("-recommended_on", "-created_at", "-pk")[:limit]
    )
    return [
        Event(
            row.recommended_on or row.created_at,
            _("Recommendation"),
            icon="bi-send",
            render=partial(_recommendation, row),
        )
        for row in rows
    ]


def _recommendation(row):
    if row.recommended_on:
        title = _("Recommended to {bank}").format(bank=row.bank.name)
    else:
        title = _("To be recommended to {bank}").format(bank=row.bank.name)
    return {
        "title": title,
        "detail": join(
            _("batch {number}").format(number=row.batch_no) if row.batch_no else "",
            amount(row.need_amount),
        ),
    }


def register_sources():
    register_source("visits", visit_events)
    register_source("items", item_events)
    register_source("applications", application_events)
    register_source("recommendations", recommendation_events)
    # The visits and recommendations files show among the enterprise's imports.
    register_batch_rows(Visit)
    register_batch_rows(CoordinationItem)
    register_batch_rows(Recommendation)
