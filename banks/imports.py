"""The import kinds of the banks app: the bank directory (institutions and branches) and the
banks' feedback on the enterprises assigned to them (``feedback``).

Declared here and registered from BanksConfig.ready() (see enterprises/importing/specs.py).
Who may change which bank (issue 10): county staff only branches serving their county, never
institutions or the branch tree; city staff and administrators everything in their region.
"""

from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from enterprises.choices import ImportKind
from enterprises.importing import normalise as n
from enterprises.importing.specs import (
    BANK_CODE,
    USCC,
    Column,
    KindSpec,
    Reference,
    Upsert,
    register,
)

from .choices import AssignmentStatus, BankLevel, DeclineReason, FeedbackStatus, FocusArea
from .models import Bank, BankAssignment, BankFeedback

BANKS = Bank._meta.db_table
REGIONS = Bank.service_regions.through._meta.db_table

BANK_LEVELS = {
    "法人机构": BankLevel.LEGAL_PERSON,
    "分行": BankLevel.BRANCH,
    "支行": BankLevel.SUB_BRANCH,
    "网点": BankLevel.OUTLET,
}
CITY_PREFIX_LENGTH = 4  # 3303: city-level staff may change institutions and the branch tree
BANK_TREE_MAX_DEPTH = 32
# Staged rows whose parent chain (staged parents first, then the stored ones) comes back to
# them: a cycle anywhere in the tree, not only a bank being its own parent.
# 服务重点 as the contract spells it; the stored value is the FocusArea code.
FOCUS_AREAS = {
    "普惠": FocusArea.INCLUSIVE,
    "外贸": FocusArea.FOREIGN_TRADE,
    "涉农": FocusArea.AGRICULTURE,
    "科创": FocusArea.TECHNOLOGY,
    "制造业": FocusArea.MANUFACTURING,
}
_FOCUS_LOOKUP = {**{k: v.value for k, v in FOCUS_AREAS.items()}, **{v: v for v in FocusArea.values}}


def to_focus_areas(value):
    """ "外贸；科创" → "foreign_trade;technology" (separated like service regions)."""
    text = n.clean_text(value)
    if text is None:
        return None
    codes = []
    for part in (
        text.replace("；", ";").replace(",", ";").replace("，", ";").replace("、", ";").split(";")
    ):
        part = part.strip()
        if not part:
            continue
        if part.lower() not in _FOCUS_LOOKUP:
            raise n.RowError(
                format_lazy(
                    _("Unknown focus area; use {allowed}."), allowed=" / ".join(FOCUS_AREAS)
                )
            )
        codes.append(_FOCUS_LOOKUP[part.lower()])
    return ";".join(dict.fromkeys(codes)) or None


_CYCLE_SQL = """
WITH RECURSIVE edges (code, parent) AS (
    SELECT bank_code, parent_code FROM {stage}
    UNION ALL
    SELECT code, parent_id FROM {banks}
    WHERE code NOT IN (SELECT bank_code FROM {stage})
),
walk (start, node, depth) AS (
    SELECT code, parent, 1 FROM edges
    WHERE parent IS NOT NULL AND code IN (SELECT bank_code FROM {stage})
    UNION ALL
    SELECT w.start, e.parent, w.depth + 1 FROM walk w JOIN edges e ON e.code = w.node
    WHERE w.node <> w.start AND e.parent IS NOT NULL AND w.depth < %(depth)s
)
SELECT o.row_no FROM {stage} o WHERE o.bank_code IN (SELECT start FROM walk WHERE node = start)
"""


def cycle_sql(run):
    return _CYCLE_SQL.format(stage=run.STAGE, banks=BANKS)


def check_banks(run, values):
    raw = values["service_regions"]
    if raw:
        codes = [
            c.strip()
            for c in raw.replace("；", ";").replace("，", ",").replace(",", ";").split(";")
        ]
        codes = [c for c in codes if c]
        unknown = [c for c in codes if c not in run.region_codes()]
        if unknown:
            yield "service_regions", _("Unknown region code."), ";".join(unknown)
        values["service_regions"] = ";".join(codes)
        if run.region_prefix is not None:
            outside = [c for c in codes if not c.startswith(run.region_prefix)]
            if outside:
                yield "service_regions", _("Outside your region."), ";".join(outside)
    elif "service_regions" in run.present_fields and limited_to_branches(run):
        yield (
            "service_regions",
            _("List the regions this branch serves (inside your region)."),
            raw,
        )
    if values["parent_code"] is not None and values["parent_code"] == values["bank_code"]:
        yield "parent_code", _("A bank cannot be its own parent."), values["parent_code"]


