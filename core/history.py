"""One change history for the coordination records (docs/history.md).

django-auditlog writes one ``LogEntry`` per create / update / delete of a tracked model, with
before → after of each changed field. This module adds who did it, from which address and by
which door (web session, API token, job, command line):

- ``HistoryMiddleware`` sets that context for each request;
- ``acting_as(user, via=...)`` sets it for jobs and management commands;
- ``track(Model)`` puts a model under history. Subclasses of ``core.records.CoordinationRecord``
  are tracked without it (see ``register_tracked_models``).

Bulk imports are not tracked here on purpose: imported rows carry their ``ImportBatch``
(batch-level provenance), and per-row history would break the import speed goal.
"""

import contextlib
import json
from contextvars import ContextVar

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models.signals import pre_save
from django.utils.translation import gettext_lazy as _

# {"actor": callable -> user or None, "remote_addr": str | None, "auth": callable -> dict}
_context = ContextVar("rongxie_history_context", default=None)

# Fields never worth an entry of their own (every login touches last_login).
DEFAULT_EXCLUDE = ("last_login",)
SECRET_MASK = "********"
HISTORY_PAGE_SIZE = 50

ACTION_LABELS = {
    LogEntry.Action.CREATE: _("created"),
    LogEntry.Action.UPDATE: _("changed"),
    LogEntry.Action.DELETE: _("deleted"),
    LogEntry.Action.ACCESS: _("viewed"),
}
VIA_LABELS = {
    "web": _("web page"),
    "api": _("API"),
    "token": _("API token"),
    "job": _("background job"),
    "cli": _("command line"),
    "import": _("import"),
    "system": _("system"),
}


def mask_secret(value):
    """What the history shows instead of a secret (password hash, token key)."""
    return SECRET_MASK if value not in (None, "", "None") else None


def token_fingerprint(key):
    """Enough of an API token's key to tell tokens apart, never the secret itself."""
    return f"{key[:6]}…" if key else ""


_pending = []


def track(model=None, **options):
    """Record every create / update / delete of ``model`` in the change history.

    Usable as ``track(Model, ...)`` or as a class decorator ``@track(mask_fields=[...])``;
    options are those of ``auditlog.register`` (``m2m_fields``, ``mask_fields`` …). Models
    declared before start-up is over are registered once all apps are ready.
    """

    def register(cls):
        from django.apps import apps

        if not apps.models_ready:
            _pending.append((cls, options))
        elif not auditlog.contains(cls):
            _register(cls, dict(options))
        return cls

    return register(model) if model is not None else register


def _register(model, options):
    # Reverse relations (a bank's loans, a user's jobs) are other records' business.
    reverse = [f.name for f in model._meta.get_fields() if f.auto_created and not f.concrete]
    options["exclude_fields"] = [*options.get("exclude_fields", DEFAULT_EXCLUDE), *reverse]
    if options.get("mask_fields"):
        options.setdefault("mask_callable", "core.history.mask_secret")
    auditlog.register(model, **options)


def is_tracked(model):
    return auditlog.contains(model)


def register_tracked_models():
    """Track every concrete CoordinationRecord and every ``track``-ed model (at start-up)."""
    from django.apps import apps

    from .records import CoordinationRecord

    for model in apps.get_models():
        if issubclass(model, CoordinationRecord) and not auditlog.contains(model):
            _register(model, dict(model.history_options))
    while _pending:
        model, options = _pending.pop()
        if not auditlog.contains(model):
            _register(model, dict(options))


@contextlib.contextmanager
def acting_as(user=None, *, via="job", remote_addr=None):
    """Attribute the history written inside this block to ``user`` (jobs, CLI, tests).

    ``user`` may be a callable returning the user, called only when an entry is written.
    ``via`` says which door: "job", "cli", "web", "api" … An enclosing context (a request)
    is restored on exit.
    """
    actor = user if callable(user) else (lambda: user)
    token = _context.set({"actor": actor, "remote_addr": remote_addr, "auth": lambda: {"via": via}})
    try:
        yield
    finally:
        _context.reset(token)


def acting_for_job(job_id):
    """``acting_as`` the user who started a job (looked up only if the job writes history)."""

    def starter():
        from .models import Job

        job = Job.objects.select_related("created_by").filter(pk=job_id).first()
        return job.created_by if job is not None else None

    return acting_as(starter, via="job")


