"""Loading the administrative-division table."""

import csv

from django.db import transaction
from django.utils.translation import gettext as _

from ..choices import RegionLevel
from ..models import Region

LEVEL_ORDER = [RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWNSHIP]


class RegionFileError(ValueError):
    pass


def load_regions(path):
    """Upsert regions from a CSV (code,name,level,parent_code); returns (created, updated).

    Loading the same file twice changes nothing. Parents are written before children, so the
    file may list regions in any order.
    """
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    missing = {"code", "name", "level", "parent_code"} - set(rows[0].keys() if rows else [])
    if missing:
        raise RegionFileError(
            _("Missing columns: {columns}").format(columns=", ".join(sorted(missing)))
        )
    for number, row in enumerate(rows, start=2):
        if row["level"] not in RegionLevel.values:
            raise RegionFileError(
                _("Row {row}: unknown level {level!r}").format(row=number, level=row["level"])
            )
    codes = {row["code"].strip() for row in rows}
    existing = {r.code: r for r in Region.objects.filter(code__in=codes)}
    created = updated = 0
    with transaction.atomic():
        for level in LEVEL_ORDER:
            batch = []
            for row in rows:
                if row["level"] != level:
                    continue
                code, parent = row["code"].strip(), (row["parent_code"] or "").strip() or None
                old = existing.get(code)
                if old is None:
                    created += 1
                elif (old.name, old.level, old.parent_id) != (row["name"].strip(), level, parent):
                    updated += 1
                else:
                    continue
                batch.append(
                    Region(code=code, name=row["name"].strip(), level=level, parent_id=parent)
                )
            Region.objects.bulk_create(
                batch,
                update_conflicts=True,
                unique_fields=["code"],
                update_fields=["name", "level", "parent"],
            )
    return created, updated
