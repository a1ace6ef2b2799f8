"""Optimistic locking: two people editing the same record never overwrite each other silently.

A model mixes in ``Versioned``; a form or API request carries the version it was read at (a
hidden field, or the ``If-Match`` header against the ``ETag`` ``"<version>"``). The save goes
through ``save_if_unchanged(obj, expected_version)`` inside the write path::

    scoped_save(user, Action.VISIT, lambda: save_if_unchanged(visit, form.cleaned_data["version"]))

It locks the stored row, refuses with ``EditConflict`` when the version has moved on (saying
which fields the other person changed, and to what), and otherwise saves with version + 1.
"""

from datetime import datetime

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Versioned(models.Model):
    """A record edited by several people: ``version`` counts its saves (see core/locking.py)."""

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        abstract = True

    @property
    def etag(self):
        return f'"{self.version}"'


class EditConflict(Exception):
    """Someone else saved the record after it was read; nothing was saved.

    ``changes`` lists ``(field verbose name, their value, your value)`` for every field where the
    stored row differs from what this save would write; ``current`` is the stored row.
    """

    def __init__(self, current, changes):
        self.current = current
        self.changes = changes
        super().__init__(
            _("Someone else changed this record while you were editing it; nothing was saved.")
        )


def _display(obj, field):
    if field.choices:
        return getattr(obj, f"get_{field.name}_display")()
    value = getattr(obj, field.name)
    if isinstance(value, datetime):  # the reader's time, to the minute (no UTC repr)
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (bool, list, dict)):
        # JSON and yes/no fields in words, as the change history shows them (no Python reprs)
        from .history import field_in_words

        return field_in_words(type(obj), field, value)
    return "" if value is None else str(value)


def differences(current, obj):
    """Fields where ``obj`` (the unsaved edit) differs from ``current`` (the stored row)."""
    changes = []
    for field in type(obj)._meta.concrete_fields:
        if field.primary_key or field.name == "version" or not field.editable:
            continue
        if field.value_from_object(current) != field.value_from_object(obj):
            changes.append((field.verbose_name, _display(current, field), _display(obj, field)))
    return changes


def conflict_lines(changes):
    """What the other person changed, one line per field in the reader's language, for pages
    (the API answers the rows themselves): ``changes`` are ``(label, theirs, yours)`` rows,
    ``EditConflict.changes`` or a model's own rows in the same shape."""
    return [
        gettext("{field}: now “{theirs}”, yours “{mine}”").format(
            field=label, theirs=theirs or "—", mine=mine or "—"
        )
        for label, theirs, mine in changes
    ]


def parse_etag(value):
    """The version an ``If-Match`` / ``ETag`` value names, or None when it names none."""
    if not value:
        return None
    value = value.strip().removeprefix("W/").strip('"')
    return int(value) if value.isdigit() else None


def save_if_unchanged(obj, expected_version, **save_kwargs):
    """Save ``obj`` if its stored row is still at ``expected_version``; return ``obj``.

    A new object (no primary key yet) is simply saved. Raises ``EditConflict`` otherwise.
    """
    if obj.pk is None or obj._state.adding:
        obj.save(**save_kwargs)
        return obj
    with transaction.atomic():
        current = type(obj)._base_manager.select_for_update().get(pk=obj.pk)
        if expected_version is None or int(expected_version) != current.version:
            raise EditConflict(current, differences(current, obj))
        obj.version = current.version + 1
        obj.save(**save_kwargs)
    return obj