def client_address(request):
    # Behind the production proxy (SECURE_PROXY_SSL_HEADER set) the client is the first
    # X-Forwarded-For entry; without a proxy that header is the client's own claim: ignored.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def _request_actor(request):
    # Read when an entry is written, not when the request starts: the API authenticates
    # tokens inside the view, and DRF then sets request.user and request.auth here too.
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _request_auth(request):
    auth = getattr(request, "auth", None)
    key = getattr(auth, "key", None)
    if key:
        return {"via": "token", "token": token_fingerprint(key)}
    return {"via": "api" if request.path.startswith("/api/") else "web"}


class HistoryMiddleware:
    """Attributes the history written during a request to its user, address and token."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _context.set(
            {
                "actor": lambda: _request_actor(request),
                "remote_addr": client_address(request),
                "auth": lambda: _request_auth(request),
            }
        )
        try:
            return self.get_response(request)
        finally:
            _context.reset(token)


def _secret_keyed_models():
    # DRF's token uses its secret key as primary key: the history must not store it.
    from rest_framework.authtoken.models import Token

    return {ContentType.objects.get_for_model(Token).pk}


def fill_entry(sender, instance, **kwargs):
    """Complete a LogEntry with the current context before it is saved."""
    context = _context.get()
    extra = {"via": "system"}
    if context is not None:
        actor = context["actor"]()
        if actor is not None and instance.actor_id is None:
            instance.actor = actor
            instance.actor_email = actor.email or None
        if actor is not None:
            extra["actor_name"] = actor.get_username()  # stays readable if the user goes
        if not instance.remote_addr:
            instance.remote_addr = context["remote_addr"]
        extra.update(context["auth"]())
    instance.additional_data = {**(instance.additional_data or {}), **extra}
    if instance.content_type_id in _secret_keyed_models() and instance._state.adding:
        fingerprint = token_fingerprint(instance.object_pk)
        instance.object_pk = fingerprint
        instance.object_repr = fingerprint


pre_save.connect(fill_entry, sender=LogEntry, dispatch_uid="core.history.fill_entry")


def entries_for(obj):
    """History entries of one record, newest first."""
    content_type = ContentType.objects.get_for_model(obj)
    pk = str(obj._get_pk_val())  # the real key even where a proxy redefines ``pk``
    if content_type.pk in _secret_keyed_models():
        pk = token_fingerprint(pk)
    return (
        LogEntry.objects.filter(content_type=content_type, object_pk=pk)
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-pk")
    )


def _display(field, value, codes=None):
    """``value`` of ``field`` in words; ``codes`` ((code, label) pairs) names the codes a JSON
    list or {code: yes/no} field holds (the model's ``history_choices``)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if codes is not None and isinstance(value, str) and value[:1] in "[{":
        with contextlib.suppress(ValueError):  # django-auditlog keeps JSON values as text
            value = json.loads(value)
    if codes is not None and isinstance(value, (list, dict)):
        labels = dict(codes)
        if isinstance(value, list):
            return str(_(", ")).join(str(labels.get(code, code)) for code in value) or "—"
        return str(_("; ")).join(
            str(_("{label}: {value}")).format(
                label=labels.get(code, code), value=_display(None, ticked)
            )
            for code, ticked in value.items()
        )
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)  # JSON fields (rule set weights)
    choices = dict(getattr(field, "flatchoices", None) or [])
    if value in choices:
        return str(choices[value])
    return str(value)


def field_in_words(model, field, value):
    """``value`` of ``model``'s ``field`` as the change history shows it: codes as their labels
    (``history_choices``), yes / no, no Python reprs."""
    codes = getattr(model, "history_choices", {}).get(field.name)
    if callable(codes):
        codes = codes()
    return _display(field, value, codes)


def describe_changes(entry):
    """[(field label, before, after)] of one entry, in words a user reads (no Python reprs)."""
    model = entry.content_type.model_class()
    rows = []
    for name, values in (entry.changes_dict or {}).items():
        try:
            field = model._meta.get_field(name) if model is not None else None
        except FieldDoesNotExist:
            field = None
        label = str(getattr(field, "verbose_name", name))
        if isinstance(values, dict) and values.get("type") == "m2m":
            objects = ", ".join(str(o) for o in values.get("objects", []))
            sign = "+" if values.get("operation") == "add" else "−"
            rows.append((label, "", f"{sign} {objects}"))
            continue
        before, after = [*values, None, None][:2]
        if field is None:
            rows.append((label, _display(None, before), _display(None, after)))
            continue
        rows.append(
            (label, field_in_words(model, field, before), field_in_words(model, field, after))
        )
    return rows


