"""Stored dashboard results, keyed by scope + parameters and valid for one data version.

A result is reused only while ``data_version()`` is unchanged, so it is never stale once a
change has committed: loan, credit, enterprise, region, bank and membership saves/deletes bump
``DataVersion`` in their own transaction; imports move ``ImportBatch.applied_at``; screening
rebuilds change the set of current runs and their finish times.
"""

import hashlib
import json
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, F, Max
from django.utils import timezone

from enterprises.models import ImportBatch, Region

from .models import DataVersion, StatsSnapshot
from .ranking import DECIMAL_FIELDS as RANKING_DECIMAL_FIELDS
from .services import (
    AMOUNT_KEYS,
    DAYS_KEYS,
    GROUP_BY_CHOICES,
    RATE_KEYS,
    compute_funnel_live,
    compute_live,
)

DECIMAL_KEYS = {*AMOUNT_KEYS, *RATE_KEYS, *DAYS_KEYS}
RANKING_DECIMALS = set(RANKING_DECIMAL_FIELDS)
# Stored results of another shape than the KPI result: their spec carries "kind".
RANKING = "ranking"
FUNNEL = "funnel"  # the KPI result's shape, with the funnel's figures only


# The entry points of pages, exports and the API live here, above ``services`` (which computes
# live figures and knows nothing of storing them).


def compute_stats(user, region, start, end, group_by=None):
    """The KPIs of ``region`` over start..end, plus one row per group when ``group_by``.

    Returns {"region", "start", "end", "as_of", "data_as_of", "group_by", "totals", "rows"};
    each row has "key", "label" (and "region" for region rows) and the KPI keys.
    """
    result = compute_dashboard(user, region, start, end, (group_by,) if group_by else ())
    result["group_by"] = group_by
    result["rows"] = result["groups"].get(group_by, []) if group_by else []
    return result


def compute_dashboard(user, region, start, end, groups=GROUP_BY_CHOICES):
    """Totals and the rows of each grouping in ``groups`` (reused while the data is unchanged)."""
    groups = tuple(groups)
    return cached(
        user, region, start, end, groups, lambda: compute_live(user, region, start, end, groups)
    )


def compute_ranking(user, region, start, end):
    """The bank ranking of ``region`` over start..end (stored like the KPIs, same version)."""
    from .ranking import compute_live as ranking_live

    return cached(
        user,
        region,
        start,
        end,
        (),
        lambda: ranking_live(user, region, start, end),
        kind=RANKING,
    )


def compute_funnel_totals(user, region, start, end):
    """The funnel's figures of ``region`` over start..end (stored like the KPIs, same
    version): {"region", "start", "end", "as_of", "data_as_of", "totals", …}."""
    return cached(
        user,
        region,
        start,
        end,
        (),
        lambda: compute_funnel_live(user, region, start, end),
        kind=FUNNEL,
    )


def _compute_for_spec(spec, region, start, end):
    user = SpecUser(spec)
    if spec.get("kind") == RANKING:
        from .ranking import compute_live as ranking_live

        return ranking_live(user, region, start, end)
    if spec.get("kind") == FUNNEL:
        return compute_funnel_live(user, region, start, end)
    return compute_live(user, region, start, end, tuple(spec["groups"]))


def bump(**_kwargs):
    if not DataVersion.objects.filter(pk=1).update(counter=F("counter") + 1):
        DataVersion.objects.get_or_create(pk=1)
        DataVersion.objects.filter(pk=1).update(counter=F("counter") + 1)


def data_version():
    counter = DataVersion.objects.filter(pk=1).values_list("counter", flat=True).first() or 0
    imports = ImportBatch.objects.aggregate(latest=Max("applied_at"), n=Count("applied_at"))
    parts = [str(counter), str(imports["latest"]), str(imports["n"])]
    try:
        from screening.models import ScreeningRun
    except ImportError:  # pragma: no cover
        pass
    else:
        runs = ScreeningRun.objects.filter(is_current=True).aggregate(
            ids=Max("id"), n=Count("id"), finished=Max("finished_at")
        )
        parts += [str(runs["ids"]), str(runs["n"]), str(runs["finished"])]
    return "|".join(parts)


def snapshot_spec(user, region, start, end, groups, kind=None):
    scope = user.scope
    spec = {
        "everything": scope.everything,
        "region_prefix": scope.region_prefix,
        "bank_codes": sorted(scope.bank_codes) if scope.bank_codes is not None else None,
        "region": region.code,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "groups": list(groups),
    }
    if kind:  # absent for the KPI results, so their keys stay as they were
        spec["kind"] = kind
    return spec


# Bumped whenever the stored payload changes shape (new KPI keys), so a result stored by an
# older release is never read back without them.
PAYLOAD_SCHEMA = 2


def snapshot_key(spec):
    text = json.dumps(spec, sort_keys=True)
    if PAYLOAD_SCHEMA > 1:
        text = f"{PAYLOAD_SCHEMA}:{text}"
    return hashlib.sha256(text.encode()).hexdigest()


