"""Masking of personal data (legal representative, phone) for roles that do not need it."""


def mask_name(name):
    """张三丰 → 张**; keeps the surname so staff can still tell records apart."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone):
    """13812345678 → 138****5678; short numbers keep only their last two digits."""
    if not phone:
        return phone
    if len(phone) >= 7:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * (len(phone) - 2) + phone[-2:]


def personal_fields(enterprise, user):
    """The legal representative and phone as this user may see them."""
    if user.scope.sees_personal_data:
        return enterprise.legal_rep, enterprise.phone
    return mask_name(enterprise.legal_rep), mask_phone(enterprise.phone)
