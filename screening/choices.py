from django.db import models
from django.utils.translation import gettext_lazy as _


class ListType(models.TextChoices):
    ACTIVE = "active", _("Active entities")  # 活跃经营主体
    NO_LOAN = "no_loan", _("No-loan entities")  # 无贷户
    HAS_LOAN = "has_loan", _("Has-loan entities")  # 有贷户
    FIRST_LOAN = "first_loan", _("First-loan entities")  # 首贷户
    KEY_VISIT = "key_visit", _("Key visit list")  # 重点走访对象清单
    RESERVE = "reserve", _("First-loan reserve pool")  # 首贷户储备库


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class ChangeKind(models.TextChoices):
    ENTERED = "entered", _("Entered")
    LEFT = "left", _("Left")


class Reason(models.TextChoices):
    """Why an enterprise is (inclusion codes) or is not (exclusion codes) on a list."""

    # Inclusion evidence.
    IN_OPERATION = "in_operation", _("Registered and in operation")
    CENSUS_ACTIVE = "census_active", _("Active in the latest economic census")
    TAX_PAID = "tax_paid", _("Paid tax in the two latest tax years")
    EXPORT_REBATE = "export_rebate", _("Tax paid plus export rebate above zero (foreign trade)")
    TAXABLE_SALES = "taxable_sales", _("Taxable sales in the two latest tax years")
    LOAN_RECORD = "loan_record", _("Loan recorded in the loan ledger")
    CREDIT_BALANCE = "credit_balance", _("Loan balance or first-loan date in bank credit data")
    NEVER_BORROWED = "never_borrowed", _("No loan in the ledger or in bank credit data")
    FIRST_LOAN_IN_PERIOD = "first_loan_in_period", _("First-ever loan disbursed in the period")
    PRIORITY_SCORE = "priority_score", _("Priority score from the rule set")
    FINANCING_NEED = "financing_need", _("Financing need found on a visit")
    ON_APPLICATION_LIST = "on_application_list", _("On the application list (申报清单)")
    # Exclusions.
    NOT_IN_OPERATION = "not_in_operation", _("Registration status is not in operation")
    NEG_DISHONEST_DEBTOR = "neg_dishonest_debtor", _("On the dishonest judgment debtor list")
    NEG_ABNORMAL_OPERATION = "neg_abnormal_operation", _("On the abnormal operation list")
    NEG_SERIOUS_VIOLATION = "neg_serious_violation", _("On the serious illegal and dishonest list")
    NEG_ZOMBIE = "neg_zombie", _("Classified as a zombie enterprise")
    NEG_SHELL = "neg_shell", _("Classified as a shell enterprise")
    NEG_OTHER = "neg_other", _("On another negative list")
    NO_CENSUS = "no_census", _("No active record in the latest economic census")
    NO_TAX = "no_tax", _("No tax paid and no taxable sales in the two latest tax years")
    NOT_ACTIVE = "not_active", _("Not on the active-entity list")
    HAS_LOAN = "has_loan", _("Has had a loan")
    NO_LOAN_RECORD = "no_loan_record", _("No loan in the ledger or in bank credit data")
    FIRST_LOAN_EARLIER = "first_loan_earlier", _("First loan was before the period")
    FIRST_LOAN_LATER = "first_loan_later", _("First loan was after the period")
    BELOW_THRESHOLD = "below_threshold", _("Priority score below the rule set's threshold")
    NO_NEED_SOURCE = "no_need_source", _("No financing need found on a visit")
    LEFT_REGION = "left_region", _("No longer registered in this region")


# Repair hints: what the enterprise (with the task force's help) can do to clear a reason.
REPAIR_HINTS = {
    Reason.NOT_IN_OPERATION: _(
        "If the enterprise is only suspended, ask it to resume business with market regulation."
    ),
    Reason.NEG_ABNORMAL_OPERATION: _(
        "File the missing annual report (or correct the registered address) with market "
        "regulation, then apply for removal from the abnormal operation list."
    ),
    Reason.NEG_DISHONEST_DEBTOR: _(
        "Fulfil the judgment or reach a settlement with the creditor, then apply to the court "
        "for removal from the dishonest debtor list."
    ),
    Reason.NEG_SERIOUS_VIOLATION: _(
        "After the listing period, correct the violation and apply for credit repair with "
        "market regulation."
    ),
    Reason.NO_CENSUS: _(
        "Report to the statistics bureau so the enterprise is recorded in the next census "
        "active list, or show operation through tax filings."
    ),
    Reason.NO_TAX: _(
        "File tax returns for actual business (taxable sales) with the tax bureau; foreign-trade "
        "firms should make sure export rebates are declared."
    ),
}

# Negative-list type (enterprises.choices.NegativeListType) → reason code.
NEGATIVE_REASON = {
    "dishonest_debtor": Reason.NEG_DISHONEST_DEBTOR,
    "abnormal_operation": Reason.NEG_ABNORMAL_OPERATION,
    "serious_violation": Reason.NEG_SERIOUS_VIOLATION,
    "zombie": Reason.NEG_ZOMBIE,
    "shell": Reason.NEG_SHELL,
    "other": Reason.NEG_OTHER,
}

# Obstacles a firm can clear itself; an enterprise with exactly one obstacle, and that one
# repairable, is "one fixable reason away" from the active list. Missing census and missing
# tax together are one obstacle (no evidence of operation): one tax filing clears both.
REPAIRABLE_OBSTACLES = {
    "not_in_operation_suspended",
    "neg_abnormal_operation",
    "neg_dishonest_debtor",
    "neg_serious_violation",
    "no_evidence",
}

# Number of lending banks, grouped as the task force reads it (授信银行家数).
BANK_COUNT_BANDS = [
    ("0", _("0 banks")),
    ("1", _("1 bank")),
    ("2-3", _("2–3 banks")),
    ("4+", _("4+ banks")),
]


def bank_band(count):
    if count <= 0:
        return "0"
    if count == 1:
        return "1"
    if count <= 3:
        return "2-3"
    return "4+"


def default_weights():
    return {
        "rating": {"A": 30, "B": 25, "M": 15, "C": 5, "D": 0, "": 10},
        "bank_band": {"0": 30, "1": 20, "2-3": 10, "4+": 0},
        "size": {"micro": 20, "small": 20, "medium": 10, "large": 0, "": 10},
        "entity_type": {"enterprise": 15, "individual": 10, "cooperative": 10, "other": 5},
    }
