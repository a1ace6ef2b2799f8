from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.choices import Role

from . import jobs, panels
from .models import Job
from .writes import OutOfScope, scoped_save

# htmx stops polling when the server answers 286 (used once a job has finished).
HTMX_STOP_POLLING = 286


def paginate(request, queryset, per_page=50):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def _get_job_for_user(request, pk, action="view"):
    return get_object_or_404(Job.objects.restrict(request.user, action), pk=pk)


def healthz(request):
    """Liveness for load balancers and compose: the app answers and the database too."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@login_required
def home(request):
    user = request.user
    scope = user.scope
    if scope.role == Role.BANK_OFFICER:  # their home is the workspace of their enterprises
        return redirect("banks:workspace")
    # Through the app registry: core sits below the apps whose rows the home page counts.
    Enterprise = apps.get_model("enterprises", "Enterprise")
    ImportBatch = apps.get_model("enterprises", "ImportBatch")
    Loan = apps.get_model("loans", "Loan")
    runs_jobs = scope.allows("import") or scope.allows("screen")
    context = {
        "scope": scope,
        "role_label": Role(scope.role).label if scope.role in Role.values else scope.role,
        "enterprise_count": Enterprise.objects.restrict(user).count(),
        "loan_count": Loan.objects.restrict(user).count(),
        "runs_jobs": runs_jobs,
        "recent_jobs": Job.objects.restrict(user).select_related("created_by")[:5]
        if runs_jobs
        else [],
        "recent_imports": ImportBatch.objects.restrict(user, "import")[:5],
    }
    return render(request, "core/home.html", context)


@login_required
def job_list(request):
    jobs.fail_stale_jobs()
    queryset = Job.objects.restrict(request.user).select_related("created_by", "region")
    status = request.GET.get("status")
    if status:
        queryset = queryset.filter(status=status)
    return render(
        request, "core/job_list.html", {"page": paginate(request, queryset), "status": status}
    )


@login_required
def job_detail(request, pk):
    job = jobs.live(_get_job_for_user(request, pk))
    return render(request, "core/job_detail.html", _job_context(request, job))


def _may_rerun(user, job):
    # Re-running needs the right to start this kind of job (always a write right, see
    # core.kinds), in the job's region, like starting it the first time.
    return Job.objects.restrict(user, jobs.kind_action(job.kind)).filter(pk=job.pk).exists()


def _job_context(request, job):
    return {
        "job": job,
        "panel": panels.panel_context(request, job),
        # The log and traceback can hold SQL and data: administrators only.
        "show_log": request.user.scope.everything,
        "can_rerun": job.is_finished and _may_rerun(request.user, job),
    }


@login_required
def job_progress(request, pk):
    """The progress fragment htmx polls; 286 once finished stops the polling."""
    jobs.fail_stale_jobs()
    job = jobs.live(_get_job_for_user(request, pk))
    response = render(request, "core/_job_progress.html", _job_context(request, job))
    if job.is_finished and request.htmx:
        response.status_code = HTMX_STOP_POLLING
    return response


@login_required
@require_POST
def job_rerun(request, pk):
    job = _get_job_for_user(request, pk)
    if not _may_rerun(request.user, job):
        return HttpResponse(_("You may not run this kind of job."), status=403)
    if not job.is_finished:
        return HttpResponse(_("This job is still running."), status=409)
    if not job.can_rerun:
        return HttpResponse(_("Running this job again cannot help."), status=409)
    try:
        action = jobs.kind_action(job.kind)
        new_job = scoped_save(request.user, action, lambda: jobs.rerun(job, request.user))
    except OutOfScope as exc:
        messages.error(request, exc.args[0])
        return redirect("core:job_detail", pk=job.pk)
    return redirect("core:job_detail", pk=new_job.pk)
