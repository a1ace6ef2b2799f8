"""The import kinds of the visits app: completed field visits and the recommendation list.

Declared here and registered from VisitsConfig.ready() (see enterprises/importing/specs.py);
the columns are those of docs/import-formats.md ("visits", "recommendations"). Both write the
tables the screens write, set-based: the engine stages and checks the rows, the hooks below
match names to users, upsert and raise the coordination items in SQL, and write the change
history of what they wrote in one INSERT … SELECT (core.history.record_set_based).
"""

import json
import re

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from banks.choices import AssignmentRole
from banks.models import BankAssignment
from core.history import record_set_based
from core.workdays import add_working_days
from enterprises.choices import ImportKind
from enterprises.importing import normalise as n
from enterprises.importing.specs import USCC, Column, KindSpec, Reference, Upsert, register
from enterprises.models import ENTERPRISE_BANK_LINKS

from .choices import (
    ApplicationStatus,
    DueReason,
    Intent,
    ItemLevel,
    ItemStatus,
    NeedPurpose,
    ProblemType,
    VisitMethod,
    VisitRound,
    VisitStatus,
)
from .models import Application, CoordinationItem, DueVisit, Recommendation, Visit
from .services.items import (
    BANK_PROBLEMS,
    DEPARTMENT_SUFFIX,
    ITEM_DUE_WORKING_DAYS,
    department_overrides,
)
from .services.recommendations import OPEN_STATUSES
from .services.visits import follow_up_days

# The contract's Chinese labels → stored codes.
ROUNDS = {"首次走访": VisitRound.FIRST, "二次走访": VisitRound.SECOND, "回访": VisitRound.RETURN}
METHODS = {"上门": VisitMethod.ON_SITE, "电话": VisitMethod.PHONE, "线上": VisitMethod.ONLINE}
PURPOSES = {
    "流动资金": NeedPurpose.WORKING_CAPITAL,
    "设备购置": NeedPurpose.EQUIPMENT,
    "厂房建设": NeedPurpose.PLANT,
    "技术改造": NeedPurpose.UPGRADE,
    "其他": NeedPurpose.OTHER,
}
INTENTS = {"强": Intent.STRONG, "一般": Intent.MODERATE, "暂无": Intent.NONE}
PROBLEMS = {
    "担保不足": ProblemType.INSUFFICIENT_GUARANTEE,
    "抵押物不足": ProblemType.INSUFFICIENT_COLLATERAL,
    "利率": ProblemType.INTEREST_RATE,
    "手续繁琐": ProblemType.PAPERWORK,
    "政策咨询": ProblemType.POLICY,
    "其他": ProblemType.OTHER,
}
# As loans.imports.GUARANTEES (this app may not import the loans app: it sits above visits).
GUARANTEES = {"信用": "credit", "保证": "surety", "抵押": "mortgage", "质押": "pledge"}
UNKNOWN_BANK = Reference("bank_code", "banks.Bank", _("Unknown bank code."))

# `;` `,` `、` (full-width ； and ， are half-width after clean_text).
_SEPARATORS = re.compile("[;,\u3001]")


def with_default(convert, default):
    """A choice converter giving ``default`` for an empty cell (the key needs the value)."""

    def converter(value):
        result = convert(value)
        return default if result is None else result

    converter.lookup = convert.lookup  # the template lists the allowed labels
    return converter


def multi_choice(mapping):
    """One or more labels of ``mapping`` separated by ; , 、 → a JSON list of codes (text)."""
    single = n.choice(mapping)

    def convert(value):
        text = n.clean_text(value)
        if text is None:
            return None
        codes = [single(part) for part in _SEPARATORS.split(text) if part.strip()]
        return json.dumps(list(dict.fromkeys(codes))) if codes else None

    convert.lookup = single.lookup
    return convert


def _json(expr):
    """SQL: a JSON text as the JSONField column's type."""
    return f"CAST({expr} AS jsonb)" if connection.vendor == "postgresql" else expr


def _json_elements(expr, alias):
    """SQL FROM item: the text elements of the JSON list ``expr`` as ``alias``.value."""
    if connection.vendor == "postgresql":
        return f"jsonb_array_elements_text(CAST({expr} AS jsonb)) AS {alias}(value)"
    return f"json_each({expr}) AS {alias}"


