"""A stand-in for the items service until ``visits/services/items.py`` (update_item) lands;
the API imports that when it exists (see views.py) and this only otherwise. Same signature;
the bare minimum: the scoped write path and optimistic locking. Delete once it landed.
"""

from core.locking import save_if_unchanged
from core.writes import scoped_save


def update_item(user, item, data, expected_version):
    def save():
        for name, value in data.items():
            setattr(item, name, value)
        return save_if_unchanged(item, expected_version)

    return scoped_save(user, "visit", save)
