from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# Administrators only (scope "everything"), e.g. the change history.
ADMIN_ONLY = "admin-only"

# (label, url name, action the user must hold); filtered per user's scope.
NAVIGATION = [
    (_("Home"), "home", None),
    (_("Enterprises"), "enterprises:list", "view"),
    (_("Imports"), "enterprises:import_list", "import"),
    (_("Lists"), "screening:index", "view"),
    (_("Dashboards"), "dashboards:index", "view"),
    (_("Banks"), "banks:list", "view"),
    (_("Jobs"), "core:job_list", "view"),
    (_("API"), "api-docs", "view"),
    (_("Change history"), "history", ADMIN_ONLY),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, url_name, action in NAVIGATION:
        if action == ADMIN_ONLY:
            if not user.scope.everything:
                continue
        elif action is not None and not user.scope.allows(action):
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