def _record_history(run, model, repr_sql):
    user = run.batch.created_by
    record_set_based(
        model,
        "t.batch_id = %s",
        (run.batch.pk,),
        created_since=run.started_writing,
        actor=user,
        via="import",
        extra={"batch": run.batch.pk},
        repr_sql=repr_sql,
    )


def _enterprise_name(alias="t"):
    return f"(SELECT e.name FROM enterprises_enterprise e WHERE e.id = {alias}.enterprise_id)"


def reject_positive(values, field, run):
    amount = values[field]
    if amount is not None and amount <= 0:
        yield field, _("The amount must be greater than 0."), amount


# --- visits ---------------------------------------------------------------------------------


def check_visits(run, values):
    if values["visited_on"] is not None and values["visited_on"] > timezone.localdate():
        yield "visited_on", _("The visit date is in the future."), values["visited_on"]
    yield from reject_positive(values, "need_amount", run)
    if values["has_need"] and values["need_amount"] is None:
        # Named as in the file when it has the column, else by the contract's header.
        field = "need_amount" if "need_amount" in run.present_fields else "需求金额（万元）"
        yield (
            field,
            _("Required when 是否有融资需求 (has a financing need) is 是."),
            "",
        )


def _bank_scope_rows(run):
    """A bank's importer writes visits only of its own enterprises, with its bank named."""
    codes = sorted(run.scope.bank_codes)
    run.reject_rows(
        "s.bank_code IS NULL",
        run.column_header("bank_code"),
        "s.uscc",
        _("Name your bank's code: you may import only visits your bank joined."),
    )
    if not codes:
        return
    placeholders = ", ".join(["%s"] * len(codes))
    links = " OR ".join(
        f"EXISTS (SELECT 1 FROM {model._meta.db_table} l WHERE l.enterprise_id = s.enterprise_id "
        f"AND l.bank_id IN ({placeholders}))"
        for model in ENTERPRISE_BANK_LINKS.values()
    )
    run.reject_rows(
        f"NOT ({links or 'false'})",
        run.column_header("uscc"),
        "s.uscc",
        _("This enterprise is not one of your bank's: it is outside your scope."),
        codes * len(ENTERPRISE_BANK_LINKS),
    )


def _match_users(run):
    """Names → users: a unique active user of the role whose full name or user name it is,
    inside the importer's scope; no match (or several) keeps the name as text only."""
    stage = run.STAGE
    for column in ("township_worker_id", "bank_officer_id", "visit_id"):
        run.sql(f"ALTER TABLE {stage} ADD COLUMN {column} bigint")
    name = (
        "(u.username = {v} OR TRIM(u.first_name || ' ' || u.last_name) = {v} "
        "OR u.last_name || u.first_name = {v})"
    )
    region = ""
    params = []
    if run.region_prefix is not None:
        region = "AND u.region_id LIKE %s"
        params.append(run.region_prefix + "%")
    run.sql(
        f"UPDATE {stage} SET township_worker_id = (SELECT min(u.id) FROM accounts_user u "
        f"WHERE u.is_active AND u.role = %s AND {name.format(v=f'{stage}.township_worker')} "
        f"{region} HAVING count(*) = 1) WHERE township_worker IS NOT NULL",
        [Role.TOWNSHIP_WORKER, *params],
    )
    bank = f"AND (u.bank_id = {stage}.bank_code OR {stage}.bank_code IS NULL)"
    params = []
    if run.scope is not None and run.scope.bank_codes is not None:
        codes = sorted(run.scope.bank_codes) or [""]
        bank += f" AND u.bank_id IN ({', '.join(['%s'] * len(codes))})"
        params += codes
    run.sql(
        f"UPDATE {stage} SET bank_officer_id = (SELECT min(u.id) FROM accounts_user u "
        f"WHERE u.is_active AND u.role = %s AND {name.format(v=f'{stage}.bank_officer')} "
        f"{bank} HAVING count(*) = 1) WHERE bank_officer IS NOT NULL",
        [Role.BANK_OFFICER, *params],
    )


def resolve_visits(run):
    run.resolve_enterprise()
    if run.scope is not None and run.scope.bank_codes is not None:
        _bank_scope_rows(run)
    _match_users(run)


