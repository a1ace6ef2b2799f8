"""Reason codes as people read them: a label, its date or detail, and a repair hint."""

from django.utils.translation import gettext as _

from enterprises.choices import RegistrationStatus

from .choices import REPAIR_HINTS, Reason


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
