"""The registry of job kinds: what runs a kind, its label, the right it needs, its count labels.

It imports nothing of the project's own (only the action names of accounts), so models, the
runner and every app's ``jobs.py`` can use it without import cycles.
"""

from accounts.choices import Action

# Rights that change nothing: a job needs a right outside this set, so that read-only users
# (regulators, view-only partner tokens) can never start or re-run one.
READ_ONLY_ACTIONS = frozenset({Action.VIEW, Action.EXPORT, Action.PERSONAL_DATA})

_KINDS = {}


def job_handler(kind, label, action, count_labels=None):
    """Register ``func(job) -> counts`` as the handler of jobs of ``kind``.

    ``action`` is the right a user needs (in the job's region) to start or re-run it, and
    must be a write right; ``count_labels`` names the keys of the counts it returns.
    """
    if action not in Action.values or action in READ_ONLY_ACTIONS:
        raise ValueError(f"job kind {kind!r} needs a write right, not {action!r}")

    def register(func):
        _KINDS[kind] = (func, label, action, dict(count_labels or {}))
        return func

    return register


def is_registered(kind):
    return kind in _KINDS


def handler(kind):
    return _KINDS[kind][0]


def kind_label(kind):
    entry = _KINDS.get(kind)
    return str(entry[1]) if entry else kind


def kind_action(kind):
    """The right needed to start or re-run a job of ``kind`` (an unknown kind: "change")."""
    entry = _KINDS.get(kind)
    return entry[2] if entry else Action.CHANGE


def labelled_counts(kind, counts):
    """[(label, value)] of a job's counts, labelled in the user's language where known."""
    labels = _KINDS[kind][3] if kind in _KINDS else {}
    return [(str(labels.get(key, key)), value) for key, value in (counts or {}).items()]
