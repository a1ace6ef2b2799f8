import json
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enterprises.choices import EntityType, IndustrySection

from .exports import workbook_bytes
from .forms import StatsParamsForm, region_in_scope
from .funnel import compute_funnel
from .ranking import decline_reason_label
from .snapshots import compute_dashboard, compute_ranking, compute_stats

# (key, column title) of the KPI columns of every dashboard table.
COLUMNS = [
    ("active_entities", gettext_lazy("Active entities")),
    ("no_loan_entities", gettext_lazy("No-loan entities")),
    ("disbursed_amount", gettext_lazy("Loans disbursed (10k yuan)")),
    ("first_loan_enterprises", gettext_lazy("First-loan enterprises")),
    ("first_loan_amount", gettext_lazy("First-loan amount (10k yuan)")),
    ("credit_loan_amount", gettext_lazy("Credit loans (10k yuan)")),
    ("renewal_balance", gettext_lazy("Renewal balance (10k yuan)")),
    ("renewal_increase_ytd", gettext_lazy("Change since 1 January (10k yuan)")),
    ("renewal_yoy_growth", gettext_lazy("Year-on-year growth")),
    ("financing_coverage_rate", gettext_lazy("Financing coverage")),
    ("visited_enterprises", gettext_lazy("Visited enterprises")),
    ("recommended_enterprises", gettext_lazy("Recommended enterprises")),
    ("credited_enterprises", gettext_lazy("Enterprises granted credit")),
    ("credit_amount", gettext_lazy("Credit granted (10k yuan)")),
    ("avg_days_to_disburse", gettext_lazy("Average days to loan")),
]
KINDS = {
    "amount": {
        "disbursed_amount",
        "first_loan_amount",
        "credit_loan_amount",
        "renewal_balance",
        "renewal_increase_ytd",
        "credit_amount",
    },
    "rate": {"renewal_yoy_growth", "financing_coverage_rate"},
    "days": {"avg_days_to_disburse"},
}
TABLES = {
    "region": gettext_lazy("By region"),
    "bank": gettext_lazy("By bank"),
    "industry": gettext_lazy("By industry section"),
    "entity_type": gettext_lazy("By entity type"),
    "month": gettext_lazy("By month"),
}


def _params(request):
    form = StatsParamsForm(request.GET, request.user)
    if not form.is_valid():
        return form, None
    region = form.cleaned_data["region"]
    if region is None or not region_in_scope(request.user, region):
        raise Http404
    return form, form.cleaned_data


def _label_rows(name, rows):
    labels = {"entity_type": EntityType, "industry": IndustrySection}.get(name)
    if labels is not None:
        labels = dict(labels.choices)
        for row in rows:
            label = labels.get(row["key"])
            if label is not None and name == "industry":
                label = f"{row['key']} {label}"  # 门类 letter and name: "C 制造业"
            row["label"] = str(label or row["label"])
    return rows


def _sees_regions(user):
    """Dashboards are region figures: a scope of bank branches only (bank officers) makes
    them absurd (no no-loan entities, 100% coverage), so such users get none (404)."""
    scope = user.scope
    return scope.allows("view") and (scope.everything or scope.region_prefix is not None)


def _columns(skip=()):
    return [
        {"key": key, "title": title, "kind": next((k for k, v in KINDS.items() if key in v), "n")}
        for key, title in COLUMNS
        if key not in skip
    ]


def _cells(row, columns):
    return [{"kind": c["kind"], "value": row[c["key"]]} for c in columns]


