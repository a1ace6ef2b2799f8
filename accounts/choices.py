from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    TASK_FORCE = "task_force", _("Task-force staff")
    TOWNSHIP_WORKER = "township_worker", _("Township worker")
    BANK_OFFICER = "bank_officer", _("Bank officer")
    REGULATOR = "regulator", _("Regulator")
    PARTNER = "partner", _("Partner system")
    ADMIN = "admin", _("Administrator")


class Action(models.TextChoices):
    VIEW = "view", _("View")
    CHANGE = "change", _("Change")
    IMPORT = "import", _("Import data")
    SCREEN = "screen", _("Run screening")
    ALLOCATE = "allocate", _("Allocate banks")
    VISIT = "visit", _("Log visits")
    REPORT = "report", _("Report credit and loans")
    EXPORT = "export", _("Export")
    PERSONAL_DATA = "personal_data", _("See personal data")


# What each role may do, inside its scope. Partners get what their token's scopes list.
ROLE_ACTIONS = {
    Role.TASK_FORCE: {
        "view",
        "change",
        "import",
        "screen",
        "allocate",
        "visit",
        "export",
        "personal_data",
    },
    Role.TOWNSHIP_WORKER: {"view", "visit", "export", "personal_data"},
    Role.BANK_OFFICER: {"view", "visit", "report", "export", "personal_data"},
    Role.REGULATOR: {"view", "export"},
    Role.PARTNER: set(),
    Role.ADMIN: set(Action.values),
}
