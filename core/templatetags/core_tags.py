from datetime import timedelta
from decimal import Decimal

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

register = template.Library()

# Every count key a job or a screening run reports → its label. A job's own labels (given
# to job_handler) come first; these cover the rest, and the run badges.
COUNT_LABELS = {
    # Imports.
    "read": gettext_lazy("Rows read"),
    "created": gettext_lazy("Created"),
    "updated": gettext_lazy("Updated"),
    "unchanged": gettext_lazy("Unchanged"),
    "errors": gettext_lazy("Rows with errors"),
    "skipped": gettext_lazy("Rows skipped"),
    # Screening.
    "counties": gettext_lazy("Counties"),
    "runs": gettext_lazy("Runs finished"),
    "registered": gettext_lazy("Registered entities"),
    "active": gettext_lazy("Active entities"),
    "no_loan": gettext_lazy("No-loan entities"),
    "has_loan": gettext_lazy("Has-loan entities"),
    "first_loan": gettext_lazy("First-loan entities"),
    "key_visit": gettext_lazy("Key visit list"),
    "reserve": gettext_lazy("First-loan reserve pool"),
    "excluded_active": gettext_lazy("Registered but not active"),
    "excluded_key_visit": gettext_lazy("Active but below the key-visit threshold"),
    "entered": gettext_lazy("Entered a list"),
    "left": gettext_lazy("Left a list"),
    # Dashboards and the self-check.
    "refreshed": gettext_lazy("Dashboard figures recomputed"),
    "warmed": gettext_lazy("Default dashboards prepared"),
    "steps": gettext_lazy("Steps"),
}

# Job parameters → label; values are shown by _param_value.
PARAM_LABELS = {
    "batch": gettext_lazy("Import batch"),
    "dry_run": gettext_lazy("Dry run"),
    "force": gettext_lazy("Import the same file again"),
    "skip_bad_rows": gettext_lazy("Skip the rows with errors"),
    "fan_out": gettext_lazy("One task per county"),
    "trigger": gettext_lazy("Started by"),
    "steps": gettext_lazy("Steps"),
}
TRIGGERS = {
    "cli": gettext_lazy("the command line"),
    "nightly": gettext_lazy("the nightly schedule"),
    "demo": gettext_lazy("the demo data load"),
    "import": gettext_lazy("an import"),
    "screening": gettext_lazy("a list rebuild"),
}


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


@register.filter
def wan_yi(value):
    """An amount in 万元 with its unit, as readers expect: 亿元 from 10,000 万元 up
    ("1,234.50 万元", "12.35 亿元"); "—" when empty."""
    if value is None or value == "":
        return "—"
    value = Decimal(value)
    if abs(value) >= 10000:
        return _("%(amount)s 100M yuan") % {"amount": f"{value / 10000:,.2f}"}
    return _("%(amount)s 10k yuan") % {"amount": f"{value:,.2f}"}


@register.filter
def count_label(key):
    """The label of a count key ("excluded_active" → "Registered but not active")."""
    return str(COUNT_LABELS.get(key, key))


@register.filter
def job_counts(job):
    """[(label, value)] of a job's counts: the job's own labels, else COUNT_LABELS."""
    rows = []
    for key, (label, value) in zip(job.counts or {}, job.labelled_counts, strict=True):
        if str(label) == key:
            label = count_label(key)
        rows.append((label, f"{value:,}" if isinstance(value, int) else value))
    return rows


@register.filter
def duration(value):
    """A timedelta for people: "9.9 s", "2 min 5 s", "1 h 3 min" (Chinese: 秒, 分, 小时)."""
    if value is None or value == "":
        return "—"
    if not isinstance(value, timedelta):
        value = timedelta(seconds=float(value))
    seconds = value.total_seconds()
    if seconds < 60:
        return _("{s} s").format(s=number_format(round(seconds, 1), decimal_pos=1))
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return _("{m} min {s} s").format(m=minutes, s=secs)
    hours, minutes = divmod(minutes, 60)
    return _("{h} h {m} min").format(h=hours, m=minutes)


# What a "batch" parameter names, by job kind (URL names: core imports none of the apps).
BATCH_PARAMS = {
    "import": (gettext_lazy("Import batch"), "enterprises:import_detail"),
    "import.dry_run": (gettext_lazy("Import batch"), "enterprises:import_detail"),
    "banks.allocate": (gettext_lazy("Visit batch"), "banks:batch_detail"),
}


def _param_value(key, value, kind=None):
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if key == "trigger":
        return str(TRIGGERS.get(value, value))
    if key == "batch" and value:
        url_name = BATCH_PARAMS.get(kind, (None, None))[1]
        try:
            return f"#{value}", reverse(url_name, args=[value]) if url_name else None
        except NoReverseMatch:
            return f"#{value}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "—" if value in (None, "") else str(value)


@register.filter
def job_params(job):
    """[(label, text, link or None)] of a job's parameters, never a Python dict."""
    rows = []
    for key, value in (job.params or {}).items():
        shown = _param_value(key, value, job.kind)
        text, link = shown if isinstance(shown, tuple) else (shown, None)
        label = BATCH_PARAMS[job.kind][0] if key == "batch" and job.kind in BATCH_PARAMS else None
        rows.append((str(label or PARAM_LABELS.get(key, key)), text, link))
    return rows
