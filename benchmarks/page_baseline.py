"""The city dashboard page's figures as bare SQL (benchmarks/dashboard.py): every KPI family the
page shows, for the total and each grouping (county, head institution, month, industry
section, entity type), one hand-written ``GROUPING SETS`` statement per family over the plain
tables, with no scoping sub-selects.

``check_same_page`` runs each statement and compares its rows with the app's family function
(``dashboards.services``) on the same data, so the page is timed against the same work.
"""

from datetime import date

from dashboards import services

SECTIONS = ", ".join(f"'{chr(c)}'" for c in range(ord("A"), ord("Z") + 1))

# The enterprises of the city with their grouping keys, and the bank tree's head institutions.
COMMON = f"""
WITH RECURSIVE root(code, root) AS (
    SELECT code, code FROM banks_bank WHERE parent_id IS NULL
    UNION ALL SELECT b.code, r.root FROM banks_bank b JOIN root r ON b.parent_id = r.code),
e AS (SELECT id, SUBSTR(region_id, 1, 6) AS reg, entity_type AS typ, size,
             CASE WHEN UPPER(SUBSTR(industry_code, 1, 1)) IN ({SECTIONS})
                  THEN UPPER(SUBSTR(industry_code, 1, 1)) ELSE '' END AS ind
      FROM enterprises_enterprise WHERE region_id LIKE %(prefix)s)"""


def _grouping(keys):
    """SQL of which grouping a row is and its key, and the GROUP BY of the total and each one,
    for the key columns ``keys`` (name → SQL expression)."""
    names = list(keys)
    which = " ".join(f"WHEN GROUPING({keys[n]}) = 0 THEN '{n}'" for n in names)
    key = ", ".join(f"CAST({keys[n]} AS text)" for n in names)
    sets = ", ".join(["()"] + [f"({keys[n]})" for n in names])
    return f"CASE {which} END AS g, COALESCE({key}) AS k", f"GROUP BY GROUPING SETS ({sets})"


ALL = {"region": "e.reg", "bank": "r.root", "industry": "e.ind", "entity_type": "e.typ"}
ENT = {"region": "x.reg", "industry": "x.ind", "entity_type": "x.typ"}


def _month(column):
    return f"DATE_TRUNC('month', {column})::date"


def loan_flows():
    head, group = _grouping({**ALL, "month": _month("l.disbursed_on")})
    return f"""{COMMON}
        SELECT {head}, SUM(l.amount),
               SUM(CASE WHEN l.guarantee = 'credit' THEN l.amount ELSE 0 END),
               COUNT(DISTINCT l.enterprise_id)
        FROM loans_loan l JOIN e ON e.id = l.enterprise_id JOIN root r ON r.code = l.bank_id
        WHERE l.deleted_at IS NULL AND l.disbursed_on BETWEEN %(start)s AND %(end)s
        {group}"""


def first_loans():
    head, group = _grouping({**ENT, "bank": "r.root", "month": _month("x.first_day")})
    return f"""{COMMON},
        x AS (SELECT enterprise_id, MIN(reg) AS reg, MIN(ind) AS ind, MIN(typ) AS typ,
                     MIN(day) AS first_day
              FROM (SELECT l.enterprise_id, e.reg, e.ind, e.typ, l.disbursed_on AS day
                    FROM loans_loan l JOIN e ON e.id = l.enterprise_id
                    WHERE l.deleted_at IS NULL AND l.disbursed_on <= %(end)s
                    UNION ALL
                    SELECT c.enterprise_id, e.reg, e.ind, e.typ, c.first_loan_date
                    FROM loans_creditsnapshot c JOIN e ON e.id = c.enterprise_id
                    WHERE c.as_of <= %(end)s AND c.first_loan_date IS NOT NULL) ev
              GROUP BY 1 HAVING MIN(day) BETWEEN %(start)s AND %(end)s)
        SELECT {head}, COUNT(DISTINCT x.enterprise_id), SUM(l.amount)
        FROM x LEFT JOIN loans_loan l ON l.enterprise_id = x.enterprise_id
             AND l.disbursed_on = x.first_day AND l.deleted_at IS NULL
        LEFT JOIN root r ON r.code = l.bank_id
        -- no snapshot before the first loan shows a balance
        WHERE NOT EXISTS (SELECT 1 FROM loans_creditsnapshot c WHERE c.enterprise_id = x.enterprise_id
                          AND c.as_of <= %(end)s AND c.loan_balance > 0 AND c.as_of < x.first_day)
        {group}"""


def renewal_balances():
    keys = ALL
    which = " ".join(f"WHEN GROUPING({keys[n]}) = 0 THEN '{n}'" for n in keys)
    key = ", ".join(f"CAST({keys[n]} AS text)" for n in keys)
    sets = ", ".join(["(d.day)"] + [f"(d.day, {keys[n]})" for n in keys])
    return f"""{COMMON}
        SELECT CASE {which} END AS g, COALESCE({key}) AS k, d.day,
               SUM(COALESCE(l.balance, l.amount))
        FROM loans_loan l JOIN e ON e.id = l.enterprise_id JOIN root r ON r.code = l.bank_id
        JOIN unnest(%(days)s::date[]) AS d(day)
          ON l.disbursed_on <= d.day AND l.matures_on > d.day
        WHERE l.is_renewal AND l.deleted_at IS NULL AND l.disbursed_on <= %(end)s
        GROUP BY GROUPING SETS ({sets})"""


