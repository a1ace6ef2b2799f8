"""The portable path (SQLite, small data): the same rules as ``sql.py``, computed in Python.

Tests run both paths on the same fixtures, so the two cannot drift apart unnoticed.
"""

from collections import defaultdict

from django.apps import apps
from django.db.models import Max, Min

from enterprises.choices import IN_OPERATION_STATUSES
from enterprises.models import CensusRecord, Enterprise, NegativeListEntry, TaxRecord

from ..choices import ChangeKind, ListType, bank_band
from ..models import ListChange, ListExclusion, ListMembership

FIXABLE_NEGATIVE = {"abnormal_operation", "dishonest_debtor", "serious_violation"}


def _loan_models():
    # Loans live in an app above screening: their rows are read through the app registry (as
    # the SQL path reads their tables), never by importing the app's code.
    return apps.get_model("loans", "Loan"), apps.get_model("loans", "CreditSnapshot")


def facts(run, rule_set):
    """One dict per enterprise registered in the run's county (same columns as scr_facts)."""
    Loan, CreditSnapshot = _loan_models()
    as_of = run.as_of
    ents = list(
        Enterprise.objects.filter(region__code__startswith=run.region.scope_prefix).values(
            "id", "status", "size", "entity_type"
        )
    )
    ids = [e["id"] for e in ents]
    census_year = CensusRecord.objects.aggregate(y=Max("census_year"))["y"]
    census = set(
        CensusRecord.objects.filter(
            enterprise_id__in=ids, is_active=True, census_year=census_year
        ).values_list("enterprise_id", flat=True)
    )
    tax_years = sorted(set(TaxRecord.objects.values_list("tax_year", flat=True)), reverse=True)[:2]
    tax = defaultdict(lambda: {"paid": False, "rebate": False, "sales": False})
    rating = {}
    for t in TaxRecord.objects.filter(enterprise_id__in=ids).order_by("tax_year"):
        rating[t.enterprise_id] = t.credit_rating  # ascending: the latest year wins
        if t.tax_year not in tax_years:
            continue
        paid, rebate = t.tax_paid or 0, t.export_rebate or 0
        entry = tax[t.enterprise_id]
        entry["paid"] |= paid > 0
        entry["rebate"] |= paid + rebate > 0
        entry["sales"] |= (t.taxable_sales or 0) > 0
    neg = defaultdict(list)
    for n in NegativeListEntry.objects.filter(enterprise_id__in=ids).order_by(
        "listed_on", "list_type"
    ):
        if n.in_force_on(as_of):
            neg[n.enterprise_id].append(n)
    loan_first = dict(
        Loan.objects.filter(enterprise_id__in=ids, disbursed_on__lte=as_of)
        .values("enterprise_id")
        .annotate(first=Min("disbursed_on"))
        .values_list("enterprise_id", "first")
    )
    credit_first, credit_record = {}, set()
    latest_balance = {}
    for c in CreditSnapshot.objects.filter(enterprise_id__in=ids, as_of__lte=as_of).order_by(
        "as_of"
    ):
        latest_balance[(c.enterprise_id, c.bank_id)] = c.loan_balance
        if c.loan_balance > 0 or c.first_loan_date:
            credit_record.add(c.enterprise_id)
        if c.first_loan_date:
            prev = credit_first.get(c.enterprise_id)
            credit_first[c.enterprise_id] = min(filter(None, [prev, c.first_loan_date]))
    needs = financing_needs(ids, as_of)
    lenders = defaultdict(set)
    for eid, bank in Loan.objects.filter(
        enterprise_id__in=ids, disbursed_on__lte=as_of, matures_on__gt=as_of
    ).values_list("enterprise_id", "bank_id"):
        lenders[eid].add(bank)
    for (eid, bank), balance in latest_balance.items():
        if balance > 0:
            lenders[eid].add(bank)

    rows = []
    for e in ents:
        eid = e["id"]
        t = tax.get(eid, {"paid": False, "rebate": False, "sales": False})
        negs = neg.get(eid, [])
        row = {
            "enterprise_id": eid,
            "status": e["status"],
            "in_op": e["status"] in IN_OPERATION_STATUSES,
            "census_ok": eid in census,
            "tax_paid": t["paid"],
            "tax_rebate": t["rebate"] and not t["paid"],
            "tax_sales": t["sales"],
            "rating": rating.get(eid, ""),
            "neg_reasons": [
                {"code": f"neg_{n.list_type}", "on": n.listed_on.isoformat()} for n in negs
            ],
            "neg_types": len({n.list_type for n in negs}),
            "neg_fixable": all(n.list_type in FIXABLE_NEGATIVE for n in negs),
            "loan_record": eid in loan_first,
            "credit_record": eid in credit_record,
            "first_on": min(
                filter(None, [loan_first.get(eid), credit_first.get(eid)]), default=None
            ),
            "bank_count": len(lenders.get(eid, ())),
            "has_need": eid in needs,
            "need_on": needs.get(eid, {}).get("on"),
            "need_listed": needs.get(eid, {}).get("listed", False),
        }
        row["evidence"] = row["census_ok"] or t["rebate"] or t["sales"]
        row["active"] = row["in_op"] and row["evidence"] and not negs
        row["borrowed"] = row["loan_record"] or row["credit_record"]
        row["score"] = (
            rule_set.weight("rating", row["rating"])
            + rule_set.weight("bank_band", bank_band(row["bank_count"]))
            + rule_set.weight("size", e["size"] or "")
            + rule_set.weight("entity_type", e["entity_type"])
        )
        rows.append(row)
    return rows


