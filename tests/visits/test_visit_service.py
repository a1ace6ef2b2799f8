"""record_visit / update_visit / withdraw_visit: rules, 1+1 team, drafts sent twice, signals,
optimistic locking and the change history."""

import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from core.locking import EditConflict
from core.writes import OutOfScope
from visits.models import Visit
from visits.services.visits import record_visit, update_visit, withdraw_visit
from visits.signals import visit_recorded, visit_withdrawn

from .helpers import visit_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent():
    """The visit_recorded signals sent, as (visit pk, user, created, inside a transaction)."""
    calls = []

    def receiver(sender, visit, user, created, **kwargs):
        calls.append((visit.pk, user.username, created, connection.in_atomic_block))

    visit_recorded.connect(receiver, dispatch_uid="test-visit-recorded")
    yield calls
    visit_recorded.disconnect(dispatch_uid="test-visit-recorded")


def test_a_township_worker_records_a_visit_with_the_1_plus_1_team(cast, world):
    world.mine.bank_assignments.update(township_worker=cast.township)

    visit, created = record_visit(cast.township, visit_data(world.mine))

    assert created
    visit.refresh_from_db()
    assert (visit.township_worker, visit.township_worker_name) == (cast.township, "township")
    assert (visit.bank, visit.bank_officer, visit.bank_officer_name) == (cast.bank, None, "")
    assert visit.created_by == cast.township
    assert visit.need_amount == Decimal("200")
    assert visit.acceptable_guarantees == ["credit", "mortgage"]
    assert visit.problems == ["collateral"]
    assert visit.version == 1


def test_a_bank_officer_records_with_the_paired_township_worker(cast, world):
    world.mine.bank_assignments.update(township_worker=cast.township)
    visit, _created = record_visit(cast.officer, visit_data(world.mine, bank_officer_name=""))
    assert (visit.bank_officer, visit.bank_officer_name) == (cast.officer, "officer")
    assert (visit.township_worker, visit.bank) == (cast.township, cast.bank)


def test_a_typed_partner_name_replaces_the_default_link(cast, world):
    world.mine.bank_assignments.update(township_worker=cast.township)
    visit, _ = record_visit(cast.officer, visit_data(world.mine, township_worker_name="李四"))
    assert (visit.township_worker, visit.township_worker_name) == (None, "李四")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"visited_on": timezone.localdate() + timedelta(days=1)}, "visited_on"),
        ({"visited_on": None}, "visited_on"),
        ({"need_amount": None}, "need_amount"),
        ({"need_amount": "0"}, "need_amount"),
        ({"need_amount": "-5"}, "need_amount"),
        ({"need_purpose": ""}, "need_purpose"),
        ({"has_need": None}, "has_need"),
        ({"acceptable_guarantees": ["gold"]}, "acceptable_guarantees"),
        ({"problems": ["weather"]}, "problems"),
        ({"round": "third"}, "round"),
        ({"method": "pigeon"}, "method"),
        ({"intent": "maybe"}, "intent"),
        ({"next_visit_on": timezone.localdate() - timedelta(days=30)}, "next_visit_on"),
    ],
)
def test_invalid_fields_are_refused_by_field_and_nothing_is_saved(cast, world, overrides, field):
    with pytest.raises(ValidationError) as refused:
        record_visit(cast.township, visit_data(world.mine, **overrides))
    assert field in refused.value.message_dict
    assert not Visit.objects.exists()


def test_without_a_need_the_need_fields_are_cleared(cast, world):
    data = visit_data(world.mine, has_need=False, intent="none", need_amount="0")
    visit, _ = record_visit(cast.township, data)
    assert (visit.need_amount, visit.need_purpose, visit.acceptable_guarantees) == (None, "", [])
    assert visit.next_visit_on is None  # no need, no strong intent: no follow-up


def test_a_need_or_strong_intent_sets_the_follow_up_30_days_later(cast, world, settings):
    day = timezone.localdate() - timedelta(days=3)
    visit, _ = record_visit(cast.township, visit_data(world.mine, visited_on=day, intent=""))
    assert visit.next_visit_on == day + timedelta(days=30)
    settings.VISIT_FOLLOW_UP_DAYS = 14
    strong, _ = record_visit(
        cast.township,
        visit_data(world.town_other_bank, visited_on=day, has_need=False, intent="strong"),
    )
    assert strong.next_visit_on == day + timedelta(days=14)
    chosen = day + timedelta(days=7)
    own, _ = record_visit(cast.township, visit_data(world.mine, next_visit_on=chosen))
    assert own.next_visit_on == chosen


def test_a_draft_sent_twice_makes_one_visit(cast, world, sent):
    key = uuid.uuid4()
    first, created = record_visit(cast.officer, visit_data(world.mine), client_key=key)
    again, created_again = record_visit(cast.officer, visit_data(world.mine), client_key=key)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Visit.objects.count() == 1
    assert len(sent) == 1  # nothing written the second time, nothing sent


