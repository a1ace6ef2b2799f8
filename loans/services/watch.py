"""The maturity watch (提前1个月与企业沟通): loans maturing soon whose bank has not yet talked
to the enterprise about renewal.

``refresh_watch()`` brings ``MaturityWatch`` up to date set-based: the selection into a
temporary table, then one DELETE of the rows that left it and one INSERT … SELECT of those
that entered (the daily job; after loan imports); ``refresh_watch(loan_ids=…)`` does the same
for those loans only (a loan recorded, changed or deleted by hand). A loan is on the watch when it is live, matures between
today and today + the county's window (``LoanRules.watch_days``, else
settings.LOANS_MATURITY_WATCH_DAYS), still has a balance (unknown counts as owing), has no
renewal recorded yet, and has no ``RenewalContact``. Every enterprise size is watched: medium
enterprises included (无还本续贷 now covers them).
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.writes import OutOfScope, scoped_save

from ..models import Loan, LoanRules, MaturityWatch, RenewalContact

LOAN = Loan._meta.db_table
WATCH = MaturityWatch._meta.db_table
CONTACT = RenewalContact._meta.db_table
RULES = LoanRules._meta.db_table
NEW = "loans_watch_new"


def _horizon_sql():
    days = "COALESCE(r.watch_days, %(days)s)"
    if connection.vendor == "sqlite":
        return f"date(%(today)s, '+' || {days} || ' days')"
    return f"CAST(%(today)s AS date) + {days}"


def _today_sql():
    # Typed, so that the temporary table's column is a date (SQLite keeps the ISO text).
    return "%(today)s" if connection.vendor == "sqlite" else "CAST(%(today)s AS date)"


def selection_sql(loan_filter=""):
    """The watch list's SELECT (also the benchmark's bare-SQL baseline)."""
    return f"""
        SELECT l.id, l.enterprise_id, l.bank_id, substr(e.region_id, 1, 6) AS county,
               l.matures_on, {_today_sql()} AS since
        FROM {LOAN} l
        JOIN enterprises_enterprise e ON e.id = l.enterprise_id
        LEFT JOIN {RULES} r ON r.region_id = substr(e.region_id, 1, 6)
        WHERE l.deleted_at IS NULL
          AND l.matures_on >= %(today)s AND l.matures_on <= %(widest)s
          AND l.matures_on <= {_horizon_sql()}
          AND (l.balance IS NULL OR l.balance > 0)
          AND NOT EXISTS (SELECT 1 FROM {CONTACT} c WHERE c.loan_id = l.id)
          AND NOT EXISTS (SELECT 1 FROM {LOAN} n
                          WHERE n.renews_id = l.id AND n.deleted_at IS NULL)
          {loan_filter}"""


def watch_params(today):
    days = settings.LOANS_MATURITY_WATCH_DAYS
    widest = max(days, LoanRules.objects.aggregate(m=Max("watch_days"))["m"] or 0)
    return {"today": today, "days": days, "widest": today + timedelta(days=widest)}


def refresh_watch(*, loan_ids=None, today=None):
    """Bring the watch list up to date (or only the rows of ``loan_ids``); returns the number
    of loans on it (of those loans). Only the difference is written: most loans on today's
    list were on yesterday's, and rewriting them would cost more than selecting them."""
    today = today or timezone.localdate()
    params = watch_params(today)
    columns = "loan_id, enterprise_id, bank_id, county, matures_on, computed_on"
    loan_filter, scope = "", ""
    if loan_ids is not None:
        ids = [int(i) for i in loan_ids]
        if not ids:
            return 0
        marks = ", ".join(["%(id" + str(n) + ")s" for n in range(len(ids))])
        params.update({f"id{n}": i for n, i in enumerate(ids)})
        # A renewal recorded takes its original off the watch too.
        wanted = f"(%(col)s IN ({marks}) OR %(col)s IN (SELECT renews_id FROM {LOAN} WHERE id IN ({marks})))"
        loan_filter = "AND " + wanted.replace("%(col)s", "l.id")
        scope = "AND " + wanted.replace("%(col)s", "w.loan_id")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {NEW}")
        cursor.execute(f"CREATE TEMP TABLE {NEW} AS {selection_sql(loan_filter)}", params)
        cursor.execute(
            f"""DELETE FROM {WATCH} WHERE loan_id IN (
                    SELECT w.loan_id FROM {WATCH} w
                    WHERE NOT EXISTS (SELECT 1 FROM {NEW} n WHERE n.id = w.loan_id) {scope})""",
            params,
        )
        cursor.execute(
            f"""INSERT INTO {WATCH} ({columns})
                SELECT n.* FROM {NEW} n
                WHERE NOT EXISTS (SELECT 1 FROM {WATCH} w WHERE w.loan_id = n.id)"""
        )
        cursor.execute(f"SELECT count(*) FROM {NEW}")
        total = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {NEW}")
    return total


def record_contact(user, loan, data):
    """Record the bank's renewal talk about ``loan`` (contacted_on, outcome, note): the loan
    leaves the watch list at once. Only the loan's own bank (``report`` in its scope)."""
    if not Loan.objects.restrict(user, "report").filter(pk=loan.pk).exists():
        raise OutOfScope(_("This loan is not one of your branch's loans."))
    contact = RenewalContact(
        loan=loan,
        contacted_on=data.get("contacted_on"),
        outcome=data.get("outcome") or "",
        note=data.get("note") or "",
        created_by=user,
    )
    contact.full_clean(exclude=["created_by"])

    def save():
        contact.save()
        MaturityWatch.objects.filter(loan=loan).delete()
        return contact

    return scoped_save(user, "report", save)
