from django.db import models
from django.utils.translation import gettext_lazy as _


class VisitRound(models.TextChoices):
    FIRST = "first", _("First visit")  # 首次走访
    SECOND = "second", _("Second-round visit")  # 二次走访
    RETURN = "return", _("Return visit")  # 回访


class VisitMethod(models.TextChoices):
    ON_SITE = "on_site", _("On site")  # 上门
    PHONE = "phone", _("By phone")  # 电话
    ONLINE = "online", _("Online")  # 线上


class VisitStatus(models.TextChoices):
    COMPLETED = "completed", _("Completed")  # 已完成
    WITHDRAWN = "withdrawn", _("Withdrawn")  # 已撤回 (soft delete: kept in the history)


class NeedPurpose(models.TextChoices):
    WORKING_CAPITAL = "working_capital", _("Working capital")  # 流动资金
    EQUIPMENT = "equipment", _("Equipment purchase")  # 设备购置
    PLANT = "plant", _("Plant construction")  # 厂房建设
    UPGRADE = "upgrade", _("Technical upgrade")  # 技术改造
    OTHER = "other", _("Other")  # 其他


class Intent(models.TextChoices):
    STRONG = "strong", _("Strong")  # 强
    MODERATE = "moderate", _("Moderate")  # 一般
    NONE = "none", _("None for now")  # 暂无


class ProblemType(models.TextChoices):
    """Problems a visit finds that need coordination; each becomes a coordination item."""

    INSUFFICIENT_GUARANTEE = "guarantee", _("Insufficient guarantee")  # 担保不足
    INSUFFICIENT_COLLATERAL = "collateral", _("Insufficient collateral")  # 抵押物不足
    INTEREST_RATE = "rate", _("Interest rate")  # 利率
    PAPERWORK = "paperwork", _("Cumbersome procedures")  # 手续繁琐
    POLICY = "policy", _("Policy consultation")  # 政策咨询
    OTHER = "other", _("Other")  # 其他


class ItemStatus(models.TextChoices):
    OPEN = "open", _("Open")  # 待处理
    IN_PROGRESS = "in_progress", _("In progress")  # 处理中
    RESOLVED = "resolved", _("Resolved")  # 已解决


class ItemLevel(models.TextChoices):
    COUNTY = "county", _("County")  # 县级
    CITY = "city", _("City (escalated)")  # 市级（已上报）


class FiveStandard(models.TextChoices):
    """The five standards (五项标准) an enterprise must meet to be recommended to a bank."""

    COMPLIANT_OPERATION = (
        "compliant_operation",
        _("Compliant, continuing operation"),
    )  # 合规持续经营
    FIXED_PREMISES = "fixed_premises", _("Fixed place of business")  # 固定经营场所
    REAL_NEED = "real_need", _("Real financing need")  # 真实融资需求
    GOOD_CREDIT = "good_credit", _("Good credit standing")  # 信用状况良好
    LAWFUL_PURPOSE = "lawful_purpose", _("Lawful and compliant use of the loan")  # 贷款用途依法合规


class ApplicationStatus(models.TextChoices):
    """An entry of the application list (申报清单) on its way to the recommendation list."""

    PENDING = "pending", _("Awaiting the five-standards check")  # 待审核
    CHECKED = "checked", _("Checked, awaiting approval")  # 已初审，待复核
    APPROVED = "approved", _("Approved for recommendation")  # 已复核，纳入推荐清单
    REJECTED = "rejected", _("Does not meet the standards")  # 不符合标准


class DueReason(models.TextChoices):
    FOLLOW_UP = "follow_up", _("Follow-up of a visit")  # 跟进回访
    CAMPAIGN = "campaign", _("Second-round campaign")  # 二次走访活动


def guarantee_choices():
    """The guarantee choices (信用 / 保证 / 抵押 / 质押) of the loans app's ``Guarantee``.

    The loans app sits above visits (tests/test_architecture.py), so the choices are read from
    its model through the app registry instead of an import.
    """
    from django.apps import apps

    return apps.get_model("loans", "Loan")._meta.get_field("guarantee").choices
