"""Clocks and hand-off (双线对接): a lead bank that gives no feedback by its due date, or
declines credit, hands the enterprise to its backup bank, whose own clock then starts.

Set-based: one INSERT … SELECT records the hand-offs, then one UPDATE starts the backups'
clocks and one UPDATE marks the leads handed off; the rows themselves never come into Python.
A backup that runs out of time or declines is recorded too (a hand-off with no receiver:
"declined by both" or overdue at both) and goes no further.

Deadlines are compared on working days only: a clock due on a Friday runs out on the next
working day (the job does not hand off for lateness on weekends and holidays).
"""

from django.db import connection, transaction
from django.utils import timezone

from core.workdays import add_working_days, is_workday
from enterprises.choices import REGION_PREFIX_LENGTH, RegionLevel

from ..choices import AssignmentRole, AssignmentStatus, HandOffCause
from ..models import AllocationRules, BankAssignment, HandOff

COUNTY_PREFIX = REGION_PREFIX_LENGTH[RegionLevel.COUNTY]


def backup_due_dates(today):
    """(default due date, {county prefix: due date}) for a backup clock starting today,
    computed once per county from its rules."""
    default_days = AllocationRules._meta.get_field("feedback_working_days").default
    by_days = {default_days: add_working_days(today, default_days)}
    counties = {}
    for code, days in AllocationRules.objects.values_list("region_id", "feedback_working_days"):
        if days not in by_days:
            by_days[days] = add_working_days(today, days)
        counties[code[:COUNTY_PREFIX]] = by_days[days]
    return by_days[default_days], counties


def hand_off(today=None, enterprise_ids=None):
    """Hand over every overdue or declined lead to its backup and record the backups that
    ran out of time or declined. ``enterprise_ids`` limits the work to those enterprises
    (a decline just recorded). Returns counts of what was done."""
    today = today or timezone.localdate()
    ops = connection.ops
    assignments = connection.ops.quote_name(BankAssignment._meta.db_table)
    handoffs = connection.ops.quote_name(HandOff._meta.db_table)
    enterprises = connection.ops.quote_name(
        BankAssignment._meta.get_field("enterprise").related_model._meta.db_table
    )
    day = ops.adapt_datefield_value(today)

    only, only_params = "", []
    if enterprise_ids is not None:
        ids = [int(pk) for pk in enterprise_ids]
        if not ids:
            return {"handed_off": 0, "ended": 0}
        only = f" AND a.enterprise_id IN ({', '.join(['%s'] * len(ids))})"
        only_params = ids

    # Lateness counts on working days only; a decline is handed over any day.
    late, late_params = "", []
    if is_workday(today):
        late = " OR (a.status = %s AND a.due_on < %s)"
        late_params = [AssignmentStatus.PENDING, day]

    default_due, county_due = backup_due_dates(today)
    whens, due_params = "", []
    for code, due in sorted(county_due.items()):
        whens += " WHEN %s THEN %s"
        due_params += [code, ops.adapt_datefield_value(due)]

    # The backup's due date by the enterprise's county (most counties keep the default).
    due_on = "%s"
    if whens:
        due_on = (
            f"CASE (SELECT substr(e.region_id, 1, {COUNTY_PREFIX}) FROM {enterprises} e"
            f" WHERE e.id = {assignments}.enterprise_id){whens} ELSE %s END"
        )

    with transaction.atomic(), connection.cursor() as cursor:
        now = ops.adapt_datetimefield_value(timezone.now())
        # 1. The hand-offs: a lead to its standing-by backup, or, with no receiver, the end.
        cursor.execute(
            f"""
            INSERT INTO {handoffs} (enterprise_id, from_assignment_id, to_assignment_id,
                                    cause, created_at)
            SELECT a.enterprise_id, a.id, b.id,
                   CASE WHEN a.status = %s THEN %s ELSE %s END, %s
            FROM {assignments} a
            LEFT JOIN {assignments} b
              ON b.enterprise_id = a.enterprise_id AND a.role = %s
             AND b.role = %s AND b.status = %s
            WHERE (a.status = %s{late}){only}
              AND NOT EXISTS (SELECT 1 FROM {handoffs} h WHERE h.from_assignment_id = a.id)
            """,
            [
                AssignmentStatus.DECLINED,
                HandOffCause.DECLINED,
                HandOffCause.DEADLINE,
                now,
                AssignmentRole.LEAD,
                AssignmentRole.BACKUP,
                AssignmentStatus.WAITING,
                AssignmentStatus.DECLINED,
                *late_params,
                *only_params,
            ],
        )
        ended_or_passed = cursor.rowcount
        only_b = only.replace("a.enterprise_id", f"{assignments}.enterprise_id")
        # 2. The backups that received one: their own clock starts today (county's N days).
        cursor.execute(
            f"""
            UPDATE {assignments}
            SET status = %s,
                due_on = {due_on}
            WHERE role = %s AND status = %s{only_b}
              AND EXISTS (SELECT 1 FROM {handoffs} h WHERE h.to_assignment_id = {assignments}.id)
            """,
            [
                AssignmentStatus.PENDING,
                *due_params,
                ops.adapt_datefield_value(default_due),
                AssignmentRole.BACKUP,
                AssignmentStatus.WAITING,
                *only_params,
            ],
        )
        handed = cursor.rowcount
        # 3. The leads that passed the enterprise on.
        cursor.execute(
            f"""
            UPDATE {assignments} SET status = %s
            WHERE role = %s AND status IN (%s, %s){only_b}
              AND EXISTS (SELECT 1 FROM {handoffs} h WHERE h.from_assignment_id = {assignments}.id
                          AND h.to_assignment_id IS NOT NULL)
            """,
            [
                AssignmentStatus.HANDED_OFF,
                AssignmentRole.LEAD,
                AssignmentStatus.PENDING,
                AssignmentStatus.DECLINED,
                *only_params,
            ],
        )
    return {"handed_off": handed, "ended": ended_or_passed - handed}
