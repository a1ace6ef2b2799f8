"""The import kinds of the enterprises app's own tables: register, census, tax, negative lists.

Declared here and registered from EnterprisesConfig.ready() (see importing/specs.py).
"""

from django.utils.translation import gettext_lazy as _

from .choices import (
    EnterpriseSize,
    EntityType,
    ImportKind,
    NegativeListType,
    RegistrationStatus,
)
from .importing import normalise as n
from .importing.specs import USCC, Column, KindSpec, Upsert, register
from .models import Region

ENTITY_TYPES = {
    "企业": EntityType.ENTERPRISE,
    "个体工商户": EntityType.INDIVIDUAL,
    "农民专业合作社": EntityType.COOPERATIVE,
    "其他": EntityType.OTHER,
}
STATUSES = {
    "存续": RegistrationStatus.SURVIVING,
    "在业": RegistrationStatus.OPERATING,
    "停业": RegistrationStatus.SUSPENDED,
    "吊销": RegistrationStatus.REVOKED,
    "注销": RegistrationStatus.CANCELLED,
    "迁出": RegistrationStatus.MOVED_OUT,
}
SIZES = {
    "大型": EnterpriseSize.LARGE,
    "中型": EnterpriseSize.MEDIUM,
    "小型": EnterpriseSize.SMALL,
    "微型": EnterpriseSize.MICRO,
}
LIST_TYPES = {
    "失信被执行人": NegativeListType.DISHONEST_DEBTOR,
    "经营异常名录": NegativeListType.ABNORMAL_OPERATION,
    "严重违法失信": NegativeListType.SERIOUS_VIOLATION,
    "僵尸企业": NegativeListType.ZOMBIE,
    "空壳企业": NegativeListType.SHELL,
    "其他": NegativeListType.OTHER,
}
RATINGS = {r: r for r in "ABMCD"}


# --- Register (市场监管登记) -------------------------------------------------------------------


def check_registry(run, values):
    code = values["region_code"]
    if code is None:
        pass
    elif code not in run.region_codes():
        yield "region_code", _("Unknown region code."), code
    elif run.region_prefix is not None and not code.startswith(run.region_prefix):
        yield "region_code", _("Outside your region."), code
    if values["entity_type"] is None and values["uscc"] is not None:
        values["entity_type"] = n.entity_type_from_uscc(values["uscc"])


def sql_check_registry(run, errors):
    """check_registry over the staged rows (fast path); appends to ``errors``."""
    stage = run.STAGE
    column = run.column_header("region_code")
    region = Region._meta.db_table
    failing = run.sql(
        f"SELECT row_no, region_code FROM {stage} s WHERE NOT EXISTS "
        f"(SELECT 1 FROM {region} r WHERE r.code = s.region_code)"
    )
    errors += [(row, column, code, _("Unknown region code.")) for row, code in failing]
    if run.region_prefix is not None:
        outside = run.sql(
            f"SELECT row_no, region_code FROM {stage} s WHERE s.region_code NOT LIKE %s "
            f"AND EXISTS (SELECT 1 FROM {region} r WHERE r.code = s.region_code)",
            (run.region_prefix + "%",),
        )
        errors += [(row, column, code, _("Outside your region.")) for row, code in outside]
        failing += outside
    if failing:
        run.sql(f"DELETE FROM {stage} WHERE row_no = ANY(%s)", ([r for r, _c in failing],))


def resolve_registry(run):
    if run.region_prefix is not None:
        # Nobody moves an enterprise out of someone else's region by re-registering it.
        run.reject_rows(
            "EXISTS (SELECT 1 FROM enterprises_enterprise e WHERE e.uscc = s.uscc "
            "AND e.region_id NOT LIKE %s)",
            run.column_header("uscc"),
            "s.uscc",
            _("The enterprise is registered outside your region."),
            (run.region_prefix + "%",),
        )