def limited_to_branches(run):
    """County (or township) staff: only branches serving their region, never the tree.

    Institutions (banks with no parent) and the branch tree are changed only by city-level
    staff (a region prefix of 4 digits or fewer), administrators and system imports.
    """
    return run.scope is not None and (
        run.region_prefix is None or len(run.region_prefix) > CITY_PREFIX_LENGTH
    )


def resolve_banks(run):
    run.reject_rows(
        "s.parent_code IS NOT NULL "
        f"AND NOT EXISTS (SELECT 1 FROM {BANKS} b WHERE b.code = s.parent_code) "
        f"AND NOT EXISTS (SELECT 1 FROM {run.STAGE} o WHERE o.bank_code = s.parent_code)",
        run.column_header("parent_code"),
        "s.parent_code",
        _("The parent institution is neither in the system nor in this file."),
    )
    if run.scope is not None:
        resolve_banks_scope(run)
    if "parent_code" in run.present_fields:
        run.reject_rows(
            f"s.row_no IN ({cycle_sql(run)})",
            run.column_header("parent_code"),
            "s.parent_code",
            _("This parent makes a cycle in the branch tree."),
            {"depth": BANK_TREE_MAX_DEPTH},
        )


def resolve_banks_scope(run):
    """Who may change which bank (issue 10): set-based over the staged rows."""
    code = run.column_header("bank_code")
    if run.region_prefix is None:
        run.reject_rows("true", code, "s.bank_code", _("You may not change the bank directory."))
        return
    # A branch serving any region outside the uploader's is not theirs to change.
    run.reject_rows(
        f"EXISTS (SELECT 1 FROM {REGIONS} t WHERE t.bank_id = s.bank_code "
        "AND t.region_id NOT LIKE %(prefix)s)",
        code,
        "s.bank_code",
        _("This bank also serves regions outside yours: you may not change it."),
        {"prefix": run.region_prefix + "%"},
    )
    if not limited_to_branches(run):
        return
    existing = f"EXISTS (SELECT 1 FROM {BANKS} b WHERE b.code = s.bank_code)"
    if "parent_code" in run.present_fields:
        institution = "s.parent_code IS NULL"
        run.reject_rows(
            f"s.parent_code IS NOT NULL AND {existing} AND NOT EXISTS (SELECT 1 FROM "
            f"{BANKS} b WHERE b.code = s.bank_code AND b.parent_id = s.parent_code)",
            run.column_header("parent_code"),
            "s.parent_code",
            _("Only city task-force staff or administrators change the branch tree."),
        )
    else:
        institution = (
            f"NOT {existing} OR EXISTS (SELECT 1 FROM {BANKS} b "
            "WHERE b.code = s.bank_code AND b.parent_id IS NULL)"
        )
    run.reject_rows(
        institution,
        code,
        "s.bank_code",
        _(
            "Only city task-force staff or administrators create or change institutions "
            "(banks with no parent)."
        ),
    )
    if "service_regions" not in run.present_fields:
        run.reject_rows(
            f"NOT EXISTS (SELECT 1 FROM {REGIONS} t WHERE t.bank_id = s.bank_code)",
            code,
            "s.bank_code",
            _("This bank serves no region of yours: you may not change it."),
        )


def after_apply(run):
    """The service regions and focus areas of the staged banks, replaced when the file has
    those columns (a banks file holds hundreds of rows, not millions)."""
    if "focus" in run.present_fields:
        for code, focus in run.sql(f"SELECT bank_code, focus FROM {run.STAGE}"):
            Bank.objects.filter(code=code).update(focus_areas=focus.split(";") if focus else [])
    if "service_regions" not in run.present_fields:
        return
    through = Bank.service_regions.through
    rows = run.sql(f"SELECT bank_code, service_regions FROM {run.STAGE}")
    through.objects.filter(bank_id__in=[code for code, _r in rows]).delete()
    through.objects.bulk_create(
        [
            through(bank_id=code, region_id=region)
            for code, regions in rows
            if regions
            for region in dict.fromkeys(regions.split(";"))
        ]
    )


def touched_regions(run):
    rows = run.sql(
        f"SELECT DISTINCT region_id FROM {REGIONS} WHERE bank_id IN "
        f"(SELECT bank_code FROM {run.STAGE})"
    )
    staged = run.sql(f"SELECT service_regions FROM {run.STAGE} WHERE service_regions <> ''")
    return [code for (code,) in rows] + [c for (text,) in staged for c in text.split(";")]


