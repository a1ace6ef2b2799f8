"""The loans panel on an enterprise's page: stage and its history, time to loan, renewal
chains, credit approvals, and the bank officer's buttons (enterprises/ does not import loans)."""

from django import template
from django.utils import timezone

from ..choices import Stage
from ..models import CreditApproval, EnterpriseStage, Loan, RenewalContact, StageChange
from ..services.chains import outstanding_balance, renewal_chains, time_to_loan

register = template.Library()


@register.inclusion_tag("loans/_enterprise_panel.html", takes_context=True)
def loan_panel(context, enterprise):
    user = context["request"].user
    stage = EnterpriseStage.objects.filter(enterprise=enterprise).first()
    loans = list(Loan.objects.restrict(user).filter(enterprise=enterprise).select_related("bank"))
    may_report = user.scope.allows("report") and user.scope.bank_codes is not None
    mine = set()
    if may_report:
        mine = set(
            Loan.objects.restrict(user, "report")
            .filter(enterprise=enterprise)
            .values_list("pk", flat=True)
        )
    contacted = set(
        RenewalContact.objects.filter(loan__in=[loan.pk for loan in loans]).values_list(
            "loan_id", flat=True
        )
    )
    for loan in loans:
        loan.mine = loan.pk in mine
        loan.contacted = loan.pk in contacted
    chains = [chain for chain in renewal_chains(loans) if len(chain) > 1]
    approvals = list(
        CreditApproval.objects.restrict(user)
        .filter(enterprise=enterprise)
        .select_related("bank")[:20]
    )
    mine_approvals = set()
    if may_report:
        mine_approvals = set(
            CreditApproval.objects.restrict(user, "report")
            .filter(pk__in=[a.pk for a in approvals])
            .values_list("pk", flat=True)
        )
    for approval in approvals:
        approval.mine = approval.pk in mine_approvals
    return {
        "request": context["request"],
        "enterprise": enterprise,
        "stage": stage,
        # Since when: a bank user may not learn the day of another bank's loan from it.
        "show_since": user.scope.bank_codes is None,
        "stage_label": stage.get_stage_display() if stage else Stage.NO_LOAN.label,
        "changes": StageChange.objects.restrict(user)
        .filter(enterprise=enterprise)
        .select_related("loan")
        .order_by("changed_on", "pk"),
        "ttl": time_to_loan(enterprise, user),
        "chains": chains,
        "outstanding": outstanding_balance(loans, timezone.localdate()),
        "approvals": approvals,
        "loans": loans,
        "may_report": may_report
        and enterprise.pk
        in set(
            type(enterprise)
            .objects.restrict(user, "report")
            .filter(pk=enterprise.pk)
            .values_list("pk", flat=True)
        ),
    }
