"""``{% history_for obj %}``: the change history of one record, for any record page."""

from django import template

from core.history import HISTORY_PAGE_SIZE, annotate, entries_for

register = template.Library()


@register.inclusion_tag("core/_history.html", takes_context=True)
def history_for(context, obj, limit=HISTORY_PAGE_SIZE):
    request = context.get("request")
    user = getattr(request, "user", None)
    entries = annotate(entries_for(obj)[:limit])
    return {
        "entries": entries,
        # Addresses and tokens are for administrators; everyone who sees the record sees
        # who changed what and when.
        "show_origin": bool(user and user.is_authenticated and user.scope.everything),
        "limit": limit,
    }
