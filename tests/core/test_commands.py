"""Management commands run their jobs, and the jobs those queue, to the end before exiting."""

import pytest
from django.core.management import call_command

from core.models import Job
from tests.enterprises.helpers import REGISTRY_HEADER, registry_rows, write_csv

pytestmark = pytest.mark.django_db(transaction=True)


def kinds_and_statuses():
    return list(Job.objects.order_by("pk").values_list("kind", "status"))


def test_import_data_returns_after_the_rebuild_and_refresh_it_triggers(tmp_path, regions):
    path = write_csv(tmp_path / "r.csv", REGISTRY_HEADER, registry_rows(2))
    call_command("import_data", "registry", str(path))
    # The import queues a rebuild and a refresh; the rebuild queues a refresh of its own.
    assert sorted(kinds_and_statuses()) == [
        ("dashboards.refresh", "succeeded"),
        ("dashboards.refresh", "succeeded"),
        ("screening.rebuild", "succeeded"),
    ]


def test_rebuild_lists_returns_after_the_refresh_it_triggers(regions):
    call_command("rebuild_lists", region="330326")
    assert kinds_and_statuses() == [
        ("screening.rebuild", "succeeded"),
        ("dashboards.refresh", "succeeded"),
    ]
