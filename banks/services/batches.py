"""Visit batches (分层分批): cuts of a county's current key-visit list, frozen when saved.

Criteria (all optional; an empty criterion does not filter):
``tiers`` [1, 2, 3], ``ratings`` ["A", "B", …], ``loan`` "no_loan" / "has_loan" (membership
of the current no-loan list), ``banks_min`` / ``banks_max`` (number of lending banks),
``townships`` [region codes], ``foreign_trade`` True (a tax record with an export rebate).
"""

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from core.writes import scoped_save
from enterprises.choices import RegionLevel
from enterprises.models import Region, TaxRecord
from screening.selectors import current_memberships

from ..models import VisitBatch

NO_LOAN, HAS_LOAN = "no_loan", "has_loan"


def counties_for_user(user, action="view"):
    """The counties whose bank matching ``user`` may see (or, with "allocate", run): a
    county's staff their county, city staff the city's counties, admins every county; none
    for bank officers, township workers and users without the action."""
    counties = Region.objects.restrict(user, action).filter(level=RegionLevel.COUNTY)
    if not user.is_authenticated or user.scope.everything:
        return counties
    scope = user.scope
    if scope.region_prefix is None or scope.bank_codes is not None:
        return counties.none()
    # A township worker's prefix is longer than a county code: no county starts with it.
    return counties.filter(code__startswith=scope.region_prefix)


def key_visit_candidates(county, criteria):
    """The current key-visit memberships of ``county`` that match ``criteria``."""
    rows = current_memberships("key_visit").filter(
        enterprise__region__code__startswith=county.scope_prefix
    )
    if criteria.get("tiers"):
        rows = rows.filter(tier__in=criteria["tiers"])
    if criteria.get("ratings"):
        rows = rows.filter(rating__in=criteria["ratings"])
    if criteria.get("loan") in (NO_LOAN, HAS_LOAN):
        no_loan = Exists(
            current_memberships("no_loan").filter(enterprise_id=OuterRef("enterprise_id"))
        )
        rows = rows.filter(no_loan) if criteria["loan"] == NO_LOAN else rows.exclude(no_loan)
    if criteria.get("banks_min") is not None:
        rows = rows.filter(bank_count__gte=criteria["banks_min"])
    if criteria.get("banks_max") is not None:
        rows = rows.filter(bank_count__lte=criteria["banks_max"])
    if criteria.get("townships"):
        rows = rows.filter(enterprise__region_id__in=criteria["townships"])
    if criteria.get("foreign_trade"):
        rows = rows.filter(
            Exists(
                TaxRecord.objects.filter(
                    enterprise_id=OuterRef("enterprise_id"), export_rebate__gt=0
                )
            )
        )
    return rows


def count_candidates(county, criteria):
    """How many enterprises a batch cut with ``criteria`` would hold."""
    return key_visit_candidates(county, criteria).values("enterprise_id").distinct().count()


def create_visit_batch(user, county, name, criteria):
    """Cut a visit batch of ``county`` and freeze its members with one INSERT … SELECT.

    Refuses (PermissionDenied) unless the county is inside the user's ``allocate`` scope,
    checked inside the transaction that writes the batch.
    """
    if not counties_for_user(user, "allocate").filter(pk=county.pk).exists():
        raise PermissionDenied(_("You may not cut visit batches of this county."))

    def create():
        batch = VisitBatch.objects.create(
            region=county, name=name, criteria=criteria, created_by=user
        )
        select, params = (
            key_visit_candidates(county, criteria)
            .values("enterprise_id")
            .distinct()
            .query.sql_with_params()
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO banks_visitbatchmember (batch_id, enterprise_id) "
                f"SELECT %s, cut.enterprise_id FROM ({select}) cut",
                (batch.pk, *params),
            )
            size = cursor.rowcount
        batch.size = size
        batch.save(update_fields=["size"])
        return batch

    # The one write path: saved in a transaction, re-checked against the scope, history kept.
    return scoped_save(user, "allocate", create)