def _visit_columns():
    """(Visit column, SQL over the staged row s, staged field or None when always written)."""
    return (
        ("method", f"COALESCE(s.method, '{VisitMethod.ON_SITE}')", "method"),
        ("township_worker_id", "s.township_worker_id", "township_worker"),
        ("township_worker_name", "COALESCE(s.township_worker, '')", "township_worker"),
        ("bank_id", "s.bank_code", "bank_code"),
        ("bank_officer_id", "s.bank_officer_id", "bank_officer"),
        ("bank_officer_name", "COALESCE(s.bank_officer, '')", "bank_officer"),
        ("operating_normally", "s.operating", "operating"),
        ("has_need", "s.has_need", None),
        ("need_amount", "s.need_amount", "need_amount"),
        ("need_purpose", "COALESCE(s.purpose, '')", "purpose"),
        ("acceptable_guarantees", _json("COALESCE(s.guarantee, '[]')"), "guarantee"),
        ("intent", "COALESCE(s.intent, '')", "intent"),
        ("problems", _json("COALESCE(s.problems, '[]')"), "problems"),
        ("note", "COALESCE(s.note, '')", "note"),
    )


def apply_visits(run):
    """Update the visits already stored under the same key where the file says otherwise,
    insert the others, then raise one open coordination item per new problem."""
    stage, table = run.STAGE, Visit._meta.db_table
    now = timezone.now()
    run.started_writing = now
    same_key = (
        f"v.enterprise_id = {stage}.enterprise_id AND v.visited_on = {stage}.visited_on "
        f"AND v.round = COALESCE({stage}.round, '{VisitRound.FIRST}') "
        f"AND v.status = '{VisitStatus.COMPLETED}'"
    )
    run.sql(f"UPDATE {stage} SET visit_id = (SELECT min(v.id) FROM {table} v WHERE {same_key})")

    columns = _visit_columns()
    # A column the file lacks changes nothing on a stored visit.
    written = [(c, e) for c, e, f in columns if f is None or f in run.present_fields]
    sets = ", ".join(f"{c} = {e}" for c, e in written)
    changed = " OR ".join(f"v.{c} IS DISTINCT FROM {e}" for c, e in written)
    updated = run.sql(
        f"UPDATE {table} AS v SET {sets}, version = v.version + 1, updated_at = %s, "
        f"batch_id = %s FROM {stage} AS s WHERE v.id = s.visit_id AND ({changed})",
        (now, run.batch.pk),
    )
    names = ", ".join(c for c, _e, _f in columns)
    exprs = ", ".join(e for _c, e, _f in columns)
    created = run.sql(
        f"INSERT INTO {table} (enterprise_id, round, visited_on, status, {names}, version, "
        "created_by_id, created_at, updated_at, batch_id) "
        f"SELECT s.enterprise_id, COALESCE(s.round, '{VisitRound.FIRST}'), s.visited_on, "
        f"'{VisitStatus.COMPLETED}', {exprs}, 1, %s, %s, %s, %s FROM {stage} s "
        "WHERE s.visit_id IS NULL ORDER BY s.row_no",
        (run.batch.created_by_id, now, now, run.batch.pk),
    )
    run.sql(
        f"UPDATE {stage} SET visit_id = (SELECT min(v.id) FROM {table} v WHERE {same_key}) "
        "WHERE visit_id IS NULL"
    )
    return created, updated


def follow_through(run):
    """What a recorded visit sets going (``visits.receivers``), for a whole file at once: its
    problems become coordination items, the follow-ups are scheduled and the needs join the
    application list; then the change history of everything written."""
    raise_items(run)
    schedule_follow_ups(run)
    note_needs(run)
    _record_history(run, Visit, f"{_enterprise_name()} || ' · ' || CAST(t.visited_on AS text)")
    _record_history(run, CoordinationItem, f"{_enterprise_name()} || ' · ' || t.problem")
    record_set_based(
        Application,
        f"t.id IN (SELECT s.application_id FROM {run.STAGE} s) OR (t.created_at >= %s "
        f"AND t.visit_id IN (SELECT s.visit_id FROM {run.STAGE} s))",
        (run.started_writing,),
        created_since=run.started_writing,
        actor=run.batch.created_by,
        via="import",
        extra={"batch": run.batch.pk},
        repr_sql=_enterprise_name(),
    )


