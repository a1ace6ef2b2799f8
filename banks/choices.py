from django.db import models
from django.utils.translation import gettext_lazy as _


class BankLevel(models.TextChoices):
    LEGAL_PERSON = "legal_person", _("Legal-person institution")  # 法人机构
    BRANCH = "branch", _("Branch")  # 分行
    SUB_BRANCH = "sub_branch", _("Sub-branch")  # 支行
    OUTLET = "outlet", _("Outlet")  # 网点


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead bank")  # 主办行
    BACKUP = "backup", _("Backup bank")  # 备选行


class FocusArea(models.TextChoices):
    INCLUSIVE = "inclusive", _("Inclusive finance")  # 普惠
    FOREIGN_TRADE = "foreign_trade", _("Foreign trade")  # 外贸
    AGRICULTURE = "agriculture", _("Agriculture")  # 涉农
    TECHNOLOGY = "technology", _("Science and technology")  # 科创
    MANUFACTURING = "manufacturing", _("Manufacturing")  # 制造业


class AssignmentStatus(models.TextChoices):
    """Where an assigned bank stands with the enterprise (its first feedback and after)."""

    PENDING = "pending", _("Awaiting contact")  # 待联系
    CONTACTED = "contacted", _("Contacted")  # 已联系
    ACCEPTED = "accepted", _("Application accepted")  # 已受理
    CREDITED = "credited", _("Credit granted")  # 已授信
    DECLINED = "declined", _("Credit declined")  # 不予授信
    NEEDS_COORDINATION = "needs_coordination", _("Needs coordination")  # 需协调
    NO_NEED = "no_need", _("No financing need for now")  # 企业暂无需求
    HANDED_OFF = "handed_off", _("Handed to the backup bank")  # 已移交备选行
    WAITING = "waiting", _("Standing by as backup")  # 备选待命


class UnplacedReason(models.TextChoices):
    NO_SERVING_BANK = "no_serving_bank", _("No bank branch serves its location")
    NO_SECOND_INSTITUTION = (
        "no_second_institution",
        _("Only one institution serves its location: no backup bank of another institution"),
    )
    NO_CAPACITY = "no_capacity", _("Every serving branch is at its capacity")


class FeedbackStatus(models.TextChoices):
    """What a bank may answer about an enterprise it was assigned (its feedback)."""

    CONTACTED = AssignmentStatus.CONTACTED.value, AssignmentStatus.CONTACTED.label
    ACCEPTED = AssignmentStatus.ACCEPTED.value, AssignmentStatus.ACCEPTED.label
    CREDITED = AssignmentStatus.CREDITED.value, AssignmentStatus.CREDITED.label
    DECLINED = AssignmentStatus.DECLINED.value, AssignmentStatus.DECLINED.label
    NEEDS_COORDINATION = (
        AssignmentStatus.NEEDS_COORDINATION.value,
        AssignmentStatus.NEEDS_COORDINATION.label,
    )
    NO_NEED = AssignmentStatus.NO_NEED.value, AssignmentStatus.NO_NEED.label


class HandOffCause(models.TextChoices):
    DEADLINE = "deadline", _("No feedback in time")  # 超时未反馈
    DECLINED = "declined", _("Credit declined")  # 不予授信


class DeclineReason(models.TextChoices):
    """Why a bank declined credit (不予授信原因, import-formats.md ``feedback``)."""

    NOT_ELIGIBLE = "not_eligible", _("Does not meet the entry criteria")  # 不符合准入条件
    POOR_CREDIT = "poor_credit", _("Poor credit record")  # 信用记录不良
    POOR_OPERATION = "poor_operation", _("Poor business condition")  # 经营状况不佳
    INSUFFICIENT_COLLATERAL = "insufficient_collateral", _("Insufficient guarantee")  # 担保不足
    WITHDRAWN = "withdrawn", _("The enterprise gave up")  # 企业放弃
    OTHER = "other", _("Other")  # 其他


class CreditProduct(models.TextChoices):
    """The product a bank granted credit for (已授信).

    The same codes as ``loans.choices.LoanProduct``: banks sits below loans and may not import
    it, so the list is copied here; tests/banks/test_feedback_fields.py fails when they drift.
    """

    WORKING_CAPITAL = "working_capital", _("Working-capital loan")  # 流动资金贷款
    FIXED_ASSET = "fixed_asset", _("Fixed-asset loan")  # 固定资产贷款
    ACCEPTANCE_BILL = "acceptance_bill", _("Bank acceptance bill")  # 银行承兑汇票
    GUARANTEE_LETTER = "guarantee_letter", _("Letter of guarantee")  # 保函
    OTHER = "other", _("Other")
