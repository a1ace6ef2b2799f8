from django.db.models import Count
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from core import jobs
from core.api.serializers import JobSerializer
from core.api.viewsets import ScopedGenericViewSet

from ..choices import ChangeKind, ListType, RunStatus
from ..filters import ExclusionFilter, MembershipFilter
from ..models import ListChange, ListExclusion, ListMembership, ScreeningRun
from ..selectors import with_own_first_loan
from .serializers import (
    ChangeSerializer,
    ExclusionSerializer,
    ListSummarySerializer,
    MembershipSerializer,
    RebuildRequestSerializer,
    RunSerializer,
)


class ListFilter(MembershipFilter):
    class Meta(MembershipFilter.Meta):
        fields = ["list_type", *MembershipFilter.Meta.fields]


class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    ScopedGenericViewSet,
):
    """Members of the current lists. Filter with ``list_type`` (active, no_loan, has_loan,
    first_loan, key_visit, reserve), ``region``, ``tier``, ``batch``, ``entity_type``,
    ``rating``, ``banks`` (0, 1, 2-3, 4+) and ``q`` (name or USCC)."""

    queryset = ListMembership.objects.filter(
        run__is_current=True, run__status=RunStatus.SUCCEEDED
    ).select_related("enterprise")
    serializer_class = MembershipSerializer
    filterset_class = ListFilter

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "summary":
            return queryset
        return with_own_first_loan(queryset, self.request.user)

    @extend_schema(responses=ListSummarySerializer(many=True), filters=False)
    @action(detail=False, pagination_class=None)
    def summary(self, request):
        """Each list with its label and the number of members the caller may see."""
        counts = dict(
            self.get_queryset().values_list("list_type").annotate(n=Count("id")).order_by()
        )
        return Response(
            [
                {"list_type": value, "label": str(label), "count": counts.get(value, 0)}
                for value, label in ListType.choices
            ]
        )


class ExclusionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    ScopedGenericViewSet,
):
    """Registered enterprises not on the current active (or key visit) list, with reasons;
    ``repairable=true`` lists those one fixable reason away."""

    queryset = ListExclusion.objects.filter(
        run__is_current=True, run__status=RunStatus.SUCCEEDED
    ).select_related("enterprise")
    serializer_class = ExclusionSerializer
    filterset_class = ExclusionFilter

    def get_queryset(self):
        return with_own_first_loan(super().get_queryset(), self.request.user)


class RunViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    ScopedGenericViewSet,
):
    """Screening runs (one per county and rebuild); POST starts a rebuild (action ``screen``)."""

    queryset = ScreeningRun.objects.all()
    serializer_class = RunSerializer
    filterset_fields = ["region", "status", "is_current"]
    write_action = "screen"

    @extend_schema(request=RebuildRequestSerializer, responses={202: JobSerializer})
    def create(self, request):
        scope = request.user.scope
        if not scope.allows("screen"):
            raise PermissionDenied  # the runs are visible, starting one is not allowed: 403
        params = RebuildRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        region = params.validated_data.get("region") or request.user.region
        if region is None and not scope.everything:
            return Response({"region": _("Give a region code.")}, status=400)
        if (
            region is not None
            and scope.region_prefix
            and not region.code.startswith(scope.region_prefix)
        ):
            raise Http404
        job = jobs.enqueue("screening.rebuild", user=request.user, region=region)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        filters=False,
        parameters=[
            OpenApiParameter("list_type", enum=ListType.values),
            OpenApiParameter("change", enum=ChangeKind.values),
        ],
        responses=ChangeSerializer(many=True),
    )
    @action(detail=True)
    def changes(self, request, pk=None):
        """Who entered and who left each list in this run, and why (paginated)."""
        run = self.get_object()
        queryset = (
            with_own_first_loan(ListChange.objects.filter(run=run), request.user)
            .restrict(request.user)
            .select_related("enterprise")
            .order_by("list_type", "change", "enterprise_id")
        )
        for field in ("list_type", "change"):
            if request.query_params.get(field):
                queryset = queryset.filter(**{field: request.query_params[field]})
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(ChangeSerializer(page, many=True).data)
