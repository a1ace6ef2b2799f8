"""Masking of personal data (legal representative, phone) for users without the personal-data right.

The rule, whatever the length:
- a name keeps its first character and masks every other one (张三丰 → 张**, 张三 → 张*);
  a one-character name becomes "*";
- a phone shows at most its last 4 digits and never more than half of its digits
  (13812345678 → *******5678, 63612345 → ****2345, 6361234 → ****234, 12 → *2); every other
  digit, letter or sign is masked, only spaces, "-", "+" and brackets are kept as written.

It applies at every door: pages, API, exports and the error reports of imports.
"""

PHONE_MAX_SHOWN = 4
PHONE_KEPT = frozenset(" -+()")


def mask_name(name):
    """张三丰 → 张**; keeps the surname so staff can still tell records apart; 张 → *."""
    if not name:
        return name
    name = str(name).strip()
    if len(name) <= 1:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone):
    """13812345678 → *******5678: at most the last 4 digits, at most half of the digits."""
    if not phone:
        return phone
    if isinstance(phone, float) and phone.is_integer():
        phone = int(phone)  # a number cell of a spreadsheet
    phone = str(phone)
    digits = sum(ch.isdigit() for ch in phone)
    shown = min(PHONE_MAX_SHOWN, digits // 2)
    out = []
    for ch in reversed(phone):
        if ch.isdigit() and shown > 0:
            out.append(ch)
            shown -= 1
        elif ch in PHONE_KEPT:
            out.append(ch)
        else:
            out.append("*")
    return "".join(reversed(out))


def personal_fields(enterprise, user):
    """The legal representative and phone as this user may see them."""
    if user.scope.sees_personal_data:
        return enterprise.legal_rep, enterprise.phone
    return mask_name(enterprise.legal_rep), mask_phone(enterprise.phone)


# Import columns that hold personal data, by field, and how each is masked.
PERSONAL_COLUMNS = {"legal_rep": mask_name, "phone": mask_phone}


def import_value_masker(kind, user):
    """A function ``(header, value) → value`` giving an import file's cells (and row errors'
    values) as ``user`` may see them: the personal columns masked without the personal-data
    right (or with no user). ``header`` is the column's header as written in the file."""
    from ..importing.normalise import normalise_header
    from ..importing.specs import SPECS

    spec = SPECS.get(kind)
    if spec is None or (user is not None and user.scope.sees_personal_data):
        return lambda header, value: value

    def mask(header, value):
        if value is None or value == "":
            return value
        found = spec.headers.get(normalise_header(header)) if header else None
        masker = PERSONAL_COLUMNS.get(found[0].field) if found else None
        return masker(value) if masker else value

    return mask


def masked_errors(batch, user, errors):
    """The row errors ``errors`` of ``batch`` (a list), each value as ``user`` may see it."""
    mask = import_value_masker(batch.kind, user)
    errors = list(errors)
    for error in errors:
        error.value = mask(error.column, error.value)  # on the instance only, never saved
    return errors
