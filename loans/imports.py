"""The import kinds of the loans app: bank credit snapshots and the loan ledger.

Declared here and registered from LoansConfig.ready() (see enterprises/importing/specs.py).
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.history import record_set_based
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

from .choices import Guarantee, LoanProduct
from .models import CreditApproval, Loan

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
UNKNOWN_BANK = Reference("bank_code", "banks.Bank", _("Unknown bank code."))


def _resolve_enterprise(run):
    run.resolve_enterprise()


CREDIT = KindSpec(
    ImportKind.CREDIT,
    [
        USCC,
        BANK_CODE,
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
    references=(UNKNOWN_BANK,),
    resolve=_resolve_enterprise,
    upsert=Upsert(
        "loans.CreditSnapshot",
        ("enterprise_id", "bank_id", "as_of"),
        (
            ("enterprise_id", "s.enterprise_id"),
            ("bank_id", "s.bank_code"),
            ("as_of", "s.as_of"),
            ("credit_limit", "s.credit_limit"),
            ("loan_balance", "s.loan_balance"),
            ("first_loan_date", "s.first_loan_date"),
            ("batch_id", "%(batch)s"),
        ),
        compare_present=(
            ("credit_limit", "credit_limit"),
            ("loan_balance", "loan_balance"),
            ("first_loan_date", "first_loan_date"),
        ),
    ),
)


def check_loans(run, values):
    if None not in (values["matures_on"], values["disbursed_on"]) and (
        values["matures_on"] <= values["disbursed_on"]
    ):
        yield "matures_on", _("Matures on or before its disbursement date."), values["matures_on"]
    if values["amount"] is not None and values["amount"] <= 0:
        yield "amount", _("The amount must be greater than 0."), values["amount"]
    if values["is_renewal"] is None:
        values["is_renewal"] = False


def resolve_loans(run):
    run.resolve_enterprise()
    run.reject_rows(
        "s.is_renewal AND s.renews_loan_no IS NOT NULL "
        f"AND NOT EXISTS (SELECT 1 FROM {Loan._meta.db_table} l WHERE l.bank_id = s.bank_code "
        "AND l.loan_no = s.renews_loan_no) "
        f"AND NOT EXISTS (SELECT 1 FROM {run.STAGE} o WHERE o.bank_code = s.bank_code "
        "AND o.loan_no = s.renews_loan_no)",
        run.column_header("renews_loan_no"),
        "s.renews_loan_no",
        _("The original loan is neither in the system nor in this file."),
    )


def link_renewals(run):
    table = Loan._meta.db_table
    run.sql(
        f"UPDATE {table} SET renews_id = (SELECT o.id FROM {table} o "
        f"WHERE o.bank_id = {table}.bank_id AND o.loan_no = {table}.renews_loan_no) "
        "WHERE batch_id = %s AND renews_loan_no <> ''",
        (run.batch.pk,),
    )


LOANS = KindSpec(
    ImportKind.LOANS,
    [
        USCC,
        BANK_CODE,
        Column("loan_no", "借据号", "loan_no", True, n.max_length(64)),
        Column("disbursed_on", "放款日期", "disbursed_on", True, n.to_date, "date"),
        Column("matures_on", "到期日期", "matures_on", True, n.to_date, "date"),
        Column("amount", "放款金额（万元）", "amount", True, n.to_amount, "numeric", amount=True),
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
    references=(UNKNOWN_BANK,),
    row_check=check_loans,
    resolve=resolve_loans,
    upsert=Upsert(
        "loans.Loan",
        ("bank_id", "loan_no"),
        (
            ("bank_id", "s.bank_code"),
            ("loan_no", "s.loan_no"),
            ("enterprise_id", "s.enterprise_id"),
            ("disbursed_on", "s.disbursed_on"),
            ("matures_on", "s.matures_on"),
            ("amount", "s.amount"),
            ("balance", "s.balance"),
            ("product", "s.product"),
            ("guarantee", "s.guarantee"),
            ("rate", "s.rate"),
            ("is_renewal", "COALESCE(s.is_renewal, false)"),
            ("renews_loan_no", "COALESCE(s.renews_loan_no, '')"),
            ("batch_id", "%(batch)s"),
        ),
        compare=("enterprise_id", "disbursed_on", "matures_on", "amount", "product", "guarantee"),
        compare_present=(
            ("balance", "balance"),
            ("rate", "rate"),
            ("is_renewal", "is_renewal"),
            ("renews_loan_no", "renews_loan_no"),
        ),
    ),
    after_apply=link_renewals,
)


def check_approvals(run, values):
    if values["amount"] is not None and values["amount"] <= 0:
        yield "amount", _("The amount must be greater than 0."), values["amount"]
    term = values["term_months"]
    if term is not None and not 1 <= term <= 360:
        yield "term_months", _("The term must be between 1 and 360 months."), term


def resolve_approvals(run):
    run.resolve_enterprise()
    run.started_writing = timezone.now()


def approval_history(run):
    """Credit approvals are coordination records: the rows this batch wrote get their entries."""
    record_set_based(
        CreditApproval,
        "t.batch_id = %s",
        (run.batch.pk,),
        created_since=run.started_writing,
        actor=run.batch.created_by,
        via="import",
        extra={"batch": run.batch.pk},
        repr_sql="t.bank_id || '/' || t.approval_no",
    )


APPROVALS = KindSpec(
    ImportKind.APPROVALS,
    [
        USCC,
        BANK_CODE,
        Column("approval_no", "授信编号", "approval_no", True, n.plain_text(64)),
        Column("approved_on", "审批日期", "approved_on", True, n.to_date, "date"),
        Column("amount", "授信金额（万元）", "amount", True, n.to_amount, "numeric", amount=True),
        Column("product", "产品类型", "product", False, n.choice(PRODUCTS)),
        Column("term_months", "授信期限（月）", "term_months", False, n.to_int, "integer"),
        Column("guarantee", "担保方式", "guarantee", False, n.choice(GUARANTEES)),
    ],
    key=("bank_code", "approval_no"),
    references=(UNKNOWN_BANK,),
    row_check=check_approvals,
    resolve=resolve_approvals,
    upsert=Upsert(
        "loans.CreditApproval",
        ("bank_id", "approval_no"),
        (
            ("bank_id", "s.bank_code"),
            ("approval_no", "s.approval_no"),
            ("enterprise_id", "s.enterprise_id"),
            ("approved_on", "s.approved_on"),
            ("amount", "s.amount"),
            ("product", "COALESCE(s.product, '')"),
            ("term_months", "s.term_months"),
            ("guarantee", "COALESCE(s.guarantee, '')"),
            ("created_at", "%(now)s"),
            ("updated_at", "%(now)s"),
            ("batch_id", "%(batch)s"),
        ),
        compare=("enterprise_id", "approved_on", "amount"),
        compare_present=(
            ("product", "product"),
            ("term_months", "term_months"),
            ("guarantee", "guarantee"),
        ),
    ),
    after_apply=approval_history,
)


def register_kinds():
    register(CREDIT)
    register(LOANS)
    register(APPROVALS)
