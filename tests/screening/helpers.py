"""Helpers for screening tests: run a rebuild and read back who is on which list."""

from datetime import date

from enterprises.models import Region
from screening.models import ListExclusion, ListMembership
from screening.services import rebuild_region
from tests.factories import PINGYANG

TODAY = date(2025, 6, 30)


def rebuild(engine=None, county=PINGYANG, as_of=TODAY, **kwargs):
    return rebuild_region(Region.objects.get(code=county), engine=engine, as_of=as_of, **kwargs)


def members(run, list_type):
    return set(
        ListMembership.objects.filter(run=run, list_type=list_type).values_list(
            "enterprise_id", flat=True
        )
    )


def exclusion(run, enterprise, list_type="active"):
    return ListExclusion.objects.filter(run=run, list_type=list_type, enterprise=enterprise).first()


def codes(reasons):
    return [r["code"] for r in reasons]
