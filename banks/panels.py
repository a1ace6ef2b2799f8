"""Panels other apps add to the bank officer's workspace and to the staff's "needs attention"
page (banks sits below loans and visits, so it imports neither: they register here from their
AppConfig.ready()).

A panel is a template and a function ``context(request) -> dict | None`` (None: show nothing);
the template receives the dict as ``panel``.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PagePanel:
    template: str
    context: object


WORKSPACE_PANELS = {}
ATTENTION_PANELS = {}


def register_workspace_panel(name, template, context):
    """Show ``template`` on the workspace (above the enterprise list) with ``context(request)``."""
    WORKSPACE_PANELS[name] = PagePanel(template, context)


def register_attention_panel(name, template, context):
    """Show ``template`` on the needs-attention page (above the tabs)."""
    ATTENTION_PANELS[name] = PagePanel(template, context)


def render_list(registry, request):
    """[{"template": …, "panel": {...}}] of the registered panels that have something to show."""
    shown = []
    for panel in registry.values():
        context = panel.context(request)
        if context is not None:
            shown.append({"template": panel.template, "panel": context})
    return shown
