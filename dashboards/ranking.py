"""The bank ranking (银行排名): per institution and branch, how each bank handled the enterprises
of a region in a period — feedback on time, declines and their reasons, conversion from
recommendation to credit and loan, days to loan, hand-offs received and given.

Every source is a restricted queryset of the owning app (banks, visits, loans) embedded as a
sub-select, as in ``services``; the figures are set-based SQL, one query per family. Definitions
in docs/kpis.md, "Bank ranking".
"""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from banks.choices import DeclineReason, FeedbackStatus
from banks.models import Bank, BankAssignment, BankFeedback, HandOff

from .services import RATE_QUANTUM, Sources, _fetch, _sql, average_days, bank_conversions

RATE_FIELDS = ("on_time_rate", "decline_rate", "credit_rate", "disbursed_rate")
DAYS_FIELDS = ("avg_days_to_loan",)
# The figures stored as text and read back as Decimal (snapshots).
DECIMAL_FIELDS = (*RATE_FIELDS, *DAYS_FIELDS)


def decline_reason_label(code):
    """The label of a decline reason code, in the reader's language (stored results keep only
    the code); "No reason given" for declines without one."""
    if code in DeclineReason.values:
        return DeclineReason(code).label
    return code or _("No reason given")


def _rate(numerator, denominator):
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_QUANTUM, ROUND_HALF_UP)


def _feedback_figures(user, prefix, start, end):
    """Per branch: assignments due in the period, answered by then (first feedback on or before
    the due day), assignments whose first feedback fell in the period, declined ones."""
    assignments = _sql(
        BankAssignment.objects.restrict(user)
        .filter(enterprise__region__code__startswith=prefix)
        .order_by()
        .values("id", "bank_id", "due_on")
    )
    feedback = _sql(
        BankFeedback.objects.restrict(user)
        .filter(assignment__enterprise__region__code__startswith=prefix)
        .order_by()
        .values("assignment_id", "status", day=F("feedback_on"))
    )
    as_sql, as_params = assignments
    fb_sql, fb_params = feedback
    sql = f"""
        SELECT a.bank_id,
               SUM(CASE WHEN a.due_on BETWEEN %s AND %s THEN 1 ELSE 0 END),
               SUM(CASE WHEN a.due_on BETWEEN %s AND %s AND f.first_day <= a.due_on
                        THEN 1 ELSE 0 END),
               SUM(CASE WHEN f.first_day BETWEEN %s AND %s THEN 1 ELSE 0 END),
               SUM(CASE WHEN f.declined = 1 THEN 1 ELSE 0 END)
        FROM {as_sql} a
        LEFT JOIN (SELECT assignment_id, MIN(day) AS first_day,
                          MAX(CASE WHEN status = %s AND day BETWEEN %s AND %s THEN 1 ELSE 0 END)
                              AS declined
                   FROM {fb_sql} f0 GROUP BY assignment_id) f ON f.assignment_id = a.id
        GROUP BY a.bank_id"""
    params = [
        start,
        end,
        start,
        end,
        start,
        end,
        *as_params,
        FeedbackStatus.DECLINED,
        start,
        end,
        *fb_params,
    ]
    return {
        row[0]: {
            "due": row[1] or 0,
            "on_time": row[2] or 0,
            "answered": row[3] or 0,
            "declined": row[4] or 0,
        }
        for row in _fetch(sql, params)
    }


def _decline_reasons(user, prefix, start, end):
    """{branch: {reason code: count}} of the declines given in the period ("" when a decline
    carries no code, as imported ones before the codes may)."""
    sql, params = _sql(
        BankFeedback.objects.restrict(user)
        .filter(
            assignment__enterprise__region__code__startswith=prefix,
            status=FeedbackStatus.DECLINED,
        )
        .order_by()
        .values("decline_reason", bank=F("assignment__bank_id"), day=F("feedback_on"))
    )
    rows = _fetch(
        f"""SELECT x.bank, x.decline_reason, COUNT(*) FROM {sql} x
            WHERE x.day BETWEEN %s AND %s GROUP BY x.bank, x.decline_reason""",
        [*params, start, end],
    )
    reasons = defaultdict(dict)
    for bank, reason, n in rows:
        reasons[bank][(reason or "").strip()] = n
    return reasons