REGISTRY_OPTIONAL = {
    "legal_rep": "COALESCE(s.legal_rep, '')",
    "phone": "COALESCE(s.phone, '')",
    "registered_capital": "s.registered_capital",
    "industry_code": "COALESCE(s.industry_code, '')",
    "address": "COALESCE(s.address, '')",
    "employees": "s.employees",
    "size": "COALESCE(s.size, '')",
}


def apply_registry(run):
    stage = run.STAGE
    columns = [
        ("uscc", "s.uscc"),
        ("name", "s.name"),
        ("entity_type", "s.entity_type"),
        ("established_on", "s.established_on"),
        ("status", "s.status"),
        ("region_id", "s.region_code"),
        *REGISTRY_OPTIONAL.items(),
        ("batch_id", "%(batch)s"),
        ("created_at", "%(now)s"),
        ("updated_at", "%(now)s"),
    ]
    compare = ["name", "entity_type", "established_on", "status", "region_id"]
    compare += [c for c in REGISTRY_OPTIONAL if c in run.present_fields]
    checked = {
        "region_id": "SELECT 1 FROM enterprises_region WHERE code IN "
        f"(SELECT DISTINCT region_code FROM {stage})",
        "batch_id": "SELECT 1 FROM enterprises_importbatch WHERE id = %(batch)s",
    }
    # A first load is sorted by USCC; byte order (COLLATE "C") sorts a million rows ~0.4 s
    # faster than the database collation and is the same order for these ASCII codes.
    with run.without_fk_triggers("enterprises_enterprise", checked):
        return run.upsert(
            "enterprises_enterprise", ["uscc"], columns, compare, order='s.uscc COLLATE "C"'
        )


def touched_registry(run):
    return [code for (code,) in run.sql(f"SELECT DISTINCT region_code FROM {run.STAGE}")]


REGISTRY = KindSpec(
    ImportKind.REGISTRY,
    [
        USCC,
        Column("name", "主体名称", "name", True, n.max_length(200)),
        Column("entity_type", "主体类型", "entity_type", False, n.choice(ENTITY_TYPES)),
        Column("legal_rep", "法定代表人", "legal_rep", False, n.max_length(100)),
        Column("phone", "联系电话", "phone", False, n.max_length(50)),
        Column("established_on", "成立日期", "established_on", True, n.to_date, "date"),
        Column(
            "registered_capital",
            "注册资本（万元）",
            "registered_capital",
            False,
            n.to_non_negative_amount,
            "numeric",
            amount=True,
        ),
        Column("status", "登记状态", "status", True, n.choice(STATUSES)),
        Column("industry_code", "行业代码", "industry_code", False, n.industry_code),
        Column("region_code", "所在地区划代码", "region_code", True, n.region_code),
        Column("address", "经营地址", "address", False, n.max_length(300)),
        Column("employees", "从业人数", "employees", False, n.to_count, "integer"),
        Column("size", "企业规模", "size", False, n.choice(SIZES)),
    ],
    key=("uscc",),
    refers_to_enterprise=False,
    row_check=check_registry,
    sql_check=sql_check_registry,
    resolve=resolve_registry,
    apply=apply_registry,
    touched_regions=touched_registry,
)


# --- Census, tax, negative lists: records of a registered enterprise --------------------------


def resolve_census(run):
    run.resolve_enterprise()
    rows = run.sql(
        f"SELECT s.row_no, s.name FROM {run.STAGE} s JOIN enterprises_enterprise e "
        "ON e.id = s.enterprise_id WHERE s.name IS NOT NULL AND s.name <> e.name "
        "ORDER BY s.row_no"
    )
    for row_no, name in rows:
        run.error(
            row_no,
            run.column_header("name"),
            name,
            _("The name differs from the register (warning only)."),
            warning=True,
        )


def _resolve_enterprise(run):
    run.resolve_enterprise()


