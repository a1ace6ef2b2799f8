"""Screening records in words: rule sets, for the runs pages."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def rule_set_label(rule_set):
    """A rule set for people: "Version 1 (default)" or "Version 2 · 2026 weights"."""
    if rule_set is None or rule_set == "":
        return "—"
    if not rule_set.name or rule_set.name == "default":
        return _("Version {version} (default)").format(version=rule_set.version)
    return _("Version {version} · {name}").format(version=rule_set.version, name=rule_set.name)