def raise_items(run):
    """Each problem of an imported visit becomes an open coordination item — once: not when
    the enterprise has an open item of that problem, nor when this visit raised it before.
    Owners and due dates as ``services.items`` gives them to a visit recorded on screen."""
    stage, items = run.STAGE, CoordinationItem._meta.db_table
    if "problems" not in run.present_fields:
        return
    due_on = add_working_days(timezone.localdate(), ITEM_DUE_WORKING_DAYS)
    run.sql(
        f"INSERT INTO {items} (enterprise_id, visit_id, problem, description, "
        "owner_department, status, level, resolution, escalation_reason, due_on, "
        "created_by_id, created_at, batch_id, version) "
        "SELECT s.enterprise_id, min(s.visit_id), p.value, '', '', %s, %s, '', '', %s, %s, %s, "
        f"%s, 1 FROM {stage} s, {_json_elements('s.problems', 'p')} "
        "WHERE s.problems IS NOT NULL "
        f"AND NOT EXISTS (SELECT 1 FROM {items} i WHERE i.enterprise_id = s.enterprise_id "
        "AND i.problem = p.value AND (i.status <> %s OR i.visit_id = s.visit_id)) "
        "GROUP BY s.enterprise_id, p.value",
        (
            ItemStatus.OPEN,
            ItemLevel.COUNTY,
            due_on,
            run.batch.created_by_id,
            run.started_writing,
            run.batch.pk,
            ItemStatus.RESOLVED,
        ),
    )
    # A bank's problem goes to the visit's bank, else the enterprise's lead bank …
    new = f"{items}.batch_id = %s"
    problems = ", ".join(["%s"] * len(BANK_PROBLEMS))
    run.sql(
        f"UPDATE {items} SET owner_bank_id = COALESCE("
        f"(SELECT v.bank_id FROM {Visit._meta.db_table} v WHERE v.id = {items}.visit_id), "
        f"(SELECT min(a.bank_id) FROM {BankAssignment._meta.db_table} a "
        f"WHERE a.enterprise_id = {items}.enterprise_id AND a.role = %s)) "
        f"WHERE {new} AND problem IN ({problems})",
        (AssignmentRole.LEAD, run.batch.pk, *sorted(BANK_PROBLEMS)),
    )
    # … the others (and a bank's problem with no bank) to the county's department.
    county = (
        "substr((SELECT e.region_id FROM enterprises_enterprise e "
        f"WHERE e.id = {items}.enterprise_id), 1, 6)"
    )
    for code, department in sorted(department_overrides().items()):
        run.sql(
            f"UPDATE {items} SET owner_department = %s "
            f"WHERE {new} AND owner_bank_id IS NULL AND {county} = %s",
            (department, run.batch.pk, code),
        )
    run.sql(
        f"UPDATE {items} SET owner_department = COALESCE((SELECT r.name FROM "
        f"enterprises_region r WHERE r.code = {county}), '') || %s "
        f"WHERE {new} AND owner_bank_id IS NULL AND owner_department = ''",
        (DEPARTMENT_SUFFIX, run.batch.pk),
    )


def _latest(alias, among):
    """SQL: ``alias`` (a visit) is the latest completed visit of its enterprise among the
    visits matching ``among`` (SQL over ``w``)."""
    visits = Visit._meta.db_table
    return (
        f"NOT EXISTS (SELECT 1 FROM {visits} w WHERE w.enterprise_id = {alias}.enterprise_id "
        f"AND w.status = '{VisitStatus.COMPLETED}' AND ({among}) "
        f"AND (w.visited_on > {alias}.visited_on "
        f"OR (w.visited_on = {alias}.visited_on AND w.id > {alias}.id)))"
    )


def _plus_days(date_sql, days):
    """SQL: the date ``date_sql`` plus ``days`` (an int, not user input) days."""
    if connection.vendor == "postgresql":
        return f"({date_sql} + {int(days)})"
    return f"date({date_sql}, '+{int(days)} days')"


