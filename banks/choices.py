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
