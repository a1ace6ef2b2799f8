from django.db import models
from django.utils.translation import gettext_lazy as _


class LoanProduct(models.TextChoices):
    WORKING_CAPITAL = "working_capital", _("Working-capital loan")  # 流动资金贷款
    FIXED_ASSET = "fixed_asset", _("Fixed-asset loan")  # 固定资产贷款
    ACCEPTANCE_BILL = "acceptance_bill", _("Bank acceptance bill")  # 银行承兑汇票
    GUARANTEE_LETTER = "guarantee_letter", _("Letter of guarantee")  # 保函
    OTHER = "other", _("Other")


class Guarantee(models.TextChoices):
    CREDIT = "credit", _("Credit (unsecured)")  # 信用
    SURETY = "surety", _("Surety")  # 保证
    MORTGAGE = "mortgage", _("Mortgage")  # 抵押
    PLEDGE = "pledge", _("Pledge")  # 质押


class Stage(models.TextChoices):
    """An enterprise's place on the path from no loan to partner client."""

    NO_LOAN = "no_loan", _("No-loan enterprise")  # 无贷户
    FIRST_LOAN = "first_loan", _("First-loan client")  # 首贷户
    # Its first loan with us was not its first loan ever (credit data show earlier loans).
    BORROWER = "borrower", _("Existing borrower")  # 有贷户
    PARTNER = "partner", _("Partner client")  # 伙伴客户


class ContactOutcome(models.TextChoices):
    RENEW = "renew", _("Renewal")  # 续贷
    REPAY = "repay", _("Normal repayment")  # 正常还款
    OTHER = "other", _("Other")  # 其他
