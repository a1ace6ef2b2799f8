"""One timeline on the enterprise page: everything that happened to an enterprise, newest first.

This app sits lowest, so it only keeps the registry; each app adds what it owns from its
``AppConfig.ready`` (``<app>/timeline.py``: screening's list changes, banks' assignments,
hand-offs and feedback, visits' visits, items and recommendations, loans' credit and loans).

A source is ``callable(enterprise, user, limit) -> list[Event]``. The rules every source keeps:

- it reads through ``Model.objects.restrict(user, "view")`` (a bank officer never sees another
  bank's rows; other banks' lending shows only as the page's "在其他银行有贷款" line), and
  masks people's names for users without the personal-data right (``person``);
- it runs one query whatever the number of rows (select_related, no per-row lookups), newest
  first, at most ``limit`` rows, so the page's query count does not grow with its history.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time

from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import EntityType, NegativeListType, RegistrationStatus
from .models import CensusRecord, ImportBatch, NegativeListEntry, TaxRecord
from .services.privacy import mask_name

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000  # "more" grows the page by DEFAULT_LIMIT up to this

SOURCES = {}
# Models of other apps whose rows carry the enterprise and the import batch that wrote them
# (loans: credit, loans, approvals): their batches join this app's import events, one query.
BATCH_ROWS = []


@dataclass(frozen=True)
class Event:
    """One thing that happened to an enterprise, as its reader may see it.

    ``when`` is a date (the day a visit, loan or listing happened) or an aware datetime (when a
    record was made); ``kind`` is the short label of the kind of event (走访, 贷款 …), ``icon`` a
    bootstrap-icons class, ``url`` a page about it (empty when there is none to open).

    ``render``, when set, returns the remaining fields ({"title": …, "detail": …, "url": …}):
    a source gives it instead of the text so that only the events shown are written out
    (a source reads up to ``limit`` rows; most of them sort below the page's cut).
    """

    when: date | datetime
    kind: str
    title: str = ""
    detail: str = ""
    url: str = ""
    icon: str = "bi-dot"
    source: str = ""
    render: Callable | None = field(default=None, compare=False, repr=False)

    def rendered(self):
        if self.render is None:
            return self
        return replace(self, render=None, **self.render())

    @property
    def moment(self):
        """``when`` as an aware datetime in the site's zone (a day counts from its midnight)."""
        if isinstance(self.when, datetime):
            return timezone.localtime(self.when)
        return datetime.combine(self.when, time.min, tzinfo=timezone.get_current_timezone())

    @property
    def day(self):
        return self.moment.date()

    @property
    def has_time(self):
        return isinstance(self.when, datetime)

    # Written here rather than with the template's date filter: a page shows up to a hundred
    # events, and the filter's localisation costs more than the rest of the row.
    @property
    def when_text(self):
        """ "2025-07-01 04:30" (a moment, in the site's zone) or "2025-07-01" (a day)."""
        return self.moment.strftime("%Y-%m-%d %H:%M" if self.has_time else "%Y-%m-%d")

    @property
    def when_iso(self):
        return self.moment.isoformat() if self.has_time else self.when.isoformat()


def register_source(name, source):
    """Add (or replace) the timeline source ``name``: ``source(enterprise, user, limit)``."""
    SOURCES[name] = source


def register_batch_rows(model):
    """Show the import batches of ``model``'s rows (``enterprise`` and ``batch`` foreign keys,
    a ``restrict`` manager) among the enterprise's imports."""
    if model not in BATCH_ROWS:
        BATCH_ROWS.append(model)


def clamp_limit(value):
    """A requested number of events, within 1…MAX_LIMIT (DEFAULT_LIMIT when unreadable)."""
    try:
        value = int(value)
    except (TypeError, ValueError):
        return DEFAULT_LIMIT
    return max(1, min(value, MAX_LIMIT))


def timeline(enterprise, user, limit=DEFAULT_LIMIT):
    """(events newest first, at most ``limit``; whether older ones exist) for ``user``.

    Each source is asked for one more row than needed: if together they hold more than
    ``limit`` events, there is more to show.
    """
    events = []
    for name, source in SOURCES.items():
        events.extend((event.moment, name, event) for event in source(enterprise, user, limit + 1))
    # Ties (same moment) keep a fixed order: by source name, then as the source gave them.
    events.sort(key=lambda item: item[:2], reverse=True)
    shown = [replace(event.rendered(), source=name) for _moment, name, event in events[:limit]]
    return shown, len(events) > limit


def link(name, *args):
    """The URL of ``name`` when that page exists (some land later), else ""."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def person(viewer, user=None, name=""):
    """A person's name (a user, or a name kept as text) as ``viewer`` may read it: masked like
    the legal representative for users without the personal-data right."""
    shown = (user.display_name if user is not None else "") or name or ""
    if not shown or viewer.scope.sees_personal_data:
        return shown
    return mask_name(shown)


def label(choices, value):
    """The label of ``value`` in ``choices`` (a TextChoices class); the value when unknown.
    Cheaper than ``get_FOO_display`` on rows, which the timeline formats by the hundred."""
    try:
        return choices(value).label
    except ValueError:
        return value


def join(*parts):
    """The non-empty parts of a detail line, separated by " · "."""
    return " · ".join(str(p) for p in parts if p not in (None, ""))


def amount(value):
    """An amount in 万元 as the timeline writes it ("120.00 万元"); "" when there is none."""
    if value is None:
        return ""
    return _("{amount} (10k yuan)").format(amount=f"{value:,.2f}")


def shorten(text, length=120):
    """Long notes cut to one line's worth (the record's page holds the rest)."""
    text = " ".join(str(text or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"


# --- This app's sources: the register, its imports, the negative lists -----------------------


def registered_events(enterprise, user, limit):
    """The day the enterprise was established (from the register; no query)."""
    return [
        Event(
            enterprise.established_on,
            _("Register"),
            _("Enterprise established"),
            join(
                label(EntityType, enterprise.entity_type),
                label(RegistrationStatus, enterprise.status),
            ),
            icon="bi-building",
        )
    ]


def import_events(enterprise, user, limit):
    """The import batches that wrote this enterprise's rows the user may read: register,
    census, tax, negative lists, and other apps' rows (``register_batch_rows``). One query;
    each row keeps the batch that wrote it last."""
    q = Q(pk=enterprise.batch_id) if enterprise.batch_id else Q(pk__in=[])
    for model in (CensusRecord, TaxRecord, NegativeListEntry, *BATCH_ROWS):
        rows = model.objects.restrict(user).filter(enterprise=enterprise, batch__isnull=False)
        q |= Q(pk__in=rows.values("batch_id"))
    batches = ImportBatch.objects.filter(q).order_by("-applied_at", "-created_at", "-pk")[:limit]
    can_import = user.scope.allows("import")
    return [
        Event(
            batch.applied_at or batch.created_at,
            _("Data import"),
            batch.get_kind_display(),
            join(batch.source_department, batch.file_name, f"#{batch.pk}"),
            url=link("enterprises:import_detail", batch.pk) if can_import else "",
            icon="bi-cloud-arrow-up",
        )
        for batch in batches
    ]


def negative_events(enterprise, user, limit):
    """Listings on and removals from negative lists (one query)."""
    entries = (
        NegativeListEntry.objects.restrict(user)
        .filter(enterprise=enterprise)
        .order_by("-listed_on", "-pk")[:limit]
    )
    events = []
    for entry in entries:
        events.append(
            Event(
                entry.listed_on,
                _("Negative list"),
                _("Put on the list: {list}").format(list=label(NegativeListType, entry.list_type)),
                join(entry.source, entry.note),
                icon="bi-exclamation-octagon",
            )
        )
        if entry.removed_on:
            events.append(
                Event(
                    entry.removed_on,
                    _("Negative list"),
                    _("Removed from the list: {list}").format(
                        list=label(NegativeListType, entry.list_type)
                    ),
                    entry.source,
                    icon="bi-check-circle",
                )
            )
    return events


def register_sources():
    register_source("registered", registered_events)
    register_source("imports", import_events)
    register_source("negative", negative_events)