def action_label(entry):
    return ACTION_LABELS.get(entry.action, "")


def via_label(entry):
    via = (entry.additional_data or {}).get("via", "")
    return VIA_LABELS.get(via, via)


def annotate(entries):
    """Attach what the history templates show to each entry; return them as a list."""
    entries = list(entries)
    for entry in entries:
        data = entry.additional_data or {}
        entry.action_text = action_label(entry)
        entry.via_text = via_label(entry)
        entry.token_text = data.get("token", "")
        entry.actor_text = entry.actor.display_name if entry.actor else data.get("actor_name", "")
        entry.change_rows = describe_changes(entry)
    return entries


def history_context():
    """True inside a request or an ``acting_as`` block (entries then name its door)."""
    return _context.get() is not None


def id_in(column, ids):
    """(SQL, params) of ``column`` among ``ids``: one array parameter on PostgreSQL (a thousand
    placeholders cost more to send than the statement to run), a list on SQLite."""
    from django.db import connection

    ids = list(ids)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [ids]
    if not ids:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", ids


def record_set_based(
    model,
    where,
    params=(),
    *,
    created_since=None,
    created_ids=None,
    actor=None,
    via=None,
    extra=None,
    repr_sql=None,
    changes=None,
):
    """Write the history entries of a set-based write (INSERT … SELECT, ON CONFLICT) in SQL.

    django-auditlog only sees ``save()``; imports and the bank API's bulk upserts write tracked
    tables with SQL, so they write their entries here, one INSERT … SELECT for all rows:
    ``where`` (SQL over the table aliased ``t``, with ``params``) selects the rows just
    written; a row created at or after ``created_since`` (its ``created_at``), or, for a table
    without that column, a row whose id is in ``created_ids``, is a creation, any other an
    update. The entry names the door (``via``) and ``extra`` (e.g. the import
    batch); the changed values themselves are the batch's / request's, so an update entry
    lists the fields written, not their earlier values. A write that sets the same values on
    every row (a push) passes them as ``changes`` ({field: [before, after]}) instead. Without
    ``via`` the entries name the door and address of the current request or ``acting_as``
    block, as a ``save()`` there would. Returns the number of entries.
    """
    import json as _json

    from django.db import connection
    from django.utils import timezone

    table = model._meta.db_table
    content_type = ContentType.objects.get_for_model(model)
    context = _context.get()
    remote_addr = None
    if via is not None:
        door = {"via": via}
    elif context is not None:
        door, remote_addr = context["auth"](), context["remote_addr"]
    else:
        door = {"via": "system"}
    data = {**door, **(extra or {})}
    if actor is not None:
        data["actor_name"] = actor.get_username()
    repr_sql = repr_sql or "CAST(t.id AS text)"
    json_param = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    if created_ids is not None:
        created, created_params = id_in("t.id", sorted(created_ids))
    else:
        created, created_params = "t.created_at >= %s", [created_since]
    query = (
        "INSERT INTO auditlog_logentry (content_type_id, object_pk, object_id, object_repr, "
        "action, changes_text, changes, actor_id, actor_email, remote_addr, timestamp, "
        "additional_data) "
        f"SELECT %s, CAST(t.id AS text), t.id, {repr_sql}, "
        f"CASE WHEN {created} THEN %s ELSE %s END, '', {json_param}, %s, %s, %s, %s, "
        f"{json_param} "
        f"FROM {table} t WHERE {where}"
    )
    if created_ids is None and connection.vendor != "postgresql":
        # SQLite compares the text Django stores
        created_params = [connection.ops.adapt_datetimefield_value(created_since)]
    if changes is None:
        changes = {"batch": [None, str(extra.get("batch"))]} if extra and "batch" in extra else {}
    args = [
        content_type.pk,
        *created_params,
        LogEntry.Action.CREATE,
        LogEntry.Action.UPDATE,
        _json.dumps(changes, ensure_ascii=False),
        getattr(actor, "pk", None),
        (getattr(actor, "email", None) or None),
        remote_addr,
        timezone.now(),
        _json.dumps(data, ensure_ascii=False),
        *params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(query, args)
        return cursor.rowcount
