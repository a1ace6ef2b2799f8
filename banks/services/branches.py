"""Staff edits of a branch: the regions it serves, its visit capacity, focus areas, contact."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from core.writes import scoped_save
from enterprises.choices import RegionLevel
from enterprises.models import Region
from enterprises.services.privacy import mask_name, mask_phone

from ..models import Bank

CITY_PREFIX_LENGTH = 4


def _staff_prefix(user, action):
    """The region prefix of a staff user holding ``action``; "" for everything; None: no."""
    if not user.is_authenticated or not user.scope.allows(action):
        return None
    scope = user.scope
    if scope.everything:
        return ""
    if scope.region_prefix is None or scope.bank_codes is not None:
        return None
    return scope.region_prefix


def editable_banks(user):
    """Branches ``user`` may edit: city staff and admins any, a county's staff those serving
    a region of their county (township workers, banks, regulators none)."""
    banks = Bank.objects.restrict(user, "allocate")
    prefix = _staff_prefix(user, "allocate")
    if prefix is None or len(prefix) > 6:
        return banks.none()
    if len(prefix) <= CITY_PREFIX_LENGTH:
        return banks
    return banks.filter(
        code__in=Bank.service_regions.through.objects.filter(
            region__code__startswith=prefix
        ).values("bank_id")
    )


def editable_regions(user):
    """The counties and townships ``user`` may add to (or remove from) a branch's service."""
    regions = Region.objects.restrict(user, "allocate").filter(
        level__in=[RegionLevel.COUNTY, RegionLevel.TOWNSHIP]
    )
    prefix = _staff_prefix(user, "allocate")
    if prefix is None:
        return regions.none()
    return regions.filter(code__startswith=prefix).order_by("code")


def update_branch(user, bank, *, service_regions, capacity, focus_areas, contact):
    """Save a branch's service regions (those the user may edit; others are kept), capacity,
    focus areas and contact. PermissionDenied unless the branch is editable by the user,
    checked inside the transaction."""
    if not editable_banks(user).filter(pk=bank.pk).exists():
        raise PermissionDenied(_("You may not edit this branch."))

    def save():
        allowed = set(editable_regions(user).values_list("code", flat=True))
        kept = [code for code in bank.service_regions.values_list("code", flat=True)]
        chosen = {region.code for region in service_regions if region.code in allowed}
        bank.service_regions.set(sorted({c for c in kept if c not in allowed} | chosen))
        bank.capacity = capacity
        bank.focus_areas = sorted(focus_areas)
        bank.contact = contact.strip()
        bank.save(update_fields=["capacity", "focus_areas", "contact"])
        return bank

    return scoped_save(user, "allocate", save)  # the one write path (history kept)


def mask_contact(contact):
    """李四 13812345678 → 李* 138****5678: names keep their first character, phones their
    first three and last four digits."""
    parts = []
    for part in (contact or "").split():
        digits = part.replace("-", "").replace("+", "")
        parts.append(mask_phone(part) if digits.isdigit() else mask_name(part))
    return " ".join(parts)


def contact_for(bank, user):
    """The branch's contact as ``user`` may see it."""
    return bank.contact if user.scope.sees_personal_data else mask_contact(bank.contact)