CENSUS = KindSpec(
    ImportKind.CENSUS,
    [
        USCC,
        Column("name", "主体名称", "name", False, n.max_length(200)),
        Column("census_year", "普查年度", "census_year", True, n.to_year, "integer"),
        Column("is_active", "是否活跃", "is_active", False, n.to_bool, "boolean"),
        Column(
            "revenue", "营业收入（万元）", "revenue", False, n.to_amount, "numeric", amount=True
        ),
        Column("employees", "从业人数", "employees", False, n.to_count, "integer"),
    ],
    key=("uscc", "census_year"),
    resolve=resolve_census,
    upsert=Upsert(
        "enterprises.CensusRecord",
        ("enterprise_id", "census_year"),
        (
            ("enterprise_id", "s.enterprise_id"),
            ("census_year", "s.census_year"),
            ("is_active", "COALESCE(s.is_active, true)"),
            ("revenue", "s.revenue"),
            ("employees", "s.employees"),
            ("batch_id", "%(batch)s"),
        ),
        compare_present=(
            ("is_active", "is_active"),
            ("revenue", "revenue"),
            ("employees", "employees"),
        ),
    ),
)

TAX = KindSpec(
    ImportKind.TAX,
    [
        USCC,
        Column("tax_year", "纳税年度", "tax_year", True, n.to_year, "integer"),
        Column("credit_rating", "纳税信用等级", "credit_rating", True, n.choice(RATINGS)),
        Column(
            "tax_paid",
            "实缴税额（万元）",
            "tax_paid",
            False,
            n.to_amount,
            "numeric",
            amount=True,
        ),
        Column(
            "export_rebate",
            "出口退税额（万元）",
            "export_rebate",
            False,
            n.to_amount,
            "numeric",
            amount=True,
        ),
        Column(
            "taxable_sales",
            "应税销售收入（万元）",
            "taxable_sales",
            False,
            n.to_amount,
            "numeric",
            amount=True,
        ),
    ],
    key=("uscc", "tax_year"),
    resolve=_resolve_enterprise,
    upsert=Upsert(
        "enterprises.TaxRecord",
        ("enterprise_id", "tax_year"),
        (
            ("enterprise_id", "s.enterprise_id"),
            ("tax_year", "s.tax_year"),
            ("credit_rating", "s.credit_rating"),
            ("tax_paid", "s.tax_paid"),
            ("export_rebate", "s.export_rebate"),
            ("taxable_sales", "s.taxable_sales"),
            ("batch_id", "%(batch)s"),
        ),
        compare_present=(
            ("credit_rating", "credit_rating"),
            ("tax_paid", "tax_paid"),
            ("export_rebate", "export_rebate"),
            ("taxable_sales", "taxable_sales"),
        ),
    ),
)


def check_negative(run, values):
    removed, listed = values["removed_on"], values["listed_on"]
    if removed is not None and listed is not None and removed < listed:
        yield "removed_on", _("Removed before it was listed."), removed


NEGATIVE = KindSpec(
    ImportKind.NEGATIVE,
    [
        USCC,
        Column("list_type", "名单类型", "list_type", True, n.choice(LIST_TYPES)),
        Column("listed_on", "列入日期", "listed_on", True, n.to_date, "date"),
        Column("removed_on", "移出日期", "removed_on", False, n.to_date, "date"),
        Column("source", "来源部门", "source", False, n.max_length(100)),
        Column("note", "说明", "note", False, n.max_length(500)),
    ],
    key=("uscc", "list_type", "listed_on"),
    row_check=check_negative,
    resolve=_resolve_enterprise,
    upsert=Upsert(
        "enterprises.NegativeListEntry",
        ("enterprise_id", "list_type", "listed_on"),
        (
            ("enterprise_id", "s.enterprise_id"),
            ("list_type", "s.list_type"),
            ("listed_on", "s.listed_on"),
            ("removed_on", "s.removed_on"),
            ("source", "COALESCE(s.source, '')"),
            ("note", "COALESCE(s.note, '')"),
            ("batch_id", "%(batch)s"),
        ),
        compare_present=(("removed_on", "removed_on"), ("source", "source"), ("note", "note")),
    ),
)


def register_kinds():
    for spec in (REGISTRY, CENSUS, TAX, NEGATIVE):
        register(spec)