def financing_needs(ids, as_of):
    """{enterprise id: {"on": date of the visit that found a need, "listed": open application}}
    — the latest completed visit found a need, or an open application-list entry (visits sit
    above screening: their rows are read through the app registry)."""
    Visit = apps.get_model("visits", "Visit")
    Application = apps.get_model("visits", "Application")
    latest = {}
    for eid, day, has_need in (
        Visit.objects.filter(enterprise_id__in=ids, status="completed", visited_on__lte=as_of)
        .order_by("visited_on", "id")
        .values_list("enterprise_id", "visited_on", "has_need")
    ):
        latest[eid] = (day, has_need)  # ascending: the latest visit wins
    needs = {eid: {"on": day, "listed": False} for eid, (day, has) in latest.items() if has}
    for eid in Application.objects.filter(
        enterprise_id__in=ids, status__in=["pending", "checked"]
    ).values_list("enterprise_id", flat=True):
        needs.setdefault(eid, {"on": None})["listed"] = True
    return needs


def reserve_reasons(f):
    reasons = [{"code": "never_borrowed"}]
    if f["need_on"]:
        reasons.append({"code": "financing_need", "on": f["need_on"].isoformat()})
    if f["need_listed"]:
        reasons.append({"code": "on_application_list"})
    return reasons


def evidence_reasons(f):
    reasons = [{"code": "in_operation"}]
    for key, code in (
        ("census_ok", "census_active"),
        ("tax_paid", "tax_paid"),
        ("tax_rebate", "export_rebate"),
        ("tax_sales", "taxable_sales"),
    ):
        if f[key]:
            reasons.append({"code": code})
    return reasons


def not_active_reasons(f):
    reasons = []
    if not f["in_op"]:
        reasons.append({"code": "not_in_operation", "status": f["status"]})
    reasons.extend(f["neg_reasons"])
    if not f["evidence"]:
        reasons += [{"code": "no_census"}, {"code": "no_tax"}]
    return reasons


