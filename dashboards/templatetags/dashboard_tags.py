from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

register = template.Library()

YI = Decimal("10000")  # 1 亿元 = 10 000 万元


@register.filter
def money(value):
    """An amount in 万元, shown in 亿元 from 1 亿 up: "1.23 亿元", "456.78 万元".

    For KPI cards only: a table column keeps one unit, in its header (``amount``)."""
    if value is None or value == "":
        return "—"
    value = Decimal(value)
    if abs(value) >= YI:
        return _("%(n)s 100M yuan") % {"n": f"{value / YI:,.2f}"}
    return _("%(n)s 10k yuan") % {"n": f"{value:,.2f}"}


@register.filter
def amount(value):
    """An amount in 万元 as a bare number for a table column whose header states the unit."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):,.2f}"


@register.filter
def percent(value):
    """A rate (fraction) as a percentage: 0.4224 → "42.24%"; null → "—"."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value) * 100:,.2f}%"


@register.filter
def count(value):
    if value is None or value == "":
        return "—"
    return f"{value:,}"


@register.filter
def days(value):
    """A number of days to one decimal: 24.3; null → "—"."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):,.1f}"
