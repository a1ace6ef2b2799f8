from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.choices import Role
from enterprises.models import Enterprise, ImportBatch
from loans.models import Loan

from . import jobs
from .models import Job

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
    recent_jobs = Job.objects.restrict(user).select_related("created_by")[:5]
    context = {
        "scope": scope,
        "role_label": Role(scope.role).label if scope.role in Role.values else scope.role,
        "enterprise_count": Enterprise.objects.restrict(user).count(),
        "loan_count": Loan.objects.restrict(user).count(),
        "recent_jobs": recent_jobs,
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
    job = _get_job_for_user(request, pk)
    return render(request, "core/job_detail.html", {"job": job})


@login_required
def job_progress(request, pk):
    """The progress fragment htmx polls; 286 once finished stops the polling."""
    jobs.fail_stale_jobs()
    job = _get_job_for_user(request, pk)
    response = render(request, "core/_job_progress.html", {"job": job})
    if job.is_finished and request.htmx:
        response.status_code = HTMX_STOP_POLLING
    return response


@login_required
@require_POST
def job_rerun(request, pk):
    job = _get_job_for_user(request, pk)
    # Re-running needs the right to start this kind of job, like starting it the first time.
    if not request.user.scope.allows(jobs.kind_action(job.kind)):
        return HttpResponse(_("You may not run this kind of job."), status=403)
    if not job.is_finished:
        return HttpResponse(_("This job is still running."), status=409)
    new_job = jobs.rerun(job, request.user)
    return redirect("core:job_detail", pk=new_job.pk)
