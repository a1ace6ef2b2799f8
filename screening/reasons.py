"""Reason codes as people read them: a label, its date or detail, and a repair hint."""

from django.utils.translation import gettext as _

from enterprises.choices import RegistrationStatus

from .choices import REPAIR_HINTS, Reason

# Reasons whose "on" is a first-loan date, which may come from any bank's loans or credit.
LOAN_DATE_REASONS = {
    Reason.FIRST_LOAN_IN_PERIOD,
    Reason.FIRST_LOAN_EARLIER,
    Reason.FIRST_LOAN_LATER,
}


def hide_other_banks_dates(reasons, own_first_loan):
    """The reasons without first-loan dates that the reader's own rows do not show.

    ``own_first_loan()`` returns the first loan date among the rows the reader may read (or
    None); it is called only when a reason carries such a date. A bank officer then reads
    "first loan was before the period" but not the date another bank lent on.
    """
    out = []
    for reason in reasons or []:
        if reason.get("code") in LOAN_DATE_REASONS and reason.get("on"):
            own = own_first_loan()
            if own is None or own.isoformat() != str(reason["on"]):
                reason = {k: v for k, v in reason.items() if k != "on"}
        out.append(reason)
    return out


def own_reasons(row):
    """A membership's, exclusion's or change's reasons as its reader may see them: without
    other banks' first-loan dates when the row carries ``own_loan_on`` / ``own_credit_on``
    (``selectors.with_own_first_loan``)."""
    if not hasattr(row, "own_loan_on"):
        return row.reasons
    own = min(filter(None, [row.own_loan_on, row.own_credit_on]), default=None)
    return hide_other_banks_dates(row.reasons, lambda: own)


def own_first_loan_on(row):
    """A membership's first-loan date, or None when it is another bank's (see own_reasons)."""
    if not hasattr(row, "own_loan_on"):
        return row.first_loan_on
    own = min(filter(None, [row.own_loan_on, row.own_credit_on]), default=None)
    return row.first_loan_on if row.first_loan_on == own else None


def describe_one(reason):
    code = reason.get("code", "")
    try:
        label = str(Reason(code).label)
    except ValueError:
        label = code
    if reason.get("on"):
        label = f"{label} {reason['on']}"
    if reason.get("status") and reason["status"] in RegistrationStatus.values:
        label = f"{label}（{RegistrationStatus(reason['status']).label}）"
    if "score" in reason and code == Reason.BELOW_THRESHOLD:
        label = _("{label} (score {score}, threshold {threshold})").format(
            label=label, score=reason["score"], threshold=reason.get("threshold")
        )
    return label


def describe(reasons):
    return [describe_one(r) for r in reasons or []]


def with_hints(reasons):
    """[(text, hint or "")] for display."""
    out = []
    for r in reasons or []:
        code = r.get("code", "")
        hint = REPAIR_HINTS.get(code, "")
        if code == Reason.NOT_IN_OPERATION and r.get("status") != "suspended":
            hint = ""
        out.append((describe_one(r), str(hint)))
    return out