def entity_figures():
    head, group = _grouping(ENT)
    return f"""{COMMON},
        act AS (SELECT m.enterprise_id FROM screening_listmembership m
                JOIN screening_screeningrun sr ON sr.id = m.run_id
                WHERE sr.is_current AND sr.status = 'succeeded' AND m.list_type = 'active'),
        nl AS (SELECT m.enterprise_id FROM screening_listmembership m
               JOIN screening_screeningrun sr ON sr.id = m.run_id
               WHERE sr.is_current AND sr.status = 'succeeded' AND m.list_type = 'no_loan'),
        fin AS (SELECT l.enterprise_id FROM loans_loan l
                WHERE l.deleted_at IS NULL AND l.disbursed_on <= %(end)s
                  AND l.matures_on > %(end)s
                UNION
                SELECT c.enterprise_id FROM loans_creditsnapshot c
                JOIN (SELECT enterprise_id, bank_id, MAX(as_of) AS as_of
                      FROM loans_creditsnapshot WHERE as_of <= %(end)s GROUP BY 1, 2) z
                  USING (enterprise_id, bank_id, as_of)
                WHERE c.loan_balance > 0),
        x AS (SELECT e.*, (e.size IN ('small', 'micro') OR e.typ = 'individual') AS sm,
                     nl.enterprise_id IS NOT NULL AS no_loan,
                     fin.enterprise_id IS NOT NULL AS financed
              FROM e JOIN act ON act.enterprise_id = e.id
              LEFT JOIN nl ON nl.enterprise_id = e.id
              LEFT JOIN fin ON fin.enterprise_id = e.id)
        SELECT {head}, COUNT(*), COUNT(*) FILTER (WHERE x.no_loan),
               COUNT(*) FILTER (WHERE x.sm), COUNT(*) FILTER (WHERE x.sm AND x.financed)
        FROM x {group}"""


def visit_flows():
    head, group = _grouping({**ALL, "month": _month("v.visited_on")})
    return f"""{COMMON}
        SELECT {head}, COUNT(DISTINCT v.enterprise_id),
               COUNT(DISTINCT CASE WHEN v.has_need THEN v.enterprise_id END)
        FROM visits_visit v JOIN e ON e.id = v.enterprise_id
        LEFT JOIN root r ON r.code = v.bank_id
        WHERE v.status = 'completed' AND v.visited_on BETWEEN %(start)s AND %(end)s
        {group}"""


def approval_flows():
    head, group = _grouping({**ALL, "month": _month("a.approved_on")})
    return f"""{COMMON}
        SELECT {head}, COUNT(DISTINCT a.enterprise_id), SUM(a.amount)
        FROM loans_creditapproval a JOIN e ON e.id = a.enterprise_id
        JOIN root r ON r.code = a.bank_id
        WHERE a.deleted_at IS NULL AND a.approved_on BETWEEN %(start)s AND %(end)s
        {group}"""


def recommendation_flows():
    head, group = _grouping({**ENT, "month": _month("x.r_day")})
    return f"""{COMMON},
        rec AS (SELECT x.enterprise_id, x.bank_id, x.recommended_on FROM visits_recommendation x
                JOIN e ON e.id = x.enterprise_id
                WHERE x.recommended_on BETWEEN %(start)s AND %(end)s),
        l AS (SELECT l.enterprise_id, l.bank_id, l.disbursed_on FROM loans_loan l
              WHERE l.deleted_at IS NULL AND l.disbursed_on <= %(end)s
                AND l.enterprise_id IN (SELECT enterprise_id FROM rec)),
        x AS (SELECT f.enterprise_id, f.r_day, e.reg, e.ind, e.typ, MIN(l.disbursed_on) AS loan_day
              FROM (SELECT enterprise_id, MIN(recommended_on) AS r_day FROM rec GROUP BY 1) f
              JOIN e ON e.id = f.enterprise_id
              LEFT JOIN l ON l.enterprise_id = f.enterprise_id AND l.disbursed_on >= f.r_day
              GROUP BY 1, 2, 3, 4, 5)
        SELECT {head}, COUNT(*), SUM(x.loan_day - x.r_day), COUNT(x.loan_day) FROM x {group}"""