def _hand_offs(user, prefix, start, end):
    """{branch: (received, given)} of the hand-offs made in the period."""
    sql, params = _sql(
        HandOff.objects.restrict(user)
        .filter(enterprise__region__code__startswith=prefix)
        .order_by()
        .values(
            from_bank=F("from_assignment__bank_id"),
            to_bank=F("to_assignment__bank_id"),
            day=TruncDate("created_at"),
        )
    )
    rows = _fetch(
        f"""SELECT bank, SUM(received), SUM(given) FROM (
                SELECT x.to_bank AS bank, 1 AS received, 0 AS given FROM {sql} x
                WHERE x.to_bank IS NOT NULL AND x.day BETWEEN %s AND %s
                UNION ALL
                SELECT y.from_bank, 0, 1 FROM {sql} y WHERE y.day BETWEEN %s AND %s) h
            GROUP BY bank""",
        [*params, start, end, *params, start, end],
    )
    return {bank: (received or 0, given or 0) for bank, received, given in rows}


def _finish(row):
    row["on_time_rate"] = _rate(row["on_time"], row["due"])
    row["decline_rate"] = _rate(row["declined"], row["answered"])
    row["credit_rate"] = _rate(row["credited"], row["recommended"])
    row["disbursed_rate"] = _rate(row["disbursed"], row["recommended"])
    row["avg_days_to_loan"] = average_days(row["days"], row["disbursed"])
    reasons = row.pop("reason_counts", {})
    row["decline_reasons"] = [
        {"reason": reason, "count": n}
        for reason, n in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    ]
    return row


def _sort_key(row):
    rate = row["on_time_rate"]
    return (rate is None, -(rate or 0), -(row["credit_rate"] or 0), row["code"])


def compute_live(user, region, start, end):
    """The ranking: {"region", "start", "end", "as_of", "institutions": [...]}; each institution
    row carries its figures (distinct enterprises for the conversion, sums of its branches for
    the assignment figures) and ``branches``, the rows of each branch below it."""
    prefix = region.scope_prefix
    src = Sources.build(user, region, end)
    feedback = _feedback_figures(user, prefix, start, end)
    reasons = _decline_reasons(user, prefix, start, end)
    hand_offs = _hand_offs(user, prefix, start, end)
    conversions = bank_conversions(src, start, end)
    by_branch, by_root = conversions["branch"], conversions["root"]

    banks = {
        code: (name, parent)
        for code, name, parent in Bank.objects.values_list("code", "name", "parent_id")
    }

    def root_of(code):
        seen = set()
        while banks.get(code, (None, None))[1] and code not in seen:
            seen.add(code)
            code = banks[code][1]
        return code

    def blank(code):
        return {"code": code, "name": banks.get(code, (code, None))[0], "reason_counts": {}}

    codes = set(feedback) | set(reasons) | set(hand_offs) | set(by_branch)
    scope_banks = user.scope.bank_codes
    if scope_banks is not None:
        # A bank sees the hand-offs it received from others, never a row about the others.
        codes &= set(scope_banks)
    branches = {}
    for code in codes:
        row = blank(code)
        row.update(feedback.get(code, {"due": 0, "on_time": 0, "answered": 0, "declined": 0}))
        conv = by_branch.get(code, {})
        for field in ("recommended", "credited", "disbursed", "days"):
            row[field] = conv.get(field, 0)
        row["hand_offs_received"], row["hand_offs_given"] = hand_offs.get(code, (0, 0))
        row["reason_counts"] = dict(reasons.get(code, {}))
        branches[code] = row

    institutions = {}
    for code, row in branches.items():
        root = root_of(code)
        inst = institutions.setdefault(root, {**blank(root), "branches": []})
        for field in ("due", "on_time", "answered", "declined"):
            inst[field] = inst.get(field, 0) + row[field]
        for field in ("hand_offs_received", "hand_offs_given"):
            inst[field] = inst.get(field, 0) + row[field]
        for reason, n in row["reason_counts"].items():
            inst["reason_counts"][reason] = inst["reason_counts"].get(reason, 0) + n
        inst["branches"].append(row)
    for root, inst in institutions.items():
        conv = by_root.get(root, {})
        for field in ("recommended", "credited", "disbursed", "days"):
            inst[field] = conv.get(field, 0)
        inst["branches"] = sorted((_finish(b) for b in inst["branches"]), key=_sort_key)
        _finish(inst)
    ordered = sorted(institutions.values(), key=_sort_key)
    for rank, inst in enumerate(ordered, 1):
        inst["rank"] = rank
    return {
        "region": region,
        "start": start,
        "end": end,
        "as_of": timezone.now(),
        "institutions": ordered,
    }
