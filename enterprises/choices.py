from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County / district")
    TOWNSHIP = "township", _("Township / street")


# How many leading digits of a code a region of each level fixes.
REGION_PREFIX_LENGTH = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
}


class EntityType(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    INDIVIDUAL = "individual", _("Individual business")
    COOPERATIVE = "cooperative", _("Farmers' cooperative")
    OTHER = "other", _("Other")


# USCC digits 1-2 (登记管理部门 + 机构类别) → entity type, per GB 32100-2015.
ENTITY_TYPE_BY_USCC_PREFIX = {
    "91": EntityType.ENTERPRISE,
    "92": EntityType.INDIVIDUAL,
    "93": EntityType.COOPERATIVE,
}


class RegistrationStatus(models.TextChoices):
    SURVIVING = "surviving", _("Surviving")  # 存续
    OPERATING = "operating", _("Operating")  # 在业
    SUSPENDED = "suspended", _("Suspended")  # 停业
    REVOKED = "revoked", _("Licence revoked")  # 吊销
    CANCELLED = "cancelled", _("Deregistered")  # 注销
    MOVED_OUT = "moved_out", _("Moved out")  # 迁出


IN_OPERATION_STATUSES = (RegistrationStatus.SURVIVING, RegistrationStatus.OPERATING)


class EnterpriseSize(models.TextChoices):
    LARGE = "large", _("Large")
    MEDIUM = "medium", _("Medium")
    SMALL = "small", _("Small")
    MICRO = "micro", _("Micro")


class IndustrySection(models.TextChoices):
    """GB/T 4754-2017 门类: the first letter of an industry code."""

    A = "A", _("Agriculture, forestry, animal husbandry and fishery")
    B = "B", _("Mining")
    C = "C", _("Manufacturing")
    D = "D", _("Electricity, heat, gas and water production and supply")
    E = "E", _("Construction")
    F = "F", _("Wholesale and retail trade")
    G = "G", _("Transport, storage and postal services")
    H = "H", _("Accommodation and catering")
    I = "I", _("Information transmission, software and information technology services")  # noqa: E741
    J = "J", _("Finance")
    K = "K", _("Real estate")
    L = "L", _("Leasing and business services")
    M = "M", _("Scientific research and technical services")
    N = "N", _("Water conservancy, environment and public facilities management")
    O = "O", _("Resident services, repair and other services")  # noqa: E741
    P = "P", _("Education")
    Q = "Q", _("Health and social work")
    R = "R", _("Culture, sports and entertainment")
    S = "S", _("Public administration, social security and social organisations")
    T = "T", _("International organisations")


class TaxCreditRating(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    M = "M", "M"
    C = "C", "C"
    D = "D", "D"


class NegativeListType(models.TextChoices):
    DISHONEST_DEBTOR = "dishonest_debtor", _("Dishonest judgment debtor")  # 失信被执行人
    ABNORMAL_OPERATION = "abnormal_operation", _("Abnormal operation list")  # 经营异常名录
    SERIOUS_VIOLATION = "serious_violation", _("Serious illegal and dishonest list")  # 严重违法失信
    ZOMBIE = "zombie", _("Zombie enterprise")  # 僵尸企业
    SHELL = "shell", _("Shell enterprise")  # 空壳企业
    OTHER = "other", _("Other")


class ImportKind(models.TextChoices):
    REGISTRY = "registry", _("Market-regulation register")
    CENSUS = "census", _("Economic census active list")
    TAX = "tax", _("Tax credit and tax data")
    CREDIT = "credit", _("Bank credit and loan balances")
    NEGATIVE = "negative", _("Negative lists")
    LOANS = "loans", _("Bank loan ledger")
    BANKS = "banks", _("Banks and branches")
    FEEDBACK = "feedback", _("Bank feedback")  # 银行反馈 (declared in banks/imports.py)


class RejectionReason(models.TextChoices):
    """Why a batch was rejected: it decides what the batch page offers next."""

    FILE = "file", _("The file cannot be read")
    DUPLICATE = "duplicate", _("Already imported")
    TOO_MANY_ERRORS = "too_many_errors", _("Too many rows with errors")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DRY_RUN = "dry_run", _("Dry run")
    RUNNING = "running", _("Running")
    APPLIED = "applied", _("Applied")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")