class SpecUser:
    """Stands for the user a stored result was computed for: same scope, so same rows."""

    is_authenticated = True
    is_active = True

    def __init__(self, spec):
        from accounts.scope import Scope

        bank_codes = spec["bank_codes"]
        # Only users allowed to view reach a dashboard; the actions do not change the figures.
        self.scope = Scope(
            user_id=None,
            role="",
            actions=frozenset({"view"}),
            everything=spec["everything"],
            region_prefix=spec["region_prefix"],
            bank_codes=frozenset(bank_codes) if bank_codes is not None else None,
        )


def refresh_stale(limit=200, keep_days=30):
    """Recompute stored results whose data version no longer holds (most recent first).

    Results nobody asked for in ``keep_days`` are dropped instead.
    """
    StatsSnapshot.objects.filter(
        computed_at__lt=timezone.now() - timedelta(days=keep_days)
    ).delete()
    version = data_version()
    done = 0
    for snapshot in StatsSnapshot.objects.exclude(version=version).order_by("-computed_at")[:limit]:
        spec = snapshot.spec
        region = Region.objects.filter(code=spec.get("region")).first()
        if region is None or "groups" not in spec:
            snapshot.delete()
            continue
        start, end = date.fromisoformat(spec["start"]), date.fromisoformat(spec["end"])
        result = _compute_for_spec(spec, region, start, end)
        StatsSnapshot.objects.filter(pk=snapshot.pk).update(
            version=version, payload=_encode(result), computed_at=timezone.now()
        )
        done += 1
    return done


def _encode(result):
    def default(value):
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, Region):
            return value.code
        raise TypeError(type(value))

    return json.loads(json.dumps(result, default=default))


def _decode_row(row):
    return {k: (Decimal(v) if k in DECIMAL_KEYS and v is not None else v) for k, v in row.items()}


def _decode_ranking_row(row):
    row = {
        k: (Decimal(v) if k in RANKING_DECIMALS and v is not None else v) for k, v in row.items()
    }
    if "branches" in row:
        row["branches"] = [_decode_ranking_row(b) for b in row["branches"]]
    return row


def _decode(payload, region):
    result = dict(payload)
    if payload.get("institutions") is not None:
        result["region"] = region
        result["start"] = date.fromisoformat(payload["start"])
        result["end"] = date.fromisoformat(payload["end"])
        result["as_of"] = datetime.fromisoformat(payload["as_of"])
        result["institutions"] = [_decode_ranking_row(r) for r in payload["institutions"]]
        return result
    result["region"] = region
    result["start"] = date.fromisoformat(payload["start"])
    result["end"] = date.fromisoformat(payload["end"])
    result["as_of"] = datetime.fromisoformat(payload["as_of"])
    if payload.get("data_as_of"):
        result["data_as_of"] = datetime.fromisoformat(payload["data_as_of"])
    result["totals"] = _decode_row(payload["totals"])
    result["rows"] = [_decode_row(r) for r in payload["rows"]]
    result["groups"] = {k: [_decode_row(r) for r in v] for k, v in payload["groups"].items()}
    return result


def warm_defaults(today=None):
    """Compute the landing dashboard (1 January..today, all tables) of every region a user works
    in, for a region-scoped user of that region, unless it is stored for the current version."""
    from accounts.models import User

    today = today or timezone.localdate()
    start = date(today.year, 1, 1)
    codes = (
        User.objects.filter(is_active=True, region__isnull=False, bank__isnull=True)
        .values_list("region_id", flat=True)
        .distinct()
    )
    version = data_version()
    done = 0
    for region in Region.objects.filter(code__in=list(codes)):
        spec = {
            "everything": False,
            "region_prefix": region.scope_prefix,
            "bank_codes": None,
            "region": region.code,
            "start": start.isoformat(),
            "end": today.isoformat(),
            "groups": list(GROUP_BY_CHOICES),
        }
        key = snapshot_key(spec)
        if StatsSnapshot.objects.filter(key=key, version=version).exists():
            continue
        _store(
            key, spec, version, compute_live(SpecUser(spec), region, start, today, GROUP_BY_CHOICES)
        )
        done += 1
    return done


def cached(user, region, start, end, groups, compute, kind=None):
    """The stored result when its data version still holds, else ``compute()`` (then stored)."""
    spec = snapshot_spec(user, region, start, end, groups, kind)
    key = snapshot_key(spec)
    version = data_version()
    stored = StatsSnapshot.objects.filter(key=key, version=version).first()
    if stored is not None:
        return _decode(stored.payload, region)
    result = compute()
    _store(key, spec, version, result)
    return result


def _store(key, spec, version, result):
    StatsSnapshot.objects.update_or_create(
        key=key,
        defaults={
            "version": version,
            "payload": _encode(result),
            "computed_at": timezone.now(),
            "spec": spec,
        },
    )
