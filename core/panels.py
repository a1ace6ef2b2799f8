"""Job-page panels: a section of the job page contributed by the app that owns a job kind.

core sits below every app and imports none of them, so an app that wants to show more on the
page of its jobs (an import's row errors, say) registers a panel for its kinds instead:
a template, a function building that template's context, and optionally a rule saying when
"Run again" is pointless.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class JobPanel:
    template: str
    context: object  # context(request, job) -> dict, or None to show no panel
    can_rerun: object = None  # can_rerun(job) -> bool; None: a finished job can always rerun


_PANELS = {}


def register_panel(kinds, template, context, can_rerun=None):
    """Show ``template`` with ``context(request, job)`` on the page of jobs of ``kinds``."""
    panel = JobPanel(template, context, can_rerun)
    for kind in kinds:
        _PANELS[kind] = panel


def panel_context(request, job):
    """The panel of ``job`` as ``{"template": …, **context}``, or None when it has none."""
    panel = _PANELS.get(job.kind)
    if panel is None:
        return None
    context = panel.context(request, job)
    if context is None:
        return None
    return {"template": panel.template, **context}


def can_rerun(job):
    """False when the app owning the job's kind says running it again cannot help."""
    panel = _PANELS.get(job.kind)
    if panel is None or panel.can_rerun is None:
        return True
    return bool(panel.can_rerun(job))
