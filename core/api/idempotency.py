"""``Idempotency-Key``: a retried POST gets the stored first answer instead of writing twice.

The key is claimed (INSERT … ON CONFLICT DO NOTHING) in the same transaction that does the
write and stores the answer, so a concurrent request with the same key waits on the unique
index until the first commits, then replays its answer; a failed first attempt (an error, a
rolled-back transaction) leaves no key behind and may simply be retried. The same key with a
different request answers 422.
"""

import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.response import Response

from core.models import IdempotencyKey

HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=_(
        "Any unique string (e.g. a UUID) per logical request: a retry with the same key and "
        "body returns the first answer and writes nothing again."
    ),
)


class KeyReused(exceptions.APIException):
    status_code = 422
    default_detail = _("This Idempotency-Key was already used for a different request.")
    default_code = "idempotency_key_reused"


def request_hash(request):
    body = json.dumps(request.data, sort_keys=True, ensure_ascii=False, default=str)
    text = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(text.encode()).hexdigest()


def _claim(user, key, digest):
    table = IdempotencyKey._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, key, request_hash, status_code, created_at) "
            "VALUES (%s, %s, %s, 0, %s) ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
            (user.pk, key, digest, timezone.now()),
        )
        row = cursor.fetchone()
    return row[0] if row else None


def idempotent(request, handler):
    """Run ``handler()`` (returns a Response) once per (user, Idempotency-Key)."""
    key = request.headers.get(HEADER)
    if not key:
        return handler()
    if len(key) > 200:
        raise exceptions.ValidationError({HEADER: [_("At most 200 characters.")]})
    digest = request_hash(request)
    with transaction.atomic():
        claimed = _claim(request.user, key, digest)
        if claimed is None:
            stored = IdempotencyKey.objects.get(user=request.user, key=key)
            if stored.request_hash != digest:
                raise KeyReused()
            response = Response(stored.body, status=stored.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        response = handler()
        IdempotencyKey.objects.filter(pk=claimed).update(
            status_code=response.status_code, body=response.data
        )
    return response


def purge_expired(now=None):
    """Delete the answers kept longer than ``settings.IDEMPOTENCY_KEY_DAYS`` (a retry comes
    within minutes; a week covers a bank system that was down over a holiday). Returns the
    number deleted. Run daily by Celery beat (core.tasks.purge_idempotency_keys)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.IDEMPOTENCY_KEY_DAYS)
    deleted, _by_model = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
