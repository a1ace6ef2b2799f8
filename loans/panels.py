"""What loans adds to the bank officer's workspace and the staff's needs-attention page."""

from .models import MaturityWatch


def workspace_panel(request):
    user = request.user
    return {
        "watch_count": MaturityWatch.objects.restrict(user).count(),
        "may_record": user.scope.allows("report"),
    }


def attention_panel(request):
    """The county's count of loans maturing without a contact (staff of the region)."""
    return {"watch_count": MaturityWatch.objects.restrict(request.user).count()}
