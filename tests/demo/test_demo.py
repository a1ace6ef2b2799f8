"""The demo county is built through the real import pipeline, deterministically."""

import pytest
from django.core.management import call_command

from accounts.models import User
from banks.models import AllocationRun, Bank, BankAssignment, UnplacedEnterprise, VisitBatch
from core.models import Job
from demo import services as demo
from enterprises.models import Enterprise, ImportBatch
from loans.models import Loan
from screening.models import ScreeningRun

pytestmark = pytest.mark.django_db(transaction=True)


def test_load_demo_imports_every_kind_through_the_pipeline(regions, caplog):
    from config.celery import app as celery_app

    # The embedded default's broker: in-process jobs must never touch it.
    broker = celery_app.conf.broker_url
    celery_app.conf.broker_url = "memory://"
    try:
        call_command("load_demo", entities=400)
    finally:
        celery_app.conf.broker_url = broker
    # In-process jobs never touch the (absent) broker: no "No hostname was supplied".
    assert not [r for r in caplog.records if r.name.startswith(("kombu", "celery"))]
    # The command runs the jobs it queues (the dashboards refresh after the lists) to the end.
    assert list(Job.objects.values_list("kind", "status").order_by("pk")) == [
        ("screening.rebuild", "succeeded"),
        ("dashboards.refresh", "succeeded"),
        ("banks.allocate", "succeeded"),
        # The recommendation step (demo/recommend.py) rebuilds the lists for the reserve pool.
        ("screening.rebuild", "succeeded"),
        ("dashboards.refresh", "succeeded"),
        # demo/api14.py: the visits, recommendations and approvals files, each imported like
        # any other (the lists rebuilt, the dashboards refreshed after the import and the lists).
        *[("screening.rebuild", "succeeded"), *[("dashboards.refresh", "succeeded")] * 2] * 3,
        # and two loans from the banker's system: their stages follow in a job
        ("loans.sent_loans", "succeeded"),
        # demo/timeline.py: two loans, then the lists again (a diff for the timeline).
        ("screening.rebuild", "succeeded"),
        ("dashboards.refresh", "succeeded"),
        # the dashboards' demo step, last: the landing figures over every step's rows
        ("dashboards.refresh", "succeeded"),
    ]
    applied = set(ImportBatch.objects.filter(status="applied").values_list("kind", flat=True))
    # + a bank's feedback file (demo/feedback2.py) and the coordination files (demo/api14.py)
    assert applied == {*demo.IMPORT_ORDER, "feedback", "visits", "recommendations", "approvals"}
    assert Enterprise.objects.count() == 400
    assert Loan.objects.exists()
    assert ScreeningRun.objects.filter(is_current=True).exists()
    assert {u.role for u in User.objects.all()} == {role for _n, role, *_r in demo.DEMO_USERS}
    assert User.objects.get(username="banker").check_password(demo.DEMO_PASSWORD)
    # Bank matching: one visit batch, allocated once; 南麂镇 has one serving institution only.
    batch = VisitBatch.objects.get()
    run = AllocationRun.objects.get(visit_batch=batch)
    assert run.summary["placed"] > 0
    assert BankAssignment.objects.filter(run=run).count() == 2 * run.summary["placed"]
    assert set(UnplacedEnterprise.objects.values_list("reason", flat=True)) == {
        "no_second_institution"
    }
    assert Bank.objects.get(code="WZB-PY").focus_areas == ["inclusive", "foreign_trade"]
    # The banker has answered, one decline and a few run-out clocks were handed to the backup.
    from banks.models import BankFeedback, HandOff

    banker = BankFeedback.objects.filter(assignment__bank_id="WZB-PY", batch__isnull=True)
    # the earlier demo answers and (as far as the small test demo has leads) demo/feedback2.py
    assert set(banker.exclude(decline_reason="").values_list("decline_reason", flat=True)) >= {
        "insufficient_collateral",
        "poor_credit",
    }
    assert banker.filter(status="credited", credit_amount=300).exists()
    # one decision overdue (materials complete 40 days ago), shown in 待关注
    from django.utils import timezone

    from banks.services.feedback import decision_overdue_q

    overdue = BankAssignment.objects.filter(decision_overdue_q(timezone.localdate()))
    assert overdue.count() == 1 and overdue.get().bank_id == "WZB-PY"
    imported = BankFeedback.objects.filter(batch__kind="feedback")
    assert sorted(imported.values_list("status", flat=True)) == [
        "accepted",
        "contacted",
        "declined",
    ]
    causes = list(HandOff.objects.values_list("cause", flat=True))
    assert causes.count("declined") == 4 and causes.count("deadline") == demo.DEMO_OVERDUE
    # Recommendations: applications in every status, approved by a second member, one push.
    from screening.models import ListMembership
    from visits.models import Application, Recommendation

    statuses = set(Application.objects.values_list("status", flat=True))
    assert statuses == {"pending", "checked", "approved", "rejected"}
    assert all(
        a.checked_by_id != a.approved_by_id for a in Application.objects.filter(status="approved")
    )
    assert Recommendation.objects.filter(recommended_on__isnull=False, push__isnull=False).exists()
    assert ListMembership.objects.filter(run__is_current=True, list_type="reserve").exists()
    # Loans (demo/loans.py): a first loan, a renewal chain, the maturity watch.
    from loans.models import EnterpriseStage, MaturityWatch

    first = Loan.objects.get(loan_no="DEMO-JJ-001")
    assert first.is_first_loan
    assert EnterpriseStage.objects.get(enterprise=first.enterprise).stage == "first_loan"
    assert Loan.objects.filter(loan_no="DEMO-JJ-103", renews__loan_no="DEMO-JJ-102").exists()
    assert MaturityWatch.objects.filter(loan__loan_no="DEMO-JJ-201").exists()
    assert not MaturityWatch.objects.filter(loan__loan_no="DEMO-JJ-301").exists()
    # The bank API's loans (demo/api14.py): in the change history, their stage set by the job.
    from auditlog.models import LogEntry

    sent = Loan.objects.filter(loan_no__startswith="DEMO-API-")
    assert sent.count() == 2
    for loan in sent:
        assert LogEntry.objects.get_for_object(loan).filter(action=LogEntry.Action.CREATE).exists()
        assert EnterpriseStage.objects.filter(enterprise=loan.enterprise).exists()


def test_demo_files_are_the_same_every_time(tmp_path):
    townships = ["330326100", "330326101"]
    first = demo.generate_files(tmp_path / "a", townships, entities=200)
    second = demo.generate_files(tmp_path / "b", townships, entities=200)
    for kind in demo.IMPORT_ORDER:
        assert first[kind].read_bytes() == second[kind].read_bytes()


def test_an_import_line_of_the_demo_speaks_one_language(regions, tmp_path):
    from django.utils import translation

    from tests.enterprises.helpers import REGISTRY_HEADER, registry_rows, write_csv

    path = write_csv(tmp_path / "registry.csv", REGISTRY_HEADER, registry_rows(3))
    with translation.override("zh-hans"):
        line = demo.import_demo_file("registry", path)
    assert line == "已导入 · 读取 3 行，新增 3，更新 0，错误 0"