BANKS_SPEC = KindSpec(
    ImportKind.BANKS,
    [
        BANK_CODE,
        Column("name", "机构名称", "name", True, n.plain_text(200)),
        Column("parent_code", "上级机构代码", "parent_code", False, n.max_length(40)),
        Column("level", "机构层级", "level", False, n.choice(BANK_LEVELS)),
        Column("service_regions", "服务区域", "service_regions", False, n.clean_text),
        Column("capacity", "走访容量", "capacity", False, n.to_count, "integer"),
        Column("focus", "服务重点", "focus", False, to_focus_areas),
        # The branch's task-force contact: personal data, masked for roles that lack it.
        Column("contact", "联系人", "contact", False, n.plain_text(100)),
    ],
    key=("bank_code",),
    refers_to_enterprise=False,
    row_check=check_banks,
    resolve=resolve_banks,
    upsert=Upsert(
        "banks.Bank",
        ("code",),
        (
            ("code", "s.bank_code"),
            ("name", "s.name"),
            ("parent_id", "s.parent_code"),
            ("level", "COALESCE(s.level, '')"),
            ("capacity", "s.capacity"),
            ("contact", "COALESCE(s.contact, '')"),
            ("batch_id", "%(batch)s"),
        ),
        compare=("name",),
        compare_present=(
            ("parent_id", "parent_code"),
            ("level", "level"),
            ("capacity", "capacity"),
            ("contact", "contact"),
        ),
    ),
    after_apply=after_apply,
    touched_regions=touched_regions,
)


# --- feedback — 银行反馈 ------------------------------------------------------------------

ASSIGNMENTS = BankAssignment._meta.db_table
FEEDBACK = BankFeedback._meta.db_table
# 反馈结果 and 不予授信原因 as the contract spells them; the stored values are the codes.
RESULTS = {
    "已联系": FeedbackStatus.CONTACTED,
    "已受理": FeedbackStatus.ACCEPTED,
    "已授信": FeedbackStatus.CREDITED,
    "不予授信": FeedbackStatus.DECLINED,
    "需协调": FeedbackStatus.NEEDS_COORDINATION,
    "企业暂无需求": FeedbackStatus.NO_NEED,
}
DECLINE_REASONS = {
    "不符合准入条件": DeclineReason.NOT_ELIGIBLE,
    "信用记录不良": DeclineReason.POOR_CREDIT,
    "经营状况不佳": DeclineReason.POOR_OPERATION,
    "担保不足": DeclineReason.INSUFFICIENT_COLLATERAL,
    "企业放弃": DeclineReason.WITHDRAWN,
    "其他": DeclineReason.OTHER,
}
CLOSED_STATUSES = (AssignmentStatus.HANDED_OFF, AssignmentStatus.WAITING)
DECISIONS = (FeedbackStatus.CREDITED, FeedbackStatus.DECLINED)


def check_feedback(run, values):
    """The contract's rules: 不予授信 needs its reason, the reason 其他 needs a note."""
    result, reason = values["result"], values["decline_reason"]
    if result == FeedbackStatus.DECLINED and reason is None:
        yield "decline_reason", _("Required when the result is 不予授信."), reason
    if result is not None and result != FeedbackStatus.DECLINED and reason is not None:
        yield "decline_reason", _("Only a result of 不予授信 has a reason."), reason
    if reason == DeclineReason.OTHER and values["note"] is None:
        yield "note", _("Required when the reason is 其他: explain it."), values["note"]
    if values["feedback_on"] is not None and values["feedback_on"] > timezone.localdate():
        yield "feedback_on", _("The date cannot be in the future."), values["feedback_on"]


def _in_list(values):
    return ", ".join(f"'{v}'" for v in values)  # fixed codes of this module, never user input


def resolve_feedback(run):
    """Set-based: the enterprise, then the bank's assignment of it (the feedback attaches to
    it), then the answers already recorded under the same key."""
    run.resolve_enterprise()
    stage = run.STAGE
    run.sql(f"ALTER TABLE {stage} ADD COLUMN assignment_id bigint")
    run.sql(f"ALTER TABLE {stage} ADD COLUMN existing_id bigint")
    run.sql(
        f"UPDATE {stage} SET assignment_id = (SELECT min(a.id) FROM {ASSIGNMENTS} a "
        f"WHERE a.enterprise_id = {stage}.enterprise_id AND a.bank_id = {stage}.bank_code)"
    )
    run.reject_rows(
        "s.assignment_id IS NULL",
        run.column_header("bank_code"),
        "s.bank_code",
        _("This bank was not assigned this enterprise (neither lead nor backup bank)."),
    )
    run.sql(
        f"UPDATE {stage} SET existing_id = (SELECT min(f.id) FROM {FEEDBACK} f "
        f"WHERE f.assignment_id = {stage}.assignment_id AND f.feedback_on = {stage}.feedback_on "
        f"AND f.status = {stage}.result)"
    )
    # A new answer needs an open assignment; one already recorded may come again unchanged.
    run.reject_rows(
        f"s.existing_id IS NULL AND EXISTS (SELECT 1 FROM {ASSIGNMENTS} a "
        f"WHERE a.id = s.assignment_id AND a.status IN ({_in_list(CLOSED_STATUSES)}))",
        run.column_header("bank_code"),
        "s.bank_code",
        _(
            "This bank has no open assignment for this enterprise: it handed it to the "
            "backup bank, or stands by as backup."
        ),
    )