@login_required
def index(request):
    if not _sees_regions(request.user):
        raise Http404
    form, params = _params(request)
    context = {"form": form, "tables": [], "result": None}
    if params is None:
        return render(request, "dashboards/index.html", context, status=400)
    region = params["region"]
    result = compute_dashboard(request.user, region, params["start"], params["end"])
    query = {"start": params["start"].isoformat(), "end": params["end"].isoformat()}
    tables = []
    for name, rows in result["groups"].items():
        if name == "region" and not rows:
            continue
        rows = _label_rows(name, rows)
        skip = ("active_entities", "no_loan_entities", "financing_coverage_rate")
        columns = _columns(skip if name in ("bank", "month") else ())
        table_rows = []
        for row in rows:
            link = None
            if name == "region" and row.get("region"):
                link = "?" + urlencode({**query, "region": row["region"]})
            table_rows.append({"label": row["label"], "link": link, "cells": _cells(row, columns)})
        tables.append({"name": name, "title": TABLES[name], "columns": columns, "rows": table_rows})
    months = result["groups"].get("month", [])
    chart = {
        "months": [r["key"] for r in months],
        "disbursed": [float(r["disbursed_amount"]) for r in months],
        "first_loans": [r["first_loan_enterprises"] for r in months],
        "first_loan_amount": [float(r["first_loan_amount"]) for r in months],
        "renewal": [float(r["renewal_balance"]) for r in months],
        "visits": [r.get("visited_enterprises", 0) for r in months],
        "approvals": [float(r.get("credit_amount", 0)) for r in months],
        "labels": {
            "disbursed": _("Loans disbursed (10k yuan)"),
            "first_loans": _("First-loan enterprises"),
            "renewal": _("Renewal balance (10k yuan)"),
            "visits": _("Visited enterprises"),
            "approvals": _("Credit granted (10k yuan)"),
            "unit_amount": _("10k yuan"),
            "unit_count": _("Number of enterprises"),
        },
    }
    ancestors = [a for a in region.ancestors() if region_in_scope(request.user, a)]
    context.update(
        {
            "result": result,
            "region": region,
            "ancestors": ancestors,
            "query": query,
            "totals": result["totals"],
            "tables": tables,
            "chart": chart,
            "trend_rows": months,
            "can_export": request.user.scope.allows("export"),
            "tab": "index",
        }
    )
    return render(request, "dashboards/index.html", context)


def _page_params(request, template):
    """(params, context) of a funnel / ranking page, or raises 404; params None on a bad form."""
    if not _sees_regions(request.user):
        raise Http404
    form, params = _params(request)
    context = {"form": form, "result": None}
    if params is None:
        return None, render(request, template, context, status=400)
    region = params["region"]
    context.update(
        {
            "region": region,
            "ancestors": [a for a in region.ancestors() if region_in_scope(request.user, a)],
            "query": {"start": params["start"].isoformat(), "end": params["end"].isoformat()},
            "can_export": request.user.scope.allows("export"),
        }
    )
    return params, context


@login_required
def funnel(request):
    params, context = _page_params(request, "dashboards/funnel.html")
    if params is None:
        return context
    result = compute_funnel(request.user, params["region"], params["start"], params["end"])
    chart = {
        "labels": [s["label"] for s in result["stages"]],
        "counts": [s["count"] or 0 for s in result["stages"]],
        "title": _("Enterprises"),
    }
    context.update({"result": result, "chart": chart, "tab": "funnel"})
    return render(request, "dashboards/funnel.html", context)


RANKING_COLUMNS = [
    ("due", gettext_lazy("Feedback due"), "n"),
    ("on_time_rate", gettext_lazy("Feedback on time"), "rate"),
    ("decline_rate", gettext_lazy("Decline rate"), "rate"),
    ("recommended", gettext_lazy("Recommended"), "n"),
    ("credited", gettext_lazy("Granted credit"), "n"),
    ("disbursed", gettext_lazy("Lent to"), "n"),
    ("credit_rate", gettext_lazy("Recommended → credit"), "rate"),
    ("disbursed_rate", gettext_lazy("Recommended → loan"), "rate"),
    ("avg_days_to_loan", gettext_lazy("Average days to loan"), "days"),
    ("hand_offs_received", gettext_lazy("Hand-offs received"), "n"),
    ("hand_offs_given", gettext_lazy("Hand-offs given"), "n"),
]


def _reasons_text(row):
    return "; ".join(
        f"{decline_reason_label(r['reason'])} ({r['count']})" for r in row["decline_reasons"]
    )


def _ranking_rows(result):
    """Institutions, each followed by its branches (unless its only branch is itself)."""
    rows = []
    for inst in result["institutions"]:
        rows.append({"level": "institution", "rank": inst["rank"], **inst})
        branches = inst["branches"]
        if len(branches) == 1 and branches[0]["code"] == inst["code"]:
            continue
        rows += [{"level": "branch", "rank": None, **b} for b in branches]
    for row in rows:
        row["cells"] = [{"kind": kind, "value": row[key]} for key, _t, kind in RANKING_COLUMNS]
        row["reasons"] = _reasons_text(row)
    return rows


