"""The demo's timeline enterprises show several kinds of events, list changes included."""

import pytest
from django.core.management import call_command

from accounts.models import User
from demo.timeline import timeline_enterprises
from enterprises.timeline import timeline

pytestmark = pytest.mark.django_db


def test_the_demo_enterprises_have_a_rich_timeline(regions):
    call_command("load_demo", entities=400)
    banker, credited, newcomer = timeline_enterprises()
    staff = User.objects.get(username="taskforce")
    sources = {e.source for e in timeline(credited, staff)[0]}
    assert {"registered", "imports", "assignments", "feedback", "loans"} <= (sources)
    # The banker reads it too (its own branch's rows).
    assert {"assignments", "feedback", "loans"} <= {e.source for e in timeline(credited, banker)[0]}
    # The newcomer's first loan moved it between lists: the second run's diff.
    changes = [e for e in timeline(newcomer, staff)[0] if e.source == "list_changes"]
    assert {e.title for e in changes} >= {"进入名单：有贷户", "移出名单：无贷户"}
    # … and its stage: 无贷户 → 首贷户
    stages = [e for e in timeline(newcomer, staff)[0] if e.source == "stages"]
    assert [e.title for e in stages] == ["无贷户 → 首贷户"]