def apply_feedback(run):
    """Write the answers and set each assignment's status to its latest answer, as the
    feedback form does; a 不予授信 hands the enterprise to the backup bank (handoff.py).
    All set-based: a few statements whatever the file's size. Returns (created, updated)."""
    from .services.handoff import hand_off

    stage, batch = run.STAGE, run.batch.pk
    updated = run.sql(
        f"UPDATE {FEEDBACK} SET "
        f"reason = (SELECT COALESCE(s.note, '') FROM {stage} s WHERE s.existing_id = {FEEDBACK}.id), "
        f"decline_reason = (SELECT COALESCE(s.decline_reason, '') FROM {stage} s "
        f"WHERE s.existing_id = {FEEDBACK}.id), batch_id = %s "
        f"WHERE id IN (SELECT s.existing_id FROM {stage} s WHERE s.existing_id IS NOT NULL "
        f"AND (COALESCE(s.note, '') <> {FEEDBACK}.reason "
        f"OR COALESCE(s.decline_reason, '') <> {FEEDBACK}.decline_reason))",
        (batch,),
    )
    created = run.sql(
        f"INSERT INTO {FEEDBACK} (assignment_id, status, reason, decline_reason, credit_product, "
        "feedback_on, created_at, batch_id) "
        "SELECT s.assignment_id, s.result, COALESCE(s.note, ''), COALESCE(s.decline_reason, ''), "
        f"'', s.feedback_on, %s, %s FROM {stage} s WHERE s.existing_id IS NULL ORDER BY s.row_no",
        (timezone.now(), batch),
    )
    touched = f"SELECT assignment_id FROM {stage}"
    run.sql(
        f"UPDATE {ASSIGNMENTS} SET status = (SELECT f.status FROM {FEEDBACK} f "
        f"WHERE f.assignment_id = {ASSIGNMENTS}.id ORDER BY f.feedback_on DESC, f.id DESC "
        f"LIMIT 1) WHERE id IN ({touched}) AND status NOT IN ({_in_list(CLOSED_STATUSES)})"
    )
    # The first credit decision stops the decision clock (decided_on), as on the form.
    run.sql(
        f"UPDATE {ASSIGNMENTS} SET decided_on = (SELECT min(f.feedback_on) FROM {FEEDBACK} f "
        f"WHERE f.assignment_id = {ASSIGNMENTS}.id AND f.status IN ({_in_list(DECISIONS)})) "
        f"WHERE decided_on IS NULL AND id IN ({touched})"
    )
    declined = [
        pk
        for (pk,) in run.sql(
            f"SELECT DISTINCT a.enterprise_id FROM {ASSIGNMENTS} a WHERE a.id IN ({touched}) "
            f"AND a.status = '{FeedbackStatus.DECLINED}'"
        )
    ]
    if declined:
        hand_off(timezone.localdate(), enterprise_ids=declined)
    return created, updated


FEEDBACK_SPEC = KindSpec(
    ImportKind.FEEDBACK,
    [
        USCC,
        BANK_CODE,
        Column("feedback_on", "反馈日期", "feedback_on", True, n.to_date, "date"),
        Column("result", "反馈结果", "result", True, n.choice(RESULTS)),
        Column(
            "decline_reason", "不予授信原因", "decline_reason", False, n.choice(DECLINE_REASONS)
        ),
        Column("note", "说明", "note", False, n.plain_text(2000)),
    ],
    key=("uscc", "bank_code", "feedback_on", "result"),
    references=(Reference("bank_code", "banks.Bank", _("Unknown bank code.")),),
    row_check=check_feedback,
    resolve=resolve_feedback,
    apply=apply_feedback,
)


def register_kinds():
    register(BANKS_SPEC)
    register(FEEDBACK_SPEC)