@login_required
def ranking(request):
    params, context = _page_params(request, "dashboards/ranking.html")
    if params is None:
        return context
    result = compute_ranking(request.user, params["region"], params["start"], params["end"])
    rows = _ranking_rows(result)
    institutions = [r for r in rows if r["level"] == "institution"]
    chart = {
        "labels": [r["name"] for r in institutions],
        "on_time": [float(r["on_time_rate"] or 0) * 100 for r in institutions],
        "credit": [float(r["credit_rate"] or 0) * 100 for r in institutions],
        "names": {"on_time": _("Feedback on time"), "credit": _("Recommended → credit")},
    }
    context.update(
        {
            "result": result,
            "rows": rows,
            "columns": [{"key": k, "title": t} for k, t, _kind in RANKING_COLUMNS],
            "chart": chart,
            "tab": "ranking",
        }
    )
    return render(request, "dashboards/ranking.html", context)


def _xlsx_response(data, name):
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _number(value):
    return float(value) if isinstance(value, Decimal) else value


@login_required
def export_funnel(request):
    if not request.user.scope.allows("export"):
        raise Http404
    params, context = _page_params(request, "dashboards/funnel.html")
    if params is None:
        return context
    region = params["region"]
    result = compute_funnel(request.user, region, params["start"], params["end"])
    header = [_("Stage"), _("Enterprises"), _("Share of the previous stage")]
    body = [[s["label"], s["count"], _number(s["rate_from_previous"])] for s in result["stages"]]
    body.append(
        [_("No-loan → first-loan conversion"), None, _number(result["first_loan_conversion"])]
    )
    data = workbook_bytes(f"{region.name} {_('Funnel')}", header, body)
    name = f"funnel-{region.code}-{params['start']:%Y%m%d}-{params['end']:%Y%m%d}.xlsx"
    return _xlsx_response(data, name)


@login_required
def export_ranking(request):
    if not request.user.scope.allows("export"):
        raise Http404
    params, context = _page_params(request, "dashboards/ranking.html")
    if params is None:
        return context
    region = params["region"]
    result = compute_ranking(request.user, region, params["start"], params["end"])
    header = [
        _("Rank"),
        _("Bank"),
        *[str(t) for _k, t, _kind in RANKING_COLUMNS],
        _("Decline reasons"),
    ]
    body = [
        [
            row["rank"],
            row["name"],
            *[_number(row[k]) for k, _t, _kind in RANKING_COLUMNS],
            row["reasons"],
        ]
        for row in _ranking_rows(result)
    ]
    data = workbook_bytes(f"{region.name} {_('Bank ranking')}", header, body)
    name = f"banks-{region.code}-{params['start']:%Y%m%d}-{params['end']:%Y%m%d}.xlsx"
    return _xlsx_response(data, name)


@login_required
def export(request, table):
    if table not in TABLES or not request.user.scope.allows("export"):
        raise Http404
    if not _sees_regions(request.user):
        raise Http404
    form, params = _params(request)
    if params is None:
        return HttpResponse(json.dumps(form.errors), status=400, content_type="application/json")
    region = params["region"]
    result = compute_stats(request.user, region, params["start"], params["end"], table)
    rows = _label_rows(table, result["rows"])
    skip = ("active_entities", "no_loan_entities", "financing_coverage_rate")
    columns = _columns(skip if table in ("bank", "month") else ())
    header = [_("Group")] + [str(c["title"]) for c in columns]
    body = []
    for row in rows:
        values = []
        for c in columns:
            value = row[c["key"]]
            values.append(float(value) if isinstance(value, Decimal) else value)
        body.append([row["label"], *values])
    title = f"{region.name} {TABLES[table]}"
    data = workbook_bytes(title, header, body)
    name = f"stats-{region.code}-{table}-{params['start']:%Y%m%d}-{params['end']:%Y%m%d}.xlsx"
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