def build(run, rule_set, previous):
    rows = facts(run, rule_set)
    by_id = {f["enterprise_id"]: f for f in rows}
    start, end = run.period_start, run.period_end
    members, exclusions = [], []

    def member(list_type, f, reasons, **extra):
        members.append(
            ListMembership(
                run=run,
                list_type=list_type,
                enterprise_id=f["enterprise_id"],
                score=f["score"],
                rating=f["rating"],
                bank_count=f["bank_count"],
                first_loan_on=extra.pop("first_loan_on", f["first_on"]),
                reasons=reasons,
                **extra,
            )
        )

    key_visit = []
    for f in rows:
        if f["active"]:
            member(ListType.ACTIVE, f, evidence_reasons(f))
            if f["borrowed"]:
                has = [{"code": "loan_record"}] if f["loan_record"] else []
                has += [{"code": "credit_balance"}] if f["credit_record"] else []
                member(ListType.HAS_LOAN, f, has)
            else:
                member(ListType.NO_LOAN, f, [{"code": "never_borrowed"}], first_loan_on=None)
                if f["has_need"]:
                    member(ListType.RESERVE, f, reserve_reasons(f), first_loan_on=None)
            if f["score"] >= rule_set.key_visit_min_score:
                key_visit.append(f)
            else:
                exclusions.append(
                    ListExclusion(
                        run=run,
                        list_type=ListType.KEY_VISIT,
                        enterprise_id=f["enterprise_id"],
                        reasons=[
                            {
                                "code": "below_threshold",
                                "score": f["score"],
                                "threshold": rule_set.key_visit_min_score,
                            }
                        ],
                    )
                )
        else:
            obstacles = (0 if f["in_op"] else 1) + f["neg_types"] + (0 if f["evidence"] else 1)
            exclusions.append(
                ListExclusion(
                    run=run,
                    list_type=ListType.ACTIVE,
                    enterprise_id=f["enterprise_id"],
                    reasons=not_active_reasons(f),
                    obstacles=obstacles,
                    repairable=obstacles == 1
                    and (f["in_op"] or f["status"] == "suspended")
                    and f["neg_fixable"],
                )
            )
        if f["first_on"] and start <= f["first_on"] <= end:
            member(
                ListType.FIRST_LOAN,
                f,
                [{"code": "first_loan_in_period", "on": f["first_on"].isoformat()}],
            )
    batch_size = max(1, rule_set.batch_size)
    seen = defaultdict(int)
    for f in sorted(key_visit, key=lambda f: (-f["score"], f["enterprise_id"])):
        tier = (
            1
            if f["score"] >= rule_set.tier1_min_score
            else 2
            if f["score"] >= rule_set.tier2_min_score
            else 3
        )
        batch_no = seen[tier] // batch_size + 1
        seen[tier] += 1
        member(
            ListType.KEY_VISIT,
            f,
            [{"code": "priority_score", "score": f["score"], "tier": tier}],
            tier=tier,
            batch_no=batch_no,
        )
    ListMembership.objects.bulk_create(members, batch_size=2000)
    ListExclusion.objects.bulk_create(exclusions, batch_size=2000)
    counts = {"registered": len(rows)}
    for m in members:
        counts[m.list_type] = counts.get(m.list_type, 0) + 1
    counts["excluded_active"] = sum(1 for x in exclusions if x.list_type == ListType.ACTIVE)
    counts["excluded_key_visit"] = len(exclusions) - counts["excluded_active"]
    for list_type in ListType.values:
        counts.setdefault(list_type, 0)
    if previous is not None:
        counts.update(diff(run, previous, by_id, members, exclusions))
    return counts


def diff(run, previous, by_id, members, exclusions):
    new = {(m.list_type, m.enterprise_id): m for m in members}
    excluded = {(x.list_type, x.enterprise_id): x for x in exclusions}
    old = set(ListMembership.objects.filter(run=previous).values_list("list_type", "enterprise_id"))
    changes = [
        ListChange(
            run=run, list_type=lt, change=ChangeKind.ENTERED, enterprise_id=eid, reasons=m.reasons
        )
        for (lt, eid), m in new.items()
        if (lt, eid) not in old
    ]
    for lt, eid in old - set(new):
        changes.append(
            ListChange(
                run=run,
                list_type=lt,
                change=ChangeKind.LEFT,
                enterprise_id=eid,
                reasons=left_reasons(lt, by_id.get(eid), excluded, run),
            )
        )
    ListChange.objects.bulk_create(changes, batch_size=2000)
    entered = sum(1 for c in changes if c.change == ChangeKind.ENTERED)
    return {"entered": entered, "left": len(changes) - entered}


def left_reasons(list_type, f, excluded, run):
    if f is None:
        return [{"code": "left_region"}]
    eid = f["enterprise_id"]
    if (list_type, eid) in excluded:
        return excluded[(list_type, eid)].reasons
    if list_type != ListType.FIRST_LOAN and not f["active"]:
        active = excluded.get((ListType.ACTIVE, eid))
        return [{"code": "not_active"}] + (active.reasons if active else [])
    if list_type in (ListType.NO_LOAN, ListType.RESERVE) and f["borrowed"]:
        return [{"code": "has_loan"}]
    if list_type == ListType.RESERVE:
        return [{"code": "no_need_source"}]
    if list_type == ListType.NO_LOAN:
        return [{"code": "has_loan"}]
    if list_type == ListType.HAS_LOAN:
        return [{"code": "no_loan_record"}]
    if f["first_on"] and f["first_on"] < run.period_start:
        return [{"code": "first_loan_earlier", "on": f["first_on"].isoformat()}]
    if f["first_on"] and f["first_on"] > run.period_end:
        return [{"code": "first_loan_later", "on": f["first_on"].isoformat()}]
    return [{"code": "no_loan_record"}]
