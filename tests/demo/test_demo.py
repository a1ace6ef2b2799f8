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
        # the dashboards' demo step, last: the landing figures over every step's rows
        ("dashboards.refresh", "succeeded"),
    ]
    applied = set(ImportBatch.objects.filter(status="applied").values_list("kind", flat=True))
    assert applied == set(demo.IMPORT_ORDER)
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

    assert sorted(BankFeedback.objects.values_list("status", flat=True)) == sorted(
        status for status, _reason in demo.DEMO_ANSWERS
    )
    causes = list(HandOff.objects.values_list("cause", flat=True))
    assert causes.count("declined") == 1 and causes.count("deadline") == demo.DEMO_OVERDUE


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
