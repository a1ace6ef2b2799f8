"""The columns of each import kind (see shared/spec/import-formats.md), and how to read them."""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from banks.choices import BankLevel
from loans.choices import Guarantee, LoanProduct

from ..choices import (
    EnterpriseSize,
    EntityType,
    ImportKind,
    NegativeListType,
    RegistrationStatus,
)
from . import normalise as n


@dataclass(frozen=True)
class Column:
    field: str  # staging column name
    cn: str  # canonical Chinese header
    alias: str
    required: bool
    convert: object
    sql_type: str = "text"  # text | date | numeric | integer | boolean
    amount: bool = False  # a 万元 amount: a header saying 元 divides by 10000

    def header_variants(self):
        """Normalised header → converter for this column."""
        variants = {n.normalise_header(self.cn): self.convert, self.alias.lower(): self.convert}
        if self.amount:
            base = n.normalise_header(self.cn).replace("(万元)", "")
            variants[base] = self.convert
            variants[base + "(元)"] = n.to_yuan_amount
            variants[self.alias.lower() + "_yuan"] = n.to_yuan_amount
        return variants


@dataclass
class KindSpec:
    kind: str
    columns: list
    key: tuple  # staging fields forming the kind's key (duplicate check)
    headers: dict = field(default_factory=dict)

    def __post_init__(self):
        for column in self.columns:
            for header, convert in column.header_variants().items():
                self.headers.setdefault(header, (column, convert))

    @property
    def required(self):
        return [c for c in self.columns if c.required]


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
PRODUCTS = {
    "流动资金贷款": LoanProduct.WORKING_CAPITAL,
    "固定资产贷款": LoanProduct.FIXED_ASSET,
    "银行承兑汇票": LoanProduct.ACCEPTANCE_BILL,
    "保函": LoanProduct.GUARANTEE_LETTER,
    "其他": LoanProduct.OTHER,
}
GUARANTEES = {
    "信用": Guarantee.CREDIT,
    "保证": Guarantee.SURETY,
    "抵押": Guarantee.MORTGAGE,
    "质押": Guarantee.PLEDGE,
}
BANK_LEVELS = {
    "法人机构": BankLevel.LEGAL_PERSON,
    "分行": BankLevel.BRANCH,
    "支行": BankLevel.SUB_BRANCH,
    "网点": BankLevel.OUTLET,
}
RATINGS = {r: r for r in "ABMCD"}


def _industry(value):
    text = n.clean_text(value)
    if text is None:
        return None
    text = text.upper()
    if not (
        (len(text) == 5 and text[0].isalpha() and text[1:].isdigit())
        or (len(text) in (2, 3, 4) and text.isdigit())
        or (len(text) == 1 and text.isalpha())
    ):
        raise n.RowError(_("Not a GB/T 4754 industry code (e.g. C3429 or 3429)."))
    return text


def _region_code(value):
    text = n.clean_text(value)
    if text is None:
        return None
    if not text.isdigit() or len(text) not in (6, 9, 12):
        raise n.RowError(_("A region code has 6, 9 or 12 digits."))
    return text[:9] if len(text) == 12 else text


def _code(value):
    text = n.clean_text(value)
    if text is not None and len(text) > 40:
        raise n.RowError(_("Too long (at most {n} characters).").format(n=40))
    return text


USCC = Column("uscc", "统一社会信用代码", "uscc", True, n.to_uscc)

SPECS = {
    ImportKind.REGISTRY: KindSpec(
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
            Column("industry_code", "行业代码", "industry_code", False, _industry),
            Column("region_code", "所在地区划代码", "region_code", True, _region_code),
            Column("address", "经营地址", "address", False, n.max_length(300)),
            Column("employees", "从业人数", "employees", False, n.to_count, "integer"),
            Column("size", "企业规模", "size", False, n.choice(SIZES)),
        ],
        key=("uscc",),
    ),
    ImportKind.CENSUS: KindSpec(
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
    ),
    ImportKind.TAX: KindSpec(
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
    ),
    ImportKind.CREDIT: KindSpec(
        ImportKind.CREDIT,
        [
            USCC,
            Column("bank_code", "银行机构代码", "bank_code", True, _code),
            Column("as_of", "数据日期", "as_of", True, n.to_date, "date"),
            Column(
                "credit_limit",
                "授信金额（万元）",
                "credit_limit",
                False,
                n.to_non_negative_amount,
                "numeric",
                amount=True,
            ),
            Column(
                "loan_balance",
                "贷款余额（万元）",
                "loan_balance",
                True,
                n.to_non_negative_amount,
                "numeric",
                amount=True,
            ),
            Column("first_loan_date", "首次贷款日期", "first_loan_date", False, n.to_date, "date"),
        ],
        key=("uscc", "bank_code", "as_of"),
    ),
    ImportKind.NEGATIVE: KindSpec(
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
    ),
    ImportKind.LOANS: KindSpec(
        ImportKind.LOANS,
        [
            USCC,
            Column("bank_code", "银行机构代码", "bank_code", True, _code),
            Column("loan_no", "借据号", "loan_no", True, n.max_length(64)),
            Column("disbursed_on", "放款日期", "disbursed_on", True, n.to_date, "date"),
            Column("matures_on", "到期日期", "matures_on", True, n.to_date, "date"),
            Column(
                "amount", "放款金额（万元）", "amount", True, n.to_amount, "numeric", amount=True
            ),
            Column(
                "balance",
                "贷款余额（万元）",
                "balance",
                False,
                n.to_non_negative_amount,
                "numeric",
                amount=True,
            ),
            Column("product", "产品类型", "product", True, n.choice(PRODUCTS)),
            Column("guarantee", "担保方式", "guarantee", True, n.choice(GUARANTEES)),
            Column("rate", "年利率（%）", "rate", False, n.to_decimal, "numeric"),
            Column("is_renewal", "是否无还本续贷", "is_renewal", False, n.to_bool, "boolean"),
            Column("renews_loan_no", "原借据号", "renews_loan_no", False, n.max_length(64)),
        ],
        key=("bank_code", "loan_no"),
    ),
    ImportKind.BANKS: KindSpec(
        ImportKind.BANKS,
        [
            Column("bank_code", "银行机构代码", "bank_code", True, _code),
            Column("name", "机构名称", "name", True, n.plain_text(200)),
            Column("parent_code", "上级机构代码", "parent_code", False, _code),
            Column("level", "机构层级", "level", False, n.choice(BANK_LEVELS)),
            Column("service_regions", "服务区域", "service_regions", False, n.clean_text),
            Column("capacity", "走访容量", "capacity", False, n.to_count, "integer"),
        ],
        key=("bank_code",),
    ),
}
