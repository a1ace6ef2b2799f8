"""Rows of every kind the API serves, inside and outside the county of the cast's staff."""

from dataclasses import dataclass
from datetime import date

import pytest

from accounts.choices import Role
from core.models import Job
from enterprises.models import ImportBatch
from screening.models import ListChange, ListExclusion, ListMembership
from tests.factories import (
    LUCHENG,
    LUCHENG_STREET,
    PINGYANG,
    make_assignment,
    make_census,
    make_credit,
    make_enterprise,
    make_loan,
    make_negative,
    make_user,
)
from tests.screening.helpers import rebuild


@dataclass
class Rows:
    """``mine``: rows inside 平阳县 (the staff's county); ``theirs``: rows of 鹿城区."""

    mine: dict
    theirs: dict


def _rows_of(run, enterprises, bank, other_bank, user, region):
    from django.utils import timezone

    from banks.models import BankFeedback, HandOff

    lead = make_assignment(enterprises[0], bank, role="lead")
    backup = make_assignment(enterprises[0], other_bank, role="backup")
    hand_off = HandOff.objects.create(
        enterprise=enterprises[0],
        from_assignment=lead,
        to_assignment=backup,
        cause="deadline",
        created_at=timezone.now(),
    )
    feedback = BankFeedback.objects.create(
        assignment=lead, status="contacted", feedback_on=date(2025, 6, 2)
    )
    loans = [make_loan(e, bank) for e in enterprises] + [make_loan(enterprises[0], other_bank)]
    credits = [make_credit(e, bank) for e in enterprises]
    job = Job.objects.create(kind="screening.rebuild", created_by=user, region_id=region)
    batch = ImportBatch.objects.create(
        kind="registry",
        file_name="registry.csv",
        file_sha256=f"{region:0<64}",
        created_by=user,
        region_id=region,
        job=job,
    )
    return {
        "loan": loans[0],
        "credit": credits[0],
        "enterprise": enterprises[0],
        "job": job,
        "batch": batch,
        "run": run,
        "membership": ListMembership.objects.filter(run=run).first(),
        "exclusion": ListExclusion.objects.filter(run=run).first(),
        "assignment": lead,
        "hand_off": hand_off,
        "feedback": feedback,
    }


@pytest.fixture
def rows(cast):
    mine = [make_enterprise() for _ in range(3)]
    theirs = [make_enterprise(region=LUCHENG_STREET) for _ in range(3)]
    for enterprise in mine + theirs:
        make_census(enterprise, census_year=2023)
    rebuild()
    rebuild(county=LUCHENG)
    # a negative listing moves one firm of each county off the active list: changes, exclusions
    make_negative(mine[1], listed_on=date(2025, 3, 2))
    make_negative(theirs[1], listed_on=date(2025, 3, 2))
    run, their_run = rebuild(), rebuild(county=LUCHENG)
    assert ListChange.objects.filter(run=run).exists()
    return Rows(
        mine=_rows_of(run, mine, cast.bank, cast.other_bank, cast.staff, PINGYANG),
        theirs=_rows_of(
            their_run, theirs, cast.other_bank, cast.bank, cast.outsider_staff, LUCHENG
        ),
    )


@pytest.fixture
def no_view(regions):
    """A partner token whose scopes lack ``view``: it may call nothing that reads."""
    return make_user("no_view", Role.PARTNER, region=PINGYANG, api_scopes="export")


@pytest.fixture
def importer(regions):
    """A partner token that may read and import, nothing else (no ``change``)."""
    return make_user("importer", Role.PARTNER, region=PINGYANG, api_scopes="view,import")
