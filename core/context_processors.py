from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role


def _any(*actions):
    return lambda scope: any(scope.allows(a) for a in actions)


def _has_region(scope):
    # Dashboards show region KPIs: a scope of bank branches only (bank officers) would read
    # absurd figures there (no no-loan entities, 100% coverage), so it gets no dashboards.
    return scope.allows("view") and (scope.everything or scope.region_prefix is not None)


# (label, url name, who may use it); filtered per user's scope.
NAVIGATION = [
    (_("Home"), "home", None),
    (_("Enterprises"), "enterprises:list", _any("view")),
    (_("Imports"), "enterprises:import_list", _any("import")),
    (_("Lists"), "screening:index", _any("view")),
    (_("Dashboards"), "dashboards:index", _has_region),
    # The bank directory serves allocation; jobs are started by imports and rebuilds.
    (_("Banks"), "banks:list", _any("allocate")),
    (_("Bank matching"), "banks:batch_list", _any("allocate")),
    (_("Needs attention"), "banks:needs_attention", _any("allocate")),
    (_("Recommendation lists"), "visits:application_list", _has_region),
    # A bank officer's work: the enterprises handed to its branch.
    (_("My enterprises"), "banks:workspace", lambda scope: scope.role == Role.BANK_OFFICER),
    # Field visits (走访): township workers, bank officers and the task force record them.
    (_("Record a visit"), "visits:new", _any("visit")),
    (_("My visits"), "visits:mine", _any("visit")),
    # Visits' follow-ups: the due list of those who visit, the problems visits found.
    (_("Due visits"), "visits:due", _any("visit")),
    (_("Coordination items"), "visits:items", _any("view")),
    (_("Jobs"), "core:job_list", _any("import", "screen")),
    # The API docs are for people who wire systems: administrators and partner systems.
    (_("API"), "api-docs", lambda scope: scope.everything or scope.role == Role.PARTNER),
    # The change history is evidence for administrators.
    (_("Change history"), "history", lambda scope: scope.everything),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, url_name, allowed in NAVIGATION:
        if allowed is not None and not allowed(user.scope):
            continue
        try:
            url = reverse(url_name)
        except Exception:
            continue
        items.append(
            {
                "label": label,
                "url": url,
                "active": request.path == url or (url != "/" and request.path.startswith(url)),
            }
        )
    return {"nav_items": items}
