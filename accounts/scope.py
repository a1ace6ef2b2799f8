"""What a user may see: a region (by code prefix), a set of bank branches, or everything."""

from dataclasses import dataclass

from .choices import ROLE_ACTIONS, Action, Role


@dataclass(frozen=True)
class Scope:
    user_id: int
    role: str
    actions: frozenset
    everything: bool = False
    # Region codes are hierarchical (NBS 统计用区划代码): a row is inside the region when its
    # region code starts with this prefix (33 province, 3303 city, 330302 county, 9 digits township).
    region_prefix: str | None = None
    # Bank codes of the user's branch and the branches below it.
    bank_codes: frozenset | None = None

    def allows(self, action):
        return action in self.actions

    @property
    def sees_personal_data(self):
        return Action.PERSONAL_DATA in self.actions


def scope_for(user):
    """Build the Scope of a user from its role, region and bank."""
    if user.is_superuser or user.role == Role.ADMIN:
        return Scope(user.pk, Role.ADMIN, frozenset(Action.values), everything=True)
    if user.role == Role.PARTNER:
        actions = frozenset(a for a in user.api_scope_list if a in Action.values)
    else:
        actions = frozenset(ROLE_ACTIONS.get(user.role, set()))
    region_prefix = user.region.scope_prefix if user.region_id else None
    bank_codes = frozenset(user.bank.subtree_codes()) if user.bank_id else None
    if user.role == Role.BANK_OFFICER:
        region_prefix = None  # a bank officer sees its branch's enterprises, wherever they are
    elif user.role != Role.PARTNER:
        bank_codes = None
    if region_prefix is None and bank_codes is None:
        actions = frozenset()  # a user with no region and no bank sees nothing
    return Scope(user.pk, user.role, actions, region_prefix=region_prefix, bank_codes=bank_codes)