def bank_conversion():
    """Per head institution: recommended to it, lent by it from its own first recommendation."""
    return f"""{COMMON},
        rec AS (SELECT x.enterprise_id, r.root, MIN(x.recommended_on) AS r_day
                FROM visits_recommendation x JOIN e ON e.id = x.enterprise_id
                JOIN root r ON r.code = x.bank_id
                WHERE x.recommended_on BETWEEN %(start)s AND %(end)s GROUP BY 1, 2),
        l AS MATERIALIZED (SELECT l.enterprise_id, r.root, l.disbursed_on FROM loans_loan l
              JOIN root r ON r.code = l.bank_id
              WHERE l.deleted_at IS NULL AND l.disbursed_on <= %(end)s
                AND l.enterprise_id IN (SELECT enterprise_id FROM rec)),
        x AS (SELECT f.enterprise_id, f.root, f.r_day, MIN(l.disbursed_on) AS loan_day FROM rec f
              LEFT JOIN l ON l.enterprise_id = f.enterprise_id AND l.root = f.root
                   AND l.disbursed_on >= f.r_day
              GROUP BY 1, 2, 3)
        SELECT root, COUNT(*), SUM(x.loan_day - x.r_day), COUNT(x.loan_day) FROM x GROUP BY 1"""


def page_days(start, end):
    """The days the page needs renewal balances on (as ``services.compute_live``)."""
    days = [end, date(end.year, 1, 1), services.one_year_earlier(end)]
    for _first, last in services.month_spans(start, end):
        days += [last, date(last.year, 1, 1), services.one_year_earlier(last)]
    return sorted(set(days))


STATEMENTS = (
    loan_flows,
    first_loans,
    renewal_balances,
    entity_figures,
    visit_flows,
    approval_flows,
    recommendation_flows,
    bank_conversion,
)


def _key(value):
    return None if value is None else str(value)


def decode(name, rows):
    """Bare rows in the shape of the app's family function of the same name."""
    from decimal import Decimal

    def money(value):
        return Decimal(value or 0)

    if name == "loan_flows":
        return {
            (g, _key(k)): {
                "disbursed_amount": money(a),
                "credit_loan_amount": money(c),
                "disbursed_enterprises": n,
            }
            for g, k, a, c, n in rows
        }
    if name == "first_loans":
        return {
            (g, _key(k)): {"first_loan_enterprises": n, "first_loan_amount": money(a)}
            for g, k, n, a in rows
        }
    if name == "renewal_balances":
        return {(day, (g, _key(k))): money(b) for g, k, day, b in rows}
    if name == "entity_figures":
        return {
            (g, _key(k)): {"active": a, "no_loan": nl, "small_micro": sm, "covered": cv}
            for g, k, a, nl, sm, cv in rows
        }
    if name == "visit_flows":
        return {
            (g, _key(k)): {"visited_enterprises": v, "need_found_enterprises": nf}
            for g, k, v, nf in rows
        }
    if name == "approval_flows":
        return {
            (g, _key(k)): {"credited_enterprises": n, "credit_amount": money(a)}
            for g, k, n, a in rows
        }
    if name == "recommendation_flows":
        return {
            (g, _key(k)): {"recommended_enterprises": n, "days": int(d or 0), "with_loan": w}
            for g, k, n, d, w in rows
        }
    if name == "bank_conversion":
        return {
            root: {"recommended": n, "days": int(d or 0), "disbursed": w} for root, n, d, w in rows
        }
    raise ValueError(name)


def app_families(user, region, start, end):
    """{family: the app's result} as ``compute_live`` computes them for the page."""
    src = services.Sources.build(user, region, end)
    names = ["region", "bank", "industry", "entity_type"]
    with_month = [*names, "month"]
    recs = services.recommendation_flows(src, with_month, region, start, end)
    return {
        "loan_flows": services.loan_flows(src, with_month, region, start, end),
        "first_loans": services.first_loans(src, with_month, region, start, end),
        "renewal_balances": services.renewal_balances(src, names, region, page_days(start, end)),
        "entity_figures": services.entity_figures(src, names, region, end),
        "visit_flows": services.visit_flows(src, with_month, region, start, end),
        "approval_flows": services.approval_flows(src, with_month, region, start, end),
        "recommendation_flows": {k: v for k, v in recs.items() if k[0] != "bank"},
        "bank_conversion": {
            bank: {"recommended": v["recommended"], "days": v["days"], "disbursed": v["disbursed"]}
            for bank, v in services.bank_conversion(src, start, end, "root").items()
        },
    }


def run(cursor, params):
    """Every statement once; {family: rows}."""
    results = {}
    for statement in STATEMENTS:
        cursor.execute(statement(), params)
        results[statement.__name__] = cursor.fetchall()
    return results


def check_same_page(user, region, start, end, bare_results):
    """Stop unless every family's bare rows equal the app's."""
    app = app_families(user, region, start, end)
    differ = {}
    for name, rows in bare_results.items():
        bare, served = decode(name, rows), app[name]
        for key in set(bare) | set(served):
            if bare.get(key) != served.get(key):
                differ.setdefault(name, []).append((key, served.get(key), bare.get(key)))
    assert not differ, f"bare page SQL and app differ (key, app, bare): {differ}"
    return sum(len(rows) for rows in bare_results.values())
