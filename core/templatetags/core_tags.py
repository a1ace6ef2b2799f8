from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (keeps filters across pages)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


@register.filter
def wan_yuan(value):
    """Format an amount in 万元 with thousands separators and two decimals."""
    if value is None or value == "":
        return "—"
    return f"{value:,.2f}"