def schedule_follow_ups(run):
    """The enterprise's latest visit, when it is one of this file's, closes what was due
    before it and, when it found a need or strong intent, is due for a follow-up
    (``services.followups.schedule_after_visit``)."""
    stage, visits, due = run.STAGE, Visit._meta.db_table, DueVisit._meta.db_table
    mine = f"v.id IN (SELECT s.visit_id FROM {stage} s) AND v.status = '{VisitStatus.COMPLETED}'"
    latest = f"{mine} AND {_latest('v', 'true')}"
    needs = f"(v.has_need = %s OR v.intent = '{Intent.STRONG}' OR v.next_visit_on IS NOT NULL)"
    run.sql(
        f"UPDATE {due} SET done_by_id = (SELECT v.id FROM {visits} v "
        f"WHERE v.enterprise_id = {due}.enterprise_id AND {latest}) "
        f"WHERE done_by_id IS NULL AND enterprise_id IN (SELECT s.enterprise_id FROM {stage} s) "
        f"AND EXISTS (SELECT 1 FROM {visits} v "
        f"WHERE v.enterprise_id = {due}.enterprise_id AND {latest} "
        f"AND ({due}.opened_on IS NULL OR {due}.opened_on <= v.visited_on) "
        f"AND ({due}.source_visit_id IS NULL OR {due}.source_visit_id <> v.id))"
    )
    # A visit edited to no need and no intent is no longer due for its follow-up.
    run.sql(
        f"DELETE FROM {due} WHERE done_by_id IS NULL AND source_visit_id IN "
        f"(SELECT v.id FROM {visits} v WHERE {mine} AND NOT {needs})",
        (True,),
    )
    next_round = (
        f"CASE WHEN v.round = '{VisitRound.FIRST}' THEN '{VisitRound.SECOND}' "
        f"ELSE '{VisitRound.RETURN}' END"
    )
    due_on = f"COALESCE(v.next_visit_on, {_plus_days('v.visited_on', follow_up_days())})"
    run.sql(
        f"INSERT INTO {due} (enterprise_id, due_on, opened_on, round, reason, source_visit_id) "
        f"SELECT v.enterprise_id, {due_on}, v.visited_on, {next_round}, '{DueReason.FOLLOW_UP}', "
        f"v.id FROM {visits} v WHERE {latest} AND {needs} AND NOT EXISTS (SELECT 1 FROM {due} d "
        "WHERE d.source_visit_id = v.id AND d.done_by_id IS NULL)",
        (True,),
    )


def note_needs(run):
    """Each enterprise whose latest visit with a need in this file (operating normally or not
    said) is later than its open application-list entry's visit: the entry follows it; with no
    open entry, a new pending one (``services.recommendations.note_visit``)."""
    stage, visits, apps = run.STAGE, Visit._meta.db_table, Application._meta.db_table
    need = (
        f"{{a}}.id IN (SELECT s.visit_id FROM {stage} s) AND {{a}}.status = "
        f"'{VisitStatus.COMPLETED}' AND {{a}}.has_need = %s "
        f"AND ({{a}}.operating_normally IS NULL OR {{a}}.operating_normally = %s)"
    )
    counted = f"{need.format(a='v')} AND {_latest('v', need.format(a='w'))}"
    flags = (True, True, True, True)
    open_statuses = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
    run.sql(f"ALTER TABLE {stage} ADD COLUMN application_id bigint")
    run.sql(
        f"UPDATE {stage} SET application_id = (SELECT a.id FROM {apps} a, {visits} v "
        f"WHERE v.id = {stage}.visit_id AND a.enterprise_id = v.enterprise_id "
        f"AND a.status IN ({open_statuses}) AND (a.visit_id IS NULL OR EXISTS (SELECT 1 FROM "
        f"{visits} o WHERE o.id = a.visit_id AND (v.visited_on > o.visited_on "
        "OR (v.visited_on = o.visited_on AND v.id > o.id))))) "
        f"WHERE visit_id IN (SELECT v.id FROM {visits} v WHERE {counted})",
        flags,
    )
    run.sql(
        f"UPDATE {apps} SET visit_id = (SELECT s.visit_id FROM {stage} s "
        f"WHERE s.application_id = {apps}.id), need_amount = (SELECT v.need_amount FROM "
        f"{visits} v, {stage} s WHERE s.application_id = {apps}.id AND v.id = s.visit_id), "
        f"version = version + 1 WHERE id IN (SELECT s.application_id FROM {stage} s)"
    )
    run.sql(
        f"INSERT INTO {apps} (enterprise_id, visit_id, need_amount, status, checks, check_note, "
        f"created_at, version) SELECT v.enterprise_id, v.id, v.need_amount, "
        f"'{ApplicationStatus.PENDING}', '{{}}', '', %s, 1 FROM {visits} v WHERE {counted} "
        f"AND NOT EXISTS (SELECT 1 FROM {apps} a WHERE a.enterprise_id = v.enterprise_id "
        f"AND a.status IN ({open_statuses}))",
        (run.started_writing, *flags),
    )


