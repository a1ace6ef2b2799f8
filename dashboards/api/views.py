from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ..forms import StatsParamsForm, region_in_scope
from ..funnel import compute_funnel
from ..services import GROUP_BY_CHOICES
from ..snapshots import compute_ranking, compute_stats
from .serializers import FunnelSerializer, RankingSerializer, StatsSerializer

PERIOD_PARAMETERS = [
    OpenApiParameter("region", OpenApiTypes.STR, description="region code; default: yours"),
    OpenApiParameter("start", OpenApiTypes.DATE, description="YYYY-MM-DD; default 1 Jan"),
    OpenApiParameter("end", OpenApiTypes.DATE, description="YYYY-MM-DD; default today"),
]


def scoped_params(request):
    """The validated region and period of a stats request, or 403 / 400 / 404."""
    user = request.user
    if not user.scope.allows("view"):
        raise PermissionDenied()
    form = StatsParamsForm(request.query_params, user)
    if not form.is_valid():
        raise ValidationError({k: [str(m) for m in v] for k, v in form.errors.items()})
    params = form.cleaned_data
    if params["region"] is None or not region_in_scope(user, params["region"]):
        raise NotFound()
    return params


def region_ref(region):
    return {"code": region.code, "name": region.name, "level": region.level}


class StatsView(APIView):
    """KPIs of a region over a period (domain.md "KPI definitions"), optionally grouped."""

    @extend_schema(
        parameters=[
            OpenApiParameter("region", OpenApiTypes.STR, description="region code; default: yours"),
            OpenApiParameter("start", OpenApiTypes.DATE, description="YYYY-MM-DD; default 1 Jan"),
            OpenApiParameter("end", OpenApiTypes.DATE, description="YYYY-MM-DD; default today"),
            OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(GROUP_BY_CHOICES)),
        ],
        responses=StatsSerializer,
    )
    def get(self, request):
        user = request.user
        if not user.scope.allows("view"):
            raise PermissionDenied()
        form = StatsParamsForm(request.query_params, user)
        if not form.is_valid():
            raise ValidationError({k: [str(m) for m in v] for k, v in form.errors.items()})
        params = form.cleaned_data
        region = params["region"]
        if region is None or not region_in_scope(user, region):
            raise NotFound()
        result = compute_stats(user, region, params["start"], params["end"], params["group_by"])
        payload = {
            **result["totals"],
            "region": {"code": region.code, "name": region.name, "level": region.level},
            "start": result["start"],
            "end": result["end"],
            "group_by": result["group_by"],
            "as_of": result["as_of"],
            "data_as_of": result["data_as_of"],
            "rows": [{"region": None, **row} for row in result["rows"]],
        }
        return Response(StatsSerializer(payload).data)


class FunnelView(APIView):
    """The funnel active → visited → need found → recommended → credit granted → disbursed of
    a region over a period, and the no-loan → first-loan conversion (docs/kpis.md "Funnel")."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=FunnelSerializer)
    def get(self, request):
        params = scoped_params(request)
        result = compute_funnel(request.user, params["region"], params["start"], params["end"])
        return Response(FunnelSerializer({**result, "region": region_ref(result["region"])}).data)


class BankRankingView(APIView):
    """The bank ranking of a region over a period, per institution and its branches
    (docs/kpis.md "Bank ranking")."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=RankingSerializer)
    def get(self, request):
        params = scoped_params(request)
        result = compute_ranking(request.user, params["region"], params["start"], params["end"])
        return Response(RankingSerializer({**result, "region": region_ref(result["region"])}).data)