def test_a_draft_key_of_an_out_of_scope_visit_is_refused(cast, world):
    key = uuid.uuid4()
    record_visit(cast.staff, visit_data(world.other_town), client_key=key)
    with pytest.raises(OutOfScope):
        record_visit(cast.township, visit_data(world.mine), client_key=key)
    assert Visit.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_copies_of_a_draft_at_once_make_one_visit(cast, world):
    """The second copy arrives while the first is being saved (not yet committed): the unique
    client_key index makes it wait, then it reads and returns the first one's visit."""
    key = uuid.uuid4()
    inserted, results, errors = threading.Event(), {}, []

    def first():
        try:
            with transaction.atomic():
                results["first"] = record_visit(cast.officer, visit_data(world.mine), key)
                inserted.set()
                time.sleep(1.0)  # the second copy is now blocked on the index
        except Exception as exc:
            errors.append(exc)
        finally:
            inserted.set()
            connection.close()

    def second():
        try:
            inserted.wait(10)
            results["second"] = record_visit(cast.officer, visit_data(world.mine), key)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    (visit1, created1), (visit2, created2) = results["first"], results["second"]
    assert visit1.pk == visit2.pk
    assert (created1, created2) == (True, False)
    assert Visit.objects.filter(client_key=key).count() == 1


def test_the_signal_is_sent_once_per_save_inside_the_transaction(cast, world, sent):
    visit, _ = record_visit(cast.township, visit_data(world.mine))
    update_visit(cast.township, visit, visit_data(world.mine, note="改"), expected_version=1)
    assert sent == [
        (visit.pk, "township", True, True),
        (visit.pk, "township", False, True),
    ]


def test_a_receiver_that_fails_rolls_the_visit_back(cast, world):
    def refuse(**kwargs):
        raise RuntimeError("receiver failed")

    visit_recorded.connect(refuse, dispatch_uid="test-refuse")
    try:
        with pytest.raises(RuntimeError):
            record_visit(cast.township, visit_data(world.mine))
    finally:
        visit_recorded.disconnect(dispatch_uid="test-refuse")
    assert not Visit.objects.exists()


def test_an_edit_on_an_old_version_is_refused_with_what_changed(cast, world):
    visit, _ = record_visit(cast.township, visit_data(world.mine))
    mine = Visit.objects.get(pk=visit.pk)
    theirs = Visit.objects.get(pk=visit.pk)
    update_visit(cast.staff, theirs, visit_data(world.mine, need_amount="300"), 1)

    with pytest.raises(EditConflict) as conflict:
        update_visit(cast.township, mine, visit_data(world.mine, note="我的备注"), 1)

    stored = Visit.objects.get(pk=visit.pk)
    assert (stored.version, stored.need_amount, stored.note) == (2, Decimal("300"), visit.note)
    assert conflict.value.current.version == 2


def test_create_update_and_withdraw_are_in_the_history(cast, world):
    visit, _ = record_visit(cast.township, visit_data(world.mine))
    update_visit(cast.township, visit, visit_data(world.mine, need_amount="250"), 1)
    withdrawn = []
    visit_withdrawn.connect(
        lambda **kw: withdrawn.append(kw["visit"].pk), weak=False, dispatch_uid="t-w"
    )
    try:
        withdraw_visit(cast.township, visit, 2)
    finally:
        visit_withdrawn.disconnect(dispatch_uid="t-w")

    entries = LogEntry.objects.get_for_object(visit).order_by("timestamp", "pk")
    actions = [e.action for e in entries]
    assert actions == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE, LogEntry.Action.UPDATE]
    assert entries[1].changes_dict["need_amount"][1].startswith("250")
    assert entries[2].changes_dict["status"] == ["completed", "withdrawn"]
    assert withdrawn == [visit.pk]
    visit.refresh_from_db()
    assert visit.status == "withdrawn"  # a soft delete: the row stays
    with pytest.raises(ValidationError):
        update_visit(cast.township, visit, visit_data(world.mine), visit.version)


def test_the_history_names_problems_and_guarantees_in_words(cast, world):
    from core.history import describe_changes

    visit, _ = record_visit(cast.township, visit_data(world.mine))
    update_visit(
        cast.township,
        visit,
        visit_data(world.mine, problems=["guarantee", "rate"], acceptable_guarantees=["pledge"]),
        1,
    )
    change = LogEntry.objects.get_for_object(visit).get(action=LogEntry.Action.UPDATE)
    rows = {label: (before, after) for label, before, after in describe_changes(change)}
    assert rows["需协调问题"] == ("抵押物不足", "担保不足、利率")
    assert rows["可接受的担保方式"] == ("信用、抵押", "质押")


def test_a_visits_problems_read_in_the_readers_language(cast, world):
    from django.utils import translation

    from visits.services.visits import shown_value

    visit, _ = record_visit(cast.township, visit_data(world.mine, problems=["guarantee", "rate"]))
    with translation.override("zh-hans"):
        assert shown_value(visit, "problems") == "担保不足、利率"
    with translation.override("en"):
        shown = shown_value(visit, "problems")
    assert "、" not in shown and ", " in shown  # no Chinese punctuation for an English reader