VISITS = KindSpec(
    ImportKind.VISITS,
    [
        USCC,
        Column("visited_on", "走访日期", "visited_on", True, n.to_date, "date"),
        Column(
            "round", "走访轮次", "round", False, with_default(n.choice(ROUNDS), VisitRound.FIRST)
        ),
        Column(
            "method",
            "走访方式",
            "method",
            False,
            with_default(n.choice(METHODS), VisitMethod.ON_SITE),
        ),
        Column("township_worker", "乡镇工作人员", "township_worker", False, n.plain_text(100)),
        Column("bank_code", "银行机构代码", "bank_code", False, n.max_length(40)),
        Column("bank_officer", "银行客户经理", "bank_officer", False, n.plain_text(100)),
        Column("operating", "是否正常经营", "operating", False, n.to_bool, "boolean"),
        Column("has_need", "是否有融资需求", "has_need", True, n.to_bool, "boolean"),
        Column(
            "need_amount",
            "需求金额（万元）",
            "need_amount",
            False,
            n.to_amount,
            "numeric",
            amount=True,
        ),
        Column("purpose", "资金用途", "purpose", False, n.choice(PURPOSES)),
        Column("guarantee", "可接受担保方式", "guarantee", False, multi_choice(GUARANTEES)),
        Column("intent", "融资意愿", "intent", False, n.choice(INTENTS)),
        Column("problems", "需协调问题", "problems", False, multi_choice(PROBLEMS)),
        Column("note", "备注", "note", False, n.plain_text(2000)),
    ],
    key=("uscc", "visited_on", "round"),
    references=(UNKNOWN_BANK,),
    row_check=check_visits,
    resolve=resolve_visits,
    apply=apply_visits,
    after_apply=follow_through,
)


# --- recommendations ------------------------------------------------------------------------


def check_recommendations(run, values):
    yield from reject_positive(values, "need_amount", run)


def resolve_recommendations(run):
    run.resolve_enterprise()
    run.started_writing = timezone.now()


def recommendation_history(run):
    _record_history(run, Recommendation, f"{_enterprise_name()} || ' → ' || t.bank_id")


RECOMMENDATIONS = KindSpec(
    ImportKind.RECOMMENDATIONS,
    [
        USCC,
        Column("bank_code", "推荐银行机构代码", "bank_code", True, n.max_length(40)),
        Column("recommended_on", "推荐日期", "recommended_on", True, n.to_date, "date"),
        Column("batch_no", "推荐批次", "batch_no", False, n.plain_text(64)),
        Column(
            "need_amount",
            "需求金额（万元）",
            "need_amount",
            False,
            n.to_amount,
            "numeric",
            amount=True,
        ),
    ],
    key=("uscc", "bank_code", "recommended_on"),
    references=(UNKNOWN_BANK,),
    row_check=check_recommendations,
    resolve=resolve_recommendations,
    # Imported recommendations passed their checks elsewhere (the provincial platform): no
    # application-list entry, no five-standards review; recommended_on is the KPI date.
    upsert=Upsert(
        "visits.Recommendation",
        ("enterprise_id", "bank_id", "recommended_on"),
        (
            ("enterprise_id", "s.enterprise_id"),
            ("bank_id", "s.bank_code"),
            ("recommended_on", "s.recommended_on"),
            ("batch_no", "COALESCE(s.batch_no, '')"),
            ("need_amount", "s.need_amount"),
            ("created_at", "%(now)s"),
            ("batch_id", "%(batch)s"),
        ),
        compare_present=(("batch_no", "batch_no"), ("need_amount", "need_amount")),
    ),
    after_apply=recommendation_history,
)


def register_kinds():
    register(VISITS)
    register(RECOMMENDATIONS)
