"""Assignments, feedback and hand-offs for partner banks (双线对接 contract).

``GET /api/v1/assignments/?region=CODE`` lists one item per (enterprise, role); a bank token
sees only its own rows, and answers them with ``POST /api/v1/assignments/<id>/feedback/``.
"""

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from core.api.viewsets import ScopedReadOnlyModelViewSet, ScopedViewSetMixin

from ..choices import (
    AssignmentRole,
    AssignmentStatus,
    CreditProduct,
    DeclineReason,
    FeedbackStatus,
)
from ..models import Bank, BankAssignment, BankFeedback, HandOff
from ..services.allocation import institution_of
from ..services.feedback import record_feedback


class AssignmentSerializer(serializers.ModelSerializer):
    enterprise_uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    bank_code = serializers.CharField(source="bank_id", read_only=True)
    institution_code = serializers.SerializerMethodField()

    class Meta:
        model = BankAssignment
        fields = [
            "id",
            "enterprise_uscc",
            "enterprise_name",
            "role",
            "bank_code",
            "institution_code",
            "status",
            "due_on",
            "materials_complete_on",
            "decision_due_on",
            "decided_on",
            "assigned_at",
        ]

    def get_institution_code(self, assignment) -> str:
        # The parent chain of every bank, read once per request (a few hundred rows).
        if "bank_parents" not in self.context:
            self.context["bank_parents"] = dict(Bank.objects.values_list("code", "parent_id"))
        return institution_of(assignment.bank_id, self.context["bank_parents"])


class FeedbackSerializer(serializers.ModelSerializer):
    """A bank's answer. 不予授信 needs ``decline_reason`` and ``reason`` (the explanation);
    已授信 ``credit_amount`` (万元, > 0) and ``credit_product``; ``materials_complete_on``
    (with 已受理) starts the credit-decision clock. Errors name the field, in the language of
    the request (Accept-Language: zh-hans by default, en)."""

    status = serializers.ChoiceField(choices=FeedbackStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    decline_reason = serializers.ChoiceField(
        choices=DeclineReason.choices, required=False, allow_blank=True, default=""
    )
    credit_amount = serializers.DecimalField(
        max_digits=20, decimal_places=6, required=False, allow_null=True, default=None
    )
    credit_product = serializers.ChoiceField(
        choices=CreditProduct.choices, required=False, allow_blank=True, default=""
    )
    materials_complete_on = serializers.DateField(required=False, allow_null=True, default=None)
    feedback_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text=_("Default: today.")
    )
    enterprise_uscc = serializers.CharField(source="assignment.enterprise.uscc", read_only=True)
    bank_code = serializers.CharField(source="assignment.bank_id", read_only=True)

    class Meta:
        model = BankFeedback
        fields = [
            "id",
            "assignment",
            "enterprise_uscc",
            "bank_code",
            "status",
            "reason",
            "decline_reason",
            "credit_amount",
            "credit_product",
            "materials_complete_on",
            "feedback_on",
            "created_at",
        ]
        read_only_fields = ["id", "assignment", "created_at"]


class HandOffSerializer(serializers.ModelSerializer):
    """A hand-off without the other bank's rows: the roles and what became of it."""

    enterprise_uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    from_role = serializers.CharField(source="from_assignment.role", read_only=True)
    handed_to_backup = serializers.SerializerMethodField()

    class Meta:
        model = HandOff
        fields = ["id", "enterprise_uscc", "from_role", "handed_to_backup", "cause", "created_at"]

    def get_handed_to_backup(self, handoff) -> bool:
        return handoff.to_assignment_id is not None


class AssignmentFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(
        field_name="enterprise__region__code",
        lookup_expr="startswith",
        label=_("Region code (its enterprises and those of the regions below it)"),
    )
    role = django_filters.ChoiceFilter(choices=AssignmentRole.choices)
    status = django_filters.ChoiceFilter(choices=AssignmentStatus.choices)
    enterprise_uscc = django_filters.CharFilter(field_name="enterprise__uscc")

    class Meta:
        model = BankAssignment
        fields = ["region", "role", "status", "enterprise_uscc"]


class AssignmentViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Lead and backup banks of enterprises, one item per (enterprise, role)."""

    queryset = BankAssignment.objects.select_related("enterprise").order_by("pk")
    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilter
    write_action = "report"

    @extend_schema(request=FeedbackSerializer, responses={201: FeedbackSerializer})
    @action(detail=True, methods=["post"], serializer_class=FeedbackSerializer)
    def feedback(self, request, pk=None):
        """Record the bank's feedback (不予授信 needs a reason code and an explanation and
        hands off at once; 已授信 needs the amount and product)."""
        assignment = self.get_object()
        form = FeedbackSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            feedback = record_feedback(
                request.user,
                assignment,
                data["status"],
                data["reason"],
                decline_reason=data["decline_reason"],
                credit_amount=data["credit_amount"],
                credit_product=data["credit_product"],
                materials_complete_on=data["materials_complete_on"],
                feedback_on=data["feedback_on"],
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)


class HandOffViewSet(ScopedReadOnlyModelViewSet):
    """Hand-offs from a lead to a backup bank, and the ends (declined or overdue at both)."""

    queryset = HandOff.objects.select_related("enterprise", "from_assignment").order_by("pk")
    serializer_class = HandOffSerializer
    filterset_fields = ["cause"]


class FeedbackFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=FeedbackStatus.choices)
    decline_reason = django_filters.ChoiceFilter(choices=DeclineReason.choices)
    enterprise_uscc = django_filters.CharFilter(field_name="assignment__enterprise__uscc")
    feedback_on_from = django_filters.DateFilter(field_name="feedback_on", lookup_expr="gte")
    feedback_on_to = django_filters.DateFilter(field_name="feedback_on", lookup_expr="lte")

    class Meta:
        model = BankFeedback
        fields = ["assignment", "status", "decline_reason", "enterprise_uscc"]


class FeedbackViewSet(ScopedReadOnlyModelViewSet):
    """Every answer of the banks (a bank token: its own branches' only). Answer through
    ``POST /api/v1/assignments/<id>/feedback/``."""

    queryset = BankFeedback.objects.select_related("assignment__enterprise").order_by("pk")
    serializer_class = FeedbackSerializer
    filterset_class = FeedbackFilter
